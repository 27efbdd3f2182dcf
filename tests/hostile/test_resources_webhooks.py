"""Webhook fairness and the retry schedule under clock jumps (issue 12, item 6).

Deliveries go through an async ``httpx.MockTransport``: one key's receiver hangs on an event the test
holds; time is a manual clock moved by the tests.
"""

from __future__ import annotations

import asyncio
import json
from typing import Any

import httpx
import pytest

from mockserver.core.clock import Clock
from mockserver.core.randomness import Randomness
from mockserver.core.webhooks import Webhooks
from mockserver.settings import Settings

START = 1_767_225_600.0
LIFECYCLE = [("processing", 1.0), ("succeeded", 2.0)]


class Hub:
    """Webhooks on a manual clock whose transport answers per host: ``hang.test`` never (until released)."""

    def __init__(self, **settings: Any) -> None:
        self.clock = Clock(mode="manual", start=START)
        self.release = asyncio.Event()
        self.delivered: list[tuple[str, str]] = []
        self.arrived = asyncio.Event()
        self.expected = 0
        self.status = 204

        async def handler(request: httpx.Request) -> httpx.Response:
            if request.url.host == "hang.test":
                await self.release.wait()
                return httpx.Response(204)
            self.delivered.append((request.url.host, json.loads(request.content)["id"]))
            if len(self.delivered) >= self.expected:
                self.arrived.set()
            return httpx.Response(self.status)

        options = {"webhook_hosts": ("hang.test", "a.test", "b.test"), "webhook_timeout": 120.0, **settings}
        self.webhooks = Webhooks(self.clock, Randomness(3), Settings(seed=3, **options),
                                 transport=httpx.MockTransport(handler))

    def follow(self, subject: str, owner: str, host: str) -> None:
        timeline = [(event, START + at) for event, at in LIFECYCLE]
        self.webhooks.subscribe(subject, owner, f"https://{host}/{subject}", {"succeeded"}, lambda: timeline,
                                lambda event, at: {"id": subject, "status": event})


def retry_schedule(webhooks: Webhooks, msg_id: str) -> list[float]:
    """Every delay between the attempts of event ``msg_id``, should all of them fail."""
    return [webhooks.backoff(msg_id, n) for n in range(1, webhooks.policy.max_attempts)]


def test_a_hanging_receiver_of_one_key_does_not_hold_up_another_keys_deliveries() -> None:
    async def body() -> None:
        hub = Hub(webhook_concurrency=6, webhook_receiver_concurrency=2, webhook_key_concurrency=4)
        for n in range(20):  # key B: twenty events to a receiver that never answers
            hub.follow(f"b{n}", "sk-key-b", "hang.test")
        for n in range(5):
            hub.follow(f"a{n}", "sk-key-a", "a.test")
        hub.expected = 5
        hub.clock.advance(10)
        hub.webhooks.refresh("a0")
        # without per-receiver / per-key slots, B's hanging attempts would take all six server-wide slots
        await asyncio.wait_for(hub.arrived.wait(), timeout=30)
        assert sorted(subject for _, subject in hub.delivered) == [f"a{n}" for n in range(5)]
        in_flight = [e for e in hub.webhooks.events(owner="sk-key-b") if e["in_flight"]]
        assert len(in_flight) == 2  # B's receiver holds only its own two slots
        hub.release.set()
        assert await hub.webhooks.settle(max_real=30)
        assert all(e["state"] == "delivered" for e in hub.webhooks.events())
        await hub.webhooks.close()

    asyncio.run(body())


def test_two_receivers_of_one_key_share_the_keys_slots() -> None:
    async def body() -> None:
        hub = Hub(webhook_concurrency=8, webhook_receiver_concurrency=8, webhook_key_concurrency=3)
        for n in range(10):
            hub.follow(f"b{n}", "sk-key-b", "hang.test")
        hub.follow("a0", "sk-key-a", "a.test")
        hub.expected = 1
        hub.clock.advance(10)
        await asyncio.wait_for(hub.arrived.wait(), timeout=30)
        assert sum(e["in_flight"] for e in hub.webhooks.events(owner="sk-key-b")) == 3
        hub.release.set()
        assert await hub.webhooks.settle(max_real=30)
        await hub.webhooks.close()

    asyncio.run(body())


@pytest.mark.parametrize("jump", [1800.0, 600.0])
def test_one_clock_jump_runs_every_retry_due_within_it(jump: float) -> None:
    async def body() -> None:
        hub = Hub()
        hub.status = 503
        hub.follow("p1", "sk-key-a", "a.test")
        hub.clock.advance(10)  # the event is reached and attempted once: it fails
        assert await hub.webhooks.settle(max_real=30)
        (event,) = hub.webhooks.events()
        assert event["attempt_count"] == 1
        hub.clock.advance(jump)
        assert await hub.webhooks.settle(max_real=30)
        delays, due, expected = retry_schedule(hub.webhooks, event["id"]), 0.0, 1
        for delay in delays:  # every retry whose time falls within the jump
            due += delay
            if due > jump:
                break
            expected += 1
        (event,) = hub.webhooks.events()
        assert event["attempt_count"] == expected and expected >= 7
        assert event["state"] == "pending" and event["next_attempt_at"] is not None
        await hub.webhooks.close()

    asyncio.run(body())
