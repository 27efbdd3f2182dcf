"""Rate limits on the shared clock: sliding windows and concurrency slots.

Both keep their state in the store (kind ``"limit"``), keyed by limit name and account, so the
same limits hold across server processes sharing a store (a shared store's :class:`LimitLedger` makes each
check-and-take one atomic step), and both read time only from the clock, so tests move through windows by
advancing it.
"""

from __future__ import annotations

import bisect
import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Protocol

from mockserver.core.store import Record, Store

KIND = "limit"


@dataclass(frozen=True)
class Decision:
    """Outcome of a limit check: allowed, or refused with seconds until a retry can succeed."""

    allowed: bool
    retry_after: float = 0.0
    used: int = 0
    limit: int = 0

    @property
    def retry_after_header(self) -> str:
        return str(max(1, math.ceil(self.retry_after)))


class LimitLedger(Protocol):
    """Atomic windows and slots a shared store offers as its ``limit_ledger`` (one step each, across processes);
    without one, both keep a record per limit and account in the store and change it with ``Store.update``."""

    def window_hit(self, name: str, who: str, limit: int, window: float, now: float) -> Decision: ...

    def window_used(self, name: str, who: str, window: float, now: float) -> int: ...

    def slot_acquire(self, name: str, who: str, slot_id: str, limit: int, now: float, release_at: float | None,
                     info: dict[str, Any]) -> Decision: ...

    def slot_release(self, name: str, who: str, slot_id: str) -> None: ...

    def slots_active(self, name: str, who: str, now: float) -> dict[str, dict]: ...


def ledger_of(store: Store) -> LimitLedger | None:
    """The store's atomic :class:`LimitLedger`, if it has one."""
    return getattr(store, "limit_ledger", None)


class SlidingWindow:
    """At most ``limit`` hits in any ``window`` seconds (a true sliding log, not fixed buckets).

    The log is in time order (the clock only moves forward), so a hit drops the expired entries from its
    front by bisection and appends: O(1) amortized, never a pass over the window."""

    def __init__(self, store: Store, name: str, limit: int, window: float, now: Callable[[], float]) -> None:
        self.store, self.name, self.limit, self.window, self.now = store, name, limit, window, now
        self.ledger = ledger_of(store)

    def _key(self, who: str) -> str:
        return f"window:{self.name}:{who}"

    def hit(self, who: str, limit: int | None = None) -> Decision:
        """Record a hit if allowed; refused hits are not recorded."""
        limit = self.limit if limit is None else limit
        now = self.now()
        if self.ledger is not None:
            return self.ledger.window_hit(self.name, who, limit, self.window, now)
        key = self._key(who)
        if self.store.get(KIND, key) is None:
            self.store.put(KIND, key, {"hits": []}, owner=who)
        outcome: list[Decision] = []

        def apply(record: Record) -> Record:
            hits = record["hits"]  # in time order: drop the expired ones from the front, in place
            del hits[:bisect.bisect_right(hits, now - self.window)]
            if len(hits) >= limit:
                outcome.append(Decision(False, retry_after=hits[0] + self.window - now,
                                        used=len(hits), limit=limit))
                return record
            hits.append(now)
            outcome.append(Decision(True, used=len(hits), limit=limit))
            return record

        self.store.update(KIND, key, apply)
        return outcome[-1]  # the last run of apply (a store may re-run it on a conflict)

    def used(self, who: str) -> int:
        if self.ledger is not None:
            return self.ledger.window_used(self.name, who, self.window, self.now())
        record = self.store.get(KIND, self._key(who))
        if record is None:
            return 0
        hits = record["hits"]
        return len(hits) - bisect.bisect_right(hits, self.now() - self.window)


class ConcurrencySlots:
    """At most ``limit`` slots per account; a slot frees when released or after ``auto_release``."""

    def __init__(self, store: Store, name: str, limit: int, now: Callable[[], float],
                 auto_release: float | None = None) -> None:
        self.store, self.name, self.limit, self.now = store, name, limit, now
        self.auto_release = auto_release
        self.ledger = ledger_of(store)

    def _key(self, who: str) -> str:
        return f"slots:{self.name}:{who}"

    def _live(self, slots: dict[str, dict], now: float) -> dict[str, dict]:
        return {
            slot_id: slot for slot_id, slot in slots.items()
            if slot.get("release_at") is None or slot["release_at"] > now
        }

    def acquire(self, who: str, slot_id: str, release_at: float | None = None,
                info: dict | None = None, limit: int | None = None) -> Decision:
        """Take a slot that frees itself at ``release_at`` (or ``now + auto_release``)."""
        limit = self.limit if limit is None else limit
        now = self.now()
        if release_at is None and self.auto_release is not None:
            release_at = now + self.auto_release
        if self.ledger is not None:
            return self.ledger.slot_acquire(self.name, who, slot_id, limit, now, release_at, info or {})
        key = self._key(who)
        if self.store.get(KIND, key) is None:
            self.store.put(KIND, key, {"slots": {}}, owner=who)
        outcome: list[Decision] = []

        def apply(record: Record) -> Record:
            slots = self._live(record["slots"], now)
            if len(slots) >= limit:
                next_free = min((s["release_at"] for s in slots.values() if s.get("release_at")), default=None)
                outcome.append(Decision(False, retry_after=(next_free - now) if next_free else 1.0,
                                        used=len(slots), limit=limit))
                return {"slots": slots}
            slots[slot_id] = {"acquired_at": now, "release_at": release_at, **(info or {})}
            outcome.append(Decision(True, used=len(slots), limit=limit))
            return {"slots": slots}

        self.store.update(KIND, key, apply)
        return outcome[-1]  # the last run of apply (a store may re-run it on a conflict)

    def release(self, who: str, slot_id: str) -> None:
        if self.ledger is not None:
            self.ledger.slot_release(self.name, who, slot_id)
            return
        self.store.update(KIND, self._key(who),
                          lambda r: {"slots": {k: v for k, v in r["slots"].items() if k != slot_id}})

    def active(self, who: str) -> dict[str, dict]:
        if self.ledger is not None:
            return self.ledger.slots_active(self.name, who, self.now())
        record = self.store.get(KIND, self._key(who))
        return {} if record is None else self._live(record["slots"], self.now())
