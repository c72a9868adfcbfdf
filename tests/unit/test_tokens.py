"""Access tokens: 256 bits, URL-safe, stored only as SHA-256."""

import hashlib

import pytest

from reckoning import errors
from reckoning.domain.services.tokens import hash_token, new_token, token_hash_or_not_found


def test_tokens_carry_256_random_bits_in_url_safe_form() -> None:
    tokens = {new_token() for _ in range(1000)}
    assert len(tokens) == 1000
    for token in list(tokens)[:50]:
        assert len(token) == 43  # 32 bytes, base64url without padding
        assert token.replace("-", "").replace("_", "").isalnum()


def test_only_the_sha256_is_kept() -> None:
    token = new_token()
    assert hash_token(token) == hashlib.sha256(token.encode()).digest()
    assert token_hash_or_not_found(token) == hash_token(token)


@pytest.mark.parametrize("token", ["", "short", "x" * 44, "!" * 43, "a" * 42 + "/", "../../etc/passwd"])
def test_malformed_tokens_are_simply_not_found(token: str) -> None:
    with pytest.raises(errors.NotFound):
        token_hash_or_not_found(token)
