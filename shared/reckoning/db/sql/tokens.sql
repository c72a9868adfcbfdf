-- Writes: access_tokens. Only SHA-256 digests of tokens are stored (docs/decisions.md 4).

-- name: insert_token
INSERT INTO access_tokens (token_hash, reckoning_id, purpose, expires_at)
VALUES (%(token_hash)s, %(reckoning_id)s, %(purpose)s, %(expires_at)s);

-- name: reckoning_by_token
-- The one way from a token to its reckoning: a live token (not revoked, not expired).
SELECT r.id, r.email, r.name, r.status, r.status_reason, r.questionnaire_version, r.answers, r.attempts,
       r.created_at, r.status_changed_at
FROM access_tokens t
JOIN reckonings r ON r.id = t.reckoning_id
WHERE t.token_hash = %(token_hash)s
  AND t.revoked_at IS NULL
  AND (t.expires_at IS NULL OR t.expires_at > now())
  AND r.status NOT IN ('erasing', 'erased');

-- name: revoke_tokens
UPDATE access_tokens SET revoked_at = now()
WHERE reckoning_id = %(reckoning_id)s AND revoked_at IS NULL;

-- name: delete_tokens_of
-- Erasure: every link of the reckoning, live or not, is forgotten.
DELETE FROM access_tokens WHERE reckoning_id = %(reckoning_id)s;
