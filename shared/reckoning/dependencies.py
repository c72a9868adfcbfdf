"""What a use case is given: the collaborators (ports) and the `Policy` — exactly the settings the domain reads.

`bootstrap.production()` builds one `Dependencies` per process; a test builds its own with fakes.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import timedelta
from decimal import Decimal
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # the quality gate is imported by the functions that run it, not by every cold start
    from reckoning.db import Database
    from reckoning.models.submission import Submission
    from reckoning.ports import Checkout, Judge, Keys, Mailer, ObjectStore, Queue, Render, Signatures, Writer
    from reckoning.questionnaires import Questionnaires
    from reckoning.validation import GenerationMeta, ValidationResult

# The quality gate as the worker calls it (a collaborator, so a test can stop a worker inside it).
type Validate = Callable[[Mapping[str, Any], Submission, GenerationMeta, float, Judge], ValidationResult]


@dataclass(frozen=True, slots=True)
class Policy:
    """The settings the domain reads, as values: leases, stale and retry periods, TTLs, retention, limits."""

    # Generation
    generation_lease_s: int = 900
    generation_stale_after_s: int = 300
    generation_retry_base_s: float = 60.0
    queue_max_receive_count: int = 5
    max_generation_attempts: int = 3
    confidence_threshold: float = 0.8
    model_call_budget_s: float = 260.0  # the longest one model call can take, every SDK try included
    # Cost: None, no limit. A paused job is looked at again after this many seconds (SQS: at most 900).
    daily_spend_limit_usd: Decimal | None = None
    spend_limit_recheck_s: int = 900
    # Links and tokens
    report_link: str = "http://127.0.0.1:3000/report#{token}"  # what an emailed link looks like
    report_token_ttl: timedelta = timedelta(days=30)  # an emailed link's
    report_token_lifetime: timedelta = timedelta(days=365)  # the token submitting hands out: as long as the data
    link_token_ttl: timedelta = timedelta(hours=72)
    pdf_url_ttl_s: int = 300
    # Payments: all Stripe calls of one request end within this many seconds of its start
    stripe_budget_s: float = 7.0
    # Retention (docs/privacy.md)
    retention_days: int = 365
    unpaid_retention_days: int = 30
    # Rate limits: requests per window per client and route kind
    rate_limit_window_s: int = 60
    rate_limit_default: int = 60
    rate_limit_submit: int = 10
    rate_limit_checkout: int = 20
    rate_limit_report: int = 600
    rate_limit_links: int = 5

    def link_to_report(self, token: str) -> str:
        """The link a person follows from an email (the web client's report page)."""
        return self.report_link.format(token=token)


@dataclass(frozen=True, slots=True)
class Dependencies:
    """Everything a use case reaches outside itself, built once per process."""

    database: Database
    policy: Policy
    keys: Keys
    questionnaires: Questionnaires
    store: ObjectStore
    queue: Queue
    mailer: Mailer
    writer: Writer
    judge: Judge
    checkout: Checkout
    signatures: Signatures
    render: Render
    validate: Validate
