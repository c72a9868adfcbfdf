-- Writes: reports, generation_attempts. One aggregate: a reckoning's report (one row, versioned) and every
-- model call made to write it. `reports.updated_at` is when the current version was written: only save_report
-- sets it, so a version's PDF carries the same date whichever path renders it.

-- name: report_for
SELECT id, reckoning_id, version, content, confidence, released, pdf_key, updated_at AS written_at
FROM reports
WHERE reckoning_id = %(reckoning_id)s;

-- name: save_report
-- The first version, or the next one replacing it (after on-call asked for a new report).
INSERT INTO reports AS r (reckoning_id, content, confidence, layer_results, released, model, input_tokens,
                          output_tokens)
VALUES (%(reckoning_id)s, %(content)s, %(confidence)s, %(layer_results)s, %(released)s, %(model)s,
        %(input_tokens)s, %(output_tokens)s)
ON CONFLICT (reckoning_id) DO UPDATE
SET version = r.version + 1, content = EXCLUDED.content, confidence = EXCLUDED.confidence,
    layer_results = EXCLUDED.layer_results, released = EXCLUDED.released, model = EXCLUDED.model,
    input_tokens = EXCLUDED.input_tokens, output_tokens = EXCLUDED.output_tokens, pdf_key = NULL,
    updated_at = now()
RETURNING id, reckoning_id, version, content, confidence, released, pdf_key, updated_at AS written_at;

-- name: set_pdf_key
UPDATE reports SET pdf_key = %(pdf_key)s
WHERE reckoning_id = %(reckoning_id)s AND version = %(version)s;

-- name: withdraw_report
UPDATE reports SET released = false WHERE reckoning_id = %(reckoning_id)s;

-- name: insert_attempt
-- Numbered per reckoning; one worker at a time holds a reckoning's lease, so numbers cannot collide.
INSERT INTO generation_attempts (reckoning_id, attempt, model, latency_ms, input_tokens, output_tokens,
                                 stop_reason, confidence, passed, error_class)
SELECT %(reckoning_id)s, coalesce(max(attempt), 0) + 1, %(model)s, %(latency_ms)s, %(input_tokens)s,
       %(output_tokens)s, %(stop_reason)s, %(confidence)s, %(passed)s, %(error_class)s
FROM generation_attempts
WHERE reckoning_id = %(reckoning_id)s;

-- name: delete_report_of
-- Erasure: the report's text, every version of it (earlier versions were replaced in this one row).
DELETE FROM reports WHERE reckoning_id = %(reckoning_id)s;
