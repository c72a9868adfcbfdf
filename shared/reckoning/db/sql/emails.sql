-- Writes: emails. One row per idempotency key: what keeps an email from going out twice (domain/emails.py).

-- name: email_status
SELECT status FROM emails WHERE idempotency_key = %(idempotency_key)s;

-- name: insert_email
INSERT INTO emails (reckoning_id, kind, idempotency_key)
VALUES (%(reckoning_id)s, %(kind)s, %(idempotency_key)s)
ON CONFLICT (idempotency_key) DO NOTHING;

-- name: mark_email_sent
UPDATE emails SET status = 'sent', provider_id = %(provider_id)s, sent_at = now(), error_class = NULL
WHERE idempotency_key = %(idempotency_key)s;

-- name: mark_email_failed
UPDATE emails SET status = 'failed', error_class = %(error_class)s
WHERE idempotency_key = %(idempotency_key)s AND status <> 'sent';

-- name: scrub_emails_of
-- Erasure: that an email of a kind was sent, and when, stays (proof of delivery); the key, which can hold a
-- digest of the address, and Resend's id of the message (a way to its content there) go.
UPDATE emails SET idempotency_key = 'erased/' || id, provider_id = NULL
WHERE reckoning_id = %(reckoning_id)s AND idempotency_key NOT LIKE 'erased/%%';
