"""Webhook delivery: Standard Webhooks signing, ordered retries on the shared clock, a delivery journal.

One module per concept: :mod:`.subscriptions` (a followed subject and its cursor), :mod:`.dispatcher`
(:class:`Webhooks`: the tasks and the ordering), :mod:`.sender` (one signed attempt), :mod:`.signing`,
:mod:`.schedule` (:class:`RetryPolicy`), :mod:`.slots` (fair concurrency), :mod:`.hosts` (never-sent
receivers), :mod:`.records` and :mod:`.journal` (what is kept of each delivery).

A *subject* (e.g. a prediction) is followed through its timeline. Nothing here
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

This is the dispatcher of one process. With a shared store (``--store redis://``) the runtime uses
:class:`mockserver.core.shared_store.webhooks.SharedWebhooks` instead: the same dispatcher, whose subscriptions,
queues and journal live in Redis and are followed under leases, so each event is delivered once across
processes and a killed process's schedule is taken over. A subscription made with ``source`` (a kind registered
with :meth:`Webhooks.register_source`) can be rebuilt by any process.
"""

from __future__ import annotations

from mockserver.core.webhooks.dispatcher import Webhooks
from mockserver.core.webhooks.hosts import RESERVED_DOMAINS, RESERVED_TLDS, blocked_reason
from mockserver.core.webhooks.journal import JOURNAL_LIMIT, DeliveryJournal
from mockserver.core.webhooks.records import EVENT_STATES, Attempt, Delivery, EventState, Outcome
from mockserver.core.webhooks.schedule import RetryPolicy
from mockserver.core.webhooks.signing import SECRET_BYTES, SECRET_PREFIX, USER_AGENT, derive_secret, signed_headers
from mockserver.core.webhooks.subscriptions import Rebuild, Renderer, Source, Subscription, TimelineSource

__all__ = [
    "EVENT_STATES", "JOURNAL_LIMIT", "RESERVED_DOMAINS", "RESERVED_TLDS", "SECRET_BYTES", "SECRET_PREFIX",
    "USER_AGENT", "Attempt", "Delivery", "DeliveryJournal", "EventState", "Outcome", "Rebuild", "Renderer",
    "RetryPolicy", "Source", "Subscription", "TimelineSource", "Webhooks", "blocked_reason", "derive_secret",
    "signed_headers",
]
