"""Fail fast in production: a function whose settings are incomplete stops at its cold start, naming what is
missing, and no provider ever stands in for a real one there.

Each function is booted as Lambda would: a fresh import of functions/<name>/app.py with the environment
template.yaml gives it in AWS (deploy parameters such as secret ARNs filled with stand-in values).
"""

from __future__ import annotations

import sys
import uuid
from collections.abc import Callable
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

from reckoning import bootstrap, config, errors
from reckoning_local import template as tpl
from reckoning_local.loader import import_file
from tests.helpers import Env

ROOT = Path(__file__).resolve().parents[2]
TEMPLATE = tpl.load(ROOT / "template.yaml")
FUNCTIONS = {fn.code_dir.name: fn for fn in TEMPLATE.functions.values()}
DEPLOY_PARAMETER = "arn:aws:secretsmanager:eu-west-1:123456789012:secret:stand-in"

# The specification: removing any one of these from a function's production environment stops its cold start.
REQUIRED = {
    "submit": ("DATABASE_SECRET_ARN", "CORS_ORIGIN", "DIGEST_KEY_ARN"),
    "report": ("DATABASE_SECRET_ARN", "CORS_ORIGIN", "REPORT_BUCKET", "DIGEST_KEY_ARN"),
    "checkout": (
        "DATABASE_SECRET_ARN",
        "CORS_ORIGIN",
        "DIGEST_KEY_ARN",
        "APP_BASE_URL",
        "STRIPE_SECRET_KEY_ARN",
        "PRICE_AMOUNT",
        "PRICE_CURRENCY",
    ),
    "webhook": ("DATABASE_SECRET_ARN", "STRIPE_WEBHOOK_SECRET_ARN", "REPORT_QUEUE_URL"),
    "generate": (
        "DATABASE_SECRET_ARN",
        "ANTHROPIC_API_KEY_ARN",
        "RESEND_API_KEY_ARN",
        "REPORT_BUCKET",
        "APP_BASE_URL",
        "EMAIL_FROM",
    ),
    "sweeper": ("DATABASE_SECRET_ARN", "REPORT_QUEUE_URL", "REPORT_BUCKET"),
    "migrate": ("DATABASE_SECRET_ARN",),
    "operations": ("DATABASE_SECRET_ARN", "REPORT_QUEUE_URL", "REPORT_DLQ_URL", "REPORT_BUCKET"),
}
# Every variable any function reads or the template sets: cleared before each boot, so nothing leaks in.
_ALL = {name for fn in FUNCTIONS.values() for name in (*fn.environment, *fn.dropped_environment)} | {
    "DATABASE_URL",
    "STRIPE_SECRET_KEY",
    "STRIPE_WEBHOOK_SECRET",
    "ANTHROPIC_API_KEY",
    "ANTHROPIC_BASE_URL",
    "RESEND_API_KEY",
    "STRIPE_PRICE_ID",
    "DIGEST_KEY",
}


def production_environment(name: str) -> dict[str, str]:
    """What template.yaml sets for the function in AWS (Globals + its own), deploy parameters filled in."""
    fn = FUNCTIONS[name]
    return {**fn.environment, **dict.fromkeys(fn.dropped_environment, DEPLOY_PARAMETER)}


@pytest.fixture
def environment(env: Env) -> Callable[[dict[str, str]], None]:
    """Exactly these variables of the ones any function reads."""
    return lambda variables: env(**{**dict.fromkeys(_ALL), **variables})


def boot(name: str) -> ModuleType:
    """A cold start: functions/<name>/app.py imported afresh (and forgotten again)."""
    module_name = f"reckoning_boot_{name}_{uuid.uuid4().hex}"
    try:
        return import_file(ROOT / "functions" / name / "app.py", module_name)
    finally:
        sys.modules.pop(module_name, None)


def test_the_specification_covers_every_function_in_the_template() -> None:
    assert set(REQUIRED) == set(FUNCTIONS)


@pytest.mark.parametrize("name", sorted(REQUIRED))
def test_the_template_gives_each_function_every_setting_it_needs(
    name: str, environment: Callable[[dict[str, str]], None]
) -> None:
    template_environment = production_environment(name)
    assert template_environment["ENVIRONMENT"] == "production"
    environment(template_environment)

    module = boot(name)

    assert config.missing(module.NEEDS, template_environment) == []


@pytest.mark.parametrize(
    ("name", "variable"), [(name, variable) for name, variables in REQUIRED.items() for variable in variables]
)
def test_a_missing_setting_stops_the_cold_start_and_the_error_names_it(
    name: str, variable: str, environment: Callable[[dict[str, str]], None]
) -> None:
    variables = production_environment(name)
    del variables[variable]
    environment(variables)

    with pytest.raises(config.MissingSettings) as refused:
        boot(name)

    assert variable in str(refused.value)
    assert str(refused.value).startswith("production needs ")


def test_every_missing_setting_is_named_at_once(environment: Callable[[dict[str, str]], None]) -> None:
    environment({"ENVIRONMENT": "production"})

    with pytest.raises(config.MissingSettings) as refused:
        boot("checkout")

    assert str(refused.value) == (
        "production needs DATABASE_URL or DATABASE_SECRET_ARN; CORS_ORIGIN; DIGEST_KEY or DIGEST_KEY_ARN; "
        "APP_BASE_URL; STRIPE_SECRET_KEY or STRIPE_SECRET_KEY_ARN; STRIPE_PRICE_ID or PRICE_AMOUNT; "
        "STRIPE_PRICE_ID or PRICE_CURRENCY"
    )


@pytest.mark.parametrize(
    ("name", "by_arn", "by_value"),
    [
        ("checkout", "STRIPE_SECRET_KEY_ARN", {"STRIPE_SECRET_KEY": "sk_live_x"}),
        ("webhook", "STRIPE_WEBHOOK_SECRET_ARN", {"STRIPE_WEBHOOK_SECRET": "whsec_x"}),
        ("generate", "ANTHROPIC_API_KEY_ARN", {"ANTHROPIC_API_KEY": "sk-ant-x"}),
        ("submit", "DATABASE_SECRET_ARN", {"DATABASE_URL": "postgresql://db.internal/reckoning"}),
        ("report", "DIGEST_KEY_ARN", {"DIGEST_KEY": "a-long-random-key"}),
    ],
)
def test_a_secret_may_be_given_by_value_instead_of_by_arn(
    name: str, by_arn: str, by_value: dict[str, str], environment: Callable[[dict[str, str]], None]
) -> None:
    variables = production_environment(name)
    del variables[by_arn]
    environment({**variables, **by_value})

    boot(name)


def test_a_price_id_stands_for_amount_and_currency(environment: Callable[[dict[str, str]], None]) -> None:
    variables = production_environment("checkout")
    del variables["PRICE_AMOUNT"], variables["PRICE_CURRENCY"]
    environment({**variables, "STRIPE_PRICE_ID": "price_123"})

    boot("checkout")


@pytest.mark.parametrize("value", ["", "local", "test"])
def test_outside_production_nothing_is_required(value: str, environment: Callable[[dict[str, str]], None]) -> None:
    environment({"ENVIRONMENT": value} if value else {})

    for name in REQUIRED:
        boot(name)


# ---------------------------------------------------------------- no stand-ins in production


@pytest.mark.parametrize(
    ("choose", "key", "extra"),
    [
        (lambda: bootstrap.production().writer.model, "ANTHROPIC_API_KEY", {}),
        (  # a stub is a stand-in
            lambda: bootstrap.production().writer.model,
            "ANTHROPIC_API_KEY",
            {"ANTHROPIC_BASE_URL": "http://127.0.0.1:9"},
        ),
        (lambda: bootstrap.production().mailer.send, "RESEND_API_KEY", {}),
        (lambda: bootstrap.production().checkout.create_session, "STRIPE_SECRET_KEY", {}),
    ],
)
def test_production_refuses_every_stand_in(
    choose: Callable[[], Any], key: str, extra: dict[str, str], environment: Callable[[dict[str, str]], None]
) -> None:
    environment({"ENVIRONMENT": "production", "DATABASE_URL": "postgresql://unused", **extra})

    with pytest.raises(errors.ServiceUnavailable) as refused:
        choose()

    assert str(refused.value) == f"{key} is not configured"


def test_production_with_a_key_uses_claude(environment: Callable[[dict[str, str]], None]) -> None:
    environment({"ENVIRONMENT": "production", "DATABASE_URL": "postgresql://unused", "ANTHROPIC_API_KEY": "sk-ant-x"})

    assert bootstrap.production().writer.__class__.__name__ == "ClaudeWriter"


def test_stripe_tries_end_well_inside_the_checkout_function_timeout(
    environment: Callable[[dict[str, str]], None],
) -> None:
    from stripe._http_client import HTTPClient

    environment(production_environment("checkout"))
    s = config.settings()
    backoff = sum(
        min(HTTPClient.INITIAL_DELAY * 2 ** (n - 1), HTTPClient.MAX_DELAY) for n in range(1, s.stripe_max_retries + 1)
    )

    worst = (s.stripe_max_retries + 1) * s.stripe_timeout_s + backoff

    # The rest of the function's time is for the database, the handler and a cold connection.
    assert worst <= 0.7 * FUNCTIONS["checkout"].timeout_s


def test_inside_lambda_an_unset_environment_stops_the_cold_start(environment: Callable[[dict[str, str]], None]) -> None:
    # Unset, it would mean stand-ins and the development webhook secret that is in the repository.
    environment({"AWS_LAMBDA_FUNCTION_NAME": "reckoning-webhook-dev"})

    with pytest.raises(config.MissingSettings, match="ENVIRONMENT must be set inside Lambda"):
        boot("webhook")


def test_a_spend_limit_with_an_unpriced_model_stops_the_worker_cold_start(
    environment: Callable[[dict[str, str]], None],
) -> None:
    environment({"DAILY_SPEND_LIMIT_USD": "1", "ANTHROPIC_MODEL": "claude-unreleased-9"})

    with pytest.raises(config.MissingSettings, match="no price for claude-unreleased-9"):
        boot("generate")


def test_interval_settings_have_bounds(environment: Callable[[dict[str, str]], None]) -> None:
    for name, value in (("SPEND_LIMIT_RECHECK_S", "0"), ("GENERATION_LEASE_S", "86400"), ("RATE_LIMIT_WINDOW_S", "0")):
        environment({name: value})
        with pytest.raises(ValueError, match=name.lower()):
            config.settings()
