-- name: claim_reckoning
-- A paid reckoning, or one whose previous worker's lease ran out. Anything else: someone else has it.
UPDATE reckonings
SET status = 'generating', status_reason = %(reason)s, attempts = attempts + 1,
    lease_expires_at = now() + make_interval(secs => %(lease_s)s)
WHERE id = %(id)s
  AND (status = 'paid' OR (status = 'generating' AND lease_expires_at < now()))
RETURNING id, email, name, questionnaire_version, answers, attempts;

-- name: release_lease
UPDATE reckonings SET lease_expires_at = now()
WHERE id = %(id)s AND status = 'generating';

-- name: finish_reckoning
UPDATE reckonings
SET status = %(status)s, status_reason = %(reason)s, lease_expires_at = NULL,
    ready_at = CASE WHEN %(status)s = 'ready' THEN now() ELSE ready_at END
WHERE id = %(id)s AND status = 'generating'
RETURNING id;

-- name: fail_reckoning
UPDATE reckonings
SET status = 'failed', status_reason = %(reason)s, lease_expires_at = NULL
WHERE id = %(id)s AND status IN ('paid', 'generating')
RETURNING id;

-- name: report_for
SELECT id, reckoning_id, version, content, confidence, layer_results, released, model, pdf_key, updated_at
FROM reports
WHERE reckoning_id = %(reckoning_id)s;

-- name: save_report
INSERT INTO reports AS r (reckoning_id, content, confidence, layer_results, released, model, input_tokens,
                          output_tokens)
VALUES (%(reckoning_id)s, %(content)s, %(confidence)s, %(layer_results)s, %(released)s, %(model)s,
        %(input_tokens)s, %(output_tokens)s)
ON CONFLICT (reckoning_id) DO UPDATE
SET version = r.version + 1, content = EXCLUDED.content, confidence = EXCLUDED.confidence,
    layer_results = EXCLUDED.layer_results, released = EXCLUDED.released, model = EXCLUDED.model,
    input_tokens = EXCLUDED.input_tokens, output_tokens = EXCLUDED.output_tokens, pdf_key = NULL,
    updated_at = now()
RETURNING version;

-- name: set_pdf_key
UPDATE reports SET pdf_key = %(pdf_key)s, updated_at = now()
WHERE reckoning_id = %(reckoning_id)s AND version = %(version)s;

-- name: withdraw_report
UPDATE reports SET released = false, updated_at = now() WHERE reckoning_id = %(reckoning_id)s;

-- name: insert_attempt
INSERT INTO generation_attempts (reckoning_id, attempt, model, latency_ms, input_tokens, output_tokens,
                                 stop_reason, confidence, passed, error_class)
VALUES (%(reckoning_id)s, %(attempt)s, %(model)s, %(latency_ms)s, %(input_tokens)s, %(output_tokens)s,
        %(stop_reason)s, %(confidence)s, %(passed)s, %(error_class)s);

-- name: next_attempt_number
SELECT coalesce(max(attempt), 0) + 1 AS n FROM generation_attempts WHERE reckoning_id = %(reckoning_id)s;

-- name: email_by_key
SELECT id, status, provider_id FROM emails WHERE idempotency_key = %(idempotency_key)s;

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
