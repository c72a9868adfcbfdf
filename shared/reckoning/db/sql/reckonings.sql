-- Writes: reckonings. Every change of a reckoning is here: its whole lifecycle on one screen (docs/lifecycle.md).
-- A status moves only through a conditional update (WHERE status ...), so a repeated event or message never
-- moves it twice; the caller learns from the row count whether it did. A trigger (migration 0001) records
-- every change of status in reckoning_events.

-- name: insert_reckoning
-- submit: a new reckoning, awaiting_payment.
INSERT INTO reckonings (email, name, questionnaire_version, answers)
VALUES (%(email)s, %(name)s, %(questionnaire_version)s, %(answers)s)
RETURNING id;

-- name: mark_paid
-- awaiting_payment -> paid: the webhook, when its checkout session is paid.
UPDATE reckonings
SET status = 'paid', paid_at = now(), status_reason = 'payment'
WHERE id = %(id)s AND status = 'awaiting_payment';

-- name: claim
-- paid, or generating whose previous worker's lease ran out -> generating: the worker takes it for a lease.
UPDATE reckonings
SET status = 'generating', status_reason = %(reason)s, attempts = attempts + 1,
    lease_expires_at = now() + make_interval(secs => %(lease_s)s)
WHERE id = %(id)s
  AND (status = 'paid' OR (status = 'generating' AND lease_expires_at < now()))
RETURNING id, email, name, status, status_reason, questionnaire_version, answers, attempts, created_at,
          status_changed_at;

-- The worker's writes below name its claim (`attempts` as the claim returned it): a worker whose reckoning
-- was refunded, reopened or claimed again by another since changes nothing, and learns so from the row count.

-- name: release_lease
-- generating stays generating; the lease now ends when SQS hands the failed message back (retry_in_s), so the
-- redelivery may claim it then, and the sweeper leaves it alone until then.
UPDATE reckonings SET lease_expires_at = now() + make_interval(secs => %(retry_in_s)s)
WHERE id = %(id)s AND status = 'generating' AND attempts = %(attempt)s;

-- name: holds_claim
-- The worker's claim still stands; the row stays locked until the transaction ends (a refund waits for it).
SELECT id FROM reckonings
WHERE id = %(id)s AND status = 'generating' AND attempts = %(attempt)s
FOR UPDATE;

-- name: finish
-- generating -> ready (report released, emailed) or needs_review (held for a person).
UPDATE reckonings
SET status = %(status)s, status_reason = %(reason)s, lease_expires_at = NULL,
    ready_at = CASE WHEN %(status)s = 'ready' THEN now() ELSE ready_at END
WHERE id = %(id)s AND status = 'generating' AND attempts = %(attempt)s AND %(status)s IN ('ready', 'needs_review');

-- name: fail
-- generating -> failed: the claim's holder met a permanent failure, or failed on the queue's last receive.
UPDATE reckonings
SET status = 'failed', status_reason = %(reason)s, lease_expires_at = NULL
WHERE id = %(id)s AND status = 'generating' AND attempts = %(attempt)s;

-- name: fail_unclaimed
-- paid, or generating whose lease ran out -> failed: the queue's last receive failed before its claim.
UPDATE reckonings
SET status = 'failed', status_reason = %(reason)s, lease_expires_at = NULL
WHERE id = %(id)s AND (status = 'paid' OR (status = 'generating' AND lease_expires_at < now()));

-- name: refund
-- any but refunded (or erased) -> refunded: the webhook, when the charge is refunded in full.
UPDATE reckonings
SET status = 'refunded', status_reason = 'charge refunded', lease_expires_at = NULL
WHERE id = %(id)s AND status NOT IN ('refunded', 'erasing', 'erased');

-- name: reopen
-- paid, ready, failed, needs_review, or generating whose lease ran out -> paid: on-call asks for a new report.
-- Never while a worker holds a live lease: it would release its version and email it too.
UPDATE reckonings
SET status = 'paid', status_reason = %(reason)s, lease_expires_at = NULL
WHERE id = %(id)s
  AND (status IN ('paid', 'ready', 'failed', 'needs_review') OR (status = 'generating' AND lease_expires_at < now()));

-- name: reopen_failed
-- failed -> paid: on-call replays the dead-letter queue.
UPDATE reckonings
SET status = 'paid', status_reason = %(reason)s, lease_expires_at = NULL
WHERE id = %(id)s AND status = 'failed';

-- name: begin_erasure
-- any but erasing or erased -> erasing: every personal field cleared at once (docs/privacy.md). The other tables
-- are scrubbed in the same transaction; the reckoning stays erasing until its PDFs are deleted from S3.
UPDATE reckonings
SET status = 'erasing', status_reason = %(reason)s, email = NULL, name = NULL, answers = '{}',
    lease_expires_at = NULL
WHERE id = %(id)s AND status NOT IN ('erasing', 'erased');

-- name: finish_erasure
-- erasing -> erased: its stored objects are gone too.
UPDATE reckonings SET status = 'erased' WHERE id = %(id)s AND status = 'erasing';

-- name: hold
-- A reckoning not being erased, locked for the rest of the transaction: an erasure waits for its commit, so what
-- the transaction writes about the reckoning (a report, a token) is erased with it, never left behind.
SELECT id FROM reckonings WHERE id = %(id)s AND status NOT IN ('erasing', 'erased') FOR SHARE;

-- name: due_for_erasure
-- The retention purge's work: erasures to finish (a crash or S3 failure halfway), then the reckonings kept past
-- their retention from their last activity: unpaid ones from their last checkout session (or creation), the
-- others from their last delivery (or payment).
(SELECT id FROM reckonings WHERE status = 'erasing' LIMIT %(limit)s)
UNION ALL
(SELECT r.id FROM reckonings r
 CROSS JOIN LATERAL (SELECT greatest(r.created_at, (SELECT max(p.created_at) FROM payments p WHERE p.reckoning_id = r.id))
                     AS unpaid_since) a
 WHERE r.status NOT IN ('erasing', 'erased')
   AND coalesce(r.ready_at, r.paid_at, a.unpaid_since) < now() - make_interval(days => least(%(unpaid_days)s, %(days)s))
   AND coalesce(r.ready_at, r.paid_at, a.unpaid_since) < now() - make_interval(
           days => CASE WHEN r.status = 'awaiting_payment' THEN %(unpaid_days)s ELSE %(days)s END)
 ORDER BY coalesce(r.ready_at, r.paid_at, a.unpaid_since)
 LIMIT %(limit)s);

-- name: stuck_erasures
-- Erasures asked for this long ago and not finished (their stored objects could not be deleted): the alarm's count.
SELECT count(*) AS n FROM reckonings
WHERE status = 'erasing' AND status_changed_at < now() - make_interval(secs => %(older_than_s)s);

-- name: reckoning_ids_of_address
-- Every reckoning of an address that is not erased (an operator's erasure request).
SELECT id FROM reckonings
WHERE lower(email) = lower(%(email)s) AND status NOT IN ('erasing', 'erased')
ORDER BY created_at;

-- name: reckoning_by_id
-- Erased reckonings are unknown to every read of a reckoning.
SELECT id, email, name, status, status_reason, questionnaire_version, answers, attempts, created_at,
       status_changed_at
FROM reckonings
WHERE id = %(id)s AND status NOT IN ('erasing', 'erased');

-- name: reckonings_of_address
-- Paid reckonings of an address, oldest first (awaiting payment ones have no report to link; refunded ones are
-- linked so that their person may still export and erase their data).
SELECT id, email, name, status, status_reason, questionnaire_version, answers, attempts, created_at,
       status_changed_at
FROM reckonings
WHERE lower(email) = lower(%(email)s)
  AND status IN ('paid', 'generating', 'ready', 'needs_review', 'failed', 'refunded')
ORDER BY created_at
LIMIT 20;

-- name: stale_work
-- Work whose job is lost, not waiting (docs/lifecycle.md "Recovery"). Each reckoning's `since` is the latest of:
-- the last relay of its generate job (outbox), when it became paid (a reopen, a dead letter replayed), and for
-- generating work when its lease ended (a worker died, or its handed-back or waiting message came due). It is
-- lost when `since` is a stale period behind the queue's progress: the workers have been claiming jobs sent a
-- stale period after it (`watermark`, queue_progress), or the queue holds nothing visible (`queue_idle`: then
-- against now). Work with a job still to relay is the relay's. Only lost work is returned, oldest first, so
-- waiting work can neither be re-enqueued nor starve it, however long the backlog.
WITH progress AS (
    SELECT CASE WHEN %(queue_idle)s THEN now() ELSE least(sent_watermark, now()) END AS reference
    FROM queue_progress
), work AS (
    SELECT r.id, r.status,
           greatest(job.relayed_at,
                    CASE WHEN r.status = 'paid' THEN r.status_changed_at ELSE r.lease_expires_at END) AS since,
           job.unsent
    FROM reckonings r
    CROSS JOIN LATERAL (
        SELECT max(o.sent_at) AS relayed_at, coalesce(bool_or(o.sent_at IS NULL), false) AS unsent
        FROM outbox o
        WHERE o.payload ->> 'reckoningId' = r.id::text AND coalesce(o.payload ->> 'kind', 'generate') = 'generate'
    ) AS job
    WHERE r.status = 'paid' OR (r.status = 'generating' AND r.lease_expires_at < now())
)
SELECT id, status, since,
       floor(extract(epoch FROM (SELECT reference FROM progress) - since) / %(stale_s)s)::integer AS periods
FROM work
WHERE NOT unsent AND since < (SELECT reference FROM progress) - make_interval(secs => %(stale_s)s)
ORDER BY since
LIMIT %(limit)s;
