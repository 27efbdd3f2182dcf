"""The delivery journal: every event enqueued, oldest first; finished ones are trimmed past a limit.

Not thread-safe by itself: :class:`~mockserver.core.webhooks.dispatcher.Webhooks` calls it under its lock.
"""

from __future__ import annotations

from collections import deque
from typing import Any

from mockserver.core.webhooks.records import Delivery

#: Finished events kept in the journal (oldest dropped first); pending ones are always kept.
JOURNAL_LIMIT = 10_000


class DeliveryJournal:
    """The deliveries of every subject, oldest first, each with its attempts."""

    def __init__(self, limit: int = JOURNAL_LIMIT) -> None:
        self.limit = limit
        self._deliveries: deque[Delivery] = deque()

    def append(self, delivery: Delivery) -> None:
        """Record a new delivery, dropping the oldest finished ones past the limit."""
        self._deliveries.append(delivery)
        self._trim()

    def drop(self, owner: str | None = None) -> None:
        """Forget every delivery (or one key's), pending ones too."""
        self._deliveries = deque(d for d in self._deliveries if owner is not None and d.owner != owner)

    def clear(self, owner: str | None = None) -> int:
        """Forget finished (delivered or failed) deliveries, or one key's; returns how many."""
        kept = deque(d for d in self._deliveries if d.state == "pending" or (owner is not None and d.owner != owner))
        cleared = len(self._deliveries) - len(kept)
        self._deliveries = kept
        return cleared

    def views(self, subject: str | None = None, owner: str | None = None, state: str | None = None,
              with_payload: bool = True) -> list[dict[str, Any]]:
        """The matching deliveries as JSON-ready views, oldest first."""
        return [d.view(with_payload) for d in self._deliveries
                if (subject is None or d.subject == subject)
                and (owner is None or d.owner == owner)
                and (state is None or d.state == state)]

    def _trim(self) -> None:
        if len(self._deliveries) <= self.limit:
            return
        excess = sum(d.state != "pending" for d in self._deliveries) - self.limit
        if excess <= 0:
            return
        kept: deque[Delivery] = deque()
        for delivery in self._deliveries:
            if excess > 0 and delivery.state != "pending":
                excess -= 1
                continue
            kept.append(delivery)
        self._deliveries = kept
