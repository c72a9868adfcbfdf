-- Writes: payments, stripe_events. One aggregate: the Checkout sessions of a reckoning and the ledger of the
-- Stripe events about them. A payment's status only moves forward: callers name the states it may leave.

-- name: latest_payment
SELECT id, reckoning_id, generation, checkout_session_id, checkout_url, payment_intent_id, amount, currency,
       status, expires_at
FROM payments
WHERE reckoning_id = %(reckoning_id)s
ORDER BY generation DESC
LIMIT 1;

-- name: insert_payment
-- A concurrent caller's row for the same generation wins: the no-op update hands it back.
INSERT INTO payments AS p (reckoning_id, generation, checkout_session_id, checkout_url, amount, currency, expires_at)
VALUES (%(reckoning_id)s, %(generation)s, %(checkout_session_id)s, %(checkout_url)s, %(amount)s, %(currency)s,
        %(expires_at)s)
ON CONFLICT (reckoning_id, generation) DO UPDATE SET generation = p.generation
RETURNING id, reckoning_id, generation, checkout_session_id, checkout_url, payment_intent_id, amount, currency,
          status, expires_at;

-- name: payment_by_session_for_update
SELECT id, reckoning_id, generation, checkout_session_id, checkout_url, payment_intent_id, amount, currency,
       status, expires_at
FROM payments
WHERE checkout_session_id = %(checkout_session_id)s
FOR UPDATE;

-- name: payment_by_intent_for_update
SELECT id, reckoning_id, generation, checkout_session_id, checkout_url, payment_intent_id, amount, currency,
       status, expires_at
FROM payments
WHERE payment_intent_id = %(payment_intent_id)s
FOR UPDATE;

-- name: set_payment_status
UPDATE payments
SET status = %(status)s,
    payment_intent_id = coalesce(%(payment_intent_id)s, payment_intent_id),
    paid_at = CASE WHEN %(status)s = 'paid' THEN now() ELSE paid_at END,
    updated_at = now()
WHERE id = %(id)s AND status = ANY(%(from_statuses)s);

-- name: flag_payment
UPDATE payments SET flag_reason = %(reason)s, updated_at = now() WHERE id = %(id)s;

-- name: record_stripe_event
-- The ledger: a delivery whose event id is already here is a duplicate.
INSERT INTO stripe_events (id, type, stripe_created_at, livemode, checkout_session_id, payment_intent_id)
VALUES (%(id)s, %(type)s, to_timestamp(%(created)s), %(livemode)s, %(checkout_session_id)s, %(payment_intent_id)s)
ON CONFLICT (id) DO NOTHING;

-- name: finish_stripe_event
UPDATE stripe_events
SET outcome = %(outcome)s, flag_reason = %(flag_reason)s, reckoning_id = %(reckoning_id)s, processed_at = now()
WHERE id = %(id)s;

-- name: unmatched_refund_for_intent
SELECT id FROM stripe_events
WHERE payment_intent_id = %(payment_intent_id)s AND type = 'charge.refunded' AND outcome = 'unmatched'
LIMIT 1;

-- name: scrub_payments_of
-- Erasure: the accounting record stays (amount, currency, Stripe ids, status, dates); the checkout URL goes (the
-- checkout page shows the address, and the offline one carries it in the URL).
UPDATE payments SET checkout_url = NULL WHERE reckoning_id = %(reckoning_id)s AND checkout_url IS NOT NULL;

-- name: paid_payment_of
SELECT id FROM payments WHERE reckoning_id = %(reckoning_id)s AND status = 'paid' LIMIT 1;
