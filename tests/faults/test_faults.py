"""Every step of a paid order, every failure it can meet: the order still ends once, within its bound.

Each case pays for one reckoning, arms one failure at one point, runs the world (tests/faults/world.py) until
the order has settled and nothing is in flight, and checks the end state. `make faults` (FAULTS=all) runs them
all and writes the table to docs/reliability.md; otherwise (`make test`) one or two cases per step run, one for
each way of recovering, to keep the suite's time down.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass, field

import pytest

from tests.faults.conftest import ROWS, Row
from tests.faults.world import (
    FAULT_S,
    LEASE_S,
    STALE_S,
    SWEEP_S,
    Action,
    Actor,
    World,
    database_down,
    kill,
    refunded,
    replay_dead_letters,
    s3_refuses,
    sqs_refuses,
)
from tests.stubs import anthropic as claude
from tests.stubs.resend import Failure

pytestmark = pytest.mark.faults

# One run of the flow in the scaled world (a claim, a model call through the SDK, ten layers, a PDF, an email),
# with room for a busy machine: recovery is bounded by its mechanism plus this.
RUN_S = 4.0
BACKOFF_S = 1.0  # the first retry (ceil(0.25 x 4^0) s)
LOST_S = STALE_S + SWEEP_S  # a job that is gone: stale, then the next sweep re-enqueues it
DEAD_S = LEASE_S + STALE_S + SWEEP_S  # a worker gone holding a lease: it ends, goes stale, is swept


@dataclass(frozen=True)
class Case:
    step: str
    fault: str
    arm: Callable[[World], None]
    recovered_by: str
    bound_s: float  # of the mechanism, before the run's allowance
    status: str = "ready"
    emails: int = 1
    versions: list[tuple[int, bool]] = field(default_factory=lambda: [(1, True)])
    core: bool = False  # also run by `make test`

    @property
    def id(self) -> str:
        return f"{self.step}: {self.fault}"


def at(actor: Actor, point: str, action: Action, *scene: tuple[Actor, str, Action]) -> Callable[[World], None]:
    """The fault at its point, after whatever sets the scene (not timed)."""

    def arm(world: World) -> None:
        for before in scene:
            world.at(*before, clock=False)
        world.at(actor, point, action)

    return arm


def claude_answers(*replies: claude.Scripted) -> Action:
    def script(world: World) -> None:
        world.anthropic.then(*replies)

    return script


def resend_fails(failure: Failure) -> Action:
    def script(world: World) -> None:
        world.resend.fail_next(failure)

    return script


def outage_outlasting_every_retry(world: World) -> None:
    world.set_max_receives(3)
    world.on_failed = replay_dead_letters
    world.at("worker", "model call:before", claude_answers(*[claude.overloaded()] * 6))  # 3 receives x 2 tries


WEBHOOK_DIED: tuple[Actor, str, Action] = ("webhook", "relay:before", kill)  # the outbox row is left for the sweeper


def held_back_report() -> dict[str, object]:
    return {"title": "Your Reckoning", "summary": "As an AI language model I cannot know you, [Name].",
            "sections": [], "nextSteps": [], "closing": "Lorem ipsum."}  # fmt: skip


CASES = [
    Case("none", "no fault", lambda world: None, "nothing to recover", 0, core=True),
    # -- the webhook's transaction (ledger, paid, outbox row) and its relay
    Case("webhook commit", "killed before the commit", at("webhook", "outbox insert:before", kill),
         "Stripe delivers again", 0),
    Case("webhook commit", "killed after the commit", at("webhook", "relay:before", kill),
         "Stripe again (a duplicate); the sweeper relays", LOST_S, core=True),
    Case("webhook commit", "database down", at("stripe", "deliver:before", database_down),
         "Stripe delivers again (500 until back)", FAULT_S),
    Case("webhook commit", "SQS refusing", at("webhook", "relay:before", sqs_refuses),
         "the sweeper relays", FAULT_S + SWEEP_S),
    # -- the sweeper's relay of what the webhook left
    Case("outbox relay", "killed after SQS accepted", at("sweeper", "relay:after", kill, WEBHOOK_DIED),
         "the next sweep sends again (a duplicate)", SWEEP_S, core=True),
    Case("outbox relay", "database down", at("sweeper", "sweep:before", database_down, WEBHOOK_DIED),
         "the next sweep", FAULT_S + SWEEP_S),
    Case("outbox relay", "SQS refusing", at("sweeper", "relay:before", sqs_refuses, WEBHOOK_DIED),
         "the next sweep", FAULT_S + SWEEP_S),
    # -- the worker: claim, model call, validation, save, PDF, email, finish
    Case("claim", "killed after the claim", at("worker", "model call:before", kill),
         "the sweeper, once the lease ended", DEAD_S, core=True),
    Case("claim", "database down", at("worker", "invoke:before", database_down),
         "SQS hands the job back", FAULT_S + BACKOFF_S),
    Case("model call", "killed after the answer", at("worker", "model call:after", kill),
         "the sweeper, once the lease ended", DEAD_S),
    Case("model call", "database down", at("worker", "model call:after", database_down),
         "SQS, or the sweeper once the lease ended", FAULT_S + DEAD_S),
    Case("model call", "Anthropic 429 (both SDK tries)",
         at("worker", "model call:before", claude_answers(claude.rate_limited(), claude.rate_limited())),
         "SQS hands the job back", BACKOFF_S),
    Case("model call", "Anthropic 529 (both SDK tries)",
         at("worker", "model call:before", claude_answers(claude.overloaded(), claude.overloaded())),
         "SQS hands the job back", BACKOFF_S, core=True),
    Case("model call", "Anthropic timeout (both SDK tries)",  # the fault: two 0.5 s timeouts and the SDK's wait
         at("worker", "model call:before", claude_answers(claude.slow(1.0), claude.slow(1.0))),
         "SQS hands the job back", FAULT_S + BACKOFF_S),
    Case("model call", "refusal", at("worker", "model call:before", claude_answers(claude.refusal())),
         "regenerated with feedback", 0),
    Case("model call", "max_tokens", at("worker", "model call:before", claude_answers(claude.truncated())),
         "regenerated with feedback", 0),
    Case("model call", "Anthropic down past every retry", outage_outlasting_every_retry,
         "failed + DLQ on the 3rd receive; on-call dlq-replay", 2 * BACKOFF_S + RUN_S),  # and the replayed run
    Case("model call", "charge refunded meanwhile", at("worker", "model call:before", refunded),
         "the worker stops (refunded)", 0, status="refunded", emails=0, versions=[], core=True),
    Case("validation", "killed mid-validation", at("worker", "validation:before", kill),
         "the sweeper, once the lease ended", DEAD_S),
    Case("validation", "database down", at("worker", "validation:after", database_down),
         "SQS, or the sweeper once the lease ended", FAULT_S + DEAD_S),
    Case("validation", "every draft held back",
         at("worker", "model call:before", claude_answers(*[claude.success(held_back_report())] * 3)),
         "held for a person (needs-review alarm)", 0, status="needs_review", emails=0, versions=[(1, False)],
         core=True),
    Case("save", "killed after the save", at("worker", "pdf:before", kill),
         "the sweeper, once the lease ended", DEAD_S),
    Case("save", "database down", at("worker", "save:before", database_down),
         "SQS, or the sweeper once the lease ended", FAULT_S + DEAD_S, core=True),
    Case("PDF upload", "killed after the upload", at("worker", "upload:after", kill),
         "the sweeper, once the lease ended", DEAD_S),
    Case("PDF upload", "S3 refusing", at("worker", "upload:before", s3_refuses),
         "SQS hands the job back", FAULT_S + BACKOFF_S, core=True),
    Case("PDF upload", "database down", at("worker", "upload:after", database_down),
         "SQS, or the sweeper once the lease ended", FAULT_S + DEAD_S),
    Case("email", "killed after Resend accepted", at("worker", "email:after", kill),
         "the sweeper; Resend's idempotency key", DEAD_S, core=True),
    Case("email", "Resend 429", at("worker", "email:before", resend_fails("rate_limit")),
         "SQS hands the job back", BACKOFF_S),
    Case("email", "Resend 5xx", at("worker", "email:before", resend_fails("server_error")),
         "SQS hands the job back", BACKOFF_S),
    Case("email", "Resend refuses for good (quota)", at("worker", "email:before", resend_fails("daily_quota")),
         "ready without email (email-failed alarm)", 0, emails=0),
    Case("email", "database down", at("worker", "email:after", database_down),
         "SQS, or the sweeper once the lease ended", FAULT_S + DEAD_S),
    Case("finish", "killed before the message was deleted", at("worker", "delete:before", kill),
         "nothing to do: the redelivery is skipped", 0, core=True),
    Case("finish", "database down", at("worker", "finish:before", database_down),
         "SQS, or the sweeper once the lease ended", FAULT_S + DEAD_S),
]  # fmt: skip


def describe(status: str, versions: list[tuple[int, bool]], emails: int) -> str:
    released = sum(1 for _, shown in versions if shown)
    return f"{status}, {released} released, {emails} email" + ("" if emails == 1 else "s")


RUN = CASES if os.environ.get("FAULTS") == "all" else [case for case in CASES if case.core]


@pytest.mark.parametrize("case", RUN, ids=[case.id for case in RUN])
def test_the_order_ends_once_within_its_bound(case: Case, world: World) -> None:
    reckoning_id = world.pay()
    case.arm(world)
    ending = world.run()

    assert ending.status == case.status, f"{reckoning_id} ended {ending.status}"  # not lost, not stuck
    assert ending.versions == case.versions  # one version, released once (or held, or none after a refund)
    assert ending.emails == case.emails  # at most one report email
    if ending.status == "failed":
        assert ending.dead_letters == 1  # charged without a report only with a flag: the alarm and the DLQ
    bound = case.bound_s + RUN_S
    assert ending.recovery_s <= bound, f"recovered in {ending.recovery_s:.1f} s, bound {bound:.1f} s"
    outcome = describe(ending.status, ending.versions, ending.emails)
    ROWS.append(Row(case.step, case.fault, outcome, case.recovered_by, ending.recovery_s, bound))
