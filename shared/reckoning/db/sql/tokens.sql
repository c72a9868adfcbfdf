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

-- name: holder_view_by_token
-- What a live token's holder may see, in one statement: the reckoning's status, and its report when the
-- reckoning is ready and the report released (a report poll is this one read).
SELECT r.id AS reckoning_id, r.name, r.status, r.status_changed_at,
       rep.id AS report_id, rep.version, rep.content, rep.confidence, rep.pdf_key, rep.updated_at AS written_at
FROM access_tokens t
JOIN reckonings r ON r.id = t.reckoning_id
LEFT JOIN reports rep ON rep.reckoning_id = r.id AND rep.released AND r.status = 'ready'
WHERE t.token_hash = %(token_hash)s
  AND t.revoked_at IS NULL
  AND (t.expires_at IS NULL OR t.expires_at > now())
  AND r.status NOT IN ('erasing', 'erased');
-- name: delete_tokens_of
-- Erasure: every link of the reckoning, live or not, is forgotten.
DELETE FROM access_tokens WHERE reckoning_id = %(reckoning_id)s;
