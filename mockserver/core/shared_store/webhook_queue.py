"""Webhook subscriptions, delivery queues, leases and the delivery journal in Redis (under ``<prefix>wh:``).

Layout: ``wh:subjects`` (set of followed subjects); per subject ``wh:s:<subject>`` (hash: owner, url, events,
source, cursor), ``wh:q:<subject>`` (list: the ids of its undelivered events, oldest first) and ``wh:l:<subject>``
(the lease: the token of the process following it, with a real-time expiry); per event ``wh:d:<id>`` (the
:class:`~mockserver.core.webhooks.Delivery` as JSON); ``wh:journal`` (sorted set: every event id by enqueue order),
``wh:done`` (sorted set: finished ids by finish order, trimmed past the journal limit) and ``wh:seq``.

Every change a follower makes is one Lua script that first checks the lease is still its own, so a process that
lost its lease (it stalled, or a per-key reset dropped the subject) can no longer enqueue or record anything.
A full reset needs nothing here: the store drops every key under the prefix.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

import orjson
import redis

from mockserver.core.shared_store.connection import translated
from mockserver.core.webhooks.records import Delivery
from mockserver.core.webhooks.subscriptions import Source

#: Enqueue newly reached events and move the cursor from where the caller read it. KEYS: lease, subscription,
#: queue, journal, seq. ARGV: token ('' for a process that does not hold the subject), the cursor read, the new
#: cursor, delivery key prefix, then (id, JSON) pairs. Returns 1; 0 if the lease is not ours (or the subscription
#: is gone); 2 if the cursor moved since it was read (the caller's copy is stale).
ENQUEUE = """
if (ARGV[1] ~= '' and redis.call('GET', KEYS[1]) ~= ARGV[1]) or redis.call('EXISTS', KEYS[2]) == 0 then
  return 0
end
if redis.call('HGET', KEYS[2], 'cursor') ~= ARGV[2] then return 2 end
redis.call('HSET', KEYS[2], 'cursor', ARGV[3])
for i = 5, #ARGV, 2 do
  local key = ARGV[4] .. ARGV[i]
  if redis.call('EXISTS', key) == 0 then
    redis.call('SET', key, ARGV[i + 1])
    redis.call('RPUSH', KEYS[3], ARGV[i])
    redis.call('ZADD', KEYS[4], redis.call('INCR', KEYS[5]), ARGV[i])
  end
end
return 1
"""

#: An attempt is about to be sent: renew the lease, mark the event in flight. KEYS: lease.
#: ARGV: token, lease ms, delivery key, JSON. Returns 1, or 0 if the lease is not ours.
BEGIN = """
if redis.call('GET', KEYS[1]) ~= ARGV[1] then return 0 end
redis.call('PEXPIRE', KEYS[1], ARGV[2])
redis.call('SET', ARGV[3], ARGV[4])
return 1
"""

#: An attempt was answered: store the event; a finished one leaves the queue and joins the finished ones (the
#: oldest finished past the limit are forgotten), and the next event's updated JSON is stored with it.
#: KEYS: lease, queue, journal, done, seq. ARGV: token, delivery key prefix, id, JSON, finished (0/1), limit,
#: next id ('' for none), next JSON. Returns 1, or 0 if the lease is not ours.
RECORD = """
if redis.call('GET', KEYS[1]) ~= ARGV[1] then return 0 end
redis.call('SET', ARGV[2] .. ARGV[3], ARGV[4])
if ARGV[5] == '1' then
  if redis.call('LINDEX', KEYS[2], 0) == ARGV[3] then redis.call('LPOP', KEYS[2]) end
  redis.call('ZADD', KEYS[4], redis.call('INCR', KEYS[5]), ARGV[3])
  if ARGV[7] ~= '' then redis.call('SET', ARGV[2] .. ARGV[7], ARGV[8]) end
  local excess = redis.call('ZCARD', KEYS[4]) - tonumber(ARGV[6])
  if excess > 0 then
    local popped = redis.call('ZPOPMIN', KEYS[4], excess)
    for i = 1, #popped, 2 do
      redis.call('ZREM', KEYS[3], popped[i])
      redis.call('DEL', ARGV[2] .. popped[i])
    end
  end
end
return 1
"""

#: Keep following: extend the lease if it is still ours. KEYS: lease. ARGV: token, lease ms. Returns 1 or 0.
RENEW = """
if redis.call('GET', KEYS[1]) ~= ARGV[1] then return 0 end
redis.call('PEXPIRE', KEYS[1], ARGV[2])
return 1
"""

#: Let go of a subject (another process may take it at once). KEYS: lease. ARGV: token.
RELEASE = """
if redis.call('GET', KEYS[1]) == ARGV[1] then redis.call('DEL', KEYS[1]) return 1 end
return 0
"""

#: The subject is done (whole timeline delivered): forget it. KEYS: lease, subscription, queue, subjects.
#: ARGV: token, subject. Returns 1; 0 if the lease is not ours; 2 if another process queued events meanwhile.
END = """
if redis.call('GET', KEYS[1]) ~= ARGV[1] then return 0 end
if redis.call('LLEN', KEYS[3]) > 0 then return 2 end
redis.call('DEL', KEYS[1], KEYS[2], KEYS[3])
redis.call('SREM', KEYS[4], ARGV[2])
return 1
"""


#: What a change by the holder came to: done; the lease is not ours; our copy of the queue is stale.
LOST, DONE, STALE = 0, 1, 2


def _json(value: Any) -> bytes:
    return orjson.dumps(value)


def _followed(subject: str, fields: dict[bytes, bytes], queue: list[Delivery]) -> Followed:
    source = orjson.loads(fields[b"source"])
    return Followed(subject=subject, owner=fields[b"owner"].decode(), url=fields[b"url"].decode(),
                    events=frozenset(orjson.loads(fields[b"events"])),
                    source=None if source is None else (source[0], source[1]), cursor=int(fields[b"cursor"]),
                    queue=queue)


@dataclass
class Followed:
    """A subscription as stored: enough for any process to follow it on."""

    subject: str
    owner: str
    url: str
    events: frozenset[str]
    source: Source | None
    cursor: int
    queue: list[Delivery]


@translated
class WebhookQueue:
    """The shared webhook state of every process using ``client`` and ``prefix``."""

    def __init__(self, client: redis.Redis, prefix: str = "mockserver:") -> None:
        self.client, self.base = client, f"{prefix}wh:"
        self._scripts = {name: client.register_script(text) for name, text in
                         (("ENQUEUE", ENQUEUE), ("BEGIN", BEGIN), ("RECORD", RECORD), ("RENEW", RENEW),
                          ("RELEASE", RELEASE), ("END", END))}

    # -- names -----------------------------------------------------------------------------

    def _sub(self, subject: str) -> str:
        return f"{self.base}s:{subject}"

    def _queue(self, subject: str) -> str:
        return f"{self.base}q:{subject}"

    def _lease(self, subject: str) -> str:
        return f"{self.base}l:{subject}"

    def _delivery(self, msg_id: str) -> str:
        return f"{self.base}d:{msg_id}"

    @property
    def _subjects(self) -> str:
        return f"{self.base}subjects"

    @property
    def _journal(self) -> str:
        return f"{self.base}journal"

    @property
    def _done(self) -> str:
        return f"{self.base}done"

    @property
    def _seq(self) -> str:
        return f"{self.base}seq"

    # -- following ---------------------------------------------------------------------------

    def subscribe(self, subject: str, owner: str, url: str, events: Iterable[str], source: Source | None,
                  token: str, lease_ms: int) -> None:
        """Store a new subscription (an earlier one of the subject is replaced) held by ``token``."""
        fields = {"owner": owner, "url": url, "events": _json(sorted(events)), "source": _json(source), "cursor": 0}
        pipe = self.client.pipeline(transaction=True)
        pipe.delete(self._sub(subject), self._queue(subject))
        pipe.hset(self._sub(subject), mapping=fields)
        pipe.sadd(self._subjects, subject)
        pipe.set(self._lease(subject), token, px=lease_ms)
        pipe.execute()

    def subjects(self) -> set[str]:
        """Every followed subject, whoever follows it."""
        return {raw.decode() for raw in self.client.smembers(self._subjects)}

    def take(self, subject: str, token: str, lease_ms: int) -> bool:
        """Take the lease of a subject nobody holds (its holder let go, or stopped renewing it)."""
        return bool(self.client.set(self._lease(subject), token, nx=True, px=lease_ms))

    def renew(self, subjects: list[str], token: str, lease_ms: int) -> list[tuple[int, int] | None]:
        """Extend the leases ``token`` holds; for each subject, its stored cursor and queue length (None if the
        lease was not ``token``'s any more)."""
        pipe = self.client.pipeline(transaction=False)
        for subject in subjects:
            self._scripts["RENEW"](keys=[self._lease(subject)], args=[token, lease_ms], client=pipe)
            pipe.hget(self._sub(subject), "cursor")
            pipe.llen(self._queue(subject))
        answers = pipe.execute()
        return [(int(cursor or 0), int(length)) if held else None
                for held, cursor, length in zip(answers[::3], answers[1::3], answers[2::3], strict=True)]

    def release(self, subjects: Iterable[str], token: str) -> None:
        """Let go of the leases ``token`` holds (a clean stop: other processes take them over at once)."""
        pipe = self.client.pipeline(transaction=False)
        for subject in subjects:
            self._scripts["RELEASE"](keys=[self._lease(subject)], args=[token], client=pipe)
        pipe.execute()

    def load(self, subject: str) -> Followed | None:
        """The stored subscription and its undelivered events (none in flight: their holder is gone)."""
        pipe = self.client.pipeline(transaction=False)
        pipe.hgetall(self._sub(subject))
        pipe.lrange(self._queue(subject), 0, -1)
        fields, ids = pipe.execute()
        if not fields:
            return None
        queue = self._deliveries(i.decode() for i in ids)
        for delivery in queue:
            delivery.in_flight = False
        return _followed(subject, fields, queue)

    def forget(self, subject: str, token: str) -> None:
        """A subject whose subscription is gone (a reset): no longer listed, lease let go."""
        self.client.srem(self._subjects, subject)
        self._scripts["RELEASE"](keys=[self._lease(subject)], args=[token])

    # -- changes by the holder (each checks the lease) ---------------------------------------

    def enqueue(self, subject: str, token: str, read: int, cursor: int, deliveries: Iterable[Delivery]) -> int:
        """Move the cursor from ``read`` to ``cursor`` and queue ``deliveries``: :data:`DONE`, :data:`LOST` (``token``
        no longer holds the subject; '' enqueues without holding it) or :data:`STALE` (the cursor is not ``read``)."""
        args: list[Any] = [token, read, cursor, self._delivery("")]
        for delivery in deliveries:
            args += [delivery.id, _json(delivery.dump())]
        keys = [self._lease(subject), self._sub(subject), self._queue(subject), self._journal, self._seq]
        return int(self._scripts["ENQUEUE"](keys=keys, args=args))

    def begin(self, subject: str, token: str, lease_ms: int, delivery: Delivery) -> bool:
        """Mark ``delivery`` in flight and renew the lease; False if ``token`` no longer holds the subject."""
        data = {**delivery.dump(), "in_flight": True}
        return bool(self._scripts["BEGIN"](keys=[self._lease(subject)],
                                           args=[token, lease_ms, self._delivery(delivery.id), _json(data)]))

    def record(self, subject: str, token: str, delivery: Delivery, following: Delivery | None, limit: int) -> bool:
        """Store an answered attempt of ``delivery`` (leaving the queue once it is finished, with ``following``,
        the next event, as updated); False if ``token`` no longer holds the subject."""
        finished = delivery.state != "pending"
        keys = [self._lease(subject), self._queue(subject), self._journal, self._done, self._seq]
        args = [token, self._delivery(""), delivery.id, _json(delivery.dump()), int(finished), limit,
                "" if following is None else following.id, "" if following is None else _json(following.dump())]
        return bool(self._scripts["RECORD"](keys=keys, args=args))

    def end(self, subject: str, token: str) -> int:
        """The subject's whole timeline is delivered: forget its subscription. :data:`DONE`, :data:`LOST` (not ours)
        or :data:`STALE` (another process queued events meanwhile)."""
        keys = [self._lease(subject), self._sub(subject), self._queue(subject), self._subjects]
        return int(self._scripts["END"](keys=keys, args=[token, subject]))

    # -- reading others' state ---------------------------------------------------------------

    def stored(self, subjects: list[str]) -> list[tuple[str, Followed | None, Delivery | None]]:
        """For each subject: its stored subscription (queue left empty) and the event at the queue's head."""
        pipe = self.client.pipeline(transaction=False)
        for subject in subjects:
            pipe.hgetall(self._sub(subject))
            pipe.lindex(self._queue(subject), 0)
        answers = pipe.execute()
        heads = [raw.decode() for raw in answers[1::2] if raw is not None]
        by_id = {d.id: d for d in self._deliveries(heads)}
        return [(subject, _followed(subject, fields, []) if fields else None,
                 None if head is None else by_id.get(head.decode()))
                for subject, fields, head in zip(subjects, answers[::2], answers[1::2], strict=True)]

    def _deliveries(self, ids: Iterable[str]) -> list[Delivery]:
        names = [self._delivery(msg_id) for msg_id in ids]
        found: list[Delivery] = []
        for start in range(0, len(names), 500):
            for raw in self.client.mget(names[start:start + 500]):
                if raw is not None:
                    found.append(Delivery.load(orjson.loads(raw)))
        return found

    # -- the journal -------------------------------------------------------------------------

    def journal(self) -> list[Delivery]:
        """Every event kept, oldest first."""
        return self._deliveries(raw.decode() for raw in self.client.zrange(self._journal, 0, -1))

    def clear(self, owner: str | None = None) -> int:
        """Forget finished events (or one key's); returns how many."""
        done = self._deliveries(raw.decode() for raw in self.client.zrange(self._done, 0, -1))
        return self._forget_events([d.id for d in done if owner is None or d.owner == owner])

    def drop(self, owner: str) -> None:
        """Forget one key's subscriptions (their holders lose their leases) and every event of theirs."""
        subjects = sorted(self.subjects())
        for subject, followed, _ in self.stored(subjects):
            if followed is not None and followed.owner == owner:
                self.client.srem(self._subjects, subject)
                self.client.delete(self._sub(subject), self._queue(subject), self._lease(subject))
        self._forget_events([d.id for d in self.journal() if d.owner == owner])

    def _forget_events(self, ids: list[str]) -> int:
        if not ids:
            return 0
        pipe = self.client.pipeline(transaction=True)
        pipe.zrem(self._journal, *ids)
        pipe.zrem(self._done, *ids)
        pipe.delete(*(self._delivery(msg_id) for msg_id in ids))
        pipe.execute()
        return len(ids)
