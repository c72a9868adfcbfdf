-- Backlog is not staleness (docs/decisions.md 42). The sweeper tells a job that is only waiting in the report
-- queue from a lost one by how far the queue has got: each claim records the SentTimestamp of the message it
-- received, and the highest one seen is the queue's progress watermark. A paid reckoning whose latest job was
-- relayed a stale period before the watermark (or whose queue holds nothing visible) has lost its job.
CREATE TABLE queue_progress (
    id             boolean PRIMARY KEY DEFAULT true CHECK (id),
    sent_watermark timestamptz NOT NULL DEFAULT '-infinity',
    updated_at     timestamptz NOT NULL DEFAULT now()
);
INSERT INTO queue_progress DEFAULT VALUES;
-- The latest relay of a reckoning's job is read through outbox_reckoning_idx (migration 0004).

