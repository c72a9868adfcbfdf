-- Writes: nothing. Everything stored about a reckoning besides the reckoning itself, for its person's export
-- (`db/export.py` says which table each query reads). Token digests, Stripe's raw ids of events and the
-- validator's layer results are internal and left out; every date is.

-- name: export_status_history
SELECT created_at AS at, to_status AS status FROM reckoning_events WHERE reckoning_id = %(reckoning_id)s ORDER BY id;

-- name: export_links
SELECT purpose, created_at, expires_at, revoked_at
FROM access_tokens WHERE reckoning_id = %(reckoning_id)s ORDER BY created_at;

-- name: export_payments
SELECT amount, currency, status, checkout_session_id, payment_intent_id, created_at, paid_at
FROM payments WHERE reckoning_id = %(reckoning_id)s ORDER BY generation;

-- name: export_payment_events
SELECT received_at AS at, type FROM stripe_events WHERE reckoning_id = %(reckoning_id)s ORDER BY received_at;

-- name: export_reports
-- A held report's text is given once a person has released it: it failed a check, safety perhaps.
SELECT version, released, CASE WHEN released THEN content END AS content, updated_at AS written_at
FROM reports WHERE reckoning_id = %(reckoning_id)s;

-- name: export_attempts
SELECT created_at AS at, model, input_tokens, output_tokens, passed, cost_usd
FROM generation_attempts WHERE reckoning_id = %(reckoning_id)s ORDER BY attempt;

-- name: export_idempotent_requests
-- The key and the answer are stored only as a digest and sealed under the key: their route and dates are what
-- can be told.
SELECT scope AS route, created_at, completed_at FROM idempotency_keys WHERE reckoning_id = %(reckoning_id)s
ORDER BY created_at;

-- name: export_emails
SELECT kind, status, created_at, sent_at FROM emails WHERE reckoning_id = %(reckoning_id)s ORDER BY id;
