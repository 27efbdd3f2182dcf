"""Webhook delivery over real HTTP: local receivers on loopback ports, time moved through the control plane.

Nothing sleeps: the clock is advanced with ``POST /_mock/clock/advance {"settle": true}``, which returns
once every delivery due at the new time has been answered (or has failed).
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from skytells import SkytellsClient
from standardwebhooks import Webhook

from mockserver.core.accounts import mask_key
from mockserver.server import ServerThread
from tests.conftest import KEY, OTHER_KEY, make_settings
from tests.integration.webhook_receiver import HangingReceiver, Receiver, free_port


def control(skytells_url: str) -> httpx.Client:
    return httpx.Client(base_url=skytells_url.rsplit("/v1", 1)[0] + "/_mock", timeout=60)


@pytest.fixture
def mock(skytells_url: str) -> Iterator[httpx.Client]:
    """The control plane of the session server."""
    with control(skytells_url) as client:
        yield client


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    with Receiver() as running:
        yield running


def advance(mock: httpx.Client, seconds: float) -> None:
    response = mock.post("/clock/advance", json={"seconds": seconds, "settle": True})
    assert response.status_code == 200, response.text


def verified(receiver: Receiver, secret: str) -> list[dict[str, Any]]:
    """Every delivery's payload, each checked with the standardwebhooks library."""
    return [Webhook(secret).verify(item.body, item.headers) for item in receiver.received()]


def create(http: httpx.Client, webhook: Any, model: str = "truefusion-pro", prompt: str = "A red fox") -> str:
    response = http.post("/predictions", json={"model": model, "input": {"prompt": prompt}, "webhook": webhook})
    assert response.status_code == 201, response.text
    return response.json()["id"]


# -- (1) signed deliveries, in lifecycle order ----------------------------------------------------------


def test_sdk_prediction_delivers_signed_events_in_lifecycle_order(skytells_url: str, http: httpx.Client,
                                                                  mock: httpx.Client, receiver: Receiver) -> None:
    client = SkytellsClient(KEY, base_url=skytells_url, timeout=30_000)
    events = ["prediction.started", "prediction.succeeded", "prediction.failed", "prediction.cancelled"]
    created = client.predict({"model": "truefusion-pro", "input": {"prompt": "A red fox"},
                              "webhook": {"url": receiver.url, "events": events}})
    assert created["status"] == "pending"
    for _ in range(12):  # standard image models take 5-20 s
        advance(mock, 2)
    secret = mock.get("/webhooks/secret", params={"key": KEY}).json()["secret"]
    payloads = verified(receiver, secret)
    assert [p["status"] for p in payloads] == ["processing", "succeeded"]  # prediction.started = processing
    assert {p["id"] for p in payloads} == {created["id"]}
    assert payloads[0]["output"] is None and payloads[0]["started_at"] is not None
    assert payloads[-1] == client.predictions.get(created["id"])  # the Prediction Object as GET renders it
    ids = [item.headers["webhook-id"] for item in receiver.received()]
    assert len(set(ids)) == 2 and all(i.startswith("msg_") for i in ids)


def test_predictions_page_spelling_and_a_failed_prediction(http: httpx.Client, mock: httpx.Client,
                                                           receiver: Receiver) -> None:
    webhook = {"url": receiver.url, "events": ["starting", "processing", "succeeded", "failed"]}
    ok = create(http, webhook)
    flagged = create(http, webhook, prompt="an nsfw picture")  # failed by the safety checker
    advance(mock, 3600)
    secret = mock.get("/webhooks/secret", params={"key": KEY}).json()["secret"]
    by_id: dict[str, list[str]] = {}
    for payload in verified(receiver, secret):
        by_id.setdefault(payload["id"], []).append(payload["status"])
    assert by_id == {ok: ["starting", "processing", "succeeded"], flagged: ["starting", "processing", "failed"]}
    failed = next(p for p in verified(receiver, secret) if p["status"] == "failed")
    assert "NSFW" in failed["error"] and failed["metadata"]["billing"]["credits_used"] == 0


def test_fast_models_deliver_at_once_and_completed_means_succeeded(http: httpx.Client, mock: httpx.Client,
                                                                    receiver: Receiver) -> None:
    pid = create(http, {"url": receiver.url, "events": ["completed"]}, model="truefusion-edge")
    advance(mock, 0)  # already succeeded in the create response: nothing to wait for but the delivery
    (payload,) = verified(receiver, mock.get("/webhooks/secret", params={"key": KEY}).json()["secret"])
    assert payload["id"] == pid and payload["status"] == "succeeded"


# -- (2) a receiver that is down for 30 virtual minutes -------------------------------------------------


def test_a_receiver_down_for_30_minutes_still_gets_every_terminal_event_once(http: httpx.Client,
                                                                             mock: httpx.Client) -> None:
    port = free_port()  # nothing listens here yet: every connection is refused
    url = f"http://127.0.0.1:{port}/hooks"
    succeeded = create(http, url)
    failed = create(http, url, prompt="gore")
    cancelled = create(http, {"url": url, "events": ["prediction.cancelled", "prediction.succeeded"]},
                       model="veo-3.1")
    advance(mock, 2)
    assert http.post(f"/predictions/{cancelled}/cancel").json()["status"] == "cancelled"
    for _ in range(30):
        advance(mock, 60)
    journal = mock.get("/webhooks").json()["data"]
    assert {(e["subject"], e["event"], e["state"]) for e in journal} == {
        (succeeded, "succeeded", "pending"), (failed, "failed", "pending"), (cancelled, "cancelled", "pending")}
    for event in journal:
        assert event["attempt_count"] >= 5 and event["next_attempt_at"] is not None
        assert {a["outcome"] for a in event["attempts"]} == {"connection_error"}

    with Receiver(port=port) as receiver:  # the receiver comes back on the same port
        for _ in range(24):
            if all(e["state"] == "delivered" for e in mock.get("/webhooks").json()["data"]):
                break
            advance(mock, 300)
        secret = mock.get("/webhooks/secret", params={"key": KEY}).json()["secret"]
        payloads = verified(receiver, secret)
        ids = Counter(item.headers["webhook-id"] for item in receiver.received())
    assert sorted((p["id"], p["status"]) for p in payloads) == sorted(
        [(succeeded, "succeeded"), (failed, "failed"), (cancelled, "cancelled")])
    assert len(ids) == 3 and set(ids.values()) == {1}  # each event exactly once
    journal = mock.get("/webhooks").json()["data"]
    assert {e["id"] for e in journal} == set(ids)
    for event in journal:
        assert event["state"] == "delivered"
        assert event["attempts"][-1]["outcome"] == "delivered" and event["attempts"][-1]["response_code"] == 204
        assert {a["outcome"] for a in event["attempts"][:-1]} == {"connection_error"}


def test_deleting_a_running_prediction_still_delivers_its_cancellation(http: httpx.Client, mock: httpx.Client,
                                                                       receiver: Receiver) -> None:
    pid = create(http, receiver.url, model="veo-3.1")
    assert http.delete(f"/predictions/{pid}").status_code == 200
    advance(mock, 0)
    statuses = [p["status"] for p in verified(receiver, mock.get("/webhooks/secret",
                                                                 params={"key": KEY}).json()["secret"])]
    assert statuses == ["cancelled"]


# -- (3) a receiver that hangs ---------------------------------------------------------------------------


@pytest.mark.slow  # four rounds of real 1.5 s attempt timeouts
def test_a_hanging_receiver_never_blocks_the_api() -> None:
    settings = make_settings(webhook_timeout=1.5, webhook_concurrency=2)
    with ServerThread(settings) as server, HangingReceiver() as hanging:
        base = server.urls["skytells"]
        with httpx.Client(base_url=base, headers={"x-api-key": KEY}, timeout=30) as http, control(base) as mock:
            ids = [create(http, hanging.url, model="truefusion-edge") for _ in range(3)]  # succeeded at once
            assert hanging.wait_for_connections(2)  # two attempts hang; the third waits for a slot
            # the API keeps answering while both slots hang
            assert all(http.get(f"/predictions/{pid}").json()["status"] == "succeeded" for pid in ids)
            assert http.get("/predictions").json()["pagination"]["total"] == 3
            assert http.post("/predictions", json={"model": "truefusion-pro", "input": {"prompt": "x"}}).status_code \
                == 201
            journal = mock.get("/webhooks").json()["data"]
            assert sum(e["in_flight"] for e in journal) == 2 and hanging.connections == 2
            assert all(e["state"] == "pending" and e["attempts"] == [] for e in journal)

            assert mock.post("/webhooks/settle").json() == {"settled": True, "pending": 3, "in_flight": 0}
            journal = mock.get("/webhooks").json()["data"]
            for event in journal:
                (attempt,) = event["attempts"]
                assert attempt["outcome"] == "timeout" and attempt["response_code"] is None
                assert event["next_attempt_at"] is not None
            advance(mock, 5)  # past the first backoff (4-5 s, jittered), before the second: each is tried again
            journal = mock.get("/webhooks").json()["data"]
            assert [[a["outcome"] for a in e["attempts"]] for e in journal] == [["timeout", "timeout"]] * 3
            assert hanging.connections == 6
            assert len({e["id"] for e in journal}) == 3

            create(http, hanging.url, model="truefusion-edge")
            assert hanging.wait_for_connections(7)  # stopping the server with an attempt in flight is clean
    assert not server._thread.is_alive()


# -- (4) the control-plane routes --------------------------------------------------------------------------


def test_journal_routes_and_a_string_webhook_gets_only_terminal_events(http: httpx.Client, mock: httpx.Client,
                                                                       receiver: Receiver, runtime) -> None:
    pid = create(http, receiver.url)  # a plain-string webhook
    advance(mock, 3600)
    secret = mock.get("/webhooks/secret", params={"key": KEY})
    assert secret.status_code == 200
    assert secret.json() == {"key": mask_key(KEY), "secret": runtime.webhooks.secret_for(KEY)}
    assert [p["status"] for p in verified(receiver, secret.json()["secret"])] == ["succeeded"]

    body = mock.get("/webhooks", params={"prediction_id": pid}).json()
    assert body["total"] == 1
    (event,) = body["data"]
    assert event["subject"] == pid and event["event"] == "succeeded" and event["state"] == "delivered"
    assert event["key"] == mask_key(KEY) and KEY not in json.dumps(body)
    assert event["url"] == receiver.url and event["payload"]["status"] == "succeeded"
    assert event["id"] == receiver.received()[0].headers["webhook-id"]
    (attempt,) = event["attempts"]
    assert attempt["outcome"] == "delivered" and attempt["response_code"] == 204 and attempt["latency_ms"] >= 0
    assert event["next_attempt_at"] is None and event["finished_at"] is not None

    assert mock.get("/webhooks", params={"subject": pid}).json()["total"] == 1
    assert mock.get("/webhooks", params={"key": KEY, "status": "delivered"}).json()["total"] == 1
    assert mock.get("/webhooks", params={"key": OTHER_KEY}).json()["total"] == 0
    assert mock.get("/webhooks", params={"status": "pending"}).json()["total"] == 0
    assert "payload" not in mock.get("/webhooks", params={"payload": "false"}).json()["data"][0]
    bad = mock.get("/webhooks", params={"status": "lost"})
    assert bad.status_code == 400 and bad.json()["error"]["code"] == "INVALID_REQUEST"

    assert mock.post("/webhooks/settle").json() == {"settled": True, "pending": 0, "in_flight": 0}
    assert mock.delete("/webhooks").json() == {"cleared": 1}
    assert mock.get("/webhooks").json() == {"data": [], "total": 0}


def test_secret_route_errors_and_keys(mock: httpx.Client, runtime) -> None:
    unknown = mock.get("/webhooks/secret", params={"key": "sk-nobody-here-0000"})
    assert unknown.status_code == 404 and unknown.json()["error"]["code"] == "NOT_FOUND"
    assert "sk-nobody-here-0000" not in unknown.text
    missing = mock.get("/webhooks/secret")
    assert missing.status_code == 400 and missing.json()["error"]["param"] == "key"
    mine = mock.get("/webhooks/secret", params={"key": KEY}).json()["secret"]
    theirs = mock.get("/webhooks/secret", params={"key": OTHER_KEY}).json()["secret"]
    assert mine.startswith("whsec_") and theirs.startswith("whsec_") and mine != theirs


def test_the_same_seed_gives_the_same_secret_on_another_server(mock: httpx.Client) -> None:
    with ServerThread(make_settings()) as other, control(other.urls["skytells"]) as other_mock:
        again = other_mock.get("/webhooks/secret", params={"key": KEY}).json()["secret"]
    assert again == mock.get("/webhooks/secret", params={"key": KEY}).json()["secret"]


def test_reset_drops_pending_deliveries(http: httpx.Client, mock: httpx.Client) -> None:
    create(http, f"http://127.0.0.1:{free_port()}/hooks")
    advance(mock, 3600)
    assert mock.get("/webhooks", params={"status": "pending"}).json()["total"] == 1
    assert mock.delete("/webhooks").json() == {"cleared": 0}  # pending events are live state, not history
    assert mock.post("/reset", json={"key": KEY}).status_code == 200
    assert mock.get("/webhooks").json()["total"] == 0
