-- name: insert_reckoning
INSERT INTO reckonings (email, name, questionnaire_version, answers)
VALUES (%(email)s, %(name)s, %(questionnaire_version)s, %(answers)s)
RETURNING id, status, created_at;

-- name: insert_access_token
INSERT INTO access_tokens (token_hash, reckoning_id, purpose, expires_at)
VALUES (%(token_hash)s, %(reckoning_id)s, %(purpose)s, %(expires_at)s);

-- name: reckoning_by_token
SELECT r.id, r.email, r.name, r.status, r.status_reason, r.questionnaire_version, r.answers,
       r.created_at, r.status_changed_at
FROM access_tokens t
JOIN reckonings r ON r.id = t.reckoning_id
WHERE t.token_hash = %(token_hash)s
  AND t.revoked_at IS NULL
  AND (t.expires_at IS NULL OR t.expires_at > now());

-- name: reckoning_by_id
SELECT id, email, name, status, status_reason, questionnaire_version, answers, attempts,
       lease_expires_at, created_at, status_changed_at
FROM reckonings
WHERE id = %(id)s;

-- name: revoke_tokens
UPDATE access_tokens SET revoked_at = now()
WHERE reckoning_id = %(reckoning_id)s AND revoked_at IS NULL;

-- name: hit_rate_limit
INSERT INTO rate_limits AS rl (bucket, window_start, count)
VALUES (%(bucket)s, to_timestamp(floor(extract(epoch FROM now()) / %(window_s)s) * %(window_s)s), 1)
ON CONFLICT (bucket, window_start) DO UPDATE SET count = rl.count + 1
RETURNING count, ceil(extract(epoch FROM (rl.window_start + make_interval(secs => %(window_s)s) - now())))::int AS resets_in;

-- name: prune_rate_limits
DELETE FROM rate_limits WHERE window_start < now() - interval '1 day';

-- name: released_report
SELECT id, version, content, confidence, pdf_key, updated_at
FROM reports
WHERE reckoning_id = %(reckoning_id)s AND released;

-- name: reckonings_with_access_for_email
-- Paid reckonings of an address, oldest first (awaiting payment and refunded ones have no report to link).
SELECT id, created_at, status
FROM reckonings
WHERE lower(email) = lower(%(email)s)
  AND status IN ('paid', 'generating', 'ready', 'needs_review', 'failed')
ORDER BY created_at
LIMIT 20;
