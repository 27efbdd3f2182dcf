"""State behind one interface, with bounded retention.

Records are JSON-compatible dicts grouped by *kind* (``"prediction"``, ``"account"``, ...),
each optionally owned by an account. The in-memory implementation keeps insertion order,
evicts the oldest record of a kind beyond ``max_records`` and any record older than ``ttl``
seconds of clock time. A shared external store (several server processes) implements the same
:class:`Store` protocol; nothing else in the server touches state directly.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any, Protocol

Record = dict[str, Any]

#: Kinds that are never evicted by retention (configuration, not traffic).
PERMANENT_KINDS = frozenset({"account"})


@dataclass(frozen=True)
class Retention:
    """Limits on stored traffic objects; ``None`` means unbounded."""

    max_records: int | None = 10_000
    ttl: float | None = None


class Store(Protocol):
    """What the domain modules need from state."""

    def get(self, kind: str, key: str) -> Record | None: ...

    def put(self, kind: str, key: str, record: Record, owner: str | None = None) -> None: ...

    def update(self, kind: str, key: str, change: Callable[[Record], Record | None]) -> Record | None: ...

    def delete(self, kind: str, key: str) -> bool: ...

    def scan(self, kind: str, owner: str | None = None, newest_first: bool = True) -> Iterator[Record]: ...

    def count(self, kind: str, owner: str | None = None) -> int: ...

    def clear(self, owner: str | None = None, kinds: frozenset[str] | None = None) -> None: ...


@dataclass
class _Entry:
    record: Record
    owner: str | None
    stored_at: float


class MemoryStore:
    """Thread-safe in-memory :class:`Store` with retention by count and age."""

    def __init__(self, retention: Retention = Retention(), now: Callable[[], float] | None = None) -> None:
        import time

        self.retention = retention
        self._now = now or time.time
        self._lock = threading.RLock()
        self._kinds: dict[str, OrderedDict[str, _Entry]] = {}
        self._by_owner: dict[tuple[str, str], OrderedDict[str, None]] = {}

    # -- internals -------------------------------------------------------------------------

    def _table(self, kind: str) -> OrderedDict[str, _Entry]:
        return self._kinds.setdefault(kind, OrderedDict())

    def _forget(self, kind: str, key: str, entry: _Entry) -> None:
        del self._kinds[kind][key]
        if entry.owner is not None:
            index = self._by_owner.get((kind, entry.owner))
            if index is not None:
                index.pop(key, None)

    def _expire(self, kind: str) -> None:
        if kind in PERMANENT_KINDS:
            return
        table = self._table(kind)
        limit = self.retention.max_records
        while limit is not None and len(table) > limit:
            key, entry = next(iter(table.items()))
            self._forget(kind, key, entry)
        if self.retention.ttl is not None:
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
            table[key] = _Entry(record, owner, self._now())
            if owner is not None:
                self._by_owner.setdefault((kind, owner), OrderedDict())[key] = None
            self._expire(kind)

    def update(self, kind: str, key: str, change: Callable[[Record], Record | None]) -> Record | None:
        """Atomically replace a record with ``change(record)``; returns the new record."""
        with self._lock:
            entry = self._table(kind).get(key)
            if entry is None:
                return None
            new = change(entry.record)
            if new is not None:
                entry.record = new
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

    def count(self, kind: str, owner: str | None = None) -> int:
        with self._lock:
            self._expire(kind)
            if owner is None:
                return len(self._table(kind))
            return len(self._by_owner.get((kind, owner), ()))

    def clear(self, owner: str | None = None, kinds: frozenset[str] | None = None) -> None:
        """Drop every record (of one owner, of some kinds)."""
        with self._lock:
            for kind in list(self._kinds):
                if kinds is not None and kind not in kinds:
                    continue
                if owner is None:
                    self._kinds[kind].clear()
                    for index_key in [k for k in self._by_owner if k[0] == kind]:
                        del self._by_owner[index_key]
                    continue
                for key in list(self._by_owner.get((kind, owner), ())):
                    entry = self._kinds[kind].get(key)
                    if entry is not None:
                        self._forget(kind, key, entry)
