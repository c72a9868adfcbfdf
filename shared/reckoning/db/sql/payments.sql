-- Writes: payments, stripe_events. One aggregate: the Checkout sessions of a reckoning and the ledger of the
-- Stripe events about them. A payment's status only moves forward, through the named transitions below.

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

-- The transitions of a payment (docs/lifecycle.md), each naming the states it leaves: a repeat changes nothing.

-- name: payment_processing
-- Completed with a delayed method (bank debit): the money has not arrived yet.
UPDATE payments
SET status = 'processing', payment_intent_id = coalesce(%(payment_intent_id)s, payment_intent_id), updated_at = now()
WHERE id = %(id)s AND status = 'open';

-- name: payment_paid
UPDATE payments
SET status = 'paid', payment_intent_id = coalesce(%(payment_intent_id)s, payment_intent_id), paid_at = now(),
    updated_at = now()
WHERE id = %(id)s AND status IN ('open', 'processing');

-- name: payment_failed
UPDATE payments SET status = 'failed', updated_at = now() WHERE id = %(id)s AND status IN ('open', 'processing');

-- name: payment_expired
UPDATE payments SET status = 'expired', updated_at = now() WHERE id = %(id)s AND status = 'open';

-- name: payment_refunded
UPDATE payments SET status = 'refunded', updated_at = now()
WHERE id = %(id)s AND status IN ('open', 'processing', 'paid');

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

-- name: open_payments_of
-- Erasure: the sessions that may still be paid, to expire at Stripe before the reckoning's data goes.
SELECT id, reckoning_id, generation, checkout_session_id, checkout_url, payment_intent_id, amount, currency,
       status, expires_at
FROM payments
WHERE reckoning_id = %(reckoning_id)s AND status = 'open'
ORDER BY generation;
