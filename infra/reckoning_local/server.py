"""The local API Gateway: real HTTP in, Lambda events to the template's functions, their responses out.

Routes come only from the template: every HttpApi event is a route (most
specific first, as API Gateway matches them), every function URL is served at
its `Metadata: LocalUrlPath` (else `/_lambda-url/<LogicalId>`). An HTTP API with
a `CorsConfiguration` answers preflights itself and sets the CORS headers of
responses, as API Gateway does. Local-only pages (the offline checkout, the
OpenAPI document) are handed to the gateway as `Page`s and served first; a
`site` (the web client, as the CloudFront distribution serves it in production)
answers what no route matched, before API Gateway's 404.
"""

from __future__ import annotations

import base64
import json
import logging
import re
import threading
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from functools import partial
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import unquote, urlsplit

from reckoning import errors
from reckoning.http import SECURITY_HEADERS, error_response
from reckoning_local.events import function_url_event, http_event
from reckoning_local.template import Cors, Function, HttpRoute, Template

log = logging.getLogger("reckoning_local")

MAX_BODY_BYTES = 10 * 1024 * 1024  # API Gateway's own payload limit; the functions enforce 64 KiB
# What the functions put on every answer (DESIGN §3); the gateway's own answers in our envelope carry it too.
SECURE_HEADERS = {**SECURITY_HEADERS, "Cache-Control": "no-store"}

Invoke = Callable[[str, Any], Any]
"""(function logical id, event) -> the handler's response."""
# Connections the listening socket queues while every thread is busy accepting: a burst of browsers (or a
# test's 100 simultaneous requests) must wait, not be dropped. http.server's default is 5.
LISTEN_BACKLOG = 128


# ---------------------------------------------------------------- requests and responses


@dataclass(frozen=True, slots=True)
class Request:
    """One HTTP request as received (header names lower-cased, repeated headers joined)."""

    method: str
    path: str  # raw, still percent-encoded
    query: str
    headers: dict[str, str]
    body: bytes = b""
    source_ip: str = "127.0.0.1"


@dataclass(slots=True)
class Response:
    status: int
    headers: list[tuple[str, str]] = field(default_factory=list)
    body: bytes = b""

    def header(self, name: str) -> str | None:
        return next((v for k, v in self.headers if k.lower() == name.lower()), None)


def refusal(exc: Exception) -> Response:
    """The application's own answer to `exc`: its error table, its envelope, its security headers."""
    answer = error_response(exc)
    return lambda_response(
        {"statusCode": answer.status_code, "headers": {**answer.headers, **SECURE_HEADERS}, "body": answer.body}
    )


def gateway_error(status: int, message: str) -> Response:
    """API Gateway's own answers (no route, a request it cannot parse): `{"message": …}`, not our envelope."""
    return Response(status, [("Content-Type", "application/json")], json.dumps({"message": message}).encode())


def lambda_response(result: Any) -> Response:
    """A payload-2.0 Lambda response as API Gateway turns it into HTTP.

    A dict with `statusCode` is taken as is (headers, `cookies` as Set-Cookie,
    base64 body when flagged); anything else is returned as a 200 JSON body.
    """
    if not (isinstance(result, dict) and "statusCode" in result):
        body = json.dumps(result, separators=(",", ":")).encode()
        return Response(200, [("Content-Type", "application/json")], body)
    headers = [
        (str(name), ",".join(map(str, value)) if isinstance(value, list) else str(value))
        for name, value in (result.get("headers") or {}).items()
    ]
    headers.extend(("Set-Cookie", str(cookie)) for cookie in result.get("cookies") or ())
    text = result.get("body") or ""
    body = base64.b64decode(text) if result.get("isBase64Encoded") else str(text).encode()
    return Response(int(result["statusCode"]), headers, body)


# ---------------------------------------------------------------- local-only pages


@dataclass(frozen=True, slots=True)
class PageRequest:
    """What a local page gets: the request, its path's match, and the stack's base URL."""

    request: Request
    match: re.Match[str]
    base_url: str


@dataclass(frozen=True, slots=True)
class Page:
    """A local-only page: `method` ("*" for any) on paths fully matching `path`."""

    method: str
    path: re.Pattern[str]
    handler: Callable[[PageRequest], Response]


# ---------------------------------------------------------------- routing


@dataclass(frozen=True, slots=True)
class Route:
    route: HttpRoute
    function: Function
    pattern: re.Pattern[str]  # a named group per path parameter

    @classmethod
    def of(cls, route: HttpRoute, function: Function) -> Route:
        """Each `{name}` of the path matches one path segment."""
        # re.escape writes `{name}` as `\{name\}`: each becomes a named group.
        pattern = re.sub(r"\\\{(\w+)\\\}", r"(?P<\1>[^/]+)", re.escape(route.path))
        return cls(route, function, re.compile(pattern))

    def priority(self) -> tuple[int, int]:
        """Literal paths before parameters (API Gateway's order)."""
        return self.pattern.groups, -self.route.path.count("/")

    def match(self, path: str) -> dict[str, str] | None:
        found = self.pattern.fullmatch(path)
        return None if found is None else {name: unquote(value) for name, value in found.groupdict().items()}


# ---------------------------------------------------------------- the gateway


class Gateway:
    """Turns requests into Lambda invocations; no sockets here (the HTTP server feeds it)."""

    def __init__(
        self,
        template: Template,
        invoke: Invoke,
        base_url: str,
        pages: Sequence[Page] = (),
        site: Callable[[Request], Response | None] | None = None,
    ) -> None:
        self.template = template
        self.site = site
        self.invoke = invoke
        self.base_url = base_url
        self.pages = tuple(pages)
        self.routes = sorted((Route.of(r, f) for r, f in template.routes()), key=Route.priority)
        self.urls = sorted(
            ((f.url_path, f) for f in template.functions.values() if f.url_path is not None),
            key=lambda item: -len(item[0]),
        )

    def handle(self, request: Request) -> Response:
        started = time.monotonic()
        label, response = self._dispatch(request)
        log.info("%s %s -> %d (%.0f ms)", request.method, label, response.status, (time.monotonic() - started) * 1000)
        return response

    def _dispatch(self, request: Request) -> tuple[str, Response]:
        for page in self.pages:
            found = page.path.fullmatch(request.path)
            if found and page.method in {"*", request.method}:
                return page.path.pattern, _answer(partial(page.handler, PageRequest(request, found, self.base_url)))
        for prefix, function in self.urls:
            if request.path == prefix or request.path.startswith(prefix + "/"):
                return f"{prefix} (function URL)", self._invoke_url(function, prefix, request)
        if (preflight := self._preflight(request)) is not None:
            return "(CORS preflight)", preflight
        for route in self.routes:
            params = route.match(request.path) if route.route.method == request.method else None
            if params is not None:
                return route.route.route_key, self._invoke_route(route, params, request)
        if self.site is not None and (static := _answer_or_none(self.site, request)) is not None:
            return "(web)", static
        return "(no route)", gateway_error(404, "Not Found")

    def _invoke_route(self, route: Route, params: dict[str, str], request: Request) -> Response:
        event = http_event(
            request.method,
            request.path,
            route_key=route.route.route_key,
            path_parameters=params or None,
            query=request.query,
            headers=_forwarded(request),
            body=request.body,
            source_ip=request.source_ip,
        )
        response = self._call(route.function, event)
        return _with_cors(response, self._cors(route), request.headers.get("origin"))

    def _invoke_url(self, function: Function, prefix: str, request: Request) -> Response:
        # A function URL's path is what follows its domain: strip the local prefix.
        event = function_url_event(
            request.method,
            request.path[len(prefix) :] or "/",
            query=request.query,
            headers=_forwarded(request),
            body=request.body,
            source_ip=request.source_ip,
            url_id=function.logical_id.lower(),
            region=self.template.region,
        )
        return self._call(function, event)

    def _call(self, function: Function, event: dict[str, Any]) -> Response:
        return _answer(lambda: lambda_response(self.invoke(function.logical_id, event)))

    def _cors(self, route: Route) -> Cors:
        return self.template.cors.get(route.route.api_id, Cors())

    def _preflight(self, request: Request) -> Response | None:
        """API Gateway's answer to a CORS preflight, when the path's API has a CORS configuration."""
        if request.method != "OPTIONS" or not {"origin", "access-control-request-method"} <= request.headers.keys():
            return None
        cors = next((self._cors(r) for r in self.routes if r.match(request.path) is not None), Cors())
        if not cors.allow_origins:
            return None  # routed like any other request, as API Gateway does without CORS
        origin = request.headers.get("origin", "")
        response = Response(204, list(SECURE_HEADERS.items()))
        if not _origin_allowed(cors, origin):
            return response
        response.headers += [
            ("Access-Control-Allow-Origin", origin),
            ("Access-Control-Allow-Methods", ",".join(cors.allow_methods)),
            ("Access-Control-Allow-Headers", ",".join(cors.allow_headers)),
            ("Vary", "Origin"),
        ]
        if cors.max_age is not None:
            response.headers.append(("Access-Control-Max-Age", str(cors.max_age)))
        return response


def _answer(respond: Callable[[], Response]) -> Response:
    """What `respond` answers; when it raises, the application's own answer to the exception."""
    try:
        return respond()
    except Exception as exc:
        return refusal(exc)


def _answer_or_none(respond: Callable[[Request], Response | None], request: Request) -> Response | None:
    try:
        return respond(request)
    except Exception as exc:
        return refusal(exc)


def _origin_allowed(cors: Cors, origin: str) -> bool:
    return bool(origin) and ("*" in cors.allow_origins or origin in cors.allow_origins)


def _with_cors(response: Response, cors: Cors, origin: str | None) -> Response:
    """API Gateway's CORS: with a configuration, it replaces whatever CORS headers the function set."""
    if not cors.allow_origins:
        return response
    response.headers = [(k, v) for k, v in response.headers if not k.lower().startswith("access-control-")]
    if origin and _origin_allowed(cors, origin):
        response.headers.append(("Access-Control-Allow-Origin", origin))
        if cors.expose_headers:
            response.headers.append(("Access-Control-Expose-Headers", ",".join(cors.expose_headers)))
    return response


def _forwarded(request: Request) -> dict[str, str]:
    # API Gateway adds these; handlers and Powertools may read them.
    return {"x-forwarded-proto": "http", **request.headers, "x-forwarded-for": request.source_ip}


# ---------------------------------------------------------------- HTTP


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    # Headers and body go out in two writes: with Nagle's algorithm on, every answer on a kept-alive
    # connection waits for the client's delayed ACK (~40 ms).
    disable_nagle_algorithm = True
    server: LocalHttpServer

    def do_request(self) -> None:
        length = _content_length(self.headers.get("Content-Length"))
        if length is None:
            self.close_connection = True  # the body's end is unknown: nothing more can be read
            self._send(gateway_error(400, "Bad Request"))
            return
        if length > MAX_BODY_BYTES:
            self.close_connection = True
            self._send(refusal(errors.PayloadTooLarge(f"{length} bytes")))
            return
        body = self.rfile.read(length) if length else b""
        if "chunked" in (self.headers.get("Transfer-Encoding") or "").lower():
            body = self._read_chunked()
        target = urlsplit(self.path)
        request = Request(
            method=self.command.upper(),
            path=target.path or "/",
            query=target.query,
            headers=_joined_headers(self.headers.items()),
            body=body,
            source_ip=self.client_address[0],
        )
        gateway = self.server.gateway
        self._send(gateway.handle(request) if gateway else refusal(errors.ServiceUnavailable("starting up")))

    def __getattr__(self, name: str) -> Callable[[], None]:
        # Every method reaches the gateway, which routes it or answers 404 as API Gateway does (TRACE,
        # CONNECT and made-up methods included); http.server would answer an HTML 501.
        if name.startswith("do_"):
            return self.do_request
        raise AttributeError(name)

    def send_error(self, code: int, message: str | None = None, explain: str | None = None) -> None:
        # Requests http.server cannot parse (request line, headers): JSON with the status's own phrase
        # (its message may quote the request), never its HTML error page; and always with a status
        # line, which http.server leaves out while it still takes the request for HTTP/0.9.
        self.close_connection = True
        self.request_version = self.protocol_version
        self._send(gateway_error(code, HTTPStatus(code).phrase))

    def _read_chunked(self) -> bytes:
        chunks: list[bytes] = []
        while True:
            size = int(self.rfile.readline().split(b";")[0].strip() or b"0", 16)
            if size == 0:
                self.rfile.readline()
                return b"".join(chunks)
            chunks.append(self.rfile.read(size))
            self.rfile.readline()

    def _send(self, response: Response) -> None:
        self.send_response(response.status)
        for name, value in response.headers:
            if name.lower() not in {"content-length", "connection", "transfer-encoding"}:
                self.send_header(name, value)
        self.send_header("Content-Length", str(len(response.body)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(response.body)

    def log_message(self, format: str, *args: Any) -> None:
        # Paths can carry report tokens: the gateway logs route keys instead.
        return


def _content_length(value: str | None) -> int | None:
    """The declared body length; None when it is not a plain non-negative number."""
    if value is None:
        return 0
    return int(value) if re.fullmatch(r"[0-9]{1,12}", value.strip()) else None


def _joined_headers(items: Iterable[tuple[str, str]]) -> dict[str, str]:
    headers: dict[str, str] = {}
    for name, value in items:
        key = name.lower()
        separator = "; " if key == "cookie" else ","
        headers[key] = f"{headers[key]}{separator}{value}" if key in headers else value
    return headers


class LocalHttpServer(ThreadingHTTPServer):
    daemon_threads = True
    request_queue_size = LISTEN_BACKLOG

    def __init__(self, host: str, port: int) -> None:
        super().__init__((host, port), _Handler)
        self.gateway: Gateway | None = None  # set once the bound port (and so the base URL) is known
        self._thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        host, port = self.server_address[:2]
        return f"http://{host!s}:{port}"

    def start(self) -> None:
        self._thread = threading.Thread(target=self.serve_forever, kwargs={"poll_interval": 0.2}, daemon=True)
        self._thread.start()

    def stop(self) -> None:
        if self._thread is not None:
            self.shutdown()
            self._thread.join()
            self._thread = None
        self.server_close()
