"""The composition root: the one place that reads configuration, picks real providers or stand-ins, and builds
the `Dependencies` every function and the CLI hand to the domain.

Adapters are cheap to build: each imports its SDK and reads its secret on first use, so a function never pays
at cold start, nor asks Secrets Manager, for a provider it does not call. Production never stands in: a missing
provider setting there is a ServiceUnavailable when the provider is first used (and `config.require` stops the
cold start of a function that needs it).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING, Any, cast

from reckoning import config, db, errors, questionnaires
from reckoning.config import SecretName, Settings
from reckoning.dependencies import Dependencies, Policy
from reckoning.domain.services import costs
from reckoning.observability import logger
from reckoning.ports import Checkout, Judge, Mailer, Writer
from reckoning.providers.queue import SqsQueue
from reckoning.providers.signatures import StripeSignatures
from reckoning.providers.storage import S3Store

if TYPE_CHECKING:
    from collections.abc import Mapping

    from reckoning.models.report import Report
    from reckoning.models.submission import Submission
    from reckoning.validation import GenerationMeta, ValidationResult


_built: list[tuple[Settings, db.Database, Dependencies]] = []


def dependencies() -> Dependencies:
    """This process's dependencies, built on first use, and again only when the settings or the database were
    reset (tests change the environment)."""
    s, database = config.settings(), db.database()
    last = _built[-1] if _built else None
    if last is None or last[0] is not s or last[1] is not database:
        last = (s, database, production(s, database))
        _built[:] = [last]
    return last[2]


def production(settings: Settings | None = None, database: db.Database | None = None) -> Dependencies:
    """The dependencies the settings describe: real providers where configured, else (offline only) stand-ins."""
    s = settings or config.settings()
    return Dependencies(
        database=database or db.database(),
        policy=policy(s),
        keys=SecretKeys(),
        questionnaires=questionnaires.served(),
        store=S3Store(s.report_bucket),
        queue=SqsQueue(s.report_queue_url, s.report_dlq_url),
        mailer=cast(Mailer, _Lazy(lambda: _choose("RESEND_API_KEY", s, _resend, _outbox))),
        writer=cast(Writer, _Lazy(lambda: _choose("ANTHROPIC_API_KEY", s, _claude, _offline_writer, stub=True))),
        judge=cast(Judge, _Lazy(lambda: _choose("ANTHROPIC_API_KEY", s, _claude_judge, _offline_judge, stub=True))),
        checkout=cast(Checkout, _Lazy(lambda: _choose("STRIPE_SECRET_KEY", s, _stripe, _offline_checkout))),
        signatures=StripeSignatures(lambda: config.secret("STRIPE_WEBHOOK_SECRET"), s.webhook_tolerance_s),
        render=render,
        validate=_validate,
    )


def refuse_unpriced_models(s: Settings | None = None) -> None:
    """With a spend limit, every model the worker calls must have a price: an unpriced call would count as $0
    and the limit would never stop it. Called at the generate function's cold start."""
    s = s or config.settings()
    if s.daily_spend_limit_usd is None:
        return
    today = datetime.now(UTC).date()
    unpriced = [model for model in (s.anthropic_model, s.judge_model) if costs.price_of(model, today) is None]
    if unpriced:
        raise config.MissingSettings(
            f"DAILY_SPEND_LIMIT_USD is set but prices.json has no price for {', '.join(unpriced)}"
        )


def policy(s: Settings) -> Policy:
    return Policy(
        generation_lease_s=s.generation_lease_s,
        generation_stale_after_s=s.generation_stale_after_s,
        generation_retry_base_s=s.generation_retry_base_s,
        queue_max_receive_count=s.queue_max_receive_count,
        max_generation_attempts=s.max_generation_attempts,
        confidence_threshold=s.confidence_threshold,
        model_call_budget_s=s.anthropic_timeout_s * (s.anthropic_max_retries + 1) + 20 * s.anthropic_max_retries,
        daily_spend_limit_usd=None if s.daily_spend_limit_usd is None else Decimal(str(s.daily_spend_limit_usd)),
        spend_limit_recheck_s=s.spend_limit_recheck_s,
        report_link=s.app_base_url + s.report_link_path,
        report_token_ttl=timedelta(days=s.report_token_ttl_days),
        report_token_lifetime=timedelta(days=s.retention_days),
        link_token_ttl=timedelta(hours=s.link_token_ttl_hours),
        pdf_url_ttl_s=s.pdf_url_ttl_s,
        stripe_budget_s=s.stripe_budget_s,
        retention_days=s.retention_days,
        unpaid_retention_days=s.unpaid_retention_days,
        rate_limit_window_s=s.rate_limit_window_s,
        rate_limit_default=s.rate_limit_default,
        rate_limit_submit=s.rate_limit_submit,
        rate_limit_checkout=s.rate_limit_checkout,
        rate_limit_report=s.rate_limit_report,
        rate_limit_links=s.rate_limit_links,
    )


class SecretKeys:
    def digest_key(self) -> str:
        key = config.secret("DIGEST_KEY")
        if not key:  # production refuses to start without it (require); this is a deploy gone wrong
            raise errors.ServiceUnavailable("DIGEST_KEY is not configured")
        return key


class _Lazy:
    """A provider built on first use: a function that never sends email never imports the email adapter."""

    def __init__(self, build: Callable[[], object]) -> None:
        self._build = build

    @cached_property
    def _target(self) -> object:
        return self._build()

    def __getattr__(self, name: str) -> Any:
        return getattr(self._target, name)

    @property  # type: ignore[misc]  # isinstance() sees the provider, as every caller does
    def __class__(self) -> type:
        return type(self._target)


def _choose[T](
    setting: SecretName,
    s: Settings,
    real: Callable[[Settings], T],
    stand_in: Callable[[Settings], T],
    *,
    stub: bool = False,
) -> T:
    """The real provider when `setting` is configured, or offline when a local stub of it is (`stub` and its
    base URL set); else, outside production only, the offline stand-in, said so in the log. Production never
    stands in: a paying customer would get a template report, no email, or a checkout page that takes no money."""
    if config.present(setting) or (stub and s.offline and s.anthropic_base_url):
        return real(s)
    if not s.offline:
        raise errors.ServiceUnavailable(f"{setting} is not configured")
    chosen = stand_in(s)
    logger.info(f"{setting} not set: using an offline stand-in", extra={"stand_in": type(chosen).__name__})
    return chosen


# ----------------------------------------------------------------------------------------- the providers, lazily


def _resend(s: Settings) -> Mailer:
    from reckoning.providers.email import ResendMailer

    return ResendMailer(_secret("RESEND_API_KEY"), sender=s.email_from, base_url=s.resend_base_url)


def _outbox(s: Settings) -> Mailer:
    from reckoning.providers.email import OutboxMailer

    return OutboxMailer(Path(s.local_outbox_dir), sender=s.email_from)


def _claude(s: Settings) -> Writer:
    from reckoning.providers.claude import ClaudeWriter

    logger.info(
        "report writer: Claude", extra={"model": s.anthropic_model, "custom_base_url": bool(s.anthropic_base_url)}
    )
    return ClaudeWriter()


def _claude_judge(s: Settings) -> Judge:
    from reckoning.providers.claude import client
    from reckoning.providers.judge import ClaudeJudge

    return ClaudeJudge(client, s.judge_model, s.judge_max_tokens)


def _offline_judge(s: Settings) -> Judge:
    from reckoning.validation.heuristic_judge import HeuristicJudge

    return HeuristicJudge()


def _offline_writer(s: Settings) -> Writer:
    from reckoning.providers.offline_writer import OfflineWriter

    return OfflineWriter()


def _stripe(s: Settings) -> Checkout:
    from reckoning.providers.checkout import StripeCheckout, stripe_client

    def client() -> Any:
        key = _secret("STRIPE_SECRET_KEY")()
        return stripe_client(key, s.stripe_api_base, s.stripe_timeout_s, s.stripe_max_retries)

    return StripeCheckout(client, s.stripe_timeout_s, s.stripe_max_retries)


def _offline_checkout(s: Settings) -> Checkout:
    from reckoning.providers.checkout import OfflineCheckout

    return OfflineCheckout()


def _secret(name: SecretName) -> Callable[[], str]:
    def read() -> str:
        value = config.secret(name)
        if not value:
            raise errors.ServiceUnavailable(f"{name} is not configured")
        return value

    return read


def render(report: Report, name: str | None, written_at: datetime) -> bytes:
    """The report as a PDF (fpdf2 is imported by the first render, not at cold start)."""
    from reckoning import pdf

    return pdf.render(report, name, written_at)


def _validate(
    report: Mapping[str, Any], submission: Submission, meta: GenerationMeta, threshold: float, judge: Judge
) -> ValidationResult:
    """The quality gate (imported by the first report it checks)."""
    from reckoning.validation import validate

    return validate(report, submission, meta, threshold, judge)
