"""The reference web client (`web/`) served at `/`, beside `/api/*`, on the same origin as in production.

Only GET and HEAD outside `/api/` reach it; everything it does not serve under `/api/` stays API Gateway's
JSON 404. Pretty routes as the distribution serves them: `/` is `index.html`, a path without an extension is
`<path>.html` (`/report` → `report.html`, `/checkout/success` → `checkout/success.html`). A page that does not
exist is `404.html` with status 404. Every answer carries the headers the distribution's response-headers
policy sets: a CSP with no inline script or style, no referrer, no sniffing; `no-cache` so an edit shows on
the next reload.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path, PurePosixPath
from urllib.parse import unquote

from reckoning_local.server import Request, Response

CONTENT_SECURITY_POLICY = "default-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'"
HEADERS = {
    "Content-Security-Policy": CONTENT_SECURITY_POLICY,
    "Referrer-Policy": "no-referrer",
    "X-Content-Type-Options": "nosniff",
    "Cache-Control": "no-cache",
}
CONTENT_TYPES = {
    ".html": "text/html; charset=utf-8",
    ".css": "text/css; charset=utf-8",
    ".js": "text/javascript; charset=utf-8",
    ".json": "application/json",
    ".svg": "image/svg+xml",
    ".ico": "image/x-icon",
    ".png": "image/png",
    ".txt": "text/plain; charset=utf-8",
    ".woff2": "font/woff2",
}
NOT_FOUND_PAGE = "404.html"


def site(root: Path) -> Callable[[Request], Response | None]:
    """The gateway's fallback: the answer from `root` to a page request, None for what is not a page request."""
    root = root.resolve()

    def answer(request: Request) -> Response | None:
        if request.method not in {"GET", "HEAD"} or request.path == "/api" or request.path.startswith("/api/"):
            return None
        found = _file(root, request.path)
        if found is None:
            missing = root / NOT_FOUND_PAGE
            return _response(404, missing) if missing.is_file() else None
        return _response(200, found)

    return answer


def _file(root: Path, raw_path: str) -> Path | None:
    """The file a URL path names under `root`, or None (also for anything that would step outside it)."""
    path = unquote(raw_path)
    if "\x00" in path or "\\" in path:
        return None
    parts = PurePosixPath(path).parts[1:]
    if any(part in {"..", "."} or part.startswith(".") for part in parts):
        return None
    relative = PurePosixPath(*parts) if parts else PurePosixPath()
    if path.endswith("/") or not parts:
        relative = relative / "index.html"
    elif not relative.suffix:
        relative = relative.with_suffix(".html")
    candidate = (root / relative).resolve()
    if not candidate.is_relative_to(root) or not candidate.is_file() or candidate.suffix not in CONTENT_TYPES:
        return None
    return candidate


def _response(status: int, path: Path) -> Response:
    headers = [("Content-Type", CONTENT_TYPES[path.suffix]), *HEADERS.items()]
    return Response(status, headers, path.read_bytes())
