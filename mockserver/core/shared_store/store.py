"""The :class:`~mockserver.core.store.Store` in Redis, shared by every server process using the same URL.

Each record is a hash beside sorted-set indexes (see :mod:`.scripts` for the layout); every write that touches
more than one key is one Lua script, so retention (count per owner and kind, bytes per owner and in all) holds
across processes. ``ttl`` is in *virtual* seconds (the mock clock, which may stand still or race), so it is
enforced lazily on reads and writes, as the in-memory store does, rather than by Redis ``EXPIRE`` (real time).
:meth:`update` is an optimistic transaction (``WATCH``/``MULTI``, retried on conflict); :meth:`adjust` (account
balances) and the limits (:class:`.limits.RedisLimits`) are single scripts.
"""

from __future__ import annotations

import contextlib
import functools
from collections.abc import Callable, Iterator
from typing import Any

import orjson
import redis

from mockserver.core.shared_store import scripts
from mockserver.core.shared_store.connection import translated
from mockserver.core.shared_store.limits import RedisLimits
from mockserver.core.shared_store.tracking import MISSING, TrackedReads
from mockserver.core.store import PERMANENT_KINDS, BelowMinimum, Record, Retention


def _tag(owner: str | None) -> str:
    return "-" if owner is None else "@" + owner


def _bound(value: float | None) -> str:
    return "" if value is None else repr(value)


def _decode(fields: dict[bytes, bytes]) -> Record | None:
    """A record from its hash: the JSON, with the numbers :meth:`RedisStore.adjust` changed since."""
    raw = fields.get(b"j")
    if raw is None:
        return None
    record = orjson.loads(raw)
    for name, value in fields.items():
        if name.startswith(b"n:"):
            record[name[2:].decode()] = float(value)
    return record


#: How many decoded records a process keeps to hand back again while Redis holds the same bytes.
DECODED_KEPT = 4096


def encode(record: Record) -> bytes:
    """A record's JSON (tuples as lists, unknown objects as strings)."""
    return orjson.dumps(record, default=str, option=orjson.OPT_NON_STR_KEYS)


@translated
class RedisStore:
    """Records in Redis under ``prefix``; ``now`` is the clock (stored-at times and ``ttl`` are virtual).

    With ``tracked`` (a server's: its reads over one connection that Redis tracks, :mod:`.tracking`), records read
    are kept in memory until Redis says they changed: a GET of an unchanged prediction costs no round trip for the
    key's account or the record.
    """

    def __init__(self, client: redis.Redis, retention: Retention | None = None,
                 now: Callable[[], float] | None = None, prefix: str = "mockserver:",
                 tracked: TrackedReads | None = None) -> None:
        import time

        self.client, self.retention, self.prefix = client, retention or Retention(), prefix
        self._now = now or time.time
        self._scripts = {name: client.register_script(getattr(scripts, name))
                         for name in ("PUT", "REWRITE", "DELETE", "EXPIRE", "CLEAR", "ADJUST")}
        #: atomic sliding windows and concurrency slots (read by :mod:`mockserver.core.limits`)
        self.limit_ledger = RedisLimits(client, prefix)
        self._decoded: dict[tuple[str, str], tuple[dict[bytes, bytes], Record]] = {}
        self._tracked = tracked

    # -- internals -------------------------------------------------------------------------

    def _run(self, name: str, *args: Any, client: Any = None) -> Any:
        return self._scripts[name](args=[self.prefix, *args], client=client)

    def _key(self, kind: str, key: str) -> str:
        return f"{self.prefix}r:{kind}:{key}"

    def _budgets(self) -> tuple[str, str, str]:
        limits = self.retention
        return _bound(limits.max_records), _bound(limits.max_key_bytes), _bound(limits.max_store_bytes)

    @contextlib.contextmanager
    def _changing(self, kind: str | None = None, key: str = "") -> Iterator[None]:
        """Around a write of this process: what it kept of the record (of every record: no ``kind``) is dropped
        before and after (Redis's own invalidation of it may come a moment after the reply)."""
        tracked = self._tracked
        if tracked is None:
            yield
            return
        forget = tracked.forget_all if kind is None else functools.partial(tracked.forget, self._key(kind, key))
        forget()
        try:
            yield
        finally:
            forget()

    def _expire(self, kind: str, client: Any = None) -> None:
        if self.retention.ttl is not None and kind not in PERMANENT_KINDS:
            self._run("EXPIRE", kind, repr(self._now() - self.retention.ttl), client=client)

    # -- Store -----------------------------------------------------------------------------

    def get(self, kind: str, key: str) -> Record | None:
        if self.retention.ttl is not None and kind not in PERMANENT_KINDS:  # ageing first: nothing kept
            pipe = self.client.pipeline(transaction=False)
            self._expire(kind, client=pipe)
            pipe.hgetall(self._key(kind, key))
            return self._decoded_once(kind, key, pipe.execute()[-1])
        name, tracked = self._key(kind, key), self._tracked
        kept = MISSING if tracked is None else tracked.lookup(name)
        if kept is not MISSING:
            return kept  # type: ignore[no-any-return]
        record = self._decoded_once(kind, key, self.client.hgetall(name))
        if record is not None and tracked is not None:
            tracked.keep(name, record)
        return record

    def _decoded_once(self, kind: str, key: str, fields: dict[bytes, bytes]) -> Record | None:
        """The record in ``fields``: the very object given last time while Redis holds the same bytes.

        As with the in-memory store, an unchanged record is the same object on every read, so what is kept per
        record object (a prediction's cached view) is found again: a GET of an unchanged prediction renders
        nothing. Records are read only (every change is a new one).
        """
        kept = self._decoded.get((kind, key))
        if kept is not None and kept[0] == fields:
            return kept[1]
        record = _decode(fields)
        if record is None:
            self._decoded.pop((kind, key), None)
            return None
        if len(self._decoded) >= DECODED_KEPT:
            self._decoded.clear()
        self._decoded[(kind, key)] = (fields, record)
        return record

    def put(self, kind: str, key: str, record: Record, owner: str | None = None) -> None:
        with self._changing(kind, key):
            self._put_in(None, kind, key, record, owner)
        self._expire(kind)

    def _put_in(self, pipe: Any, kind: str, key: str, record: Record, owner: str | None) -> None:
        payload = encode(record)
        extra = {} if pipe is None else {"client": pipe}
        self._run("PUT", kind, key, payload, _tag(owner), repr(self._now()), 64 + len(payload),
                  int(kind in PERMANENT_KINDS), *self._budgets(), **extra)

    def put_absent(self, kind: str, key: str, record: Record, owner: str | None = None) -> bool:
        """Store ``record`` only if no record has ``key`` (atomically, under WATCH); whether it was stored."""
        name = self._key(kind, key)
        with self._changing(kind, key), self.client.pipeline() as pipe:
            try:
                pipe.watch(name)
                if pipe.exists(name):
                    pipe.unwatch()
                    return False
                pipe.multi()
                self._put_in(pipe, kind, key, record, owner)
                pipe.execute()
                return True
            except redis.WatchError:
                return False

    def update(self, kind: str, key: str, change: Callable[[Record], Record | None]) -> Record | None:
        """Replace a record with ``change(record)`` atomically (optimistic: re-run on a concurrent write)."""
        name = self._key(kind, key)
        with self._changing(kind, key), self.client.pipeline() as pipe:
            while True:
                try:
                    pipe.watch(name)
                    current = _decode(pipe.hgetall(name))
                    if current is None:
                        pipe.unwatch()
                        return None
                    new = change(current)
                    if new is None:  # (a change that edits the record in place and returns it is written)
                        pipe.unwatch()
                        return current
                    payload = encode(new)
                    pipe.multi()
                    self._run("REWRITE", kind, key, payload, 64 + len(payload), *self._budgets(), client=pipe)
                    pipe.execute()
                    return new
                except redis.WatchError:
                    continue

    def adjust(self, kind: str, key: str, field: str, delta: float, minimum: float | None = None) -> float | None:
        """Add ``delta`` to a number of a record in one step (rounded to 1e-9); None if there is no record.

        :class:`BelowMinimum` (with the current value) if the result would go below ``minimum``.
        """
        with self._changing(kind, key):
            status, value = self._run("ADJUST", kind, key, field, repr(float(delta)), _bound(minimum))
        if status == 0:
            return None
        if status == 2:
            raise BelowMinimum(float(value))
        return float(value)

    def delete(self, kind: str, key: str) -> bool:
        with self._changing(kind, key):
            return bool(self._run("DELETE", kind, key))

    def scan(self, kind: str, owner: str | None = None, newest_first: bool = True) -> Iterator[Record]:
        """A snapshot of the records of ``kind`` (of one owner), newest first by default."""
        self._expire(kind)
        return iter(self._fetch(kind, self._index(kind, owner), 0, -1, newest_first))

    def count(self, kind: str, owner: str) -> int:
        """How many records of ``kind`` ``owner`` has (one ``ZCARD``)."""
        self._expire(kind)
        return int(self.client.zcard(self._index(kind, owner)))

    def page(self, kind: str, owner: str, offset: int, limit: int, newest_first: bool = True) -> list[Record]:
        """``limit`` of the owner's records of ``kind`` from ``offset`` on, newest first by default."""
        self._expire(kind)
        if limit <= 0:
            return []
        return self._fetch(kind, self._index(kind, owner), offset, offset + limit - 1, newest_first)

    def _index(self, kind: str, owner: str | None) -> str:
        return f"{self.prefix}k:{kind}" if owner is None else f"{self.prefix}o:{kind}:{_tag(owner)}"

    def _fetch(self, kind: str, index: str, start: int, stop: int, newest_first: bool) -> list[Record]:
        keys = self.client.zrange(index, start, stop, desc=newest_first)
        if not keys:
            return []
        pipe = self.client.pipeline(transaction=False)
        for key in keys:
            pipe.hgetall(self._key(kind, key.decode()))
        records = (_decode(fields) for fields in pipe.execute())
        return [record for record in records if record is not None]

    def clear(self, owner: str | None = None, kinds: frozenset[str] | None = None) -> None:
        """Drop every record (of one owner, of some kinds), with the limits' state of the same owners."""
        with self._changing():
            self._clear(owner, kinds)

    def _clear(self, owner: str | None, kinds: frozenset[str] | None) -> None:
        if owner is None and kinds is None:
            self._drop_everything()
            return
        for raw in self.client.smembers(f"{self.prefix}kinds"):
            kind = raw.decode()
            if kinds is None or kind in kinds:
                self._run("CLEAR", kind, "" if owner is None else _tag(owner))
        if kinds is None or "limit" in kinds:
            self.limit_ledger.clear(owner)

    def _drop_everything(self) -> None:
        """Every key under the prefix except the clock's (a reset restarts the clock itself)."""
        keep = f"{self.prefix}clock".encode()
        batch: list[bytes] = []
        for name in self.client.scan_iter(match=f"{self.prefix}*", count=1000):
            if name != keep:
                batch.append(name)
            if len(batch) >= 1000:
                self.client.unlink(*batch)
                batch.clear()
        if batch:
            self.client.unlink(*batch)

    def next_index(self, kind: str) -> int:
        """A shared per-kind sequence (0, 1, 2, ...) for seeded ids: two processes never draw the same id."""
        return int(self.client.hincrby(f"{self.prefix}rng", kind, 1)) - 1
