"""Access tokens: 256 random bits, URL-safe; only their SHA-256 is stored."""

from __future__ import annotations

import hashlib
import re
import secrets
from datetime import UTC, datetime, timedelta
from typing import Literal
from uuid import UUID

from reckoning import db, errors
from reckoning.config import settings
from reckoning.db import reckonings

Purpose = Literal["report", "email_link"]
_SHAPE = re.compile(r"^[A-Za-z0-9_-]{43}$")


def new_token() -> str:
    return secrets.token_urlsafe(32)


def hash_token(token: str) -> bytes:
    return hashlib.sha256(token.encode()).digest()


def token_hash_or_not_found(token: str) -> bytes:
    """The hash of a well-formed token; a malformed one is as unknown as any other."""
    if not _SHAPE.match(token):
        raise errors.NotFound("malformed token")
    return hash_token(token)


def report_link(token: str) -> str:
    """The link a person follows from an email (the frontend's report page)."""
    s = settings()
    return s.app_base_url + s.report_link_path.format(token=token)


def mint(conn: db.Connection, reckoning_id: UUID, purpose: Purpose, ttl: timedelta | None) -> str:
    token = new_token()
    expires_at = datetime.now(UTC) + ttl if ttl else None
    reckonings.insert_token(conn, hash_token(token), reckoning_id, purpose, expires_at)
    return token
