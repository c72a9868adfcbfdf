-- Writes: rate_limits. Fixed windows per bucket (route and client digest), one UPSERT per request.

-- name: hit_rate_limit
INSERT INTO rate_limits AS rl (bucket, window_start, count)
VALUES (%(bucket)s, to_timestamp(floor(extract(epoch FROM now()) / %(window_s)s) * %(window_s)s), 1)
ON CONFLICT (bucket, window_start) DO UPDATE SET count = rl.count + 1
RETURNING count, ceil(extract(epoch FROM (rl.window_start + make_interval(secs => %(window_s)s) - now())))::int AS resets_in;

-- name: prune_rate_limits
-- Windows that ended long ago; the sweeper runs it, so the table holds about a day of counters.
DELETE FROM rate_limits WHERE window_start < now() - make_interval(secs => %(older_than_s)s);
