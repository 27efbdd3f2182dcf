"""Webhook delivery shared by every process on one store: each event delivered once, whichever process runs.

:class:`SharedWebhooks` is the in-memory :class:`~mockserver.core.webhooks.Webhooks` (same ordering, retries and
fairness) whose subscriptions, queues and journal live in Redis (:class:`.webhook_queue.WebhookQueue`). One process
follows a subject at a time, through a lease (``webhook_lease`` real seconds, renewed every third of it while
followed); every change it makes checks the lease first, so two processes never both enqueue or record an event.
Each process, every third of a lease (and whenever it settles), takes over subjects whose lease lapsed -- a
killed or stalled process's -- and picks up events another process queued to its subjects (a cancel made there,
see :meth:`SharedWebhooks.refresh`); it rebuilds a subject from the store: the job kind's source (see
:meth:`~mockserver.core.webhooks.Webhooks.register_source`) gives the timeline and payloads again, and the retry
schedule goes on where it was, on the shared virtual clock. A clean stop lets go of its leases at once.

An attempt that was being sent when its process was killed is sent again by the next holder, with the same
``webhook-id``: receivers that de-duplicate on it see every event once.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import secrets
from collections import deque
from collections.abc import Iterable
from typing import Any

import httpx
import redis

from mockserver.core.clock import Clock
from mockserver.core.config import CoreSettings
from mockserver.core.randomness import Randomness
from mockserver.core.shared_store.webhook_queue import DONE, STALE, Followed, WebhookQueue
from mockserver.core.store import StoreUnavailable
from mockserver.core.webhooks import JOURNAL_LIMIT, Delivery, Renderer, Source, Subscription, TimelineSource, Webhooks

log = logging.getLogger("mockserver.core.webhooks")


def shared_seed(client: redis.Redis, prefix: str, seed: int | None) -> int:
    """The seed of webhook secrets, ids and jitter: the server's, or else one drawn once for every process on the
    store (so each signs with the secret any of them reports). It is kept beside the prefix, out of reach of a
    full reset, as an in-memory server keeps its secrets across resets."""
    if seed is not None:
        return seed
    name = prefix.rstrip(":") + "-webhook-seed"
    client.set(name, secrets.randbits(63), nx=True)
    return int(client.get(name) or 0)


def _gone(_event: str, _at: float) -> dict[str, Any]:
    raise LookupError("the subject is gone")


class SharedWebhooks(Webhooks):
    """:class:`Webhooks` whose queues and journal are in Redis, followed under leases."""

    def __init__(self, clock: Clock, rng: Randomness, settings: CoreSettings, client: redis.Redis,
                 prefix: str = "mockserver:", transport: httpx.AsyncBaseTransport | None = None) -> None:
        super().__init__(clock, rng, settings, transport)
        self.queue = WebhookQueue(client, prefix)
        self.lease = settings.webhook_lease
        self.token = secrets.token_hex(8)  # this process, as the holder of its leases
        self.journal_limit = JOURNAL_LIMIT
        self._tender: asyncio.Task[None] | None = None
        self._foreign: set[str] = set()  # subjects of a kind this process cannot rebuild

    @property
    def lease_ms(self) -> int:
        return max(1, round(self.lease * 1000))

    # -- public API ----------------------------------------------------------------------------

    def subscribe(self, subject: str, owner: str, url: str, events: Iterable[str],
                  timeline: TimelineSource, render: Renderer, source: Source | None = None) -> None:
        events = frozenset(events)
        self.queue.subscribe(subject, owner, url, events, source, self.token, self.lease_ms)
        super().subscribe(subject, owner, url, events, timeline, render, source)

    def refresh(self, subject: str) -> None:
        """Re-read ``subject`` now: here if this process follows it, else by enqueueing what its holder has not
        read yet (so a cancel is queued before a delete that may follow at once); the holder notices within a
        third of a lease, when it renews it."""
        with self._lock:
            followed = subject in self._subs
        if followed:
            super().refresh(subject)
            return
        for _ in range(5):  # a holder moving the cursor meanwhile: read again
            if self._enqueue_elsewhere(subject):
                return

    def _enqueue_elsewhere(self, subject: str) -> bool:
        """Queue the reached transitions of a subject another process follows; False if its cursor moved."""
        stored = self.queue.load(subject)
        made = None if stored is None else self._rebuilt(stored)
        if stored is None or made is None:
            return True
        sub = Subscription(subject=subject, owner=stored.owner, url=stored.url, events=stored.events,
                           timeline=made[0], render=made[1], source=stored.source, cursor=stored.cursor)
        try:
            sub.advance(self.clock.now, lambda event, at, now: self._enqueue(sub, event, at, now))
        except Exception:  # a bug on the API side: logged, never the API call's failure (as in _read)
            log.exception("webhooks: cannot read the timeline of %s", subject)
            return True
        return sub.cursor == stored.cursor or \
            self.queue.enqueue(subject, "", stored.cursor, sub.cursor, sub.queue) != STALE

    def reset(self, owner: str | None = None) -> None:
        """Forget one key's subscriptions and events in the store (every process's holder lets go), or, for a
        full reset, what this process follows (the store's full reset empties the shared part)."""
        if owner is None:
            self._foreign.clear()
        else:
            self.queue.drop(owner)
        super().reset(owner)

    def clear_journal(self, owner: str | None = None) -> int:
        return self.queue.clear(owner)

    def events(self, subject: str | None = None, owner: str | None = None, state: str | None = None,
               with_payload: bool = True) -> list[dict[str, Any]]:
        """The shared delivery journal (every process's deliveries), oldest event first."""
        return [d.view(with_payload) for d in self.queue.journal()
                if (subject is None or d.subject == subject) and (owner is None or d.owner == owner)
                and (state is None or d.state == state)]

    async def close(self) -> None:
        """Stop delivering and let go of every lease, so other processes take the subjects over at once."""
        if self._tender is not None:
            self._tender.cancel()
            await asyncio.gather(self._tender, return_exceptions=True)
            self._tender = None
        with self._lock:
            held = list(self._subs)
        await super().close()
        with contextlib.suppress(StoreUnavailable):
            self.queue.release(held, self.token)

    # -- the hooks of the in-memory dispatcher ---------------------------------------------------

    def _enqueue(self, sub: Subscription, event: str, at: float, now: float) -> None:
        sub.queue.append(self._delivery(sub, event, at, now))

    def _read(self, sub: Subscription) -> bool:
        cursor, queued = sub.cursor, len(sub.queue)
        added = super()._read(sub)
        if sub.cursor == cursor:
            return added
        status = self.queue.enqueue(sub.subject, self.token, cursor, sub.cursor, list(sub.queue)[queued:])
        if status == DONE:
            return added
        if status == STALE:
            self._reload(sub)
        else:
            self._let_go(sub)
        return False

    def _sending(self, sub: Subscription, delivery: Delivery) -> bool:
        if self.queue.begin(sub.subject, self.token, self.lease_ms, delivery):
            return True
        with self._lock:
            self._let_go(sub)
        return False

    def _attempted(self, sub: Subscription, delivery: Delivery) -> None:
        following = sub.queue[0] if delivery.state != "pending" and sub.queue else None
        if not self.queue.record(sub.subject, self.token, delivery, following, self.journal_limit):
            self._let_go(sub)

    def _ended(self, sub: Subscription) -> None:
        if self.queue.end(sub.subject, self.token) == STALE:
            self._reload(sub)

    def _reload(self, sub: Subscription) -> None:
        """Another process queued events of ``sub`` (a refresh): follow it on from the store (lock held)."""
        self._let_go(sub)
        fresh = self._rebuild(sub.subject)
        if fresh is not None:
            self._subs[sub.subject] = fresh
            self._start_tasks()

    def _let_go(self, sub: Subscription) -> None:
        """Another process holds ``sub`` now (or a reset dropped it): stop following it here (lock held)."""
        if self._subs.get(sub.subject) is sub:
            del self._subs[sub.subject]
        sub.ended, sub.next_at = True, None
        sub.queue.clear()
        self._kick(sub)  # its task wakes, finds itself unsubscribed and ends

    def _busy(self) -> bool:
        """Whether anything is due now or in flight in any process (taking over lapsed subjects first)."""
        self._claim()
        busy = super()._busy()
        with self._lock:
            local = set(self._subs)
        others = sorted(self.queue.subjects() - local)
        now = self.clock.now()
        for _subject, followed, head in self.queue.stored(others):
            if followed is None:
                continue
            if head is not None:
                busy = busy or head.in_flight or (head.next_attempt_at is not None and head.next_attempt_at <= now)
            elif self._reached(followed, now):
                busy = True  # its holder has yet to enqueue a transition the clock reached
        return busy

    def _reached(self, followed: Followed, now: float) -> bool:
        """Whether a subscribed transition past the stored cursor has been reached."""
        made = self._rebuilt(followed)
        if made is None:
            return False
        line = made[0]()
        return bool(line) and any(at <= now and event in followed.events for event, at in line[followed.cursor:])

    # -- leases ---------------------------------------------------------------------------------

    def _start_tasks(self) -> None:
        super()._start_tasks()
        try:
            running = asyncio.get_running_loop()
        except RuntimeError:
            return
        tender = self._tender
        if running is self._loop and (tender is None or tender.done() or tender.get_loop() is not running):
            self._tender = running.create_task(self._tend(), name="webhooks:leases")

    async def _tend(self) -> None:
        """Every third of a lease: renew this process's leases and take over lapsed ones."""
        while True:
            await asyncio.sleep(self.lease / 3)
            try:
                self._renew()
                self._claim()
            except StoreUnavailable as exc:
                log.warning("webhooks: cannot reach the shared store (%s); retrying", exc)
            except Exception:  # a bug must not stop the take-overs silently
                log.exception("webhooks: renewing or taking over leases failed")

    def _renew(self) -> None:
        """Extend this process's leases; let go of those lost, and reload those another process queued to."""
        with self._lock:
            held = list(self._subs.values())
        stored = self.queue.renew([sub.subject for sub in held], self.token, self.lease_ms)
        with self._lock:
            for sub, state in zip(held, stored, strict=True):
                if self._subs.get(sub.subject) is not sub:
                    continue
                if state is None:
                    self._let_go(sub)
                elif state != (sub.cursor, len(sub.queue)):
                    self._reload(sub)

    def _claim(self) -> None:
        """Take over every subject whose lease lapsed (its process stopped or stalled) and follow it here."""
        with self._lock:
            local = set(self._subs)
        for subject in sorted(self.queue.subjects() - local - self._foreign):
            if not self.queue.take(subject, self.token, self.lease_ms):
                continue
            sub = self._rebuild(subject)
            if sub is None:
                continue
            with self._lock:
                if subject in self._subs:  # subscribed here meanwhile
                    continue
                self._subs[subject] = sub
            log.info("webhooks: took over %s (%d undelivered)", subject, len(sub.queue))
        self._start_tasks()

    def _rebuild(self, subject: str) -> Subscription | None:
        """The stored subscription, followed here from where its last holder left it (None: not ours to follow)."""
        followed = self.queue.load(subject)
        if followed is None:  # dropped by a reset meanwhile
            self.queue.forget(subject, self.token)
            return None
        if followed.source is None or followed.source[0] not in self._sources:
            log.warning("webhooks: cannot take over %s (no source for it in this process)", subject)
            self._foreign.add(subject)
            self.queue.release([subject], self.token)
            return None
        made = self._rebuilt(followed)
        timeline, render = made if made is not None else ((lambda: None), _gone)  # gone: deliver what is queued
        return Subscription(subject=subject, owner=followed.owner, url=followed.url, events=followed.events,
                            timeline=timeline, render=render, source=followed.source, cursor=followed.cursor,
                            queue=deque(followed.queue))

    def _rebuilt(self, followed: Followed) -> tuple[TimelineSource, Renderer] | None:
        if followed.source is None:
            return None
        rebuild = self._sources.get(followed.source[0])
        return None if rebuild is None else rebuild(followed.subject, followed.source[1])
