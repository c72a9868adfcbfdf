-- Writes: idempotency_keys. A key is claimed in a statement of its own and completed in the effect's transaction.

-- name: claim_idempotency_key
-- A new key, or one whose holder stopped without completing it (its lease ran out): in flight for this request.
INSERT INTO idempotency_keys AS k (scope, key_digest, request_digest, lease_expires_at)
VALUES (%(scope)s, %(key_digest)s, %(request_digest)s, now() + make_interval(secs => %(lease_s)s))
ON CONFLICT (scope, key_digest) DO UPDATE
SET request_digest = EXCLUDED.request_digest, lease_expires_at = EXCLUDED.lease_expires_at, created_at = now()
WHERE k.completed_at IS NULL AND k.lease_expires_at <= now()
RETURNING true AS claimed;

-- name: idempotency_key
SELECT request_digest, response, greatest(1, ceil(extract(epoch FROM (lease_expires_at - now()))))::int AS lease_left_s
FROM idempotency_keys
WHERE scope = %(scope)s AND key_digest = %(key_digest)s;

-- name: complete_idempotency_key
UPDATE idempotency_keys SET response = %(response)s, reckoning_id = %(reckoning_id)s, completed_at = now()
WHERE scope = %(scope)s AND key_digest = %(key_digest)s AND request_digest = %(request_digest)s
  AND completed_at IS NULL;

-- name: release_idempotency_key
-- The effect failed: the key is free again (only answers that succeeded are kept).
DELETE FROM idempotency_keys
WHERE scope = %(scope)s AND key_digest = %(key_digest)s AND request_digest = %(request_digest)s
  AND completed_at IS NULL;

-- name: delete_idempotency_keys_of
-- Erasure: the answers given under a key (sealed, but they hold the report token).
DELETE FROM idempotency_keys WHERE reckoning_id = %(reckoning_id)s;

-- name: prune_idempotency_keys
DELETE FROM idempotency_keys WHERE created_at < now() - make_interval(secs => %(older_than_s)s);
