"""The dispatcher: follows subscribed subjects on the shared clock and delivers their events in order."""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import threading
from collections.abc import Callable, Iterable
from typing import Any

import httpx

from mockserver.core.clock import Clock
from mockserver.core.config import CoreSettings
from mockserver.core.randomness import Randomness
from mockserver.core.webhooks.journal import DeliveryJournal
from mockserver.core.webhooks.records import Attempt, Delivery
from mockserver.core.webhooks.schedule import RetryPolicy
from mockserver.core.webhooks.sender import post
from mockserver.core.webhooks.signing import derive_secret
from mockserver.core.webhooks.slots import Slots
from mockserver.core.webhooks.subscriptions import Rebuild, Renderer, Source, Subscription, TimelineSource

log = logging.getLogger("mockserver.core.webhooks")


class Webhooks:
    """Delivers signed webhook events in order per subject, retrying on the shared clock."""

    def __init__(self, clock: Clock, rng: Randomness, settings: CoreSettings,
                 transport: httpx.AsyncBaseTransport | None = None) -> None:
        """``transport`` replaces the network (tests pass an ``httpx.MockTransport``)."""
        self.clock = clock
        self.rng = rng
        self.policy = RetryPolicy(max_attempts=settings.webhook_max_attempts, base=settings.webhook_backoff)
        self.timeout = settings.webhook_timeout
        self.concurrency = settings.webhook_concurrency
        self.receiver_concurrency = settings.webhook_receiver_concurrency
        self.key_concurrency = settings.webhook_key_concurrency
        self.allowed_hosts = settings.webhook_hosts
        self._transport = transport
        self._lock = threading.RLock()
        self._subs: dict[str, Subscription] = {}
        self._journal = DeliveryJournal()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._client: httpx.AsyncClient | None = None
        self._slots: Slots | None = None
        self._progress: asyncio.Event | None = None
        self._sources: dict[str, Rebuild] = {}

    # -- public API ----------------------------------------------------------------------------

    def secret_for(self, key: str) -> str:
        """The signing secret of ``key``'s deliveries (deterministic for a seeded server)."""
        return derive_secret(self.rng, key)

    def backoff(self, msg_id: str, failures: int) -> float:
        """Virtual seconds between failed attempt number ``failures`` of event ``msg_id`` and the next."""
        return self.policy.delay(failures, self.rng.rng(f"webhook-backoff:{msg_id}:{failures}"))

    def register_source(self, kind: str, rebuild: Rebuild) -> None:
        """How ``rebuild(subject, context)`` gives the timeline and renderer of a ``kind`` subject anew (None once
        it is gone): what lets another process sharing the store take over a subscription made with ``source``."""
        self._sources[kind] = rebuild

    def subscribe(self, subject: str, owner: str, url: str, events: Iterable[str],
                  timeline: TimelineSource, render: Renderer, source: Source | None = None) -> None:
        """Follow ``subject`` and deliver its ``events`` to ``url`` (signed with ``owner``'s secret).

        Called from inside the server's event loop, delivery starts at once; called outside one, it
        starts with the next call from inside (another subscription, or :meth:`settle`). ``source`` (kind,
        JSON context) names the subject for :meth:`register_source` (used where the queue is shared).
        """
        sub = Subscription(subject=subject, owner=owner, url=url, events=frozenset(events),
                           timeline=timeline, render=render, source=source)
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
            self._journal.drop(owner)
        for sub in dropped:
            self._cancel(sub)

    def clear_journal(self, owner: str | None = None) -> int:
        """Forget finished (delivered or failed) events, or one key's; returns how many."""
        with self._lock:
            return self._journal.clear(owner)

    def events(self, subject: str | None = None, owner: str | None = None, state: str | None = None,
               with_payload: bool = True) -> list[dict[str, Any]]:
        """The delivery journal, oldest event first, each with its attempts."""
        with self._lock:
            return self._journal.views(subject, owner, state, with_payload)

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
            return sub.advance(self.clock.now, lambda event, at, now: self._enqueue(sub, event, at, now))
        except Exception:
            log.exception("webhooks: cannot read the timeline of %s; no longer following it", sub.subject)
            sub.ended, sub.next_at = True, None
            return False

    def _delivery(self, sub: Subscription, event: str, at: float, now: float) -> Delivery:
        """The delivery of one reached transition: its payload as of ``at``, its id derived from the seed."""
        body = json.dumps(sub.render(event, at), ensure_ascii=False, separators=(",", ":"), allow_nan=False)
        msg_id = "msg_" + self.rng.rng(f"webhook-id:{sub.subject}:{event}:{at!r}").randbytes(15).hex()
        return Delivery(id=msg_id, subject=sub.subject, owner=sub.owner, url=sub.url, event=event,
                        occurred_at=at, body=body, next_attempt_at=now)

    def _enqueue(self, sub: Subscription, event: str, at: float, now: float) -> None:
        delivery = self._delivery(sub, event, at, now)
        sub.queue.append(delivery)
        self._journal.append(delivery)

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
                        self._ended(sub)
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

    async def _attempt(self, sub: Subscription, delivery: Delivery) -> None:
        due = delivery.next_attempt_at if delivery.next_attempt_at is not None else self.clock.now()
        assert self._slots is not None and self._client is not None
        async with contextlib.AsyncExitStack() as stack:
            for slots in self._slots.for_delivery(delivery.url, delivery.owner):
                await stack.enter_async_context(slots)
            if not self._sending(sub, delivery):
                return
            delivery.in_flight = True
            self._signal()
            try:
                sent_at = self.clock.now()
                outcome, code, error, latency = await post(self._client, delivery, self.secret_for(delivery.owner),
                                                           self.timeout, self.allowed_hosts)
            finally:
                delivery.in_flight = False
        with self._lock:
            delivery.attempts.append(Attempt(number=len(delivery.attempts) + 1, at=sent_at, outcome=outcome,
                                             latency_ms=latency, response_code=code, error=error))
            failures = len(delivery.attempts)
            if outcome in ("delivered", "blocked") or failures >= self.policy.max_attempts:
                self._finish(sub, delivery, outcome == "delivered", due)
            else:  # on the schedule: after a clock jump, every retry due within it runs
                delivery.next_attempt_at = due + self.backoff(delivery.id, failures)
            self._attempted(sub, delivery)
        self._signal()

    # -- hooks where the queue lives elsewhere (a shared store; see core/shared_store/webhooks.py) ------

    def _sending(self, sub: Subscription, delivery: Delivery) -> bool:
        """Whether ``delivery`` may be attempted now (it may: this process alone holds its queue)."""
        return True

    def _attempted(self, sub: Subscription, delivery: Delivery) -> None:
        """An attempt of ``delivery`` was recorded (called with the lock held; in memory, nothing to do)."""

    def _ended(self, sub: Subscription) -> None:
        """``sub`` has delivered its whole timeline and is no longer followed (called with the lock held)."""

    def _finish(self, sub: Subscription, delivery: Delivery, delivered: bool, due: float) -> None:
        """``delivery`` is done (delivered or given up): the next event of its subject follows it."""
        delivery.state = "delivered" if delivered else "failed"
        delivery.next_attempt_at, delivery.finished_at = None, self.clock.now()
        if sub.queue and sub.queue[0] is delivery:
            sub.queue.popleft()
        if sub.queue and sub.queue[0].next_attempt_at is not None:  # the next event follows this one
            sub.queue[0].next_attempt_at = max(sub.queue[0].next_attempt_at, due)

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
        self._slots = Slots(self.concurrency, self.receiver_concurrency, self.key_concurrency)
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
