"""What the delivery journal records: one event to deliver (:class:`Delivery`) and its attempts."""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from typing import Any, Literal

from mockserver.core.accounts import mask_key
from mockserver.core.clock import isoformat

EventState = Literal["pending", "delivered", "failed"]
EVENT_STATES: tuple[EventState, ...] = ("pending", "delivered", "failed")
#: What one attempt came to.
Outcome = Literal["delivered", "http_error", "timeout", "connection_error", "error", "blocked"]


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

    def dump(self) -> dict[str, Any]:
        """Every field as plain JSON (what a shared store keeps; :meth:`load` reads it back)."""
        return asdict(self)

    @classmethod
    def load(cls, data: dict[str, Any]) -> Delivery:
        """The delivery :meth:`dump` gave."""
        return cls(**{**data, "attempts": [Attempt(**attempt) for attempt in data["attempts"]]})
