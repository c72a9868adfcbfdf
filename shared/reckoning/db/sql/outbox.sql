-- Writes: outbox. Queue messages committed with the change that caused them; the relay sends them to SQS.

-- name: insert_outbox
INSERT INTO outbox (topic, dedupe_key, payload)
VALUES (%(topic)s, %(dedupe_key)s, %(payload)s)
ON CONFLICT (dedupe_key) DO NOTHING;

-- name: pending_outbox
-- Locked for the relaying transaction: a concurrent relay skips them.
SELECT id, payload
FROM outbox
WHERE sent_at IS NULL
ORDER BY id
LIMIT %(limit)s
FOR UPDATE SKIP LOCKED;

-- name: mark_outbox_sent
UPDATE outbox SET sent_at = now(), attempts = attempts + 1 WHERE id = ANY(%(ids)s);

-- name: mark_outbox_failed
UPDATE outbox SET attempts = attempts + 1, last_error = %(error)s WHERE id = ANY(%(ids)s);

-- name: delete_outbox_of
-- Erasure: queue messages about the reckoning, sent or not (a pending one would only be skipped).
DELETE FROM outbox WHERE payload ->> 'reckoningId' = %(reckoning_id)s::text;
