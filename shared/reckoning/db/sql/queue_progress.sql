-- Writes: queue_progress. How far the report queue has got: the highest SentTimestamp a worker has received
-- (one row). The sweeper's stale_work (reckonings.sql) measures waiting against it (docs/lifecycle.md).

-- name: advance_queue_progress
-- A worker received a job the queue got at `sent_at`: the queue has got at least that far (never back).
UPDATE queue_progress SET sent_watermark = %(sent_at)s, updated_at = now()
WHERE sent_watermark < %(sent_at)s;
