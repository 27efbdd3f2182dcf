"""The GateAI daily budget: $100 per key per UTC day (03:00 Turkey time), refunds included.

Every generation's charge goes into the key's *ledger* (one store record per key, kind ``"gateai_ledger"``),
written by one atomic :meth:`Store.update` that also checks the budget, so two concurrent requests can never
both spend the last dollar. A charge carries the time its refund takes effect (``refund_at``), fixed when the
generation is created (the 20-minute rule and failures are known then), so ``used`` at any moment is a pure
function of the ledger and the clock:

    used(now)      = today's charges - today's charges whose refund has happened by ``now``
    remaining(now) = daily_limit - used(now)

The ledger keeps running totals for the current UTC day (charged, refunded, per model) and a heap of the
charges whose refund is still to come; a charge settles the refunds that are due, so it costs O(log n), not a
pass over the day. A charge belongs to the UTC day it was made on; its refund gives that day's budget back (a
refund after midnight does not add to the new day). Money is kept in integer micro-dollars, so sums are exact.
"""

from __future__ import annotations

import heapq
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from mockserver.core.runtime import Runtime
from mockserver.core.store import Record, permanent_kind

KIND = permanent_kind("gateai_ledger")  # the ledger bounds itself: retention never evicts it
DAY = 86_400.0
MICROS = 1_000_000

#: The upstream account pool ``GET /credits`` reports (the mock has no real pool; the doc's example size).
POOL_TOTAL_ACCOUNTS = 12
POOL_LOCKED = 0


def to_micros(usd: float) -> int:
    return round(usd * MICROS)


def to_usd(micros: int) -> float | int:
    """Micro-dollars as a JSON number: an int when whole (``100``), else a float (``94.78``)."""
    value = micros / MICROS
    return int(value) if value.is_integer() else round(value, 6)


def day_start(ts: float) -> float:
    """00:00 UTC of the day ``ts`` falls on (= 03:00 Turkey time, UTC+3 all year)."""
    return (ts // DAY) * DAY


@dataclass(frozen=True)
class BudgetStatus:
    """One key's budget at one moment (micro-dollars inside, dollars out)."""

    limit_micros: int
    used_micros: int
    resets_at: float

    @property
    def remaining_micros(self) -> int:
        return max(self.limit_micros - self.used_micros, 0)

    @property
    def daily_limit(self) -> float | int:
        return to_usd(self.limit_micros)

    @property
    def used(self) -> float | int:
        return to_usd(self.used_micros)

    @property
    def remaining(self) -> float | int:
        return to_usd(self.remaining_micros)

    def fits(self, cost: float) -> bool:
        return to_micros(cost) <= self.remaining_micros

    def as_json(self) -> dict[str, Any]:
        return {"daily_limit": self.daily_limit, "used": self.used, "remaining": self.remaining}


def _fresh(today: float) -> Record:
    """An empty ledger for the day starting at ``today``."""
    return {"day": today, "charged": 0, "refunded": 0, "pending": [], "models": {}}


def _current(record: Record | None, today: float) -> Record:
    """The ledger as of ``today`` (a ledger of an earlier day, or of the old list form, starts over)."""
    if record is None or record.get("day") != today:
        return _fresh(today)
    return record


def _due(ledger: Record, now: float) -> Iterator[list[Any]]:
    """Pending ``[refund_at, micros, model]`` refunds that have happened by ``now``."""
    return (item for item in ledger["pending"] if item[0] <= now)


def _used(ledger: Record, now: float) -> int:
    return ledger["charged"] - ledger["refunded"] - sum(item[1] for item in _due(ledger, now))


def _settle(ledger: Record, now: float) -> None:
    """Move the refunds due by ``now`` from the heap into the refunded totals (in place)."""
    pending = ledger["pending"]
    while pending and pending[0][0] <= now:
        _, micros, model = heapq.heappop(pending)
        ledger["refunded"] += micros
        ledger["models"][model][2] += micros


class Budget:
    """Daily budgets of every key, on the runtime's clock and store."""

    def __init__(self, runtime: Runtime) -> None:
        self.runtime = runtime

    def _limit_micros(self, owner: str) -> int:
        account = self.runtime.accounts.get(owner)
        limit = account.daily_budget if account is not None else self.runtime.settings.daily_budget
        return to_micros(limit)

    def _ledger(self, owner: str, today: float) -> Record:
        return _current(self.runtime.store.get(KIND, owner), today)

    def status(self, owner: str, now: float | None = None) -> BudgetStatus:
        now = self.runtime.clock.now() if now is None else now
        today = day_start(now)
        return BudgetStatus(self._limit_micros(owner), _used(self._ledger(owner, today), now), today + DAY)

    def charge(self, owner: str, task_id: str, model: str, cost: float, refund_at: float | None,
               now: float | None = None) -> BudgetStatus:
        """Record the charge if it fits today's remaining budget (atomically); else :class:`BudgetExceeded`.

        ``now`` is never before an earlier charge's (the clock only moves forward)."""
        now = self.runtime.clock.now() if now is None else now
        today = day_start(now)
        limit = self._limit_micros(owner)
        micros = to_micros(cost)
        store = self.runtime.store
        if store.get(KIND, owner) is None:  # created once; never over a ledger another process just made
            store.put_absent(KIND, owner, _fresh(today), owner=owner)
        outcome: list[int] = []

        def apply(record: Record) -> Record:
            ledger = _current(record, today)
            _settle(ledger, now)
            used = ledger["charged"] - ledger["refunded"]
            outcome.append(used)
            if used + micros <= limit:
                ledger["charged"] += micros
                row = ledger["models"].setdefault(model, [0, 0, 0])  # requests, charged, refunded
                row[0] += 1
                row[1] += micros
                if refund_at is not None:
                    heapq.heappush(ledger["pending"], [refund_at, micros, model])
            return ledger

        store.update(KIND, owner, apply)
        used = outcome[-1]  # the last run of apply (a shared store re-runs it on a conflict)
        if used + micros > limit:
            raise BudgetExceeded(cost, BudgetStatus(limit, used, today + DAY))
        refunded_now = refund_at is not None and refund_at <= now
        return BudgetStatus(limit, used + (0 if refunded_now else micros), today + DAY)

    def spending_today(self, owner: str, now: float | None = None) -> dict[str, dict[str, Any]]:
        """``{model: {requests, cost}}`` for today: every request counted, refunded ones at no cost."""
        now = self.runtime.clock.now() if now is None else now
        ledger = self._ledger(owner, day_start(now))
        due: dict[str, int] = {}
        for _, micros, model in _due(ledger, now):
            due[model] = due.get(model, 0) + micros
        return {model: {"requests": requests, "cost": to_usd(charged - refunded - due.get(model, 0))}
                for model, (requests, charged, refunded) in ledger["models"].items()}


class BudgetExceeded(Exception):
    """A generation costs more than what is left of today's budget (and no downgrade fits)."""

    def __init__(self, cost: float, status: BudgetStatus) -> None:
        super().__init__(f"cost {cost} exceeds the remaining {status.remaining}")
        self.cost = cost
        self.status = status
