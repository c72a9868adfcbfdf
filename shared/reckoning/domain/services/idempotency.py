"""Idempotency keys (the `Idempotency-Key` header of POST /api/reckoning and POST /api/checkout).

The same key with the same body gets the first answer again (`Idempotent-Replayed: true`); with another body,
409. A key is claimed in a statement of its own (in flight, under a lease) and completed with the answer in
the effect's own transaction, so key and effect commit together. A failed effect releases the key: only
successful answers are kept, and a retry after an error runs again. A request that finds the key in flight
gets 409 + Retry-After; a holder that crashed keeps it only until its lease runs out. Kept 24 hours.

Whose key. The API is anonymous, so nothing but the key identifies a client: the key is the client's secret
(16-255 visible ASCII characters; a UUID v4 is what to send), scoped to the route, and stored as its SHA-256
only. A replay also needs the same body. An IP address would not do: a retry after a network change (the
case the header is for) comes from another one, and many clients share one behind NAT.

The stored answer holds the report token (a secret), so it is sealed, encrypt-then-MAC, under keys derived from
the raw key and the body's digest: a SHAKE-256 keystream with a random nonce, then an HMAC-SHA256 tag over
version, nonce and ciphertext. Only someone holding the key can open it; a database leak reveals neither the keys
nor the tokens, and an answer altered in the database is refused, never replayed.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import re
import secrets
from collections.abc import Callable
from dataclasses import dataclass
from uuid import UUID

from pydantic import BaseModel

from reckoning import db, errors
from reckoning.db import idempotency_keys
from reckoning.db.idempotency_keys import Key
from reckoning.models.api import IDEMPOTENCY_KEY_PATTERN

# A holder that has not completed the key by then has crashed: longer than any route takes (10 s timeouts).
LEASE_S = 30
KEEP_S = 24 * 3600
_NONCE_BYTES = 16
_TAG_BYTES = 32
_VERSION = b"\x02"
_KEY = re.compile(IDEMPOTENCY_KEY_PATTERN)

type Done = Callable[[db.Connection, UUID | None, BaseModel], None]
"""Completes the key with the answer, inside the effect's transaction (a no-op without a key)."""


@dataclass(frozen=True, slots=True)
class Answer[M: BaseModel]:
    body: M
    replayed: bool = False


@dataclass(frozen=True, slots=True)
class Request:
    """A request that carries a key: what is stored of it, and the raw key that seals its answer."""

    key: Key
    raw_key: str


def request(scope: str, raw_key: str | None, body: BaseModel) -> Request | None:
    """The keyed request (None without a key); a malformed key is a 400 on the header."""
    if raw_key is None:
        return None
    if not _KEY.match(raw_key):
        problem = "Must be 16 to 255 visible ASCII characters, e.g. a UUID."
        raise errors.ValidationFailed([errors.FieldError("Idempotency-Key", problem)])
    canonical = json.dumps(body.model_dump(mode="json", by_alias=True), sort_keys=True, separators=(",", ":"))
    key_digest = hashlib.sha256(raw_key.encode()).digest()
    return Request(Key(scope, key_digest, hashlib.sha256(canonical.encode()).digest()), raw_key)


def once[M: BaseModel](
    database: db.Database, req: Request | None, model: type[M], effect: Callable[[Done], M]
) -> Answer[M]:
    """The effect's answer, run at most once per key; or the first answer again."""
    if req is None:
        return Answer(effect(nothing))
    replay = _claim(database, req)
    if replay is not None:
        return Answer(model.model_validate_json(_open(replay, req)), replayed=True)

    def done(conn: db.Connection, reckoning_id: UUID | None, answer: BaseModel) -> None:
        sealed = _seal(answer.model_dump_json(by_alias=True).encode(), req)
        if not idempotency_keys.complete(conn, req.key, sealed, reckoning_id):  # our lease ran out and was taken
            raise errors.IdempotencyKeyInFlight(1)

    try:
        return Answer(effect(done))
    except BaseException:
        with database.connection() as conn:
            idempotency_keys.release(conn, req.key)
        raise


def nothing(conn: db.Connection, reckoning_id: UUID | None, answer: BaseModel) -> None:
    """The `Done` of a request without a key."""


def _claim(database: db.Database, req: Request) -> bytes | None:
    """Claim the key (None), or the sealed first answer; a key in use raises the 409 it deserves."""
    for _ in range(2):  # the holder may release the key between our claim and our look
        with database.connection() as conn:
            if idempotency_keys.claim(conn, req.key, LEASE_S):
                return None
            held = idempotency_keys.held(conn, req.key)
        if held is None:
            continue
        if held.request_digest != req.key.request_digest:
            raise errors.IdempotencyKeyReused("another body under this key")
        if held.response is None:
            raise errors.IdempotencyKeyInFlight(min(held.lease_left_s, 5))
        return held.response
    raise errors.IdempotencyKeyInFlight(1)


def _keys(req: Request) -> tuple[bytes, bytes]:
    """An encryption key and a MAC key, both derived from the raw key and the request's digest."""
    material = hashlib.sha256(b"reckoning idempotency v2\0" + req.raw_key.encode() + b"\0" + req.key.request_digest)
    seed = material.digest()
    return hmac.new(seed, b"encrypt", hashlib.sha256).digest(), hmac.new(seed, b"authenticate", hashlib.sha256).digest()


def _xor(data: bytes, key: bytes, nonce: bytes) -> bytes:
    stream = hashlib.shake_256(key + nonce).digest(len(data))
    return (int.from_bytes(data) ^ int.from_bytes(stream)).to_bytes(len(data))


def _seal(data: bytes, req: Request) -> bytes:
    """Encrypt-then-MAC: version, nonce, ciphertext (SHAKE-256 keystream), HMAC-SHA256 tag over all three."""
    encrypt, authenticate = _keys(req)
    nonce = secrets.token_bytes(_NONCE_BYTES)
    body = _VERSION + nonce + _xor(data, encrypt, nonce)
    return body + hmac.new(authenticate, body, hashlib.sha256).digest()


def _open(sealed: bytes, req: Request) -> bytes:
    """The answer a `_seal` stored; a value altered in the database (or of another format) is refused."""
    encrypt, authenticate = _keys(req)
    body, tag = sealed[:-_TAG_BYTES], sealed[-_TAG_BYTES:]
    expected = hmac.new(authenticate, body, hashlib.sha256).digest()
    if not body.startswith(_VERSION) or len(body) < 1 + _NONCE_BYTES or not hmac.compare_digest(tag, expected):
        raise errors.IdempotencyKeyReused("the stored answer fails its integrity check: use a new key")
    nonce, data = body[1 : 1 + _NONCE_BYTES], body[1 + _NONCE_BYTES :]
    return _xor(data, encrypt, nonce)


def prune(database: db.Database) -> int:
    """Forget keys older than a day; how many went."""
    with database.connection() as conn:
        return idempotency_keys.prune(conn, KEEP_S)
