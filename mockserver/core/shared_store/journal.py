"""The request journal in Redis, shared by every process on one store (see :mod:`mockserver.core.journal`).

Each entry is written when the middleware commits it (before the response's last chunk is passed on, so a client
that has its answer finds the request from any process), by one Lua script of six commands that also drops the
entries that fell out of the journal's window. The requests that end in one turn of the event loop are written
together, by one script call at the start of the next turn (their last chunks wait for it). Entries keep what the
in-memory journal keeps (raw headers, query bytes, body heads), rendered the same way when read.
Key layout under the prefix ``P``:

* ``P journal:seq`` -- the ``jr_N`` sequence;
* ``P journal:m`` -- per number, the fields filters read (JSON: time, api, method, path, status, owner, …);
* ``P journal:e`` -- per number, the rest: ``<request head length>,<response head length>\n``, the two body
  heads as bytes, then JSON of headers, sizes, error, latency;
* ``P journal:owners`` -- every key that made a journaled request (for masking).

The journal holds the entries among the newest ``size`` numbers: adding entry ``N`` drops entry ``N - size``
(no sorted index to keep, so a GET costs Redis six cheap commands, not sixteen; commandstats showed the old
script at 64 µs a call). After one key's entries are cleared it holds fewer until newer entries fill the window.
Reads that filter scan the ``size`` entries' filter fields (an admin call, not the hot path).
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import replace
from typing import Any

import orjson
import redis

from mockserver.core.journal import BODY_CAP, DEFAULT_SIZE, BodyCapture, Entry, Journal, Query
from mockserver.core.shared_store.connection import GONE, translated

ANY = Query()
LOG = logging.getLogger("mockserver.store")

#: ``ARGV``: prefix, size, count, then per entry: owner ('' for none), meta, the packed rest. The first entry's
#: number (the others follow in order). A batch of entries costs the same six commands as one.
ADD = r"""
local P, size, count = ARGV[1], tonumber(ARGV[2]), tonumber(ARGV[3])
local first = redis.call('INCRBY', P .. 'journal:seq', count) - count + 1
local metas, rests, owners, gone = {}, {}, {}, {}
for i = 0, count - 1 do
  local n, at = first + i, 4 + 3 * i
  metas[#metas + 1], metas[#metas + 2] = n, ARGV[at + 1]
  rests[#rests + 1], rests[#rests + 2] = n, ARGV[at + 2]
  if ARGV[at] ~= '' then owners[#owners + 1] = ARGV[at] end
  if n > size then gone[#gone + 1] = n - size end
end
redis.call('HSET', P .. 'journal:m', unpack(metas))
redis.call('HSET', P .. 'journal:e', unpack(rests))
if #owners > 0 then redis.call('SADD', P .. 'journal:owners', unpack(owners)) end
if #gone > 0 then
  redis.call('HDEL', P .. 'journal:m', unpack(gone))
  redis.call('HDEL', P .. 'journal:e', unpack(gone))
end
return first
"""
#: The most entries one script call writes (Lua's ``unpack`` has a bound; a turn of the loop rarely ends more).
BATCH = 200

#: ``ARGV``: prefix, owner. How many of the owner's entries were dropped (the owner is the meta's sixth field).
CLEAR_OWNER = r"""
local P = ARGV[1]
local metas = redis.call('HGETALL', P .. 'journal:m')
local dropped = 0
for i = 1, #metas, 2 do
  if cjson.decode(metas[i + 1])[6] == ARGV[2] then
    redis.call('HDEL', P .. 'journal:m', metas[i])
    redis.call('HDEL', P .. 'journal:e', metas[i])
    dropped = dropped + 1
  end
end
return dropped
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
    capture.first, capture.kept, capture.size = head, len(head), size
    return capture


def _meta(entry: Entry) -> bytes:
    return orjson.dumps([entry.epoch, entry.api, entry.method, entry.path, entry.status, entry.owner,
                         entry.request_id, list(entry.rule_ids), entry.scenario])


def _packed(entry: Entry) -> bytes:
    """What filters do not read: the body heads as bytes, then headers, sizes, error and latency as JSON."""
    query = entry.query if isinstance(entry.query, dict) else _text(entry.query)
    rest = orjson.dumps({"q": query, "qh": _headers_out(entry.request_headers), "qs": entry.request_body.size,
                         "qt": entry.request_type, "sh": _headers_out(entry.response_headers),
                         "ss": entry.response_body.size, "err": entry.error, "ms": entry.latency_ms,
                         "ev": entry.events})
    request_head, response_head = entry.request_body.head, entry.response_body.head
    return b"%d,%d\n%b%b%b" % (len(request_head), len(response_head), request_head, response_head, rest)


def _unpacked(packed: bytes) -> tuple[bytes, bytes, dict[str, Any]]:
    """The request head, the response head and the JSON part of :func:`_packed`."""
    line_end = packed.index(b"\n")
    request_size, response_size = (int(size) for size in packed[:line_end].split(b","))
    request_end = line_end + 1 + request_size
    response_end = request_end + response_size
    return (packed[line_end + 1:request_end], packed[request_end:response_end],
            orjson.loads(packed[response_end:]))


def _light(number: int, meta: list[Any], cap: int) -> Entry:
    """An entry with the fields filters read (bodies and headers empty until :func:`_fill`)."""
    epoch, api, method, path, status, owner, request_id, rule_ids, scenario = meta
    return Entry(epoch=epoch, api=api, method=method, path=path, query=b"", owner=owner, request_id=request_id,
                 request_headers=(), request_body=BodyCapture(cap), request_type=None, status=status,
                 response_body=BodyCapture(cap), rule_ids=tuple(rule_ids), scenario=scenario, number=number)


def _fill(entry: Entry, packed: bytes, cap: int) -> Entry:
    request_head, response_head, body = _unpacked(packed)
    query = body["q"]
    entry.query = query if isinstance(query, dict) else query.encode("latin-1")
    entry.request_headers, entry.request_type = _headers_in(body["qh"]), body["qt"]
    entry.response_headers = _headers_in(body["sh"])
    entry.request_body = _capture(request_head, body["qs"], cap)
    entry.response_body = _capture(response_head, body["ss"], cap)
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
        self._waiting: dict[asyncio.AbstractEventLoop, list[tuple[Entry, asyncio.Future[None]]]] = {}

    def _name(self, suffix: str) -> str:
        return f"{self.prefix}journal:{suffix}"

    batched = True

    def add(self, entry: Entry) -> Entry:
        """Record ``entry`` for every process, giving it the next shared id. While the store is away the entry is
        not recorded (logged): the request's own answer -- often the 503 saying the store is away -- still goes
        out whole."""
        self._write([entry])
        return entry

    async def add_soon(self, entry: Entry) -> Entry:
        """:meth:`add`, with the other entries that end in this turn of the event loop: one script call for all
        of them, made at the start of the next turn (each request's last chunk waits for it)."""
        loop = asyncio.get_running_loop()
        waiting = self._waiting.setdefault(loop, [])
        done = loop.create_future()
        waiting.append((entry, done))
        if len(waiting) == 1:
            loop.call_soon(self._flush, loop)
        await done
        return entry

    def _flush(self, loop: asyncio.AbstractEventLoop) -> None:
        batch = self._waiting.pop(loop, [])
        try:
            self._write([entry for entry, _ in batch])
        except Exception as exc:  # not the store's absence (logged by _write): the waiting requests fail alike
            for _, done in batch:
                done.set_exception(exc)
            return
        for _, done in batch:
            done.set_result(None)

    def _write(self, entries: list[Entry]) -> None:
        """Write ``entries`` in order, numbering them (left unnumbered, and logged, while the store is away)."""
        for start in range(0, len(entries), BATCH):
            chunk = entries[start:start + BATCH]
            args: list[Any] = [self.prefix, self.size, len(chunk)]
            for entry in chunk:
                args += [entry.owner or "", _meta(entry), _packed(entry)]
            try:
                first = int(self._add(args=args))
            except GONE as exc:
                LOG.warning("journal: %d request(s) not recorded, the shared store is unreachable (%s)",
                            len(chunk), exc)
                continue
            for offset, entry in enumerate(chunk):
                entry.number = first + offset

    def _index(self) -> list[Entry]:
        """Every entry's filter fields, oldest first."""
        metas = self.client.hgetall(self._name("m"))
        ordered = sorted((int(number), raw) for number, raw in metas.items())
        return [_light(number, orjson.loads(raw), self.body_cap) for number, raw in ordered]

    def _full(self, entries: list[Entry]) -> list[Entry]:
        """The entries with their headers and bodies (one command; an entry dropped meanwhile is left out)."""
        if not entries:
            return []
        numbers = [entry.number for entry in entries]
        packed = self.client.hmget(self._name("e"), numbers)
        return [_fill(entry, rest, self.body_cap) for entry, rest in zip(entries, packed, strict=True) if rest]

    def _candidates(self, query: Query) -> list[Entry]:
        """Every entry's filter fields, in ``query``'s order."""
        entries = self._index()
        return entries[::-1] if query.newest_first else entries

    def find(self, query: Query = ANY) -> list[Entry]:
        found = [entry for entry in self._candidates(query) if query.matches(entry)]
        return self._full(found[:query.limit] if query.limit is not None else found)

    def count(self, query: Query = ANY) -> int:
        if replace(query, limit=None, newest_first=True) == ANY:
            return len(self)
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
        self.client.unlink(*(self._name(suffix) for suffix in ("seq", "m", "e", "owners")))
        return before

    def forget_local(self) -> None:
        """Nothing of the shared journal lives in this process."""

    def __len__(self) -> int:
        return int(self.client.hlen(self._name("m")))

    def owners(self) -> set[str]:
        return {raw.decode() for raw in self.client.smembers(self._name("owners"))}
