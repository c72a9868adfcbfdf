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

-- name: insert_outbox_for_address
-- The links job for an address's oldest paid reckoning, whose id is added here; no row when the address has none.
-- One statement either way, so a lost-link request does the same work whether or not the address is known.
-- Refunded ones count: their person may still export and erase their data.
INSERT INTO outbox (topic, dedupe_key, payload)
SELECT %(topic)s, %(dedupe_key)s, %(payload)s || jsonb_build_object('reckoningId', r.id::text)
FROM reckonings r
WHERE lower(r.email) = lower(%(email)s)
  AND r.status IN ('paid', 'generating', 'ready', 'needs_review', 'failed', 'refunded')
ORDER BY r.created_at
LIMIT 1
ON CONFLICT (dedupe_key) DO NOTHING;

-- name: mark_outbox_sent_by_key
UPDATE outbox SET sent_at = now(), attempts = attempts + 1 WHERE dedupe_key = ANY(%(keys)s) AND sent_at IS NULL;

-- name: mark_outbox_failed_by_key
UPDATE outbox SET attempts = attempts + 1, last_error = %(error)s WHERE dedupe_key = ANY(%(keys)s) AND sent_at IS NULL;
-- name: delete_outbox_of
-- Erasure: queue messages about the reckoning, sent or not (a pending one would only be skipped).
DELETE FROM outbox WHERE payload ->> 'reckoningId' = %(reckoning_id)s::text;

-- name: prune_sent_outbox
-- Sent messages long enough ago that no dedupe key of theirs still matters (stale periods are minutes long; a
-- payment's job is guarded by the event ledger and the reckoning's status too).
DELETE FROM outbox WHERE sent_at < now() - make_interval(secs => %(older_than_s)s);
