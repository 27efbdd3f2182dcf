"""State behind one interface, with bounded retention.

Records are JSON-compatible dicts grouped by *kind* (``"prediction"``, ``"account"``, ...),
each optionally owned by an account. The in-memory implementation keeps insertion order and
bounds each key's share: beyond ``max_records`` records of one kind, or ``max_key_bytes`` bytes
(a record's weight is the bytes of its JSON) over all kinds, the key's own oldest records go --
so one key's traffic never evicts another key's. Beyond ``max_store_bytes`` for all keys together
the key holding the most bytes loses its oldest record first. Records older than ``ttl`` seconds of
clock time go too. A shared external store (several server processes, :mod:`mockserver.core.shared_store`)
implements the same :class:`Store` protocol (``put_absent``, and counting and paging one owner's records,
included); nothing else in the server touches state directly. A shared store may offer two atomic shortcuts
the callers use when present: ``adjust(kind, key, field, delta, minimum)`` (a number changed in one step,
:class:`BelowMinimum` if it would go too low; account balances) and ``limit_ledger`` (sliding windows and
slots, :class:`mockserver.core.limits.LimitLedger`).
"""

from __future__ import annotations

import itertools
import threading
from collections import OrderedDict, deque
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from types import MappingProxyType
from typing import Any, Protocol

import orjson

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


def encode(record: Record) -> bytes:
    """A record's compact JSON (UTF-8; tuples as lists, unknown objects as strings): what a shared store keeps."""
    return orjson.dumps(record, default=str, option=orjson.OPT_NON_STR_KEYS)


def weight(record: Record) -> int:
    """What a record counts against the byte budgets: the bytes of its JSON (:func:`encode`, as a shared store
    weighs it) plus a fixed overhead."""
    try:
        return 64 + len(encode(record))
    except (ValueError, TypeError, RecursionError):
        return 4096


_INTS: dict[int, int] = {}
#: What a kind never written holds (read only).
_NO_RECORDS: Mapping[str, Any] = MappingProxyType({})


def _shared_int(value: int) -> int:
    """One object per record size (below 16 KiB): 32 bytes saved on each stored record."""
    if value >= 16_384:
        return value
    return _INTS.setdefault(value, value)


class Store(Protocol):
    """What the domain modules need from state (:class:`MemoryStore`, and
    :class:`mockserver.core.shared_store.store.RedisStore` for several processes)."""

    def get(self, kind: str, key: str) -> Record | None: ...

    def put(self, kind: str, key: str, record: Record, owner: str | None = None) -> None: ...

    def put_absent(self, kind: str, key: str, record: Record, owner: str | None = None) -> bool:
        """Store ``record`` only if no record has ``key``, atomically; whether it was stored."""
        ...

    def update(self, kind: str, key: str, change: Callable[[Record], Record | None]) -> Record | None: ...

    def delete(self, kind: str, key: str) -> bool: ...

    def scan(self, kind: str, owner: str | None = None, newest_first: bool = True) -> Iterator[Record]: ...

    def count(self, kind: str, owner: str) -> int:
        """How many records of ``kind`` ``owner`` has (without reading them)."""
        ...

    def page(self, kind: str, owner: str, offset: int, limit: int, newest_first: bool = True) -> list[Record]:
        """``limit`` of the owner's records of ``kind`` from ``offset`` on, newest first by default (O(page))."""
        ...

    def clear(self, owner: str | None = None, kinds: frozenset[str] | None = None) -> None: ...


@dataclass(slots=True)
class _Entry:
    record: Record
    owner: str | None
    stored_at: float  #: when it was written (only with a ttl; else 0.0)
    size: int
    seq: int  #: the store-wide write order: an owner's oldest record over all kinds has the lowest


class MemoryStore:
    """Thread-safe in-memory :class:`Store` with retention per key by count and bytes, and by age.

    Every record is indexed by ``(kind, owner)`` in write order, so counting and paging one owner's records
    costs O(page), not a pass over the store; an owner's oldest record over all kinds is the lowest ``seq``
    at the front of its few indexes.
    """

    def __init__(self, retention: Retention = Retention(), now: Callable[[], float] | None = None) -> None:
        import time

        self.retention = retention
        self._now = now or time.time
        self._lock = threading.RLock()
        self._kinds: dict[str, dict[str, _Entry]] = {}  # plain dicts: write order, no ordered-dict links
        # With a ttl: (stored_at, seq, key) of each kind's writes in time order; stale ones are skipped.
        self._aging: dict[str, deque[tuple[float, int, str]]] = {}
        self._by_owner: dict[tuple[str, str | None], OrderedDict[str, None]] = {}
        # Byte accounting of evictable records: the kinds each owner has records of, and the totals.
        self._owner_kinds: dict[str | None, set[str]] = {}
        self._owner_bytes: dict[str | None, int] = {}
        self._total_bytes = 0
        self._seq = 0

    # -- internals -------------------------------------------------------------------------

    def _table(self, kind: str) -> Mapping[str, _Entry]:
        """The records of ``kind``, to read (no table is made for a kind never written)."""
        return self._kinds.get(kind, _NO_RECORDS)

    def _account(self, kind: str, entry: _Entry, sign: int) -> None:
        if kind in PERMANENT_KINDS:
            return
        owner = entry.owner
        if sign > 0:
            self._owner_kinds.setdefault(owner, set()).add(kind)
        self._owner_bytes[owner] = self._owner_bytes.get(owner, 0) + sign * entry.size
        self._total_bytes += sign * entry.size

    def _forget(self, kind: str, key: str, entry: _Entry) -> None:
        del self._kinds[kind][key]
        self._account(kind, entry, -1)
        index = self._by_owner.get((kind, entry.owner))
        if index is not None:
            index.pop(key, None)
            if not index:
                del self._by_owner[(kind, entry.owner)]
                self._drop_owner_kind(kind, entry.owner)

    def _drop_owner_kind(self, kind: str, owner: str | None) -> None:
        kinds = self._owner_kinds.get(owner)
        if kinds is not None:
            kinds.discard(kind)
            if not kinds:
                del self._owner_kinds[owner]
                self._owner_bytes.pop(owner, None)

    def _evict_oldest_of(self, owner: str | None, keep: tuple[str, str]) -> bool:
        """Drop ``owner``'s oldest evictable record other than ``keep``; False if there is none."""
        oldest: tuple[int, str, str] | None = None
        for kind in self._owner_kinds.get(owner, ()):
            table = self._kinds[kind]
            for key in self._by_owner.get((kind, owner), ()):
                if (kind, key) == keep:
                    continue
                seq = table[key].seq
                if oldest is None or seq < oldest[0]:
                    oldest = (seq, kind, key)
                break
        if oldest is None:
            return False
        _, kind, key = oldest
        self._forget(kind, key, self._kinds[kind][key])
        return True

    def _enforce(self, kind: str, key: str, owner: str | None) -> None:
        """Apply the count and byte limits after ``key`` was written (that record itself stays)."""
        if kind in PERMANENT_KINDS:
            return
        limits = self.retention
        cap = limits.max_records
        index = self._by_owner.get((kind, owner)) if cap is not None else None
        if index is not None and len(index) > cap:  # type: ignore[operator]
            table = self._kinds[kind]
            while len(index) > cap:  # type: ignore[operator]
                oldest = next(iter(index))
                self._forget(kind, oldest, table[oldest])
        cap = limits.max_key_bytes
        while cap is not None and self._owner_bytes.get(owner, 0) > cap:
            if not self._evict_oldest_of(owner, (kind, key)):
                break
        cap = limits.max_store_bytes
        while cap is not None and self._total_bytes > cap:
            heaviest = max(self._owner_bytes, key=lambda o: self._owner_bytes[o])
            if not self._evict_oldest_of(heaviest, (kind, key)):
                break

    def _expire(self, kind: str) -> None:
        if kind in PERMANENT_KINDS or self.retention.ttl is None:
            return
        table = self._table(kind)
        aging = self._aging.get(kind)
        horizon = self._now() - self.retention.ttl
        while aging and aging[0][0] < horizon:
            _, seq, key = aging.popleft()
            entry = table.get(key)
            if entry is not None and entry.seq == seq:  # not deleted or rewritten since
                self._forget(kind, key, entry)

    # -- Store -----------------------------------------------------------------------------

    def get(self, kind: str, key: str) -> Record | None:
        with self._lock:
            if self.retention.ttl is not None:  # nothing ages without a ttl (the check inlined: gets are many)
                self._expire(kind)
            entry = self._kinds.get(kind, _NO_RECORDS).get(key)
            return None if entry is None else entry.record

    def put(self, kind: str, key: str, record: Record, owner: str | None = None) -> None:
        with self._lock:
            table = self._kinds.get(kind)
            if table is None:
                table = self._kinds[kind] = {}
            old = table.get(key)
            if old is not None:
                self._forget(kind, key, old)
            self._seq += 1
            permanent = kind in PERMANENT_KINDS
            aging = self.retention.ttl is not None and not permanent
            # the write time matters only for a ttl; sizes repeat, so one int object serves each size
            entry = _Entry(record, owner, self._now() if aging else 0.0,
                           0 if permanent else _shared_int(weight(record)), self._seq)
            table[key] = entry
            index = self._by_owner.get((kind, owner))
            if index is None:
                index = self._by_owner[(kind, owner)] = OrderedDict()
            index[key] = None
            if permanent:  # self-bounded state: neither weighed, counted nor aged
                return
            if aging:
                self._aging.setdefault(kind, deque()).append((entry.stored_at, entry.seq, key))
            self._account(kind, entry, +1)
            self._enforce(kind, key, owner)
            if aging:
                self._expire(kind)

    def usage(self, owner: str | None = None) -> tuple[int, int]:
        """``(records, bytes)`` counted against the budgets: of one owner, or of everyone."""
        with self._lock:
            if owner is None:
                return sum(self._count_owned(o) for o in list(self._owner_kinds)), self._total_bytes
            return self._count_owned(owner), self._owner_bytes.get(owner, 0)

    def _count_owned(self, owner: str | None) -> int:
        return sum(len(self._by_owner.get((kind, owner), ())) for kind in self._owner_kinds.get(owner, ()))

    def put_absent(self, kind: str, key: str, record: Record, owner: str | None = None) -> bool:
        """Store ``record`` only if no record has ``key`` (atomically); whether it was stored."""
        with self._lock:
            if self._table(kind).get(key) is not None:
                return False
            self.put(kind, key, record, owner=owner)
            return True

    def update(self, kind: str, key: str, change: Callable[[Record], Record | None]) -> Record | None:
        """Atomically replace a record with ``change(record)``; returns the new record."""
        with self._lock:
            entry = self._table(kind).get(key)
            if entry is None:
                return None
            new = change(entry.record)
            if new is None or new is entry.record:
                return entry.record
            if kind in PERMANENT_KINDS:  # self-bounded state is never weighed nor evicted
                entry.record = new
                return new
            size = weight(new)  # same place in the eviction order, new weight
            self._owner_bytes[entry.owner] = self._owner_bytes.get(entry.owner, 0) + size - entry.size
            self._total_bytes += size - entry.size
            entry.record, entry.size = new, _shared_int(size)
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
                records = [table[key].record for key in self._by_owner.get((kind, owner), ())]
        if newest_first:
            records.reverse()
        return iter(records)

    def count(self, kind: str, owner: str) -> int:
        """How many records of ``kind`` ``owner`` has (O(1))."""
        with self._lock:
            self._expire(kind)
            return len(self._by_owner.get((kind, owner), ()))

    def page(self, kind: str, owner: str, offset: int, limit: int, newest_first: bool = True) -> list[Record]:
        """``limit`` of the owner's records of ``kind`` from ``offset`` on, newest first by default
        (O(offset + limit), not a pass over the owner's records)."""
        with self._lock:
            self._expire(kind)
            table = self._table(kind)
            keys = self._by_owner.get((kind, owner), OrderedDict())
            ordered = reversed(keys) if newest_first else iter(keys)
            return [table[key].record for key in itertools.islice(ordered, offset, offset + limit)]

    def clear(self, owner: str | None = None, kinds: frozenset[str] | None = None) -> None:
        """Drop every record (of one owner, of some kinds)."""
        with self._lock:
            for kind in list(self._kinds):
                if kinds is not None and kind not in kinds:
                    continue
                if owner is None:
                    for key, entry in list(self._kinds[kind].items()):
                        self._forget(kind, key, entry)
                    continue
                for key in list(self._by_owner.get((kind, owner), ())):
                    self._forget(kind, key, self._kinds[kind][key])

