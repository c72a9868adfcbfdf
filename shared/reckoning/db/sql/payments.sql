-- name: latest_payment
SELECT id, reckoning_id, generation, checkout_session_id, checkout_url, amount, currency, status, expires_at
FROM payments
WHERE reckoning_id = %(reckoning_id)s
ORDER BY generation DESC
LIMIT 1;

-- name: insert_payment
INSERT INTO payments (reckoning_id, generation, checkout_session_id, checkout_url, amount, currency, expires_at)
VALUES (%(reckoning_id)s, %(generation)s, %(checkout_session_id)s, %(checkout_url)s, %(amount)s, %(currency)s,
        %(expires_at)s)
ON CONFLICT DO NOTHING;

-- name: payment_by_generation
SELECT id, reckoning_id, generation, checkout_session_id, checkout_url, amount, currency, status, expires_at
FROM payments
WHERE reckoning_id = %(reckoning_id)s AND generation = %(generation)s;

-- name: payment_by_session_for_update
SELECT id, reckoning_id, generation, checkout_session_id, amount, currency, status, payment_intent_id
FROM payments
WHERE checkout_session_id = %(checkout_session_id)s
FOR UPDATE;

-- name: payment_by_intent_for_update
SELECT id, reckoning_id, generation, checkout_session_id, amount, currency, status, payment_intent_id
FROM payments
WHERE payment_intent_id = %(payment_intent_id)s
FOR UPDATE;

-- name: set_payment_status
-- Forward-only: callers list the states the payment may leave.
UPDATE payments
SET status = %(status)s,
    payment_intent_id = coalesce(%(payment_intent_id)s, payment_intent_id),
    paid_at = CASE WHEN %(status)s = 'paid' THEN now() ELSE paid_at END,
    updated_at = now()
WHERE id = %(id)s AND status = ANY(%(from_statuses)s)
RETURNING id;

-- name: flag_payment
UPDATE payments SET flag_reason = %(reason)s, updated_at = now() WHERE id = %(id)s;

-- name: mark_reckoning_paid
UPDATE reckonings
SET status = 'paid', paid_at = now(), status_reason = 'payment'
WHERE id = %(id)s AND status = 'awaiting_payment'
RETURNING id;

-- name: mark_reckoning_refunded
UPDATE reckonings
SET status = 'refunded', status_reason = 'charge refunded', lease_expires_at = NULL
WHERE id = %(id)s AND status <> 'refunded'
RETURNING id;

-- name: record_stripe_event
INSERT INTO stripe_events (id, type, stripe_created_at, livemode, checkout_session_id, payment_intent_id)
VALUES (%(id)s, %(type)s, to_timestamp(%(created)s), %(livemode)s, %(checkout_session_id)s, %(payment_intent_id)s)
ON CONFLICT (id) DO NOTHING
RETURNING id;

-- name: finish_stripe_event
UPDATE stripe_events
SET outcome = %(outcome)s, flag_reason = %(flag_reason)s, reckoning_id = %(reckoning_id)s, processed_at = now()
WHERE id = %(id)s;

-- name: unmatched_refund_for_intent
SELECT id FROM stripe_events
WHERE payment_intent_id = %(payment_intent_id)s AND type = 'charge.refunded' AND outcome = 'unmatched'
LIMIT 1;

-- name: insert_outbox
INSERT INTO outbox (topic, dedupe_key, payload)
VALUES (%(topic)s, %(dedupe_key)s, %(payload)s)
ON CONFLICT (dedupe_key) DO NOTHING
RETURNING id;

-- name: pending_outbox
SELECT id, topic, payload
FROM outbox
WHERE sent_at IS NULL
ORDER BY id
LIMIT %(limit)s
FOR UPDATE SKIP LOCKED;

-- name: mark_outbox_sent
UPDATE outbox SET sent_at = now(), attempts = attempts + 1 WHERE id = ANY(%(ids)s);

-- name: mark_outbox_failed
UPDATE outbox SET attempts = attempts + 1, last_error = %(error)s WHERE id = ANY(%(ids)s);
