"""Keyed digests of email addresses and client IPs: HMAC-SHA256 with DIGEST_KEY, never a bare hash.

A bare SHA-256 of an address or an IP is reversed by hashing candidates (all of IPv4 takes minutes); without
the key, which lives in Secrets Manager and not in the database, a leaked table gives nothing to test them
against. Changing the key only restarts rate-limit windows and lost-link dedupe windows.
"""

from __future__ import annotations

import hashlib
import hmac

from reckoning.ports import Keys


def digest(keys: Keys, value: str) -> str:
    """128 bits of HMAC-SHA256(DIGEST_KEY, value), as hex."""
    return hmac.new(keys.digest_key().encode(), value.encode(), hashlib.sha256).hexdigest()[:32]
