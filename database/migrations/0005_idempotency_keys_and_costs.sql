-- Idempotency keys of POST /api/reckoning and POST /api/checkout, and what every model call and report cost.

-- One row per route and key (only the key's SHA-256 is stored): in flight under a lease until the effect's
-- own transaction completes it with the first answer, sealed under the key (domain/idempotency.py).
-- Kept 24 hours; the sweeper prunes older ones.
CREATE TABLE idempotency_keys (
    scope             text NOT NULL CHECK (scope IN ('POST /api/reckoning', 'POST /api/checkout')),
    key_digest        bytea NOT NULL CHECK (length(key_digest) = 32),
    request_digest    bytea NOT NULL CHECK (length(request_digest) = 32),
    lease_expires_at  timestamptz NOT NULL,
    response          bytea,
    reckoning_id      uuid REFERENCES reckonings (id) ON DELETE CASCADE,
    created_at        timestamptz NOT NULL DEFAULT now(),
    completed_at      timestamptz,
    PRIMARY KEY (scope, key_digest),
    CHECK ((completed_at IS NULL) = (response IS NULL))
);
CREATE INDEX idempotency_keys_created_idx ON idempotency_keys (created_at);

-- The price of each model call (from the versioned price table in reckoning/prices.json; NULL when its model
-- has no price or it reported no tokens), and each report's total: every call made for its reckoning.
ALTER TABLE generation_attempts ADD COLUMN cost_usd numeric(12, 6) CHECK (cost_usd >= 0);
ALTER TABLE reports ADD COLUMN cost_usd numeric(12, 6) CHECK (cost_usd >= 0);
-- Today's spend (the daily limit) and `reckoning costs --since` read attempts by time.
CREATE INDEX generation_attempts_created_idx ON generation_attempts (created_at);
