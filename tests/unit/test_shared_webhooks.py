"""Webhooks on a real Redis: leases, take-overs and lease-checked records (:mod:`mockserver.core.shared_store`).

Each :class:`SharedWebhooks` stands for one server process (its own lease token); they share one manual clock
and one Redis. Deliveries go through ``httpx.MockTransport``; time moves only when a test moves it (a lease is
real time: kept to a fraction of a second, and waited for as a condition).
"""

from __future__ import annotations

import asyncio
import json
from collections import Counter
from typing import Any

import httpx
import pytest

from mockserver.core.clock import Clock
from mockserver.core.randomness import Randomness
from mockserver.core.shared_store.webhook_queue import DONE, LOST, STALE, WebhookQueue
from mockserver.core.shared_store.webhooks import SharedWebhooks
from mockserver.core.webhooks import Attempt, Delivery, Webhooks
from mockserver.settings import Settings

START = 1_767_225_600.0
KEY, OTHER = "sk-unit-shared-0001", "sk-unit-shared-0002"
LIFECYCLE = [("pending", 0.0), ("starting", 1.0), ("processing", 3.0), ("succeeded", 9.0)]


def delivery(msg_id: str, owner: str = KEY, subject: str = "p1") -> Delivery:
    return Delivery(id=msg_id, subject=subject, owner=owner, url="https://hooks.test/p1", event="succeeded",
                    occurred_at=START, body='{"id":"p1"}', next_attempt_at=START)


def finished(item: Delivery) -> Delivery:
    item.state, item.next_attempt_at, item.finished_at = "delivered", None, START + 1
    item.attempts.append(Attempt(number=1, at=START, outcome="delivered", latency_ms=1.5, response_code=204))
    return item


# -- the queue's scripts ----------------------------------------------------------------------------


def test_a_held_lease_cannot_be_taken_until_let_go(redis_client) -> None:
    queue = WebhookQueue(redis_client)
    queue.subscribe("p1", KEY, "https://hooks.test/p1", {"succeeded"}, ("job", None), "one", 60_000)
    assert not queue.take("p1", "two", 60_000)
    assert queue.renew(["p1"], "two", 60_000) == [None] and queue.renew(["p1"], "one", 60_000) == [(0, 0)]
    queue.release(["p1"], "two")  # not its lease: nothing happens
    assert not queue.take("p1", "two", 60_000)
    queue.release(["p1"], "one")
    assert queue.take("p1", "two", 60_000)
    assert queue.renew(["p1"], "one", 60_000) == [None]


def test_a_lapsed_lease_is_taken_over(redis_client) -> None:
    queue = WebhookQueue(redis_client)
    queue.subscribe("p1", KEY, "https://hooks.test/p1", {"succeeded"}, ("job", None), "one", 50)
    assert wait_for(lambda: queue.take("p1", "two", 60_000))
    assert queue.renew(["p1"], "one", 60_000) == [None]


def wait_for(condition: Any, timeout: float = 5.0) -> bool:
    """Poll a real-time condition (a lease's expiry) until it holds or ``timeout`` real seconds pass."""
    async def poll() -> bool:
        async with asyncio.timeout(timeout):
            while not condition():
                await asyncio.sleep(0.01)
        return True

    return asyncio.run(poll())


def test_only_the_lease_holder_enqueues_sends_and_records(redis_client) -> None:
    queue = WebhookQueue(redis_client)
    queue.subscribe("p1", KEY, "https://hooks.test/p1", {"succeeded"}, ("job", {"api": "x"}), "one", 60_000)
    first, second = delivery("msg_1"), delivery("msg_2")
    assert queue.enqueue("p1", "two", 0, 4, [first]) == LOST
    assert queue.load("p1").cursor == 0 and queue.journal() == []  # type: ignore[union-attr]
    assert queue.enqueue("p1", "one", 1, 4, [first]) == STALE  # read at another cursor: nothing changes
    assert queue.enqueue("p1", "one", 0, 4, [first, second]) == DONE
    assert not queue.begin("p1", "two", 60_000, first)
    assert queue.begin("p1", "one", 60_000, first)
    assert queue.journal()[0].in_flight
    assert not queue.record("p1", "two", finished(first), second, 100)
    assert [d.state for d in queue.journal()] == ["pending", "pending"]
    assert queue.record("p1", "one", first, second, 100)
    loaded = queue.load("p1")
    assert loaded is not None and loaded.cursor == 4 and loaded.source == ("job", {"api": "x"})
    assert [d.id for d in loaded.queue] == ["msg_2"] and not any(d.in_flight for d in loaded.queue)
    assert [(d.id, d.state) for d in queue.journal()] == [("msg_1", "delivered"), ("msg_2", "pending")]
    assert queue.end("p1", "one") == STALE  # msg_2 is still queued
    assert queue.record("p1", "one", finished(second), None, 100)
    assert queue.end("p1", "two") == LOST and queue.subjects() == {"p1"}
    assert queue.end("p1", "one") == DONE and queue.subjects() == set() and queue.load("p1") is None


def test_the_journal_forgets_the_oldest_finished_events_past_its_limit(redis_client) -> None:
    queue = WebhookQueue(redis_client)
    queue.subscribe("p1", KEY, "https://hooks.test/p1", {"succeeded"}, None, "one", 60_000)
    items = [delivery(f"msg_{n}") for n in range(5)]
    assert queue.enqueue("p1", "one", 0, 5, items) == DONE
    for item in items[:4]:
        assert queue.record("p1", "one", finished(item), None, 2)
    assert [d.id for d in queue.journal()] == ["msg_2", "msg_3", "msg_4"]  # the pending one is always kept


def test_clearing_and_dropping_one_key(redis_client) -> None:
    queue = WebhookQueue(redis_client)
    for subject, owner in (("p1", KEY), ("p2", OTHER)):
        queue.subscribe(subject, owner, "https://hooks.test/p", {"succeeded"}, None, "one", 60_000)
        done, waiting = delivery(f"{subject}_a", owner, subject), delivery(f"{subject}_b", owner, subject)
        assert queue.enqueue(subject, "one", 0, 2, [done, waiting]) == DONE
        assert queue.record(subject, "one", finished(done), waiting, 100)
    assert queue.clear(KEY) == 1
    assert [d.id for d in queue.journal()] == ["p1_b", "p2_a", "p2_b"]
    queue.drop(OTHER)
    assert queue.subjects() == {"p1"} and [d.id for d in queue.journal()] == ["p1_b"]
    assert queue.take("p2", "two", 60_000)  # its lease went with it


def test_a_delivery_survives_the_round_trip_through_json() -> None:
    item = finished(delivery("msg_1"))
    assert Delivery.load(json.loads(json.dumps(item.dump()))) == item


# -- two dispatchers ("processes") on one store ------------------------------------------------------


class Process:
    """A SharedWebhooks with its own token and transport, on the shared clock and Redis."""

    def __init__(self, redis_client: Any, clock: Clock, answers: Any, lease: float = 0.3) -> None:
        self.sent: list[httpx.Request] = []

        def record(request: httpx.Request) -> httpx.Response:
            self.sent.append(request)
            return answers(request)

        settings = Settings(seed=7, webhook_hosts=("hooks.test",), webhook_lease=lease)
        self.webhooks = SharedWebhooks(clock, Randomness(7), settings, redis_client,
                                       transport=httpx.MockTransport(record))
        self.webhooks.register_source("job", rebuild)

    def follow(self, subject: str) -> None:
        made = rebuild(subject, None)
        assert made is not None
        self.webhooks.subscribe(subject, KEY, f"https://hooks.test/{subject}", {"starting", "processing", "succeeded"},
                                *made, source=("job", None))

    async def crash(self) -> None:
        """Stop as a killed process does: no lease let go (the in-memory close, not the shared one)."""
        assert self.webhooks._tender is not None
        self.webhooks._tender.cancel()
        await Webhooks.close(self.webhooks)


def rebuild(subject: str, _context: Any) -> tuple[Any, Any]:
    line = [(event, START + at) for event, at in LIFECYCLE]
    return (lambda: line), (lambda event, at: {"id": subject, "status": event})


def failing_first(times: int) -> Any:
    """Answer 500 to the first ``times`` attempts of each event, then 204."""
    tried: Counter[str] = Counter()

    def answer(request: httpx.Request) -> httpx.Response:
        msg_id = request.headers["webhook-id"]
        tried[msg_id] += 1
        return httpx.Response(500 if tried[msg_id] <= times else 204)

    return answer


def accepted(*processes: Process) -> Counter[str]:
    answered: Counter[str] = Counter()
    for process in processes:
        for request in process.sent:
            answered[request.headers["webhook-id"]] += 1
    return answered


def test_a_crashed_process_s_subjects_are_taken_over_and_each_event_delivered_once(redis_client) -> None:
    clock = Clock(mode="manual", start=START)
    answer = failing_first(2)

    async def body() -> None:
        one, other = Process(redis_client, clock, answer), Process(redis_client, clock, answer)
        one.follow("p1")
        one.follow("p2")
        other.follow("p3")
        clock.advance(2)
        assert await one.webhooks.settle(max_real=10)  # "starting" failed once or twice: retries scheduled
        pending = [e for e in other.webhooks.events() if e["state"] == "pending"]
        assert {e["subject"] for e in pending} >= {"p1", "p2"}
        await one.crash()
        for _ in range(10):
            clock.advance(30)
            assert await other.webhooks.settle(max_real=10)
        journal = other.webhooks.events()
        assert len(journal) == 9 and all(e["state"] == "delivered" for e in journal), journal
        attempts = accepted(one, other)
        assert attempts == Counter({e["id"]: 3 for e in journal})  # 2 failures + 1 delivery, never repeated
        assert {r.url.path for r in other.sent} >= {"/p1", "/p2", "/p3"}
        await other.webhooks.close()

    asyncio.run(body())


def test_a_process_that_lost_its_lease_records_nothing(redis_client) -> None:
    clock = Clock(mode="manual", start=START)

    async def body() -> None:
        one, other = Process(redis_client, clock, failing_first(0)), Process(redis_client, clock, failing_first(0))
        one.follow("p1")
        await one.crash()
        async with asyncio.timeout(5):  # the lease lapses in real time
            while "p1" not in other.webhooks._subs:
                other.webhooks._claim()
                await asyncio.sleep(0.02)
        sub = other.webhooks._subs["p1"]
        clock.advance(10)
        stale = delivery("msg_stale", subject="p1")
        assert not one.webhooks.queue.record("p1", one.webhooks.token, finished(stale), None, 100)
        assert await other.webhooks.settle(max_real=10)
        assert [e["event"] for e in other.webhooks.events()] == ["starting", "processing", "succeeded"]
        assert "p1" not in other.webhooks._subs and sub.ended
        await other.webhooks.close()

    asyncio.run(body())


def test_a_clean_close_lets_go_of_the_leases_at_once(redis_client) -> None:
    clock = Clock(mode="manual", start=START)

    async def body() -> None:
        one = Process(redis_client, clock, failing_first(0), lease=60)
        other = Process(redis_client, clock, failing_first(0), lease=60)
        one.follow("p1")
        await one.webhooks.close()
        clock.advance(10)
        assert await other.webhooks.settle(max_real=10)  # a 60 s lease: only a release lets it through
        assert [e["state"] for e in other.webhooks.events()] == ["delivered"] * 3
        await other.webhooks.close()

    asyncio.run(body())


def test_a_cancel_made_where_the_subject_is_not_followed_is_delivered_though_deleted_at_once(redis_client) -> None:
    clock = Clock(mode="manual", start=START)
    lines = {"p1": [(event, START + at) for event, at in LIFECYCLE]}

    def source(subject: str, _context: Any) -> tuple[Any, Any] | None:
        if subject not in lines:
            return None
        return (lambda: lines.get(subject)), (lambda event, at: {"id": subject, "status": event, "at": at})

    async def body() -> None:
        one, other = Process(redis_client, clock, failing_first(0)), Process(redis_client, clock, failing_first(0))
        for process in (one, other):
            process.webhooks.register_source("job", source)
        made = source("p1", None)
        assert made is not None
        one.webhooks.subscribe("p1", KEY, "https://hooks.test/p1", {"starting", "cancelled"}, *made,
                               source=("job", None))
        clock.advance(2)
        assert await one.webhooks.settle(max_real=10)
        lines["p1"] = [*lines["p1"][:2], ("cancelled", START + 2)]  # cancelled on the other process ...
        other.webhooks.refresh("p1")
        del lines["p1"]  # ... and deleted right after
        assert await other.webhooks.settle(max_real=10)  # the holder picks the cancel up when it renews
        journal = other.webhooks.events()
        assert [(e["event"], e["state"]) for e in journal] == [("starting", "delivered"), ("cancelled", "delivered")]
        assert accepted(one, other) == Counter({e["id"]: 1 for e in journal})
        assert [r.url.path for r in one.sent] == ["/p1", "/p1"]  # the holder delivered both
        for process in (one, other):
            await process.webhooks.close()

    asyncio.run(body())


@pytest.mark.parametrize("owner", [KEY, None])
def test_reset_reaches_the_shared_queue(redis_client, owner: str | None) -> None:
    clock = Clock(mode="manual", start=START)

    async def body() -> None:
        one = Process(redis_client, clock, failing_first(100))
        one.follow("p1")
        clock.advance(2)
        assert await one.webhooks.settle(max_real=10)
        assert one.webhooks.events()
        one.webhooks.reset(owner)
        assert "p1" not in one.webhooks._subs
        if owner is not None:  # a full reset leaves the shared part to the store's reset (every key)
            assert one.webhooks.events() == [] and one.webhooks.queue.subjects() == set()
        await one.webhooks.close()

    asyncio.run(body())


def test_a_key_s_reset_on_one_process_stops_the_other_s_deliveries_for_it(redis_client) -> None:
    clock = Clock(mode="manual", start=START)

    async def body() -> None:
        one, other = Process(redis_client, clock, failing_first(100)), Process(redis_client, clock, failing_first(0))
        one.follow("p1")  # retried forever (500s): pending events on the schedule
        clock.advance(2)
        assert await one.webhooks.settle(max_real=10)
        sent = len(one.sent)
        other.webhooks.reset(KEY)
        assert other.webhooks.events() == [] and other.webhooks.queue.subjects() == set()
        async with asyncio.timeout(5):  # the holder finds its lease gone when it renews it
            while "p1" in one.webhooks._subs:
                await asyncio.sleep(0.02)
        clock.advance(600)
        assert await one.webhooks.settle(max_real=10) and await other.webhooks.settle(max_real=10)
        assert len(one.sent) == sent and other.sent == []
        for process in (one, other):
            await process.webhooks.close()

    asyncio.run(body())
