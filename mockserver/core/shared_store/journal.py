"""The request journal in Redis, shared by every process on one store (see :mod:`mockserver.core.journal`).

Each entry is written when the middleware commits it (before the response's last chunk is passed on, so a client
that has its answer finds the request from any process), by one Lua script that also trims the oldest beyond the
journal's size. Entries keep what the in-memory journal keeps (raw headers, query bytes, body heads), rendered the
same way when read. Key layout under the prefix ``P``:

* ``P journal:seq`` -- the ``jr_N`` sequence; ``P journal:n`` -- entry numbers in order (sorted set);
* ``P journal:m`` -- per number, the fields filters read (JSON: time, api, method, path, status, owner, …);
* ``P journal:e:<N>`` -- the rest (hash: ``b`` JSON of headers, sizes, error, latency; ``rq`` / ``rs`` the
  request and response body heads as bytes; ``o`` the owner);
* ``P journal:o:<owner>`` -- one key's entry numbers (for clearing one key); ``P journal:owners`` -- every key
  that made a journaled request (for masking).
"""

from __future__ import annotations

import logging
from dataclasses import replace
from typing import Any

import orjson
import redis

from mockserver.core.journal import BODY_CAP, DEFAULT_SIZE, BodyCapture, Entry, Journal, Query
from mockserver.core.shared_store.connection import GONE, translated

ANY = Query()
LOG = logging.getLogger("mockserver.store")

#: ``ARGV``: prefix, size, owner ('' for none), meta, body, request head, response head. The entry's number.
ADD = r"""
local P = ARGV[1]
local n = redis.call('INCR', P .. 'journal:seq')
redis.call('HSET', P .. 'journal:e:' .. n, 'b', ARGV[5], 'rq', ARGV[6], 'rs', ARGV[7], 'o', ARGV[3])
redis.call('HSET', P .. 'journal:m', n, ARGV[4])
redis.call('ZADD', P .. 'journal:n', n, n)
if ARGV[3] ~= '' then
  redis.call('ZADD', P .. 'journal:o:' .. ARGV[3], n, n)
  redis.call('SADD', P .. 'journal:owners', ARGV[3])
end
local size = tonumber(ARGV[2])
while redis.call('ZCARD', P .. 'journal:n') > size do
  local old = redis.call('ZPOPMIN', P .. 'journal:n')[1]
  local owner = redis.call('HGET', P .. 'journal:e:' .. old, 'o')
  if owner and owner ~= '' then redis.call('ZREM', P .. 'journal:o:' .. owner, old) end
  redis.call('DEL', P .. 'journal:e:' .. old)
  redis.call('HDEL', P .. 'journal:m', old)
end
return n
"""

#: ``ARGV``: prefix, owner. How many of the owner's entries were dropped.
CLEAR_OWNER = r"""
local P = ARGV[1]
local mine = P .. 'journal:o:' .. ARGV[2]
local numbers = redis.call('ZRANGE', mine, 0, -1)
for _, n in ipairs(numbers) do
  redis.call('ZREM', P .. 'journal:n', n)
  redis.call('DEL', P .. 'journal:e:' .. n)
  redis.call('HDEL', P .. 'journal:m', n)
end
redis.call('DEL', mine)
return #numbers
"""


def _text(raw: bytes) -> str:
    return raw.decode("latin-1")


def _headers_out(headers: Any) -> Any:
    """Headers for storage: raw pairs as text pairs, or (already rendered) a dict as is."""
    return headers if isinstance(headers, dict) else [[_text(name), _text(value)] for name, value in headers]


def _headers_in(stored: Any) -> Any:
    if isinstance(stored, dict):
        return stored
    return tuple((name.encode("latin-1"), value.encode("latin-1")) for name, value in stored)


def _capture(head: bytes, size: int, cap: int) -> BodyCapture:
    capture = BodyCapture(cap)
    capture.chunks, capture.kept, capture.size = ([head] if head else []), len(head), size
    return capture


def _meta(entry: Entry) -> bytes:
    return orjson.dumps([entry.epoch, entry.api, entry.method, entry.path, entry.status, entry.owner,
                         entry.request_id, list(entry.rule_ids), entry.scenario])


def _body(entry: Entry) -> bytes:
    query = entry.query if isinstance(entry.query, dict) else _text(entry.query)
    return orjson.dumps({"q": query, "qh": _headers_out(entry.request_headers), "qs": entry.request_body.size,
                         "qt": entry.request_type, "sh": _headers_out(entry.response_headers),
                         "ss": entry.response_body.size, "err": entry.error, "ms": entry.latency_ms,
                         "ev": entry.events})


def _light(number: int, meta: list[Any], cap: int) -> Entry:
    """An entry with the fields filters read (bodies and headers empty until :func:`_fill`)."""
    epoch, api, method, path, status, owner, request_id, rule_ids, scenario = meta
    return Entry(epoch=epoch, api=api, method=method, path=path, query=b"", owner=owner, request_id=request_id,
                 request_headers=(), request_body=BodyCapture(cap), request_type=None, status=status,
                 response_body=BodyCapture(cap), rule_ids=tuple(rule_ids), scenario=scenario, id=f"jr_{number}")


def _fill(entry: Entry, stored: dict[bytes, bytes], cap: int) -> Entry:
    body = orjson.loads(stored[b"b"])
    query = body["q"]
    entry.query = query if isinstance(query, dict) else query.encode("latin-1")
    entry.request_headers, entry.request_type = _headers_in(body["qh"]), body["qt"]
    entry.response_headers = _headers_in(body["sh"])
    entry.request_body = _capture(stored.get(b"rq", b""), body["qs"], cap)
    entry.response_body = _capture(stored.get(b"rs", b""), body["ss"], cap)
    entry.error, entry.latency_ms, entry.events = body["err"], body["ms"], body["ev"]
    return entry


@translated
class RedisJournal(Journal):
    """The journal in Redis under ``prefix``, bounded to ``size`` entries (the oldest dropped)."""

    def __init__(self, client: redis.Redis, prefix: str = "mockserver:", size: int = DEFAULT_SIZE,
                 body_cap: int = BODY_CAP) -> None:
        super().__init__(size=1, body_cap=body_cap)  # the in-memory ring stays unused
        self.size, self.client, self.prefix = size, client, prefix
        self._add, self._clear_owner = client.register_script(ADD), client.register_script(CLEAR_OWNER)

    def _name(self, suffix: str) -> str:
        return f"{self.prefix}journal:{suffix}"

    def add(self, entry: Entry) -> Entry:
        """Record ``entry`` for every process, giving it the next shared id. While the store is away the entry is
        not recorded (logged): the request's own answer -- often the 503 saying the store is away -- still goes
        out whole."""
        try:
            number = self._add(args=[self.prefix, self.size, entry.owner or "", _meta(entry), _body(entry),
                                     entry.request_body.head, entry.response_body.head])
        except GONE as exc:
            LOG.warning("journal: %s %s not recorded, the shared store is unreachable (%s)", entry.method,
                        entry.path, exc)
            return entry
        entry.id = f"jr_{int(number)}"
        return entry

    def _index(self) -> list[Entry]:
        """Every entry's filter fields, oldest first."""
        metas = self.client.hgetall(self._name("m"))
        ordered = sorted((int(number), raw) for number, raw in metas.items())
        return [_light(number, orjson.loads(raw), self.body_cap) for number, raw in ordered]

    def _full(self, entries: list[Entry]) -> list[Entry]:
        """The entries with their headers and bodies (one round trip; an entry trimmed meanwhile is left out)."""
        pipe = self.client.pipeline(transaction=False)
        for entry in entries:
            pipe.hgetall(self._name("e:" + entry.id.removeprefix("jr_")))
        return [_fill(entry, stored, self.body_cap) for entry, stored in zip(entries, pipe.execute(), strict=True)
                if stored]

    def _candidates(self, query: Query) -> list[Entry]:
        """The entries ``query`` may match, in its order: one key's (from its own index), the newest (or oldest)
        ``limit`` when nothing else filters, else all of them."""
        if query.key is not None:
            numbers = self.client.zrange(self._name("o:" + query.key), 0, -1, desc=query.newest_first)
        elif replace(query, limit=None, newest_first=True) == ANY:
            stop = -1 if query.limit is None else query.limit - 1
            numbers = self.client.zrange(self._name("n"), 0, stop, desc=query.newest_first)
        else:
            entries = self._index()
            return entries[::-1] if query.newest_first else entries
        if not numbers:
            return []
        metas = self.client.hmget(self._name("m"), numbers)
        return [_light(int(n), orjson.loads(raw), self.body_cap) for n, raw in zip(numbers, metas, strict=True) if raw]

    def find(self, query: Query = ANY) -> list[Entry]:
        found = [entry for entry in self._candidates(query) if query.matches(entry)]
        return self._full(found[:query.limit] if query.limit is not None else found)

    def count(self, query: Query = ANY) -> int:
        if replace(query, limit=None, newest_first=True) == ANY:
            return len(self)
        if replace(query, limit=None, newest_first=True) == Query(key=query.key):
            return int(self.client.zcard(self._name("o:" + (query.key or ""))))
        return sum(1 for entry in self._candidates(replace(query, limit=None)) if query.matches(entry))

    def get(self, entry_id: str) -> Entry | None:
        """An entry by its id, or by the request id it carried (``req_…``)."""
        number = entry_id.removeprefix("jr_")
        if entry_id.startswith("jr_") and number.isdigit():
            raw = self.client.hget(self._name("m"), number)
            found = [_light(int(number), orjson.loads(raw), self.body_cap)] if raw else []
        else:
            found = [entry for entry in reversed(self._index()) if entry.request_id == entry_id][:1]
        full = self._full(found) if found else []
        return full[0] if full else None

    def clear(self, owner: str | None = None) -> int:
        """Forget every entry (or one key's), for every process; how many were dropped."""
        if owner is not None:
            return int(self._clear_owner(args=[self.prefix, owner]))
        before = len(self)
        names = list(self.client.scan_iter(match=self._name("*"), count=1000))
        for start in range(0, len(names), 1000):
            self.client.unlink(*names[start:start + 1000])
        return before

    def forget_local(self) -> None:
        """Nothing of the shared journal lives in this process."""

    def __len__(self) -> int:
        return int(self.client.zcard(self._name("n")))

    def owners(self) -> set[str]:
        return {raw.decode() for raw in self.client.smembers(self._name("owners"))}
