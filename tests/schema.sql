CREATE FUNCTION public.record_reckoning_status() RETURNS trigger
    LANGUAGE plpgsql
    AS $$
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

CREATE TABLE public.access_tokens (
    token_hash bytea NOT NULL,
    reckoning_id uuid NOT NULL,
    purpose text NOT NULL,
    created_at timestamp with time zone DEFAULT now() NOT NULL,
    expires_at timestamp with time zone,
    revoked_at timestamp with time zone,
    CONSTRAINT access_tokens_purpose_check CHECK ((purpose = ANY (ARRAY['report'::text, 'email_link'::text]))),
    CONSTRAINT access_tokens_token_hash_check CHECK ((length(token_hash) = 32))
);

CREATE TABLE public.emails (
    id bigint NOT NULL,
    reckoning_id uuid,
    kind text NOT NULL,
    idempotency_key text NOT NULL,
    provider_id text,
    status text DEFAULT 'pending'::text NOT NULL,
    error_class text,
    created_at timestamp with time zone DEFAULT now() NOT NULL,
    sent_at timestamp with time zone,
    CONSTRAINT emails_kind_check CHECK ((kind = ANY (ARRAY['report_ready'::text, 'report_links'::text]))),
    CONSTRAINT emails_status_check CHECK ((status = ANY (ARRAY['pending'::text, 'sent'::text, 'failed'::text])))
);

ALTER TABLE public.emails ALTER COLUMN id ADD GENERATED ALWAYS AS IDENTITY (
    SEQUENCE NAME public.emails_id_seq
    START WITH 1
    INCREMENT BY 1
    NO MINVALUE
    NO MAXVALUE
    CACHE 1
);

CREATE TABLE public.generation_attempts (
    id bigint NOT NULL,
    reckoning_id uuid NOT NULL,
    attempt integer NOT NULL,
    model text NOT NULL,
    latency_ms integer,
    input_tokens integer,
    output_tokens integer,
    stop_reason text,
    confidence numeric(4,3),
    passed boolean,
    error_class text,
    created_at timestamp with time zone DEFAULT now() NOT NULL,
    cost_usd numeric(12,6),
    cache_read_tokens integer DEFAULT 0 NOT NULL,
    cache_write_tokens integer DEFAULT 0 NOT NULL,
    CONSTRAINT generation_attempts_attempt_check CHECK ((attempt >= 1)),
    CONSTRAINT generation_attempts_cache_read_tokens_check CHECK ((cache_read_tokens >= 0)),
    CONSTRAINT generation_attempts_cache_write_tokens_check CHECK ((cache_write_tokens >= 0)),
    CONSTRAINT generation_attempts_confidence_check CHECK (((confidence >= (0)::numeric) AND (confidence <= (1)::numeric))),
    CONSTRAINT generation_attempts_cost_usd_check CHECK ((cost_usd >= (0)::numeric)),
    CONSTRAINT generation_attempts_input_tokens_check CHECK ((input_tokens >= 0)),
    CONSTRAINT generation_attempts_latency_ms_check CHECK ((latency_ms >= 0)),
    CONSTRAINT generation_attempts_output_tokens_check CHECK ((output_tokens >= 0))
);

ALTER TABLE public.generation_attempts ALTER COLUMN id ADD GENERATED ALWAYS AS IDENTITY (
    SEQUENCE NAME public.generation_attempts_id_seq
    START WITH 1
    INCREMENT BY 1
    NO MINVALUE
    NO MAXVALUE
    CACHE 1
);

CREATE TABLE public.idempotency_keys (
    scope text NOT NULL,
    key_digest bytea NOT NULL,
    request_digest bytea NOT NULL,
    lease_expires_at timestamp with time zone NOT NULL,
    response bytea,
    reckoning_id uuid,
    created_at timestamp with time zone DEFAULT now() NOT NULL,
    completed_at timestamp with time zone,
    CONSTRAINT idempotency_keys_check CHECK (((completed_at IS NULL) = (response IS NULL))),
    CONSTRAINT idempotency_keys_key_digest_check CHECK ((length(key_digest) = 32)),
    CONSTRAINT idempotency_keys_request_digest_check CHECK ((length(request_digest) = 32)),
    CONSTRAINT idempotency_keys_scope_check CHECK ((scope = ANY (ARRAY['POST /api/reckoning'::text, 'POST /api/checkout'::text])))
);

CREATE TABLE public.outbox (
    id bigint NOT NULL,
    topic text NOT NULL,
    dedupe_key text NOT NULL,
    payload jsonb NOT NULL,
    attempts integer DEFAULT 0 NOT NULL,
    last_error text,
    created_at timestamp with time zone DEFAULT now() NOT NULL,
    sent_at timestamp with time zone,
    CONSTRAINT outbox_topic_check CHECK ((topic = 'report_queue'::text))
);

ALTER TABLE public.outbox ALTER COLUMN id ADD GENERATED ALWAYS AS IDENTITY (
    SEQUENCE NAME public.outbox_id_seq
    START WITH 1
    INCREMENT BY 1
    NO MINVALUE
    NO MAXVALUE
    CACHE 1
);

CREATE TABLE public.payments (
    id uuid DEFAULT gen_random_uuid() NOT NULL,
    reckoning_id uuid NOT NULL,
    generation integer NOT NULL,
    checkout_session_id text NOT NULL,
    checkout_url text,
    payment_intent_id text,
    amount integer NOT NULL,
    currency text NOT NULL,
    status text DEFAULT 'open'::text NOT NULL,
    flag_reason text,
    expires_at timestamp with time zone NOT NULL,
    paid_at timestamp with time zone,
    created_at timestamp with time zone DEFAULT now() NOT NULL,
    updated_at timestamp with time zone DEFAULT now() NOT NULL,
    CONSTRAINT payments_amount_check CHECK ((amount >= 0)),
    CONSTRAINT payments_currency_check CHECK ((currency ~ '^[a-z]{3}$'::text)),
    CONSTRAINT payments_generation_check CHECK ((generation >= 1)),
    CONSTRAINT payments_status_check CHECK ((status = ANY (ARRAY['open'::text, 'processing'::text, 'paid'::text, 'failed'::text, 'expired'::text, 'refunded'::text])))
);

CREATE TABLE public.queue_progress (
    id boolean DEFAULT true NOT NULL,
    sent_watermark timestamp with time zone DEFAULT '-infinity'::timestamp with time zone NOT NULL,
    updated_at timestamp with time zone DEFAULT now() NOT NULL,
    CONSTRAINT queue_progress_id_check CHECK (id)
);

CREATE TABLE public.rate_limits (
    bucket text NOT NULL,
    window_start timestamp with time zone NOT NULL,
    count integer NOT NULL,
    CONSTRAINT rate_limits_count_check CHECK ((count >= 1))
);

CREATE TABLE public.reckoning_events (
    id bigint NOT NULL,
    reckoning_id uuid NOT NULL,
    from_status text,
    to_status text NOT NULL,
    reason text,
    created_at timestamp with time zone DEFAULT now() NOT NULL
);

ALTER TABLE public.reckoning_events ALTER COLUMN id ADD GENERATED ALWAYS AS IDENTITY (
    SEQUENCE NAME public.reckoning_events_id_seq
    START WITH 1
    INCREMENT BY 1
    NO MINVALUE
    NO MAXVALUE
    CACHE 1
);

CREATE TABLE public.reckonings (
    id uuid DEFAULT gen_random_uuid() NOT NULL,
    email text,
    name text,
    questionnaire_version text NOT NULL,
    answers jsonb NOT NULL,
    status text DEFAULT 'awaiting_payment'::text NOT NULL,
    status_reason text,
    attempts integer DEFAULT 0 NOT NULL,
    lease_expires_at timestamp with time zone,
    created_at timestamp with time zone DEFAULT now() NOT NULL,
    updated_at timestamp with time zone DEFAULT now() NOT NULL,
    status_changed_at timestamp with time zone DEFAULT now() NOT NULL,
    paid_at timestamp with time zone,
    ready_at timestamp with time zone,
    CONSTRAINT reckonings_answers_check CHECK ((jsonb_typeof(answers) = 'object'::text)),
    CONSTRAINT reckonings_attempts_check CHECK ((attempts >= 0)),
    CONSTRAINT reckonings_email_check CHECK (((length(email) >= 3) AND (length(email) <= 254))),
    CONSTRAINT reckonings_email_check_erased CHECK (((email IS NOT NULL) OR (status = ANY (ARRAY['erasing'::text, 'erased'::text])))),
    CONSTRAINT reckonings_name_check CHECK ((length(name) <= 100)),
    CONSTRAINT reckonings_status_check CHECK ((status = ANY (ARRAY['awaiting_payment'::text, 'paid'::text, 'generating'::text, 'ready'::text, 'failed'::text, 'needs_review'::text, 'refunded'::text, 'erasing'::text, 'erased'::text])))
);

CREATE TABLE public.reports (
    id uuid DEFAULT gen_random_uuid() NOT NULL,
    reckoning_id uuid NOT NULL,
    version integer DEFAULT 1 NOT NULL,
    content jsonb NOT NULL,
    confidence numeric(4,3) NOT NULL,
    layer_results jsonb NOT NULL,
    released boolean DEFAULT false NOT NULL,
    model text NOT NULL,
    input_tokens integer,
    output_tokens integer,
    pdf_key text,
    created_at timestamp with time zone DEFAULT now() NOT NULL,
    updated_at timestamp with time zone DEFAULT now() NOT NULL,
    cost_usd numeric(12,6),
    CONSTRAINT reports_confidence_check CHECK (((confidence >= (0)::numeric) AND (confidence <= (1)::numeric))),
    CONSTRAINT reports_cost_usd_check CHECK ((cost_usd >= (0)::numeric)),
    CONSTRAINT reports_input_tokens_check CHECK ((input_tokens >= 0)),
    CONSTRAINT reports_output_tokens_check CHECK ((output_tokens >= 0)),
    CONSTRAINT reports_version_check CHECK ((version >= 1))
);

CREATE TABLE public.schema_migrations (
    version text NOT NULL,
    name text NOT NULL,
    checksum text NOT NULL,
    applied_at timestamp with time zone DEFAULT now() NOT NULL
);

CREATE TABLE public.stripe_events (
    id text NOT NULL,
    type text NOT NULL,
    stripe_created_at timestamp with time zone NOT NULL,
    livemode boolean DEFAULT false NOT NULL,
    checkout_session_id text,
    payment_intent_id text,
    reckoning_id uuid,
    outcome text,
    flag_reason text,
    received_at timestamp with time zone DEFAULT now() NOT NULL,
    processed_at timestamp with time zone,
    CONSTRAINT stripe_events_outcome_check CHECK ((outcome = ANY (ARRAY['applied'::text, 'ignored'::text, 'flagged'::text, 'unmatched'::text])))
);

ALTER TABLE ONLY public.access_tokens
    ADD CONSTRAINT access_tokens_pkey PRIMARY KEY (token_hash);

ALTER TABLE ONLY public.emails
    ADD CONSTRAINT emails_idempotency_key_key UNIQUE (idempotency_key);

ALTER TABLE ONLY public.emails
    ADD CONSTRAINT emails_pkey PRIMARY KEY (id);

ALTER TABLE ONLY public.generation_attempts
    ADD CONSTRAINT generation_attempts_pkey PRIMARY KEY (id);

ALTER TABLE ONLY public.idempotency_keys
    ADD CONSTRAINT idempotency_keys_pkey PRIMARY KEY (scope, key_digest);

ALTER TABLE ONLY public.outbox
    ADD CONSTRAINT outbox_dedupe_key_key UNIQUE (dedupe_key);

ALTER TABLE ONLY public.outbox
    ADD CONSTRAINT outbox_pkey PRIMARY KEY (id);

ALTER TABLE ONLY public.payments
    ADD CONSTRAINT payments_checkout_session_id_key UNIQUE (checkout_session_id);

ALTER TABLE ONLY public.payments
    ADD CONSTRAINT payments_pkey PRIMARY KEY (id);

ALTER TABLE ONLY public.payments
    ADD CONSTRAINT payments_reckoning_id_generation_key UNIQUE (reckoning_id, generation);

ALTER TABLE ONLY public.queue_progress
    ADD CONSTRAINT queue_progress_pkey PRIMARY KEY (id);

ALTER TABLE ONLY public.rate_limits
    ADD CONSTRAINT rate_limits_pkey PRIMARY KEY (bucket, window_start);

ALTER TABLE ONLY public.reckoning_events
    ADD CONSTRAINT reckoning_events_pkey PRIMARY KEY (id);

ALTER TABLE ONLY public.reckonings
    ADD CONSTRAINT reckonings_pkey PRIMARY KEY (id);

ALTER TABLE ONLY public.reports
    ADD CONSTRAINT reports_pkey PRIMARY KEY (id);

ALTER TABLE ONLY public.reports
    ADD CONSTRAINT reports_reckoning_id_key UNIQUE (reckoning_id);

ALTER TABLE ONLY public.schema_migrations
    ADD CONSTRAINT schema_migrations_pkey PRIMARY KEY (version);

ALTER TABLE ONLY public.stripe_events
    ADD CONSTRAINT stripe_events_pkey PRIMARY KEY (id);

CREATE INDEX access_tokens_reckoning_idx ON public.access_tokens USING btree (reckoning_id);

CREATE INDEX emails_reckoning_idx ON public.emails USING btree (reckoning_id);

CREATE INDEX generation_attempts_created_idx ON public.generation_attempts USING btree (created_at);

CREATE INDEX generation_attempts_reckoning_idx ON public.generation_attempts USING btree (reckoning_id, id);

CREATE INDEX idempotency_keys_created_idx ON public.idempotency_keys USING btree (created_at);

CREATE INDEX outbox_pending_idx ON public.outbox USING btree (id) WHERE (sent_at IS NULL);

CREATE INDEX outbox_reckoning_idx ON public.outbox USING btree (((payload ->> 'reckoningId'::text)));

CREATE INDEX payments_payment_intent_idx ON public.payments USING btree (payment_intent_id) WHERE (payment_intent_id IS NOT NULL);

CREATE INDEX rate_limits_window_idx ON public.rate_limits USING btree (window_start);

CREATE INDEX reckoning_events_reckoning_idx ON public.reckoning_events USING btree (reckoning_id, id);

CREATE INDEX reckonings_claimable_idx ON public.reckonings USING btree (status, lease_expires_at) WHERE (status = ANY (ARRAY['paid'::text, 'generating'::text]));

CREATE INDEX reckonings_email_idx ON public.reckonings USING btree (lower(email));

CREATE INDEX reckonings_erasing_idx ON public.reckonings USING btree (id) WHERE (status = 'erasing'::text);

CREATE INDEX reckonings_retention_idx ON public.reckonings USING btree (COALESCE(ready_at, paid_at, created_at)) WHERE (status <> ALL (ARRAY['erasing'::text, 'erased'::text]));

CREATE INDEX stripe_events_flagged_idx ON public.stripe_events USING btree (received_at) WHERE (outcome = 'flagged'::text);

CREATE INDEX stripe_events_reckoning_idx ON public.stripe_events USING btree (reckoning_id) WHERE (reckoning_id IS NOT NULL);

CREATE INDEX stripe_events_unmatched_idx ON public.stripe_events USING btree (payment_intent_id) WHERE (outcome = 'unmatched'::text);

CREATE TRIGGER reckonings_status_insert AFTER INSERT ON public.reckonings FOR EACH ROW EXECUTE FUNCTION public.record_reckoning_status();

CREATE TRIGGER reckonings_status_update BEFORE UPDATE ON public.reckonings FOR EACH ROW EXECUTE FUNCTION public.record_reckoning_status();

ALTER TABLE ONLY public.access_tokens
    ADD CONSTRAINT access_tokens_reckoning_id_fkey FOREIGN KEY (reckoning_id) REFERENCES public.reckonings(id) ON DELETE CASCADE;

ALTER TABLE ONLY public.emails
    ADD CONSTRAINT emails_reckoning_id_fkey FOREIGN KEY (reckoning_id) REFERENCES public.reckonings(id) ON DELETE CASCADE;

ALTER TABLE ONLY public.generation_attempts
    ADD CONSTRAINT generation_attempts_reckoning_id_fkey FOREIGN KEY (reckoning_id) REFERENCES public.reckonings(id) ON DELETE CASCADE;

ALTER TABLE ONLY public.idempotency_keys
    ADD CONSTRAINT idempotency_keys_reckoning_id_fkey FOREIGN KEY (reckoning_id) REFERENCES public.reckonings(id) ON DELETE CASCADE;

ALTER TABLE ONLY public.payments
    ADD CONSTRAINT payments_reckoning_id_fkey FOREIGN KEY (reckoning_id) REFERENCES public.reckonings(id) ON DELETE CASCADE;

ALTER TABLE ONLY public.reckoning_events
    ADD CONSTRAINT reckoning_events_reckoning_id_fkey FOREIGN KEY (reckoning_id) REFERENCES public.reckonings(id) ON DELETE CASCADE;

ALTER TABLE ONLY public.reports
    ADD CONSTRAINT reports_reckoning_id_fkey FOREIGN KEY (reckoning_id) REFERENCES public.reckonings(id) ON DELETE CASCADE;

ALTER TABLE ONLY public.stripe_events
    ADD CONSTRAINT stripe_events_reckoning_id_fkey FOREIGN KEY (reckoning_id) REFERENCES public.reckonings(id) ON DELETE SET NULL;
