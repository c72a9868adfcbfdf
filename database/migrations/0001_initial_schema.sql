-- Reckoning: the whole schema of DESIGN §4.
-- Statuses are text with CHECK constraints (cheaper to evolve than enum types).

CREATE TABLE reckonings (
    id                    uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    email                 text NOT NULL CHECK (length(email) BETWEEN 3 AND 254),
    name                  text CHECK (length(name) <= 100),
    questionnaire_version text NOT NULL,
    answers               jsonb NOT NULL CHECK (jsonb_typeof(answers) = 'object'),
    status                text NOT NULL DEFAULT 'awaiting_payment' CHECK (status IN (
                              'awaiting_payment', 'paid', 'generating', 'ready',
                              'failed', 'needs_review', 'refunded')),
    status_reason         text,
    attempts              integer NOT NULL DEFAULT 0 CHECK (attempts >= 0),
    lease_expires_at      timestamptz,
    created_at            timestamptz NOT NULL DEFAULT now(),
    updated_at            timestamptz NOT NULL DEFAULT now(),
    status_changed_at     timestamptz NOT NULL DEFAULT now(),
    paid_at               timestamptz,
    ready_at              timestamptz
);
CREATE INDEX reckonings_email_idx ON reckonings (lower(email));
CREATE INDEX reckonings_claimable_idx ON reckonings (status, lease_expires_at)
    WHERE status IN ('paid', 'generating');

-- Every status change, written by a trigger so no query can forget it: the on-call timeline.
CREATE TABLE reckoning_events (
    id            bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    reckoning_id  uuid NOT NULL REFERENCES reckonings (id) ON DELETE CASCADE,
    from_status   text,
    to_status     text NOT NULL,
    reason        text,
    created_at    timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX reckoning_events_reckoning_idx ON reckoning_events (reckoning_id, id);

CREATE FUNCTION record_reckoning_status() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'INSERT' THEN
        INSERT INTO reckoning_events (reckoning_id, from_status, to_status, reason)
        VALUES (NEW.id, NULL, NEW.status, NEW.status_reason);
    ELSIF NEW.status IS DISTINCT FROM OLD.status THEN
        NEW.status_changed_at := now();
        INSERT INTO reckoning_events (reckoning_id, from_status, to_status, reason)
        VALUES (NEW.id, OLD.status, NEW.status, NEW.status_reason);
    END IF;
    NEW.updated_at := now();
    RETURN NEW;
END;
$$;
CREATE TRIGGER reckonings_status_insert AFTER INSERT ON reckonings
    FOR EACH ROW EXECUTE FUNCTION record_reckoning_status();
CREATE TRIGGER reckonings_status_update BEFORE UPDATE ON reckonings
    FOR EACH ROW EXECUTE FUNCTION record_reckoning_status();

CREATE TABLE access_tokens (
    token_hash    bytea PRIMARY KEY CHECK (length(token_hash) = 32),
    reckoning_id  uuid NOT NULL REFERENCES reckonings (id) ON DELETE CASCADE,
    purpose       text NOT NULL CHECK (purpose IN ('report', 'email_link')),
    created_at    timestamptz NOT NULL DEFAULT now(),
    expires_at    timestamptz,
    revoked_at    timestamptz
);
CREATE INDEX access_tokens_reckoning_idx ON access_tokens (reckoning_id);

CREATE TABLE payments (
    id                   uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    reckoning_id         uuid NOT NULL REFERENCES reckonings (id) ON DELETE CASCADE,
    generation           integer NOT NULL CHECK (generation >= 1),
    checkout_session_id  text NOT NULL UNIQUE,
    checkout_url         text,
    payment_intent_id    text,
    amount               integer NOT NULL CHECK (amount >= 0),
    currency             text NOT NULL CHECK (currency ~ '^[a-z]{3}$'),
    status               text NOT NULL DEFAULT 'open' CHECK (status IN (
                             'open', 'processing', 'paid', 'failed', 'expired', 'refunded')),
    flag_reason          text,
    expires_at           timestamptz NOT NULL,
    paid_at              timestamptz,
    created_at           timestamptz NOT NULL DEFAULT now(),
    updated_at           timestamptz NOT NULL DEFAULT now(),
    UNIQUE (reckoning_id, generation)
);
CREATE INDEX payments_payment_intent_idx ON payments (payment_intent_id) WHERE payment_intent_id IS NOT NULL;

CREATE TABLE stripe_events (
    id                   text PRIMARY KEY,
    type                 text NOT NULL,
    stripe_created_at    timestamptz NOT NULL,
    livemode             boolean NOT NULL DEFAULT false,
    checkout_session_id  text,
    payment_intent_id    text,
    reckoning_id         uuid REFERENCES reckonings (id) ON DELETE SET NULL,
    outcome              text CHECK (outcome IN ('applied', 'ignored', 'flagged', 'unmatched')),
    flag_reason          text,
    received_at          timestamptz NOT NULL DEFAULT now(),
    processed_at         timestamptz
);
CREATE INDEX stripe_events_reckoning_idx ON stripe_events (reckoning_id) WHERE reckoning_id IS NOT NULL;
-- A refund can arrive before the payment it refunds: found again through its payment intent.
CREATE INDEX stripe_events_unmatched_idx ON stripe_events (payment_intent_id) WHERE outcome = 'unmatched';
CREATE INDEX stripe_events_flagged_idx ON stripe_events (received_at) WHERE outcome = 'flagged';

CREATE TABLE reports (
    id              uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    reckoning_id    uuid NOT NULL UNIQUE REFERENCES reckonings (id) ON DELETE CASCADE,
    version         integer NOT NULL DEFAULT 1 CHECK (version >= 1),
    content         jsonb NOT NULL,
    confidence      numeric(4, 3) NOT NULL CHECK (confidence BETWEEN 0 AND 1),
    layer_results   jsonb NOT NULL,
    released        boolean NOT NULL DEFAULT false,
    model           text NOT NULL,
    input_tokens    integer CHECK (input_tokens >= 0),
    output_tokens   integer CHECK (output_tokens >= 0),
    pdf_key         text,
    created_at      timestamptz NOT NULL DEFAULT now(),
    updated_at      timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE generation_attempts (
    id              bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    reckoning_id    uuid NOT NULL REFERENCES reckonings (id) ON DELETE CASCADE,
    attempt         integer NOT NULL CHECK (attempt >= 1),
    model           text NOT NULL,
    latency_ms      integer CHECK (latency_ms >= 0),
    input_tokens    integer CHECK (input_tokens >= 0),
    output_tokens   integer CHECK (output_tokens >= 0),
    stop_reason     text,
    confidence      numeric(4, 3) CHECK (confidence BETWEEN 0 AND 1),
    passed          boolean,
    error_class     text,
    created_at      timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX generation_attempts_reckoning_idx ON generation_attempts (reckoning_id, id);

CREATE TABLE emails (
    id               bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    reckoning_id     uuid REFERENCES reckonings (id) ON DELETE CASCADE,
    kind             text NOT NULL CHECK (kind IN ('report_ready', 'report_links')),
    idempotency_key  text NOT NULL UNIQUE,
    provider_id      text,
    status           text NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'sent', 'failed')),
    error_class      text,
    created_at       timestamptz NOT NULL DEFAULT now(),
    sent_at          timestamptz
);
CREATE INDEX emails_reckoning_idx ON emails (reckoning_id);

CREATE TABLE outbox (
    id           bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    topic        text NOT NULL CHECK (topic IN ('report_queue')),
    dedupe_key   text NOT NULL UNIQUE,
    payload      jsonb NOT NULL,
    attempts     integer NOT NULL DEFAULT 0,
    last_error   text,
    created_at   timestamptz NOT NULL DEFAULT now(),
    sent_at      timestamptz
);
CREATE INDEX outbox_pending_idx ON outbox (id) WHERE sent_at IS NULL;

CREATE TABLE rate_limits (
    bucket        text NOT NULL,
    window_start  timestamptz NOT NULL,
    count         integer NOT NULL CHECK (count >= 1),
    PRIMARY KEY (bucket, window_start)
);
CREATE INDEX rate_limits_window_idx ON rate_limits (window_start);
