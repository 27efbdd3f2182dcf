"""State behind one interface, with bounded retention.

Records are JSON-compatible dicts grouped by *kind* (``"prediction"``, ``"account"``, ...),
each optionally owned by an account. The in-memory implementation keeps insertion order and
bounds each key's share: beyond ``max_records`` records of one kind, or ``max_key_bytes`` bytes
(a record's weight is the length of its JSON) over all kinds, the key's own oldest records go --
so one key's traffic never evicts another key's. Beyond ``max_store_bytes`` for all keys together
the key holding the most bytes loses its oldest record first. Records older than ``ttl`` seconds of
clock time go too. A shared external store (several server processes, :mod:`mockserver.core.shared_store`)
implements the same :class:`Store` protocol; nothing else in the server touches state directly. A shared store
may offer two atomic shortcuts the callers use when present: ``adjust(kind, key, field, delta, minimum)``
(a number changed in one step, :class:`BelowMinimum` if it would go too low; account balances) and
``limit_ledger`` (sliding windows and slots, :class:`mockserver.core.limits.LimitLedger`).
"""

from __future__ import annotations

import json
import threading
from collections import OrderedDict
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any, Protocol

Record = dict[str, Any]

#: Kinds that are never evicted by retention: configuration, and per-key accounting state (rate-limit
#: windows, slots, a vendor's daily ledger) that bounds itself -- evicting it would reset a key's limits.
#: Vendors add their own kinds with :func:`permanent_kind`.
PERMANENT_KINDS: set[str] = {"account", "limit"}


def permanent_kind(kind: str) -> str:
    """Declare ``kind`` exempt from retention (per-key state that bounds itself); returns ``kind``."""
    PERMANENT_KINDS.add(kind)
    return kind


#: URL schemes of a shared store (the ``store`` setting, other than ``memory``; :mod:`mockserver.core.shared_store`).
SHARED_SCHEMES = ("redis://", "rediss://", "unix://")


class StoreUnavailable(ConnectionError):
    """The configured shared store cannot be reached (the message names it)."""


class BelowMinimum(Exception):
    """An ``adjust`` of a shared store refused: the number would go below its minimum (``current`` is kept)."""

    def __init__(self, current: float) -> None:
        super().__init__(f"{current} cannot go lower")
        self.current = current


@dataclass(frozen=True)
class Retention:
    """Limits on stored traffic objects; ``None`` means unbounded."""

    max_records: int | None = 10_000  # per owner and kind
    ttl: float | None = None
    max_key_bytes: int | None = None  # per owner, over all kinds
    max_store_bytes: int | None = None  # all owners together


def weight(record: Record) -> int:
    """What a record counts against the byte budgets: the length of its JSON (plus a fixed overhead)."""
    try:
        return 64 + len(json.dumps(record, separators=(",", ":"), default=str))
    except (ValueError, TypeError, RecursionError):
        return 4096


class Store(Protocol):
    """What the domain modules need from state."""

    def get(self, kind: str, key: str) -> Record | None: ...

    def put(self, kind: str, key: str, record: Record, owner: str | None = None) -> None: ...

    def update(self, kind: str, key: str, change: Callable[[Record], Record | None]) -> Record | None: ...

    def delete(self, kind: str, key: str) -> bool: ...

    def scan(self, kind: str, owner: str | None = None, newest_first: bool = True) -> Iterator[Record]: ...

    def clear(self, owner: str | None = None, kinds: frozenset[str] | None = None) -> None: ...


@dataclass
class _Entry:
    record: Record
    owner: str | None
    stored_at: float
    size: int = 0


class MemoryStore:
    """Thread-safe in-memory :class:`Store` with retention per key by count and bytes, and by age."""

    def __init__(self, retention: Retention = Retention(), now: Callable[[], float] | None = None) -> None:
        import time

        self.retention = retention
        self._now = now or time.time
        self._lock = threading.RLock()
        self._kinds: dict[str, OrderedDict[str, _Entry]] = {}
        self._by_owner: dict[tuple[str, str], OrderedDict[str, None]] = {}
        # Byte accounting of evictable records: each owner's records oldest first, and the totals.
        self._owned: dict[str | None, OrderedDict[tuple[str, str], None]] = {}
        self._owner_bytes: dict[str | None, int] = {}
        self._total_bytes = 0

    # -- internals -------------------------------------------------------------------------

    def _table(self, kind: str) -> OrderedDict[str, _Entry]:
        return self._kinds.setdefault(kind, OrderedDict())

    def _account(self, kind: str, key: str, entry: _Entry, sign: int) -> None:
        if kind in PERMANENT_KINDS:
            return
        owner = entry.owner
        if sign > 0:
            self._owned.setdefault(owner, OrderedDict())[(kind, key)] = None
        else:
            self._owned.get(owner, OrderedDict()).pop((kind, key), None)
        self._owner_bytes[owner] = self._owner_bytes.get(owner, 0) + sign * entry.size
        self._total_bytes += sign * entry.size
        if not self._owned.get(owner):
            self._owned.pop(owner, None)
            self._owner_bytes.pop(owner, None)

    def _forget(self, kind: str, key: str, entry: _Entry) -> None:
        del self._kinds[kind][key]
        self._account(kind, key, entry, -1)
        if entry.owner is not None:
            index = self._by_owner.get((kind, entry.owner))
            if index is not None:
                index.pop(key, None)

    def _evict_oldest_of(self, owner: str | None, keep: tuple[str, str]) -> bool:
        """Drop ``owner``'s oldest evictable record other than ``keep``; False if there is none."""
        for kind, key in self._owned.get(owner, OrderedDict()):
            if (kind, key) != keep:
                self._forget(kind, key, self._kinds[kind][key])
                return True
        return False

    def _enforce(self, kind: str, key: str, owner: str | None) -> None:
        """Apply the count and byte limits after ``key`` was written (that record itself stays)."""
        if kind in PERMANENT_KINDS:
            return
        limits = self.retention
        table = self._table(kind)
        index = self._by_owner.get((kind, owner)) if owner is not None else None
        count_of = (lambda: len(index)) if index is not None else (lambda: sum(1 for e in table.values()
                                                                                  if e.owner is None))
        while limits.max_records is not None and count_of() > limits.max_records:
            oldest = next(k for k, e in table.items() if e.owner == owner) if index is None else next(iter(index))
            self._forget(kind, oldest, table[oldest])
        while limits.max_key_bytes is not None and self._owner_bytes.get(owner, 0) > limits.max_key_bytes:
            if not self._evict_oldest_of(owner, (kind, key)):
                break
        while limits.max_store_bytes is not None and self._total_bytes > limits.max_store_bytes:
            heaviest = max(self._owner_bytes, key=lambda o: self._owner_bytes[o])
            if not self._evict_oldest_of(heaviest, (kind, key)):
                break

    def _expire(self, kind: str) -> None:
        if kind in PERMANENT_KINDS or self.retention.ttl is None:
            return
        table = self._table(kind)
        horizon = self._now() - self.retention.ttl
        while table:
            key, entry = next(iter(table.items()))
            if entry.stored_at >= horizon:
                break
            self._forget(kind, key, entry)

    # -- Store -----------------------------------------------------------------------------

    def get(self, kind: str, key: str) -> Record | None:
        with self._lock:
            self._expire(kind)
            entry = self._table(kind).get(key)
            return None if entry is None else entry.record

    def put(self, kind: str, key: str, record: Record, owner: str | None = None) -> None:
        with self._lock:
            table = self._table(kind)
            old = table.get(key)
            if old is not None:
                self._forget(kind, key, old)
            entry = _Entry(record, owner, self._now(), weight(record))
            table[key] = entry
            self._account(kind, key, entry, +1)
            if owner is not None:
                self._by_owner.setdefault((kind, owner), OrderedDict())[key] = None
            self._enforce(kind, key, owner)
            self._expire(kind)

    def usage(self, owner: str | None = None) -> tuple[int, int]:
        """``(records, bytes)`` counted against the budgets: of one owner, or of everyone."""
        with self._lock:
            if owner is None:
                return sum(len(keys) for keys in self._owned.values()), self._total_bytes
            return len(self._owned.get(owner, ())), self._owner_bytes.get(owner, 0)

    def update(self, kind: str, key: str, change: Callable[[Record], Record | None]) -> Record | None:
        """Atomically replace a record with ``change(record)``; returns the new record."""
        with self._lock:
            entry = self._table(kind).get(key)
            if entry is None:
                return None
            new = change(entry.record)
            if new is not None and new is not entry.record:
                size = weight(new)
                if kind not in PERMANENT_KINDS:  # same place in the eviction order, new weight
                    self._owner_bytes[entry.owner] = self._owner_bytes.get(entry.owner, 0) + size - entry.size
                    self._total_bytes += size - entry.size
                entry.record, entry.size = new, size
                self._enforce(kind, key, entry.owner)
            return entry.record

    def delete(self, kind: str, key: str) -> bool:
        with self._lock:
            entry = self._table(kind).get(key)
            if entry is None:
                return False
            self._forget(kind, key, entry)
            return True

    def scan(self, kind: str, owner: str | None = None, newest_first: bool = True) -> Iterator[Record]:
        """A snapshot of the records of ``kind`` (of one owner), newest first by default."""
        with self._lock:
            self._expire(kind)
            table = self._table(kind)
            if owner is None:
                records = [entry.record for entry in table.values()]
            else:
                keys = self._by_owner.get((kind, owner), OrderedDict())
                records = [table[key].record for key in keys if key in table]
        if newest_first:
            records.reverse()
        return iter(records)

    def clear(self, owner: str | None = None, kinds: frozenset[str] | None = None) -> None:
        """Drop every record (of one owner, of some kinds)."""
        with self._lock:
            for kind in list(self._kinds):
                if kinds is not None and kind not in kinds:
                    continue
                if owner is None:
                    for key, entry in list(self._kinds[kind].items()):
                        self._forget(kind, key, entry)
                    for index_key in [k for k in self._by_owner if k[0] == kind]:
                        del self._by_owner[index_key]
                    continue
                for key in list(self._by_owner.get((kind, owner), ())):
                    entry = self._kinds[kind].get(key)
                    if entry is not None:
                        self._forget(kind, key, entry)
