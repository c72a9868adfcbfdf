"""Settings, validated once per process, with explicit offline defaults for local runs.

Each setting is the environment variable of its name in capitals (`DB_POOL_SIZE` → `db_pool_size`), read
by a plain pydantic model: pydantic-settings would add 60-130 ms to every cold start for sources we do not use.
Secrets are resolved lazily through `secret()`: from the environment when set
(local runs, tests), else from Secrets Manager by ARN (production), cached.
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from functools import cache
from typing import Literal, get_args
from urllib.parse import quote

from pydantic import BaseModel, ConfigDict, Field, model_validator

SslMode = Literal["disable", "allow", "prefer", "require", "verify-ca", "verify-full"]

SecretName = Literal[
    "STRIPE_SECRET_KEY",
    "STRIPE_WEBHOOK_SECRET",
    "ANTHROPIC_API_KEY",
    "RESEND_API_KEY",
    "DIGEST_KEY",
]

# Used only when ENVIRONMENT is not production: the offline checkout signs with the first, and digests of
# addresses and IPs are keyed with the second.
DEV_WEBHOOK_SECRET = "whsec_reckoning_local_development_only"  # noqa: S105
DEV_DIGEST_KEY = "reckoning-local-digest-key-development-only"
_OFFLINE_SECRETS: dict[str, str] = {"STRIPE_WEBHOOK_SECRET": DEV_WEBHOOK_SECRET, "DIGEST_KEY": DEV_DIGEST_KEY}


class Settings(BaseModel):
    model_config = ConfigDict(extra="ignore", frozen=True)

    environment: Literal["local", "test", "production"] = "local"

    # Database: a URL (local, tests) or an RDS secret plus the RDS Proxy endpoint.
    database_url: str | None = None
    database_secret_arn: str | None = None
    database_host: str | None = None
    db_pool_size: int = Field(default=1, ge=1, le=50)
    db_connect_timeout_s: int = Field(default=5, ge=1)
    # TLS to the database. Unset: verify-full against certifi's CA bundle in production (RDS Proxy's ACM
    # certificate chains to Amazon's public roots); elsewhere the URL's sslmode, else libpq's (prefer).
    db_sslmode: SslMode | None = None
    db_sslrootcert: str | None = None

    # HTTP
    app_base_url: str = "http://127.0.0.1:3000"
    report_link_path: str = "/report#{token}"
    cors_origin: str = "http://localhost:5173"
    max_body_bytes: int = 64 * 1024
    rate_limit_window_s: int = Field(default=60, ge=1, le=86_400)
    rate_limit_default: int = Field(default=60, ge=1)
    rate_limit_submit: int = Field(default=10, ge=1)
    rate_limit_checkout: int = Field(default=20, ge=1)
    rate_limit_report: int = Field(default=600, ge=1)
    rate_limit_links: int = Field(default=5, ge=1)

    # Tokens: emailed report links, and links sent by lost-link recovery. The token POST /api/reckoning hands out
    # lives as long as the reckoning's data may (RETENTION_DAYS).
    report_token_ttl_days: int = Field(default=30, ge=1)
    link_token_ttl_hours: int = Field(default=72, ge=1)

    # Retention (docs/privacy.md): the purge erases unpaid reckonings this long after their creation, the others
    # this long after their delivery (or payment). The S3 lifecycle rule expires PDFs after RETENTION_DAYS too.
    unpaid_retention_days: int = Field(default=30, ge=1)
    retention_days: int = Field(default=365, ge=1)

    # Payments
    stripe_api_base: str | None = None
    stripe_price_id: str | None = None
    price_amount: int = Field(default=2900, ge=50)
    price_currency: str = Field(default="eur", pattern=r"^[a-z]{3}$")
    product_name: str = "Reckoning — your personal report"
    checkout_success_path: str = "/checkout/success?session_id={CHECKOUT_SESSION_ID}"
    checkout_cancel_path: str = "/checkout/cancel"
    webhook_tolerance_s: int = 300
    # Each Stripe try is cut off after STRIPE_TIMEOUT_S; all tries plus the SDK's backoff (0.5 s) must end
    # well inside the checkout function's 10 s timeout, leaving room for the database.
    stripe_timeout_s: float = Field(default=3.0, gt=0)
    stripe_max_retries: int = Field(default=1, ge=0)
    # Every Stripe call of one request (checkout: expire, retrieve, create; erasure: expire) ends within this many
    # seconds of the request's start: each try's timeout is cut to what is left (checkout's function times out at 10 s).
    stripe_budget_s: float = Field(default=7.0, gt=0, le=9)

    # Generation
    anthropic_base_url: str | None = None
    anthropic_model: str = "claude-sonnet-5-5"
    anthropic_max_tokens: int = Field(default=3000, ge=512)
    anthropic_timeout_s: float = Field(default=120.0, gt=0)
    anthropic_max_retries: int = Field(default=1, ge=0)
    # The quality gate's judge (docs/quality.md): a second, fast model with a forced verdict tool.
    judge_model: str = "claude-haiku-5-5"
    judge_max_tokens: int = Field(default=2048, ge=256)
    confidence_threshold: float = Field(default=0.8, ge=0, le=1)
    max_generation_attempts: int = Field(default=3, ge=1)
    # A worker's hold on a reckoning: at least the generate function's Timeout in production (a live worker
    # never loses it); tests and the local kill test shorten it.
    generation_lease_s: int = Field(default=900, ge=1, le=43_200)  # SQS hides a message at most 12 hours
    queue_max_receive_count: int = Field(default=5, ge=1)
    # Cost: generation pauses once the model calls of the day (UTC) cost this much; unset, no limit. A paused
    # job is queued again to look after this many seconds (SQS delays a message at most 900 s).
    daily_spend_limit_usd: float | None = Field(default=None, ge=0)
    spend_limit_recheck_s: int = Field(default=900, ge=1, le=900)  # 0 would re-queue a paused job in a loop
    # The sweeper re-enqueues paid work unclaimed this long, and generating work whose lease ended this long ago.
    generation_stale_after_s: int = Field(default=300, ge=1, le=86_400)
    # A failed job comes back after base x 4^(receive - 1) seconds (at most an hour), not the queue's 90 minutes.
    generation_retry_base_s: float = Field(default=60.0, gt=0, le=3600)

    # Email
    email_from: str = "Reckoning <reports@reckoning.local>"
    local_outbox_dir: str = ".local/outbox"
    resend_base_url: str | None = None

    # AWS (endpoint set only for local moto)
    aws_endpoint_url: str | None = None
    aws_region: str = "eu-west-1"
    report_bucket: str = "reckoning-reports-local"
    report_queue_url: str | None = None
    report_dlq_url: str | None = None
    pdf_url_ttl_s: int = Field(default=300, ge=1, le=300)

    @model_validator(mode="after")
    def _production_is_complete(self) -> Settings:
        if self.environment == "production" and not (self.database_url or self.database_secret_arn):
            raise ValueError("production needs DATABASE_SECRET_ARN (or DATABASE_URL)")
        return self

    @model_validator(mode="after")
    def _production_verifies_the_database(self) -> Settings:
        if self.environment == "production" and self.db_sslmode not in (None, "verify-full"):
            raise ValueError(f"DB_SSLMODE={self.db_sslmode}: production verifies the database server (verify-full)")
        return self

    @property
    def offline(self) -> bool:
        return self.environment != "production"


@cache
def settings() -> Settings:
    """The settings from the environment, names compared without case (other variables are ignored)."""
    return Settings.model_validate({name.lower(): value for name, value in os.environ.items()})


def secret(name: SecretName) -> str | None:
    """The secret's value from the environment, else from Secrets Manager via `<NAME>_ARN`."""
    value = os.environ.get(name)
    if value:
        return value
    arn = os.environ.get(f"{name}_ARN")
    if arn:
        return _from_secrets_manager(arn)
    return _OFFLINE_SECRETS.get(name) if settings().offline else None


def database_url(fresh: bool = False) -> str:
    """The database URL; `fresh` re-reads the secret past its cache (after a failed authentication)."""
    s = settings()
    if s.database_url:
        return s.database_url
    if not s.database_secret_arn:
        raise MissingSettings("set DATABASE_URL or DATABASE_SECRET_ARN")
    creds = json.loads(_from_secrets_manager(s.database_secret_arn, fresh=fresh))
    host = s.database_host or creds["host"]
    user, password = quote(creds["username"], safe=""), quote(creds["password"], safe="")
    return f"postgresql://{user}:{password}@{host}:{creds.get('port', 5432)}/{creds.get('dbname', 'reckoning')}"


def database_tls() -> dict[str, str]:
    """libpq's TLS parameters for the database (empty: whatever the URL or libpq's defaults say)."""
    s = settings()
    mode = s.db_sslmode or ("verify-full" if s.environment == "production" else None)
    params: dict[str, str] = {"sslmode": mode} if mode else {}
    if mode in ("verify-ca", "verify-full") or s.db_sslrootcert:
        params["sslrootcert"] = s.db_sslrootcert or _ca_bundle()
    return params


def _ca_bundle() -> str:
    # Mozilla's roots as certifi ships them (locked, inside every artifact): they include Amazon Root CA 1-4.
    import certifi

    return certifi.where()


def _from_secrets_manager(arn: str, fresh: bool = False) -> str:
    # Lazy: only production pays for boto3; Powertools caches the value for 5 minutes unless `fresh`.
    from aws_lambda_powertools.utilities import parameters

    value = parameters.get_secret(arn, max_age=300, force_fetch=fresh)
    return value if isinstance(value, str) else json.dumps(value)


def reset() -> None:
    """Forget cached settings (tests change the environment)."""
    settings.cache_clear()


# ---------------------------------------------------------------- what each function needs in production

Need = str | tuple[str, ...]
"""A setting's name, or alternatives of which any one will do. A secret also counts when `<NAME>_ARN` is set."""

DATABASE: Need = ("DATABASE_URL", "DATABASE_SECRET_ARN")


class MissingSettings(RuntimeError):
    """A production cold start without a setting the function needs."""


def require(*needs: Need) -> tuple[Need, ...]:
    """Stop a production cold start when any of `needs` is unset; elsewhere, offline defaults stand in.

    Called at the top of each `functions/<name>/app.py`, so a misconfigured function fails its first
    (init) invocation with the missing names, not a paying customer's request later. Secrets are only
    checked for presence here: they are fetched lazily, on first use.
    """
    if os.environ.get("AWS_LAMBDA_FUNCTION_NAME") and not os.environ.get("ENVIRONMENT"):
        # Inside Lambda an unset ENVIRONMENT would mean stand-ins and the development webhook secret.
        raise MissingSettings("ENVIRONMENT must be set inside Lambda (production, or test for a test stack)")
    if os.environ.get("ENVIRONMENT") == "production":
        absent = missing(needs, os.environ)
        if absent:
            raise MissingSettings("production needs " + "; ".join(absent))
    return needs


def missing(needs: tuple[Need, ...], environment: Mapping[str, str]) -> list[str]:
    """The needs not met by `environment`, each spelled as the names that would meet it."""
    return [_spell(need) for need in needs if not any(_present(name, environment) for name in _names(need))]


def _names(need: Need) -> tuple[str, ...]:
    return (need,) if isinstance(need, str) else need


def present(name: SecretName) -> bool:
    """The secret is configured, by value or by ARN (without fetching it)."""
    return _present(name, os.environ)


def _present(name: str, environment: Mapping[str, str]) -> bool:
    if environment.get(name):
        return True
    return name in get_args(SecretName) and bool(environment.get(f"{name}_ARN"))


def _spell(need: Need) -> str:
    names = [n for name in _names(need) for n in ((name, f"{name}_ARN") if name in get_args(SecretName) else (name,))]
    return " or ".join(names)
