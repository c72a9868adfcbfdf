"""Deploy helpers that need a stack's outputs (make foundation-params, make publish-web).

    python infra/deploy.py parameters reckoning-foundation-dev   # samconfig.toml lines from the foundation
    python infra/deploy.py publish-web reckoning-dev [web/]      # web/ to the site bucket, then invalidate

The web client has no build step, so its file names carry no content hash: pages (`*.html`) are sent with
`Cache-Control: no-cache` (revalidated each visit; S3's ETag answers 304), the rest with an hour's max-age, and
files whose name carries a hash (`app.3f2a9c1e.js`) as immutable. After the upload the distribution is
invalidated, so the edge serves the new files at once.
"""

from __future__ import annotations

import argparse
import hashlib
import mimetypes
import re
import sys
import time
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

PAGE = "no-cache"
ASSET = "public, max-age=3600"
HASHED = "public, max-age=31536000, immutable"
_HASHED_NAME = re.compile(r"\.[0-9a-f]{8,}\.[a-z0-9]+$")
_TYPES = {
    ".html": "text/html; charset=utf-8",
    ".js": "text/javascript; charset=utf-8",
    ".mjs": "text/javascript; charset=utf-8",
    ".css": "text/css; charset=utf-8",
    ".json": "application/json",
    ".webmanifest": "application/manifest+json",
    ".svg": "image/svg+xml",
    ".txt": "text/plain; charset=utf-8",
    ".woff2": "font/woff2",
    ".ico": "image/x-icon",
    ".png": "image/png",
    ".webp": "image/webp",
}


@dataclass(frozen=True, slots=True)
class WebFile:
    path: Path
    key: str  # the object key, "/"-separated, relative to the site root
    content_type: str
    cache_control: str

    @property
    def md5(self) -> str:
        return hashlib.md5(self.path.read_bytes(), usedforsecurity=False).hexdigest()


def content_type(name: str) -> str:
    """The Content-Type a browser must get (modules are refused under a wrong one)."""
    suffix = Path(name).suffix.lower()
    return _TYPES.get(suffix) or mimetypes.guess_type(name)[0] or "application/octet-stream"


def cache_control(name: str) -> str:
    if name.endswith(".html"):
        return PAGE
    return HASHED if _HASHED_NAME.search(name) else ASSET


def web_files(root: Path) -> Iterator[WebFile]:
    """Every file under `root` except hidden ones, in key order."""
    for path in sorted(root.rglob("*")):
        relative = path.relative_to(root)
        if path.is_file() and not any(part.startswith(".") for part in relative.parts):
            key = relative.as_posix()
            yield WebFile(path, key, content_type(key), cache_control(key))


def outputs(stack: str, cloudformation: Any) -> dict[str, str]:
    """The stack's outputs by name."""
    (described,) = cloudformation.describe_stacks(StackName=stack)["Stacks"]
    return {o["OutputKey"]: o["OutputValue"] for o in described.get("Outputs", [])}


def publish(root: Path, bucket: str, s3: Any) -> tuple[list[str], list[str]]:
    """Make the bucket hold exactly `root`'s files; return the keys uploaded and the keys deleted."""
    present: dict[str, str] = {}
    for page in s3.get_paginator("list_objects_v2").paginate(Bucket=bucket):
        present.update({o["Key"]: o["ETag"].strip('"') for o in page.get("Contents", [])})
    uploaded: list[str] = []
    files = list(web_files(root))
    for file in files:
        if present.get(file.key) == file.md5:
            continue
        s3.put_object(
            Bucket=bucket,
            Key=file.key,
            Body=file.path.read_bytes(),
            ContentType=file.content_type,
            CacheControl=file.cache_control,
        )
        uploaded.append(file.key)
    stale = sorted(set(present) - {file.key for file in files})
    for start in range(0, len(stale), 1000):
        chunk = [{"Key": key} for key in stale[start : start + 1000]]
        s3.delete_objects(Bucket=bucket, Delete={"Objects": chunk, "Quiet": True})
    return uploaded, stale


def invalidate(distribution_id: str, cloudfront: Any) -> str:
    answer = cloudfront.create_invalidation(
        DistributionId=distribution_id,
        InvalidationBatch={"Paths": {"Quantity": 1, "Items": ["/*"]}, "CallerReference": str(time.time_ns())},
    )
    return str(answer["Invalidation"]["Id"])


def parameter_lines(foundation: Mapping[str, str]) -> list[str]:
    """samconfig.toml `parameter_overrides` entries, one per foundation output."""
    return [f'    "{name}={value}",' for name, value in sorted(foundation.items())]


def _client(service: str) -> Any:
    import boto3

    return boto3.client(service)  # type: ignore[call-overload]  # the stubs only type installed services


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="deploy", description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    sub = parser.add_subparsers(dest="command", required=True)
    params = sub.add_parser("parameters", help="print samconfig.toml parameter_overrides from the foundation")
    params.add_argument("stack", help="the foundation stack's name")
    web = sub.add_parser("publish-web", help="sync the web client to the site bucket and invalidate the distribution")
    web.add_argument("stack", help="the application stack's name")
    web.add_argument("root", nargs="?", type=Path, default=Path("web"))
    args = parser.parse_args(argv)
    if args.command == "parameters":
        print("\n".join(parameter_lines(outputs(args.stack, _client("cloudformation")))))
        return 0
    if not args.root.is_dir():
        print(f"{args.root} is not a folder", file=sys.stderr)
        return 2
    stack = outputs(args.stack, _client("cloudformation"))
    uploaded, deleted = publish(args.root, stack["SiteBucketName"], _client("s3"))
    invalidation = invalidate(stack["DistributionId"], _client("cloudfront"))
    print(f"uploaded {len(uploaded)}, deleted {len(deleted)}; invalidation {invalidation}; {stack['SiteUrl']}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
