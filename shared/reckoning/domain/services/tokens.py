"""Access tokens: 256 random bits, URL-safe; only their SHA-256 is stored. The one way from a token to a reckoning."""

from __future__ import annotations

import hashlib
import re
import secrets
from datetime import UTC, datetime, timedelta
from typing import Literal
from uuid import UUID

from reckoning import db, errors
from reckoning.db import tokens
from reckoning.db.reckonings import Reckoning

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


def reckoning_for(conn: db.Connection, token: str) -> Reckoning:
    """The reckoning a token opens. Malformed, unknown, expired and revoked tokens are one and the same 404."""
    found = tokens.reckoning_for(conn, token_hash_or_not_found(token))
    if found is None:
        raise errors.NotFound("unknown token")
    return found


def holder_view(database: db.Database, token: str) -> tokens.HolderView:
    """What the token's holder may see, in one read outside a transaction; the same 404 as `reckoning_for`."""
    token_hash = token_hash_or_not_found(token)
    with database.connection() as conn:
        found = tokens.holder_view(conn, token_hash)
    if found is None:
        raise errors.NotFound("unknown token")
    return found


def mint(conn: db.Connection, reckoning_id: UUID, purpose: Purpose, ttl: timedelta) -> str:
    """A new token for the reckoning, valid for `ttl`."""
    token = new_token()
    expires_at = datetime.now(UTC) + ttl
    tokens.insert(conn, hash_token(token), reckoning_id, purpose, expires_at)
    return token
