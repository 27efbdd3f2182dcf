"""Webhook delivery: Standard Webhooks signing, ordered retries on the shared clock, a delivery journal.

A *subject* (for the Skytells API: a prediction) is followed through its timeline. Nothing here
knows what a subject is: the API side subscribes with two callables,

* ``timeline()`` -- the subject's whole timeline as ``[(event, at), ...]`` in time order, reached
  and still scheduled, or ``None`` once the subject is gone. Entries already reached never change;
  a timeline may only be cut short and given a new final entry (a cancellation), and its last entry
  ends it;
* ``render(event, at)`` -- the JSON payload for one transition, as of virtual time ``at``.

One asyncio task per subscription (started lazily inside the server's event loop) keeps a cursor of
the timeline entries already seen. It enqueues every newly reached entry whose event is subscribed,
then delivers the queue head, and sleeps on the clock until the next transition or retry is due.
Because a timeline is read, not pushed, deliveries stay right after clock jumps; a change that is not
a clock move (a cancel) is announced with :meth:`Webhooks.refresh`.

Guarantees:

* order per subject: an event is not attempted before the previous event of the same subject has
  been delivered or given up;
* the same ``webhook-id`` for every attempt of one event (receivers de-duplicate on it);
* retries on connection errors, timeouts and non-2xx answers with exponential backoff and seeded
  jitter (:class:`RetryPolicy`), on the virtual clock, so a test fast-forwards through them. A retry
  is due ``backoff`` after the moment its previous attempt was *due*, so one clock jump runs every
  attempt that falls within it, back to back (a jump of 30 minutes runs ~9 attempts, as many as 360
  jumps of 5 s);
* request handling never waits on a delivery: attempts run in their own tasks, at most
  ``webhook_concurrency`` at once server-wide, each bounded by ``webhook_timeout`` real seconds;
* fairness: at most ``webhook_receiver_concurrency`` attempts in flight per receiver (scheme, host
  and port) and ``webhook_key_concurrency`` per key, so a dead or hanging receiver -- or one key's
  many receivers -- cannot take every server-wide slot and delay other keys' deliveries.

Every attempt is journaled (outcome, response code, real latency, error text) under its event
(pending / delivered / failed, attempts, next attempt time); see :meth:`Webhooks.events`.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import json
import logging
import random
import threading
import time
from collections import deque
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Literal

import httpx
from standardwebhooks import Webhook

from mockserver.core.accounts import mask_key
from mockserver.core.clock import Clock, isoformat
from mockserver.core.config import CoreSettings as Settings
from mockserver.core.randomness import Randomness

log = logging.getLogger(__name__)

TimelineSource = Callable[[], Sequence[tuple[str, float]] | None]
Renderer = Callable[[str, float], dict[str, Any]]
EventState = Literal["pending", "delivered", "failed"]
EVENT_STATES: tuple[EventState, ...] = ("pending", "delivered", "failed")
#: What one attempt came to.
Outcome = Literal["delivered", "http_error", "timeout", "connection_error", "error", "blocked"]
#: Names reserved for documentation (RFC 2606 / RFC 6761): the docs' ``https://example.com/webhook``
#: has no receiver, so nothing is sent there (the attempt is journaled as ``blocked``).
RESERVED_DOMAINS = ("example.com", "example.net", "example.org")
RESERVED_TLDS = ("example", "invalid", "test")


def blocked_reason(url: str, allowed_hosts: Sequence[str] = ()) -> str | None:
    """Why a delivery to ``url`` is not attempted (None: it may be sent)."""
    host = (httpx.URL(url).host or "").lower().rstrip(".")
    if allowed_hosts:
        if host not in {h.lower() for h in allowed_hosts}:
            return f"host {host!r} is not in webhook_hosts ({', '.join(allowed_hosts)})"
        return None
    if host in RESERVED_DOMAINS or host.endswith(tuple("." + d for d in RESERVED_DOMAINS)):
        return f"{host!r} is a domain reserved for documentation (RFC 2606); nothing was sent"
    if host.rsplit(".", 1)[-1] in RESERVED_TLDS:
        return f"{host!r} is under a reserved top-level domain (RFC 2606); nothing was sent"
    return None

SECRET_PREFIX = "whsec_"
SECRET_BYTES = 32
USER_AGENT = "mockserver-webhooks/1"
#: Finished events kept in the journal (oldest dropped first); pending ones are always kept.
JOURNAL_LIMIT = 10_000


# -- retry schedule ----------------------------------------------------------------------------


@dataclass(frozen=True)
class RetryPolicy:
    """Exponential backoff with jitter, in virtual seconds.

    After the ``n``-th failed attempt the next one waits ``min(cap, base * factor**(n-1))`` reduced by
    a seeded random fraction of at most ``jitter``, so delays never exceed the cap and never fall
    below ``(1 - jitter)`` of the nominal delay. The defaults (5 s, x2, cap 1 h, 12 attempts) span
    about two hours: a receiver that is down for 30 minutes still gets every event.
    """

    max_attempts: int = 12
    base: float = 5.0
    factor: float = 2.0
    cap: float = 3600.0
    jitter: float = 0.2

    @classmethod
    def from_settings(cls, settings: Settings) -> RetryPolicy:
        return cls(max_attempts=settings.webhook_max_attempts, base=settings.webhook_backoff)

    def nominal(self, failures: int) -> float:
        """The delay after ``failures`` failed attempts, before jitter."""
        return min(self.cap, self.base * self.factor ** (failures - 1))

    def delay(self, failures: int, rng: random.Random) -> float:
        """The jittered delay after ``failures`` (>= 1) failed attempts."""
        return self.nominal(failures) * (1.0 - self.jitter * rng.random())


# -- signing -----------------------------------------------------------------------------------


def derive_secret(rng: Randomness, key: str) -> str:
    """A ``whsec_…`` signing secret for ``key``: the same for the same server seed and key."""
    raw = rng.rng(f"webhook-secret:{key}").randbytes(SECRET_BYTES)
    return SECRET_PREFIX + base64.b64encode(raw).decode()


def signed_headers(secret: str, msg_id: str, body: str, sent_at: datetime) -> dict[str, str]:
    """The Standard Webhooks headers for one attempt.

    ``webhook-timestamp`` is the *wall-clock* time of the attempt, not virtual time: receivers
    (``standardwebhooks.Webhook.verify`` among them) reject timestamps more than five minutes away
    from their own real clock, and virtual time is routinely hours or days off. The payload carries
    the virtual times (``created_at``, ``completed_at``, ...).
    """
    signature = Webhook(secret).sign(msg_id, sent_at, body)
    return {
        "content-type": "application/json",
        "user-agent": USER_AGENT,
        "webhook-id": msg_id,
        "webhook-timestamp": str(int(sent_at.timestamp())),
        "webhook-signature": signature,
    }


# -- the journal's records ---------------------------------------------------------------------


@dataclass
class Attempt:
    """One HTTP attempt at delivering an event."""

    number: int
    at: float  # virtual time the attempt was sent
    outcome: Outcome
    latency_ms: float  # real time
    response_code: int | None = None
    error: str | None = None

    def view(self) -> dict[str, Any]:
        return {"attempt": self.number, "at": isoformat(self.at), "outcome": self.outcome,
                "response_code": self.response_code, "latency_ms": round(self.latency_ms, 3), "error": self.error}


@dataclass
class Delivery:
    """One event to deliver to one URL, with its attempts so far."""

    id: str  # the webhook-id, the same on every attempt
    subject: str
    owner: str
    url: str
    event: str
    occurred_at: float  # virtual time of the transition
    body: str
    next_attempt_at: float | None
    state: EventState = "pending"
    attempts: list[Attempt] = field(default_factory=list)
    in_flight: bool = False
    finished_at: float | None = None

    def view(self, with_payload: bool = True) -> dict[str, Any]:
        data: dict[str, Any] = {
            "id": self.id,
            "subject": self.subject,
            "key": mask_key(self.owner),
            "url": self.url,
            "event": self.event,
            "occurred_at": isoformat(self.occurred_at),
            "state": self.state,
            "in_flight": self.in_flight,
            "attempt_count": len(self.attempts),
            "next_attempt_at": None if self.next_attempt_at is None else isoformat(self.next_attempt_at),
            "finished_at": None if self.finished_at is None else isoformat(self.finished_at),
            "attempts": [attempt.view() for attempt in self.attempts],
        }
        if with_payload:
            data["payload"] = json.loads(self.body)
        return data


@dataclass(eq=False)
class Subscription:
    """A subject followed for one URL and a set of events."""

    subject: str
    owner: str
    url: str
    events: frozenset[str]
    timeline: TimelineSource
    render: Renderer
    cursor: int = 0  # timeline entries already seen (enqueued or skipped)
    next_at: float | None = None  # the next scheduled transition
    ended: bool = False  # the whole timeline has been seen, or the subject is gone
    queue: deque[Delivery] = field(default_factory=deque)
    kick: asyncio.Event = field(default_factory=asyncio.Event)
    task: asyncio.Task[None] | None = None

    @property
    def head(self) -> Delivery | None:
        return self.queue[0] if self.queue else None


# -- the dispatcher ----------------------------------------------------------------------------


class Webhooks:
    """Delivers signed webhook events in order per subject, retrying on the shared clock."""

    def __init__(self, clock: Clock, rng: Randomness, settings: Settings,
                 transport: httpx.AsyncBaseTransport | None = None) -> None:
        """``transport`` replaces the network (tests pass an ``httpx.MockTransport``)."""
        self.clock = clock
        self.rng = rng
        self.policy = RetryPolicy.from_settings(settings)
        self.timeout = settings.webhook_timeout
        self.concurrency = settings.webhook_concurrency
        self.receiver_concurrency = settings.webhook_receiver_concurrency
        self.key_concurrency = settings.webhook_key_concurrency
        self.allowed_hosts = settings.webhook_hosts
        self._transport = transport
        self._lock = threading.RLock()
        self._subs: dict[str, Subscription] = {}
        self._journal: deque[Delivery] = deque()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._client: httpx.AsyncClient | None = None
        self._slots: asyncio.Semaphore | None = None
        self._receiver_slots: dict[str, asyncio.Semaphore] = {}
        self._key_slots: dict[str, asyncio.Semaphore] = {}
        self._progress: asyncio.Event | None = None

    # -- public API ----------------------------------------------------------------------------

    def secret_for(self, key: str) -> str:
        """The signing secret of ``key``'s deliveries (deterministic for a seeded server)."""
        return derive_secret(self.rng, key)

    def backoff(self, msg_id: str, failures: int) -> float:
        """Virtual seconds between failed attempt number ``failures`` of event ``msg_id`` and the next."""
        return self.policy.delay(failures, self.rng.rng(f"webhook-backoff:{msg_id}:{failures}"))

    def retry_schedule(self, msg_id: str) -> list[float]:
        """Every delay between the attempts of event ``msg_id``, should all of them fail."""
        return [self.backoff(msg_id, n) for n in range(1, self.policy.max_attempts)]

    def subscribe(self, subject: str, owner: str, url: str, events: Iterable[str],
                  timeline: TimelineSource, render: Renderer) -> None:
        """Follow ``subject`` and deliver its ``events`` to ``url`` (signed with ``owner``'s secret).

        Called from inside the server's event loop, delivery starts at once; called outside one, it
        starts with the next call from inside (another subscription, or :meth:`settle`).
        """
        sub = Subscription(subject=subject, owner=owner, url=url, events=frozenset(events),
                           timeline=timeline, render=render)
        with self._lock:
            old = self._subs.pop(subject, None)
            self._subs[subject] = sub
        if old is not None:
            self._cancel(old)
        self._start_tasks()

    def refresh(self, subject: str) -> None:
        """Re-read ``subject``'s timeline now (call it when the timeline changed, e.g. on cancel).

        Transitions reached so far are enqueued with their payloads before this returns, so they are
        delivered even if the subject is deleted right after.
        """
        with self._lock:
            sub = self._subs.get(subject)
            if sub is None:
                return
            self._read(sub)
        self._kick(sub)

    async def settle(self, max_real: float | None = None) -> bool:
        """Return once nothing is due at the clock's now and nothing is in flight.

        Waits at most ``max_real`` real seconds (default: enough for a few timed-out attempts, at
        least 30 s); returns False if it gave up waiting.
        """
        self._start_tasks()
        loop = asyncio.get_running_loop()
        assert self._progress is not None
        cap = max(30.0, 3 * self.timeout) if max_real is None else max_real
        deadline = loop.time() + cap
        while True:
            self._progress.clear()
            if not self._busy():
                return True
            left = deadline - loop.time()
            if left <= 0:
                log.warning("webhooks: settle gave up after %.1f s with deliveries still due", cap)
                return False
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._progress.wait(), timeout=min(left, 0.25))

    def reset(self, owner: str | None = None) -> None:
        """Drop pending deliveries and the delivery journal (or one key's). Safe from any thread."""
        with self._lock:
            dropped = [s for s in self._subs.values() if owner is None or s.owner == owner]
            for sub in dropped:
                del self._subs[sub.subject]
            self._journal = deque(d for d in self._journal if owner is not None and d.owner != owner)
        for sub in dropped:
            self._cancel(sub)

    def clear_journal(self, owner: str | None = None) -> int:
        """Forget finished (delivered or failed) events, or one key's; returns how many."""
        with self._lock:
            kept = deque(d for d in self._journal
                         if d.state == "pending" or (owner is not None and d.owner != owner))
            cleared = len(self._journal) - len(kept)
            self._journal = kept
        return cleared

    def events(self, subject: str | None = None, owner: str | None = None, state: str | None = None,
               with_payload: bool = True) -> list[dict[str, Any]]:
        """The delivery journal, oldest event first, each with its attempts."""
        with self._lock:
            return [d.view(with_payload) for d in self._journal
                    if (subject is None or d.subject == subject)
                    and (owner is None or d.owner == owner)
                    and (state is None or d.state == state)]

    async def close(self) -> None:
        """Stop every delivery task and close the HTTP client (on server shutdown)."""
        with self._lock:
            tasks = [s.task for s in self._subs.values() if s.task is not None]
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        if self._client is not None:
            await self._client.aclose()
        self._loop = self._client = self._slots = self._progress = None

    # -- following a subject --------------------------------------------------------------------

    def _read(self, sub: Subscription) -> bool:
        """Enqueue the timeline entries reached since the last read; True if any was enqueued.

        Called with the lock held. A subject whose timeline or payload cannot be read is a bug on the
        API side: it is logged and the subject is no longer followed (API calls never fail for it).
        """
        try:
            return self._read_timeline(sub)
        except Exception:
            log.exception("webhooks: cannot read the timeline of %s; no longer following it", sub.subject)
            sub.ended, sub.next_at = True, None
            return False

    def _read_timeline(self, sub: Subscription) -> bool:
        line = sub.timeline()
        now = self.clock.now()
        if line is None:
            sub.ended, sub.next_at = True, None
            return False
        reached = 0
        while reached < len(line) and line[reached][1] <= now:
            reached += 1
        added = False
        for event, at in line[sub.cursor:reached]:
            if event in sub.events:
                self._enqueue(sub, event, at, now)
                added = True
        sub.cursor = max(sub.cursor, reached)
        sub.next_at = line[reached][1] if reached < len(line) else None
        sub.ended = reached >= len(line)
        return added

    def _enqueue(self, sub: Subscription, event: str, at: float, now: float) -> None:
        body = json.dumps(sub.render(event, at), ensure_ascii=False, separators=(",", ":"), allow_nan=False)
        msg_id = "msg_" + self.rng.rng(f"webhook-id:{sub.subject}:{event}:{at!r}").randbytes(15).hex()
        delivery = Delivery(id=msg_id, subject=sub.subject, owner=sub.owner, url=sub.url, event=event,
                            occurred_at=at, body=body, next_attempt_at=now)
        sub.queue.append(delivery)
        self._journal.append(delivery)
        self._trim_journal()

    def _trim_journal(self) -> None:
        if len(self._journal) <= JOURNAL_LIMIT:
            return
        excess = sum(d.state != "pending" for d in self._journal) - JOURNAL_LIMIT
        if excess <= 0:
            return
        kept: deque[Delivery] = deque()
        for delivery in self._journal:
            if excess > 0 and delivery.state != "pending":
                excess -= 1
                continue
            kept.append(delivery)
        self._journal = kept

    async def _follow(self, sub: Subscription) -> None:
        """The task behind one subscription: read, deliver the head, sleep until something is due."""
        try:
            while True:
                sub.kick.clear()
                with self._lock:
                    if self._subs.get(sub.subject) is not sub:
                        return
                    self._read(sub)
                    head = sub.head
                    if head is None and sub.ended:
                        del self._subs[sub.subject]
                        return
                if head is not None and head.next_attempt_at is not None \
                        and head.next_attempt_at <= self.clock.now():
                    await self._attempt(sub, head)
                    continue
                await self._wait(sub, head.next_attempt_at if head is not None else sub.next_at)
        except asyncio.CancelledError:
            raise
        except Exception:  # a bug must not pass silently, nor take the server down
            log.exception("webhooks: delivery task for %s stopped", sub.subject)
            with self._lock:
                if self._subs.get(sub.subject) is sub:
                    del self._subs[sub.subject]
        finally:
            self._signal()

    async def _wait(self, sub: Subscription, when: float | None) -> None:
        """Sleep until virtual time ``when`` (None: indefinitely) or a kick, whichever comes first."""
        waiters: list[asyncio.Future[Any]] = [asyncio.ensure_future(sub.kick.wait())]
        if when is not None:
            waiters.append(asyncio.ensure_future(self.clock.sleep_until(when)))
        try:
            await asyncio.wait(waiters, return_when=asyncio.FIRST_COMPLETED)
        finally:
            for waiter in waiters:
                waiter.cancel()
            await asyncio.gather(*waiters, return_exceptions=True)

    # -- one attempt ----------------------------------------------------------------------------

    def _slots_for(self, delivery: Delivery) -> tuple[asyncio.Semaphore, asyncio.Semaphore, asyncio.Semaphore]:
        """The receiver's, the key's and the server-wide slots, taken in that order."""
        assert self._slots is not None
        url = httpx.URL(delivery.url)
        receiver = f"{url.scheme}://{url.host}:{url.port or ''}"
        by_receiver = self._receiver_slots.setdefault(receiver, asyncio.Semaphore(self.receiver_concurrency))
        by_key = self._key_slots.setdefault(delivery.owner, asyncio.Semaphore(self.key_concurrency))
        return by_receiver, by_key, self._slots

    async def _attempt(self, sub: Subscription, delivery: Delivery) -> None:
        due = delivery.next_attempt_at if delivery.next_attempt_at is not None else self.clock.now()
        async with contextlib.AsyncExitStack() as stack:
            for slots in self._slots_for(delivery):
                await stack.enter_async_context(slots)
            delivery.in_flight = True
            self._signal()
            try:
                sent_at = self.clock.now()
                outcome, code, error, latency = await self._post(delivery)
            finally:
                delivery.in_flight = False
        with self._lock:
            delivery.attempts.append(Attempt(number=len(delivery.attempts) + 1, at=sent_at, outcome=outcome,
                                             latency_ms=latency, response_code=code, error=error))
            failures = len(delivery.attempts)
            if outcome in ("delivered", "blocked") or failures >= self.policy.max_attempts:
                delivery.state = "delivered" if outcome == "delivered" else "failed"
                delivery.next_attempt_at, delivery.finished_at = None, self.clock.now()
                if sub.queue and sub.queue[0] is delivery:
                    sub.queue.popleft()
                if sub.queue and sub.queue[0].next_attempt_at is not None:  # the next event follows this one
                    sub.queue[0].next_attempt_at = max(sub.queue[0].next_attempt_at, due)
            else:  # on the schedule: after a clock jump, every retry due within it runs
                delivery.next_attempt_at = due + self.backoff(delivery.id, failures)
        self._signal()

    async def _post(self, delivery: Delivery) -> tuple[Outcome, int | None, str | None, float]:
        """Send one signed attempt: (outcome, response code, error text, real latency in ms)."""
        assert self._client is not None
        reason = blocked_reason(delivery.url, self.allowed_hosts)
        if reason is not None:
            return "blocked", None, reason, 0.0
        headers = signed_headers(self.secret_for(delivery.owner), delivery.id, delivery.body, datetime.now(UTC))
        started = time.perf_counter()
        outcome: Outcome
        code: int | None = None
        error: str | None = None
        try:
            async with asyncio.timeout(self.timeout):
                request = self._client.build_request("POST", delivery.url, content=delivery.body.encode(),
                                                     headers=headers)
                response = await self._client.send(request, stream=True)  # the answer's body is not read
                await response.aclose()
            code = response.status_code
            outcome = "delivered" if 200 <= code < 300 else "http_error"
            if outcome == "http_error":
                error = f"HTTP {code} {response.reason_phrase}".strip()
        except (TimeoutError, httpx.TimeoutException):
            outcome, error = "timeout", f"no answer within {self.timeout:g} s"
        except httpx.TransportError as exc:
            outcome, error = "connection_error", f"{type(exc).__name__}: {exc}".rstrip(": ")
        except Exception as exc:  # e.g. a URL httpx cannot send to: recorded, never fatal
            outcome, error = "error", f"{type(exc).__name__}: {exc}".rstrip(": ")
        return outcome, code, error, (time.perf_counter() - started) * 1000.0

    # -- loop plumbing --------------------------------------------------------------------------

    def _start_tasks(self) -> None:
        """Start the tasks of subscriptions made outside the loop (no-op outside a running loop)."""
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:
            return
        if self._loop is not loop:
            self._bind(loop)
        with self._lock:
            idle = [s for s in self._subs.values() if s.task is None]
            for sub in idle:
                sub.task = loop.create_task(self._follow(sub), name=f"webhooks:{sub.subject}")

    def _bind(self, loop: asyncio.AbstractEventLoop) -> None:
        """Use ``loop`` from now on (the server's; a fresh one in unit tests)."""
        self._loop = loop
        self._client = httpx.AsyncClient(
            transport=self._transport, trust_env=False, follow_redirects=False, timeout=httpx.Timeout(self.timeout),
            limits=httpx.Limits(max_connections=self.concurrency, max_keepalive_connections=self.concurrency),
        )
        self._slots = asyncio.Semaphore(self.concurrency)
        self._receiver_slots, self._key_slots = {}, {}
        self._progress = asyncio.Event()
        with self._lock:
            for sub in self._subs.values():
                sub.task = None
                sub.kick = asyncio.Event()

    def _busy(self) -> bool:
        """Whether any delivery is due now or in flight (reading every timeline first)."""
        now = self.clock.now()
        busy, due = False, []
        with self._lock:
            for sub in list(self._subs.values()):
                self._read(sub)
                head = sub.head
                if head is None:
                    continue
                if head.in_flight:
                    busy = True
                elif head.next_attempt_at is not None and head.next_attempt_at <= now:
                    busy = True
                    due.append(sub)
        for sub in due:  # its task may be asleep until a later transition: wake it
            self._kick(sub)
        return busy

    def _in_loop(self) -> bool:
        try:
            return asyncio.get_running_loop() is self._loop
        except RuntimeError:
            return False

    def _call_in_loop(self, callback: Callable[[], Any]) -> None:
        loop = self._loop
        if loop is None or loop.is_closed():
            return
        if self._in_loop():
            callback()
        else:
            with contextlib.suppress(RuntimeError):  # the loop closed meanwhile
                loop.call_soon_threadsafe(callback)

    def _kick(self, sub: Subscription) -> None:
        self._call_in_loop(sub.kick.set)

    def _signal(self) -> None:
        progress = self._progress
        if progress is not None:
            self._call_in_loop(progress.set)

    def _cancel(self, sub: Subscription) -> None:
        task = sub.task
        if task is not None:
            self._call_in_loop(task.cancel)
