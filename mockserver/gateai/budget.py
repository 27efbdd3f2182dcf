"""The GateAI daily budget: $100 per key per UTC day (03:00 Turkey time), refunds included.

Every generation's charge is an entry in the key's *ledger* (one store record per key, kind
``"gateai_ledger"``), written by one atomic :meth:`Store.update` that also checks the budget, so two
concurrent requests can never both spend the last dollar. An entry carries the time its refund takes
effect (``refund_at``), fixed when the generation is created (the 20-minute rule and failures are known
then), so ``used`` at any moment is a pure function of the ledger and the clock:

    used(now)      = sum of today's entries whose refund has not happened by ``now``
    remaining(now) = daily_limit - used(now)

A charge belongs to the UTC day it was made on; its refund gives that day's budget back (a refund after
midnight does not add to the new day). Money is kept in integer micro-dollars, so sums are exact.
"""

from __future__ import annotations

from collections.abc import Iterable
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


def _active(entry: Record, today: float, now: float) -> bool:
    """Counts against today's budget: charged today and not (yet) refunded."""
    refund_at = entry.get("refund_at")
    return day_start(entry["at"]) == today and (refund_at is None or refund_at > now)


def _used(entries: Iterable[Record], today: float, now: float) -> int:
    return sum(entry["micros"] for entry in entries if _active(entry, today, now))


class Budget:
    """Daily budgets of every key, on the runtime's clock and store."""

    def __init__(self, runtime: Runtime) -> None:
        self.runtime = runtime

    def _limit_micros(self, owner: str) -> int:
        account = self.runtime.accounts.get(owner)
        limit = account.daily_budget if account is not None else self.runtime.settings.daily_budget
        return to_micros(limit)

    def _entries(self, owner: str) -> list[Record]:
        record = self.runtime.store.get(KIND, owner)
        return [] if record is None else list(record["entries"])

    def status(self, owner: str, now: float | None = None) -> BudgetStatus:
        now = self.runtime.clock.now() if now is None else now
        today = day_start(now)
        return BudgetStatus(self._limit_micros(owner), _used(self._entries(owner), today, now), today + DAY)

    def charge(self, owner: str, task_id: str, model: str, cost: float, refund_at: float | None,
               now: float | None = None) -> BudgetStatus:
        """Record the charge if it fits today's remaining budget (atomically); else :class:`BudgetExceeded`."""
        now = self.runtime.clock.now() if now is None else now
        today = day_start(now)
        limit = self._limit_micros(owner)
        micros = to_micros(cost)
        store = self.runtime.store
        if store.get(KIND, owner) is None:
            store.put(KIND, owner, {"entries": []}, owner=owner)
        outcome: list[int] = []

        def apply(record: Record) -> Record:
            entries = [entry for entry in record["entries"] if day_start(entry["at"]) >= today]  # drop past days
            used = _used(entries, today, now)
            outcome.append(used)
            if used + micros > limit:
                return {"entries": entries}
            entry = {"task": task_id, "model": model, "micros": micros, "at": now, "refund_at": refund_at}
            return {"entries": [*entries, entry]}

        store.update(KIND, owner, apply)
        used = outcome[-1]  # the last run of apply (a shared store re-runs it on a conflict)
        if used + micros > limit:
            raise BudgetExceeded(cost, BudgetStatus(limit, used, today + DAY))
        return self.status(owner, now)

    def spending_today(self, owner: str, now: float | None = None) -> dict[str, dict[str, Any]]:
        """``{model: {requests, cost}}`` for today: every request counted, refunded ones at no cost."""
        now = self.runtime.clock.now() if now is None else now
        today = day_start(now)
        totals: dict[str, list[int]] = {}
        for entry in self._entries(owner):
            if day_start(entry["at"]) != today:
                continue
            row = totals.setdefault(entry["model"], [0, 0])
            row[0] += 1
            if _active(entry, today, now):
                row[1] += entry["micros"]
        return {model: {"requests": count, "cost": to_usd(micros)} for model, (count, micros) in totals.items()}


class BudgetExceeded(Exception):
    """A generation costs more than what is left of today's budget (and no downgrade fits)."""

    def __init__(self, cost: float, status: BudgetStatus) -> None:
        super().__init__(f"cost {cost} exceeds the remaining {status.remaining}")
        self.cost = cost
        self.status = status
