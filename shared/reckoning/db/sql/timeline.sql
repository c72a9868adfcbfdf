-- Writes: nothing. Read-only queries behind `reckoning timeline`: ids, statuses, amounts and error classes,
-- never emails, names, answers or report text.

-- name: timeline_status
SELECT created_at AS at, 'status' AS kind,
       coalesce(from_status, '-') || ' -> ' || to_status || coalesce(' (' || reason || ')', '') AS detail
FROM reckoning_events WHERE reckoning_id = %(id)s;

-- name: timeline_payments
SELECT created_at AS at, 'payment' AS kind,
       'session ' || checkout_session_id || ' gen ' || generation || ' ' || status || ' '
       || amount || ' ' || currency || coalesce(' flagged: ' || flag_reason, '') AS detail
FROM payments WHERE reckoning_id = %(id)s;

-- name: timeline_stripe_events
SELECT received_at AS at, 'stripe' AS kind,
       type || ' ' || id || ' -> ' || coalesce(outcome, 'pending') || coalesce(' (' || flag_reason || ')', '') AS detail
FROM stripe_events WHERE reckoning_id = %(id)s;

-- name: timeline_attempts
SELECT created_at AS at, 'attempt' AS kind,
       '#' || attempt || ' ' || model || coalesce(' ' || latency_ms || ' ms', '')
       || coalesce(' tokens ' || input_tokens || '/' || output_tokens, '') || coalesce(' $' || cost_usd, '')
       || coalesce(' stop ' || stop_reason, '')
       || coalesce(' confidence ' || confidence, '') || coalesce(' passed ' || passed, '')
       || coalesce(' error ' || error_class, '') AS detail
FROM generation_attempts WHERE reckoning_id = %(id)s;

-- name: timeline_emails
SELECT created_at AS at, 'email' AS kind,
       kind || ' ' || status || coalesce(' provider ' || provider_id, '') || coalesce(' error ' || error_class, '') AS detail
FROM emails WHERE reckoning_id = %(id)s;
