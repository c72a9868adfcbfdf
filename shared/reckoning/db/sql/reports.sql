-- Writes: reports, generation_attempts. One aggregate: a reckoning's report (one row, versioned) and every
-- model call made to write it. `reports.updated_at` is when the current version was written: only save_report
-- sets it, so a version's PDF carries the same date whichever path renders it.

-- name: report_for
SELECT id, reckoning_id, version, content, confidence, released, pdf_key, updated_at AS written_at
FROM reports
WHERE reckoning_id = %(reckoning_id)s;

-- name: save_report
-- The first version, or the next one replacing it (after on-call asked for a new report). Its cost is every
-- model call made for the reckoning so far (NULL while none was priced).
INSERT INTO reports AS r (reckoning_id, content, confidence, layer_results, released, model, input_tokens,
                          output_tokens, cost_usd)
VALUES (%(reckoning_id)s, %(content)s, %(confidence)s, %(layer_results)s, %(released)s, %(model)s,
        %(input_tokens)s, %(output_tokens)s,
        (SELECT sum(cost_usd) FROM generation_attempts WHERE reckoning_id = %(reckoning_id)s))
ON CONFLICT (reckoning_id) DO UPDATE
SET version = r.version + 1, content = EXCLUDED.content, confidence = EXCLUDED.confidence,
    layer_results = EXCLUDED.layer_results, released = EXCLUDED.released, model = EXCLUDED.model,
    input_tokens = EXCLUDED.input_tokens, output_tokens = EXCLUDED.output_tokens, pdf_key = NULL,
    cost_usd = EXCLUDED.cost_usd, updated_at = now()
RETURNING id, reckoning_id, version, content, confidence, released, pdf_key, updated_at AS written_at;

-- name: set_pdf_key
UPDATE reports SET pdf_key = %(pdf_key)s
WHERE reckoning_id = %(reckoning_id)s AND version = %(version)s;

-- name: withdraw_report
UPDATE reports SET released = false WHERE reckoning_id = %(reckoning_id)s;

-- name: insert_attempt
-- Numbered per reckoning; one worker at a time holds a reckoning's lease, so numbers cannot collide.
INSERT INTO generation_attempts (reckoning_id, attempt, model, latency_ms, input_tokens, output_tokens,
                                 stop_reason, confidence, passed, error_class, cost_usd, cache_read_tokens,
                                 cache_write_tokens)
SELECT %(reckoning_id)s, coalesce(max(attempt), 0) + 1, %(model)s, %(latency_ms)s, %(input_tokens)s,
       %(output_tokens)s, %(stop_reason)s, %(confidence)s, %(passed)s, %(error_class)s, %(cost_usd)s,
       %(cache_read_tokens)s, %(cache_write_tokens)s
FROM generation_attempts
WHERE reckoning_id = %(reckoning_id)s;

-- name: report_cost
SELECT cost_usd FROM reports WHERE reckoning_id = %(reckoning_id)s;

-- name: spent_since
-- What the model calls since a moment cost (the daily spend limit).
SELECT coalesce(sum(cost_usd), 0) AS spent FROM generation_attempts WHERE created_at >= %(since)s;

-- name: report_costs_since
-- `reckoning costs`: the reports written since a moment (a regenerated one counts once, at its last version).
SELECT count(cost_usd) AS priced, count(*) - count(cost_usd) AS unpriced, coalesce(sum(cost_usd), 0) AS total,
       percentile_cont(0.5) WITHIN GROUP (ORDER BY cost_usd) AS p50,
       percentile_cont(0.95) WITHIN GROUP (ORDER BY cost_usd) AS p95
FROM reports
WHERE updated_at >= %(since)s;

-- name: model_costs_since
-- `reckoning costs`: the model calls made since a moment, per model (calls that failed before an answer cost nothing).
SELECT model, count(*) AS calls, count(cost_usd) AS priced, coalesce(sum(cost_usd), 0) AS total,
       percentile_cont(0.5) WITHIN GROUP (ORDER BY cost_usd) AS p50,
       percentile_cont(0.95) WITHIN GROUP (ORDER BY cost_usd) AS p95,
       coalesce(sum(input_tokens), 0) AS input_tokens, coalesce(sum(cache_read_tokens), 0) AS cache_read_tokens,
       coalesce(sum(cache_write_tokens), 0) AS cache_write_tokens
FROM generation_attempts
WHERE created_at >= %(since)s AND error_class IS NULL
GROUP BY model
ORDER BY total DESC, model;
-- name: delete_report_of
-- Erasure: the report's text, every version of it (earlier versions were replaced in this one row).
DELETE FROM reports WHERE reckoning_id = %(reckoning_id)s;
