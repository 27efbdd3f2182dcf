"""Webhook delivery without a network: the retry schedule, event filtering, ordering and signatures.

Deliveries go through an ``httpx.MockTransport``; time is a manual clock moved by the tests.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Awaitable, Callable
from typing import Any

import httpx
import pytest
from standardwebhooks import Webhook, WebhookVerificationError

from mockserver.core.clock import Clock
from mockserver.core.randomness import Randomness
from mockserver.core.webhooks import RetryPolicy, Webhooks
from mockserver.settings import Settings
from mockserver.skytells.predictions import DEFAULT_WEBHOOK_EVENTS, WEBHOOK_EVENT_STATUS, WEBHOOK_EVENTS

START = 1_767_225_600.0
KEY = "sk-unit-webhooks-0001"
Handler = Callable[[httpx.Request], httpx.Response]


class Hub:
    """A Webhooks under test, its clock, and every request it sent."""

    def __init__(self, handler: Handler | None = None, seed: int = 7, **settings: Any) -> None:
        self.clock = Clock(mode="manual", start=START)
        self.requests: list[httpx.Request] = []
        self.handler = handler or (lambda request: httpx.Response(204))

        def record(request: httpx.Request) -> httpx.Response:
            self.requests.append(request)
            return self.handler(request)

        settings = {"webhook_hosts": ("hooks.test",), **settings}  # .test is reserved: allow it explicitly
        self.webhooks = Webhooks(self.clock, Randomness(seed), Settings(seed=seed, **settings),
                                 transport=httpx.MockTransport(record))

    def follow(self, subject: str, line: list[tuple[str, float]], events: set[str], owner: str = KEY,
               url: str | None = None) -> None:
        """Subscribe to a fixed timeline (times relative to START); the payload names the event."""
        timeline = [(event, START + at) for event, at in line]
        self.webhooks.subscribe(subject, owner, url or f"https://hooks.test/{subject}", events, lambda: timeline,
                                lambda event, at: {"id": subject, "status": event, "at": at})

    def bodies(self) -> list[tuple[str, str]]:
        return [(json.loads(r.content)["id"], json.loads(r.content)["status"]) for r in self.requests]

    async def advance(self, seconds: float) -> None:
        self.clock.advance(seconds)
        assert await self.webhooks.settle(max_real=10)


def retry_schedule(webhooks: Webhooks, msg_id: str) -> list[float]:
    """Every delay between the attempts of event ``msg_id``, should all of them fail."""
    return [webhooks.backoff(msg_id, n) for n in range(1, webhooks.policy.max_attempts)]


def run(body: Callable[[], Awaitable[None]]) -> None:
    asyncio.run(body())


LIFECYCLE = [("pending", 0.0), ("starting", 1.0), ("processing", 3.0), ("succeeded", 9.0)]


# -- retry schedule ---------------------------------------------------------------------------------


def test_backoff_doubles_from_the_base_up_to_the_cap_with_bounded_jitter() -> None:
    hub = Hub()
    policy = hub.webhooks.policy
    assert (policy.max_attempts, policy.base, policy.factor, policy.cap) == (12, 5.0, 2.0, 3600.0)
    for msg_id in ("msg_a", "msg_b", "msg_c"):
        delays = retry_schedule(hub.webhooks, msg_id)
        assert len(delays) == policy.max_attempts - 1
        for failures, delay in enumerate(delays, start=1):
            nominal = min(3600.0, 5.0 * 2 ** (failures - 1))
            assert nominal * (1 - policy.jitter) <= delay <= nominal
    assert [policy.nominal(n) for n in (1, 2, 3, 10, 11, 12)] == [5, 10, 20, 2560, 3600, 3600]


def test_jitter_is_seeded_per_event() -> None:
    one, same, other = Hub(seed=1).webhooks, Hub(seed=1).webhooks, Hub(seed=2).webhooks
    assert retry_schedule(one, "msg_x") == retry_schedule(same, "msg_x")
    assert retry_schedule(one, "msg_x") != retry_schedule(other, "msg_x")
    assert retry_schedule(one, "msg_x") != retry_schedule(one, "msg_y")


def test_the_default_schedule_outlasts_a_receiver_down_for_30_minutes() -> None:
    policy = RetryPolicy()
    worst_case = sum(policy.nominal(n) * (1 - policy.jitter) for n in range(1, policy.max_attempts))
    assert worst_case > 30 * 60
    assert sum(policy.nominal(n) for n in range(1, policy.max_attempts)) < 3 * 3600


@pytest.mark.parametrize("changes", [{"webhook_max_attempts": 0}, {"webhook_backoff": 0},
                                     {"webhook_timeout": -1}, {"webhook_concurrency": 0}, {"webhook_lease": 0}])
def test_settings_refuse_impossible_webhook_values(changes: dict[str, Any]) -> None:
    with pytest.raises(ValueError, match="webhook_"):
        Settings(**changes)


# -- secrets and signatures -------------------------------------------------------------------------


def test_secrets_are_per_key_and_reproduced_by_the_seed() -> None:
    one, same, other = Hub(seed=1).webhooks, Hub(seed=1).webhooks, Hub(seed=2).webhooks
    secret = one.secret_for(KEY)
    assert secret.startswith("whsec_") and len(secret) > 40
    assert same.secret_for(KEY) == secret
    assert other.secret_for(KEY) != secret
    assert one.secret_for("sk-unit-webhooks-0002") != secret


def test_deliveries_verify_with_standardwebhooks() -> None:
    async def body() -> None:
        hub = Hub()
        hub.follow("p1", LIFECYCLE, {"processing", "succeeded"})
        await hub.advance(10)
        assert len(hub.requests) == 2
        verifier = Webhook(hub.webhooks.secret_for(KEY))
        for request in hub.requests:
            headers = dict(request.headers)
            assert headers["webhook-signature"].startswith("v1,")
            assert headers["content-type"] == "application/json"
            assert verifier.verify(request.content, headers)["id"] == "p1"
        tampered = dict(hub.requests[0].headers)
        with pytest.raises(WebhookVerificationError):
            verifier.verify(hub.requests[0].content + b" ", tampered)
        with pytest.raises(WebhookVerificationError):
            Webhook(hub.webhooks.secret_for("sk-someone-else-0003")).verify(hub.requests[0].content, tampered)
        await hub.webhooks.close()

    run(body)


# -- which events, in which order ---------------------------------------------------------------------


@pytest.mark.parametrize(("subscribed", "statuses"), [
    (["prediction.started", "prediction.succeeded", "prediction.failed", "prediction.cancelled"],
     {"processing", "succeeded", "failed", "cancelled"}),
    (["starting", "processing", "succeeded", "failed", "cancelled"],
     {"starting", "processing", "succeeded", "failed", "cancelled"}),
    (["completed"], {"succeeded"}),
    (list(DEFAULT_WEBHOOK_EVENTS), {"succeeded", "failed", "cancelled"}),
])
def test_both_event_spellings_map_to_lifecycle_statuses(subscribed: list[str], statuses: set[str]) -> None:
    assert set(WEBHOOK_EVENT_STATUS) == WEBHOOK_EVENTS
    assert {WEBHOOK_EVENT_STATUS[event] for event in subscribed} == statuses


@pytest.mark.parametrize(("events", "expected"), [
    ({"processing", "succeeded"}, ["processing", "succeeded"]),
    ({"starting"}, ["starting"]),
    ({"succeeded", "failed", "cancelled"}, ["succeeded"]),
    ({"failed"}, []),
])
def test_only_subscribed_transitions_are_delivered(events: set[str], expected: list[str]) -> None:
    async def body() -> None:
        hub = Hub()
        hub.follow("p1", LIFECYCLE, events)
        await hub.advance(2)  # starting reached
        await hub.advance(8)  # processing and succeeded reached
        assert [status for _, status in hub.bodies()] == expected
        assert [event["event"] for event in hub.webhooks.events()] == expected
        await hub.webhooks.close()

    run(body)


def test_transitions_reached_in_one_jump_arrive_in_lifecycle_order() -> None:
    async def body() -> None:
        hub = Hub()
        hub.follow("p1", LIFECYCLE, {"starting", "processing", "succeeded"})
        await hub.advance(3600)
        assert hub.bodies() == [("p1", "starting"), ("p1", "processing"), ("p1", "succeeded")]
        payload_times = [json.loads(r.content)["at"] for r in hub.requests]
        assert payload_times == [START + 1, START + 3, START + 9]  # rendered as of each transition
        await hub.webhooks.close()

    run(body)


def test_an_event_waits_until_the_previous_one_is_delivered() -> None:
    failing = {"on": True}

    def handler(request: httpx.Request) -> httpx.Response:
        status = json.loads(request.content)["status"]
        return httpx.Response(503 if failing["on"] and status == "processing" else 200)

    async def body() -> None:
        hub = Hub(handler)
        hub.follow("p1", LIFECYCLE, {"processing", "succeeded"})
        hub.follow("p2", LIFECYCLE, {"succeeded"})
        await hub.advance(10)
        # p1's "processing" failed once; its "succeeded" waits behind it, p2 is not held up
        assert sorted(hub.bodies()) == [("p1", "processing"), ("p2", "succeeded")]
        first = hub.webhooks.events(subject="p1")[0]
        assert first["state"] == "pending" and first["attempts"][0]["outcome"] == "http_error"
        assert first["attempts"][0]["response_code"] == 503
        for _ in range(3):  # more failures, each after its backoff (5 s, 10 s, 20 s, jittered)
            await hub.advance(5)
        tried = len([status for pid, status in hub.bodies() if pid == "p1"])
        assert 2 <= tried <= 4 and all(status == "processing" for pid, status in hub.bodies() if pid == "p1")
        failing["on"] = False
        await hub.advance(60)
        assert [status for pid, status in hub.bodies() if pid == "p1"] == ["processing"] * (tried + 1) + ["succeeded"]
        ids = {r.headers["webhook-id"] for r in hub.requests if json.loads(r.content)["status"] == "processing"}
        assert len(ids) == 1  # one webhook-id across every retry of one event
        states = {(e["subject"], e["event"]): (e["state"], e["attempt_count"]) for e in hub.webhooks.events()}
        assert states == {("p1", "processing"): ("delivered", tried + 1), ("p1", "succeeded"): ("delivered", 1),
                          ("p2", "succeeded"): ("delivered", 1)}
        await hub.webhooks.close()

    run(body)


def test_an_event_given_up_lets_the_next_one_through() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(500 if json.loads(request.content)["status"] == "processing" else 200)

    async def body() -> None:
        hub = Hub(handler, webhook_max_attempts=3, webhook_backoff=1.0)
        hub.follow("p1", LIFECYCLE, {"processing", "succeeded"})
        await hub.advance(10)
        retry_at = hub.webhooks.events()[0]["next_attempt_at"]
        assert retry_at is not None and retry_at > "2026-01-01T00:00:10"
        await hub.advance(1)
        await hub.advance(2)
        assert [status for _, status in hub.bodies()] == ["processing"] * 3 + ["succeeded"]
        given_up, delivered = hub.webhooks.events()
        assert given_up["state"] == "failed" and given_up["attempt_count"] == 3
        assert given_up["next_attempt_at"] is None and delivered["state"] == "delivered"
        await hub.webhooks.close()

    run(body)


def test_connection_errors_and_timeouts_are_retried() -> None:
    calls = {"n": 0}

    def handler(request: httpx.Request) -> httpx.Response:
        calls["n"] += 1
        if calls["n"] == 1:
            raise httpx.ConnectError("connection refused", request=request)
        if calls["n"] == 2:
            raise httpx.ReadTimeout("timed out", request=request)
        return httpx.Response(202)

    async def body() -> None:
        hub = Hub(handler)
        hub.follow("p1", LIFECYCLE, {"succeeded"})
        for _ in range(3):
            await hub.advance(60)
        (event,) = hub.webhooks.events()
        assert [a["outcome"] for a in event["attempts"]] == ["connection_error", "timeout", "delivered"]
        assert "connection refused" in event["attempts"][0]["error"]
        assert event["attempts"][2]["response_code"] == 202 and event["state"] == "delivered"
        assert all(a["latency_ms"] >= 0 for a in event["attempts"])
        await hub.webhooks.close()

    run(body)


def test_a_cancel_cuts_the_timeline_and_is_delivered_on_refresh() -> None:
    async def body() -> None:
        hub = Hub()
        line = [("pending", START), ("starting", START + 1), ("processing", START + 3), ("succeeded", START + 9)]
        hub.webhooks.subscribe("p1", KEY, "https://hooks.test/p1", {"processing", "succeeded", "cancelled"},
                               lambda: line, lambda event, at: {"id": "p1", "status": event})
        await hub.advance(4)
        line[3:] = [("cancelled", START + 4)]  # what a cancel at t=4 does to a prediction's timeline
        hub.webhooks.refresh("p1")
        line.clear()  # and then the prediction is deleted: the refresh already captured the cancel
        assert await hub.webhooks.settle(max_real=10)
        assert [status for _, status in hub.bodies()] == ["processing", "cancelled"]
        await hub.webhooks.close()

    run(body)


def test_reset_drops_pending_deliveries_and_the_journal() -> None:
    async def body() -> None:
        hub = Hub(lambda request: httpx.Response(500))
        hub.follow("mine", LIFECYCLE, {"succeeded"})
        hub.follow("theirs", LIFECYCLE, {"succeeded"}, owner="sk-unit-other-0002")
        await hub.advance(10)
        assert len(hub.webhooks.events(state="pending")) == 2
        hub.webhooks.reset(KEY)
        assert [e["subject"] for e in hub.webhooks.events()] == ["theirs"]
        hub.webhooks.reset()
        assert hub.webhooks.events() == []
        sent = len(hub.requests)
        await hub.advance(3600)
        assert len(hub.requests) == sent  # nothing left to retry
        await hub.webhooks.close()

    run(body)


def test_clearing_the_journal_keeps_pending_events() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200 if json.loads(request.content)["id"] == "ok" else 500)

    async def body() -> None:
        hub = Hub(handler)
        hub.follow("ok", LIFECYCLE, {"succeeded"})
        hub.follow("down", LIFECYCLE, {"succeeded"})
        await hub.advance(10)
        assert hub.webhooks.clear_journal() == 1
        assert [(e["subject"], e["state"]) for e in hub.webhooks.events()] == [("down", "pending")]
        await hub.webhooks.close()

    run(body)


def test_a_payload_that_cannot_be_rendered_is_logged_not_raised(caplog: pytest.LogCaptureFixture) -> None:
    async def body() -> None:
        hub = Hub()

        def broken(event: str, at: float) -> dict[str, Any]:
            raise RuntimeError("render bug")

        hub.webhooks.subscribe("p1", KEY, "https://hooks.test/p1", {"succeeded"}, lambda: LIFECYCLE, broken)
        hub.clock.set(START + 10)
        hub.webhooks.refresh("p1")  # what a cancel calls on the API's request path: must not raise
        assert await hub.webhooks.settle(max_real=10)
        assert hub.requests == [] and hub.webhooks.events() == []
        await hub.webhooks.close()

    run(body)
    assert "render bug" in caplog.text


@pytest.mark.parametrize(("url", "allowed", "blocked"), [
    ("https://example.com/webhook", (), True),
    ("https://hooks.example.org/x", (), True),
    ("http://receiver.test/hook", (), True),
    ("https://nothing.invalid/", (), True),
    ("http://127.0.0.1:9000/hook", (), False),
    ("https://hooks.acme.dev/hook", (), False),
    ("https://hooks.acme.dev/hook", ("127.0.0.1", "localhost"), True),
    ("http://localhost:9000/hook", ("127.0.0.1", "localhost"), False),
])
def test_reserved_and_unlisted_hosts_are_never_sent_to(url: str, allowed: tuple[str, ...], blocked: bool) -> None:
    from mockserver.core.webhooks import blocked_reason

    reason = blocked_reason(url, allowed)
    assert (reason is not None) == blocked
    if reason:
        assert "nothing was sent" in reason or "webhook_hosts" in reason


def test_a_blocked_delivery_is_journaled_once_and_never_retried() -> None:
    hub = Hub(webhook_hosts=())

    async def body() -> None:
        hub.follow("pred-doc", LIFECYCLE, {"succeeded"}, url="https://example.com/webhook")
        await hub.advance(3600)

    run(body)
    assert hub.requests == []
    [event] = hub.webhooks.events("pred-doc", None, None, False)
    assert event["state"] == "failed" and len(event["attempts"]) == 1
    assert event["attempts"][0]["outcome"] == "blocked" and "RFC 2606" in event["attempts"][0]["error"]


def test_the_delivery_journal_trims_finished_events_first_and_keeps_pending_ones() -> None:
    from mockserver.core.webhooks import Delivery, DeliveryJournal

    journal = DeliveryJournal(limit=2)
    made = [Delivery(id=f"msg_{i}", subject=f"s{i}", owner=KEY, url="https://hooks.test/x", event="succeeded",
                     occurred_at=START, body="{}", next_attempt_at=None, state="pending" if i % 2 else "failed")
            for i in range(6)]
    for delivery in made:
        journal.append(delivery)
    assert [v["id"] for v in journal.views(with_payload=False)] == ["msg_1", "msg_2", "msg_3", "msg_4", "msg_5"]
    assert journal.clear() == 2 and [v["state"] for v in journal.views()] == ["pending"] * 3


def test_a_subscription_reads_each_reached_entry_once() -> None:
    from mockserver.core.webhooks import Subscription

    line = [("starting", 0.0), ("processing", 5.0), ("succeeded", 9.0)]
    sub = Subscription(subject="p1", owner=KEY, url="https://hooks.test/p1", events=frozenset({"starting",
                       "succeeded"}), timeline=lambda: line, render=lambda event, at: {})
    seen: list[tuple[str, float, float]] = []
    assert sub.advance(lambda: 6.0, lambda *entry: seen.append(entry)) and seen == [("starting", 0.0, 6.0)]
    assert (sub.cursor, sub.next_at, sub.ended) == (2, 9.0, False)
    assert not sub.advance(lambda: 7.0, lambda *entry: seen.append(entry)) and len(seen) == 1
    assert sub.advance(lambda: 9.0, lambda *entry: seen.append(entry)) and seen[-1] == ("succeeded", 9.0, 9.0)
    assert sub.ended and sub.next_at is None
