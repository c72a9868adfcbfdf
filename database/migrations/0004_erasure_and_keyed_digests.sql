-- The person owns their data (docs/privacy.md): a reckoning can be erased, by its person, by an operator or by
-- the retention purge. `erasing`: every personal field is gone from the database, PDFs may still be in S3 (the
-- sweeper finishes it); `erased`: nothing personal is left, only the anonymous accounting record.
ALTER TABLE reckonings DROP CONSTRAINT reckonings_status_check;
ALTER TABLE reckonings ADD CONSTRAINT reckonings_status_check CHECK (status IN (
    'awaiting_payment', 'paid', 'generating', 'ready', 'failed', 'needs_review', 'refunded', 'erasing', 'erased'));
ALTER TABLE reckonings ALTER COLUMN email DROP NOT NULL;
-- Only an erased reckoning lacks an address, and it can never move back to a status that needs one.
ALTER TABLE reckonings ADD CONSTRAINT reckonings_email_check_erased
    CHECK (email IS NOT NULL OR status IN ('erasing', 'erased'));

-- The purge's questions, asked every minute, answered from the live rows only.
CREATE INDEX reckonings_retention_idx ON reckonings ((coalesce(ready_at, paid_at, created_at)))
    WHERE status NOT IN ('erasing', 'erased');
CREATE INDEX reckonings_erasing_idx ON reckonings (id) WHERE status = 'erasing';
-- Erasure deletes the queue messages that name a reckoning.
CREATE INDEX outbox_reckoning_idx ON outbox ((payload ->> 'reckoningId'));

-- Digests of addresses and IPs are keyed HMACs from now on. The bare SHA-256 ones written before can be
-- reversed by hashing candidates: rate-limit counters are transient, so they all go (each client's current
-- window starts afresh once); finished lost-link requests get a random stand-in for the address digest in their
-- keys (their dedupe window of 10 minutes is long over). Pending ones, minutes old, are left to finish.
DELETE FROM rate_limits;
UPDATE outbox SET dedupe_key = fresh.key, payload = jsonb_set(payload, '{requestId}', to_jsonb(fresh.key))
FROM (SELECT id, 'links:legacy:' || gen_random_uuid() AS key FROM outbox
      WHERE dedupe_key LIKE 'links:%' AND sent_at IS NOT NULL) AS fresh
WHERE outbox.id = fresh.id;
UPDATE emails SET idempotency_key = 'report-links/links:legacy:' || gen_random_uuid()
WHERE kind = 'report_links' AND status <> 'pending';
