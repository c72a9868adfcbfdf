"""What generation costs: every model call priced from the versioned price table, and the daily spend limit.

`reckoning/prices.json` is data: model → USD per million input and output tokens, each price from the date
it applies. An attempt is priced when it is recorded, by the price in effect then; a report's cost is every
call made for its reckoning (its regenerations too). With DAILY_SPEND_LIMIT_USD set, generation pauses once
the day's calls (UTC) cost that much: the worker queues the job again for later instead of failing it.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from functools import cache
from importlib.resources import files

from reckoning import db, errors
from reckoning.db import reports

_MILLION = Decimal(1_000_000)
_CENT_FRACTIONS = Decimal("0.000001")  # numeric(12, 6)


@dataclass(frozen=True, slots=True)
class Price:
    model: str
    applies_from: date
    input_per_mtok: Decimal
    output_per_mtok: Decimal
    cache_write_per_mtok: Decimal
    cache_read_per_mtok: Decimal

    def fits(self, model: str, on: date) -> bool:
        return on >= self.applies_from and (model == self.model or model.startswith(self.model + "-"))


@cache
def prices() -> tuple[Price, ...]:
    table = json.loads(files("reckoning").joinpath("prices.json").read_text(encoding="utf-8"))
    return tuple(_price(p) for p in table["prices"])


def _price(entry: dict[str, str]) -> Price:
    base = Decimal(entry["inputPerMTok"])
    return Price(
        entry["model"],
        date.fromisoformat(entry["from"]),
        base,
        Decimal(entry["outputPerMTok"]),
        Decimal(entry.get("cacheWritePerMTok", base * Decimal("1.25"))),
        Decimal(entry.get("cacheReadPerMTok", base / 10)),
    )


def price_of(model: str, on: date) -> Price | None:
    """The price in effect on that day: the longest matching model id, then the latest date."""
    fitting = [p for p in prices() if p.fits(model, on)]
    return max(fitting, key=lambda p: (len(p.model), p.applies_from), default=None)


def cost_usd(
    model: str,
    input_tokens: int | None,
    output_tokens: int | None,
    at: datetime,
    cache_read: int = 0,
    cache_write: int = 0,
) -> Decimal | None:
    """What one call cost (`input_tokens` the uncached input, as the API counts it); None when the model has no
    price or the call reported no tokens."""
    price = price_of(model, at.astimezone(UTC).date())
    if price is None or input_tokens is None or output_tokens is None:
        return None
    total = input_tokens * price.input_per_mtok + output_tokens * price.output_per_mtok
    total += cache_read * price.cache_read_per_mtok + cache_write * price.cache_write_per_mtok
    return (total / _MILLION).quantize(_CENT_FRACTIONS)


def cache_saving_usd(model: str, cache_read: int, at: datetime) -> Decimal:
    """What the tokens read from the prompt cache would have cost as uncached input, less what they cost."""
    price = price_of(model, at.astimezone(UTC).date())
    if price is None:
        return Decimal(0)
    return (cache_read * (price.input_per_mtok - price.cache_read_per_mtok) / _MILLION).quantize(_CENT_FRACTIONS)


def check_spend(database: db.Database, limit: Decimal | None, now: datetime | None = None) -> None:
    """Raise SpendLimitReached when today's calls cost `limit` USD or more (None: no limit)."""
    if limit is None:
        return
    now = now or datetime.now(UTC)
    day = datetime.combine(now.astimezone(UTC).date(), datetime.min.time(), UTC)
    with database.connection() as conn:
        spent = reports.spent_since(conn, day)
    if spent >= limit:
        resets_in = int((day + timedelta(days=1) - now).total_seconds()) + 1
        raise errors.SpendLimitReached(f"spent {spent} of {limit} USD today", resets_in=resets_in)


@dataclass(frozen=True, slots=True)
class Summary:
    since: datetime
    per_report: reports.Costs
    per_model: list[reports.Costs]


def summary(database: db.Database, since: datetime) -> Summary:
    """Reports written and model calls made since a moment: count, total, p50 and p95 (`reckoning costs`)."""
    with database.transaction() as conn:
        return Summary(since, reports.report_costs_since(conn, since), reports.model_costs_since(conn, since))
