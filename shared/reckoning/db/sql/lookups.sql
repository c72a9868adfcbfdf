-- Writes: nothing. Read-only queries behind `reckoning find`: reckonings from what a support case starts with (an
-- address, a Stripe id). Ids, statuses and dates only: never the address, a name or an answer.

-- name: found_by_email
-- Reckonings of an address (stored in the clear until erased: an erased one has no address left to match).
SELECT id, status, created_at, paid_at, ready_at
FROM reckonings
WHERE lower(email) = lower(%(email)s)
ORDER BY created_at;

-- name: found_by_stripe_id
-- Reckonings a Checkout session or payment intent belongs to: its payments, or the ledger's events about it
-- (an event that matched no payment names no reckoning). Erased reckonings too: their accounting record stays.
SELECT id, status, created_at, paid_at, ready_at
FROM reckonings
WHERE id IN (
    SELECT reckoning_id FROM payments
    WHERE checkout_session_id = %(stripe_id)s OR payment_intent_id = %(stripe_id)s
    UNION
    SELECT reckoning_id FROM stripe_events
    WHERE reckoning_id IS NOT NULL AND (checkout_session_id = %(stripe_id)s OR payment_intent_id = %(stripe_id)s)
)
ORDER BY created_at;
