"""A small launch day (`make launch` runs a thousand orders): paid orders through webhook, outbox, SQS, the
generate function at its concurrency cap and the rate-limited Messages-API stub; none fails, none is doubled,
and the sweeper adds no job for work that only waits in the queue."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.helpers import Env
from tests.launch import Plan, Simulation
from tests.stubs.anthropic import AnthropicStub
from tests.stubs.resend import ResendStub

ORDERS = 40


@pytest.fixture
def stubs() -> Iterator[tuple[AnthropicStub, ResendStub]]:
    anthropic, resend = AnthropicStub().start(), ResendStub()
    resend.server.start()
    yield anthropic, resend
    anthropic.stop()
    resend.server.stop()


def test_a_launch_day_delivers_every_order_once_at_the_rate_limits_pace(
    database_url: str, report_queue: str, report_bucket: str, env: Env, stubs: tuple[AnthropicStub, ResendStub]
) -> None:
    anthropic, resend = stubs
    env(REPORT_DLQ_URL=report_queue.replace("reckoning-reports-test", "reckoning-reports-dlq-test"))
    plan = Plan(orders=ORDERS, time_scale=60.0, timeout_s=90)
    result = Simulation(plan, report_queue, anthropic, resend, env).run()
    print("\n".join(result.lines()))
    assert (result.failed, result.unfinished, result.dead_letters) == (0, 0, 0)
    assert (result.duplicated_reports, result.duplicated_emails) == (0, 0)
    assert result.delivered + result.needs_review == ORDERS and result.emails == result.delivered
    # The orders waited in the queue behind the cap longer than the (scaled) stale period: no duplicate job
    assert result.queue_age_s[1] > plan.stale_after_s
    assert result.stale_requeued == 0
    # The rate limit was met (paced or answered 429) and only made jobs wait
    assert result.calls.get("writer ProviderBusy", 0) > 0
