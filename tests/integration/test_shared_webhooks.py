"""Webhooks from two ``mockserver serve`` processes on one real Redis: each event is delivered once.

Predictions with webhooks are made on both processes; the receiver fails the first attempts of every event so
retries are scheduled on the shared virtual clock; time moves only through ``/_mock/clock/advance`` with
``settle`` (which waits for every process's deliveries). Then the process holding subjects is killed
(``SIGKILL``) mid-schedule: the other takes them over once their lease (``--webhook-lease``, real seconds, kept
short here) lapses, and delivers the rest, once.
"""

from __future__ import annotations

import threading
from collections import Counter
from collections.abc import Iterator

import httpx
import pytest

from mockserver.server import ServerThread
from mockserver.settings import DEFAULT_API_KEY
from tests.conftest import KEY, make_settings
from tests.integration.test_shared_instances import _serve, control
from tests.integration.webhook_receiver import Receiver

LEASE = "0.6"  # real seconds: a killed process's subjects are taken over this soon
EVENTS = ["starting", "processing", "succeeded"]


class Instance:
    """One ``mockserver serve`` process: its API base, control plane and output (drained in a thread)."""

    def __init__(self, store: str, lease: str = LEASE) -> None:
        self.process, self.base, self.control = _serve(store, "--webhook-lease", lease)
        self.output: list[str] = []
        threading.Thread(target=self._drain, daemon=True).start()

    def _drain(self) -> None:
        for line in self.process.stdout:  # type: ignore[union-attr]
            self.output.append(line)

    def create(self, receiver: Receiver) -> str:
        made = httpx.post(self.base + "/predictions", headers={"x-api-key": DEFAULT_API_KEY}, timeout=10,
                          json={"model": "truefusion-pro", "input": {"prompt": "a fox"},
                                "webhook": {"url": receiver.url, "events": EVENTS}})
        assert made.status_code == 201, made.text
        return made.json()["id"]

    def advance(self, seconds: float) -> None:
        answer = httpx.post(self.control + "/clock/advance", json={"seconds": seconds, "settle": True}, timeout=60)
        assert answer.status_code == 200, answer.text

    def journal(self) -> list[dict]:
        return httpx.get(self.control + "/webhooks", params={"payload": "false"}, timeout=10).json()["data"]

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            self.process.wait(20)


@pytest.fixture
def instances(redis_store_url: str) -> Iterator[tuple[Instance, Instance]]:
    yield from pair(redis_store_url, LEASE)


def pair(store: str, lease: str) -> Iterator[tuple[Instance, Instance]]:
    one = Instance(store, lease)
    try:
        other = Instance(store, lease)
        try:
            yield one, other
        finally:
            other.stop()
    finally:
        one.stop()


@pytest.fixture
def long_leases(redis_store_url: str) -> Iterator[tuple[Instance, Instance]]:
    """Two processes whose leases outlast the test: only a release hands a subject over."""
    yield from pair(redis_store_url, "300")


def delivered_once(receiver: Receiver) -> Counter[str]:
    """How many times each event (webhook-id) was accepted by the receiver."""
    return Counter(item.headers["webhook-id"] for item in receiver.accepted())


def test_each_event_is_delivered_once_while_two_processes_run(instances) -> None:
    one, other = instances
    with Receiver(fail_first=2) as receiver:
        made = [server.create(receiver) for server in (one, other, one, other)]
        for _ in range(8):
            one.advance(15)
            other.advance(15)
        counts = delivered_once(receiver)
        journal = other.journal()
    assert {event["subject"] for event in journal} == set(made)
    assert len(journal) == len(made) * len(EVENTS)
    assert all(event["state"] == "delivered" and event["attempt_count"] == 3 for event in journal), journal
    assert counts == Counter({event["id"]: 1 for event in journal})  # every event, each once
    assert Counter(item.headers["webhook-id"] for item in receiver.received()) == \
        Counter({event["id"]: 3 for event in journal})  # two failures each, then the delivery; never a repeat
    assert one.journal() == journal  # one shared journal
    assert httpx.post(other.control + "/reset", timeout=10).status_code == 200
    assert one.journal() == [] == other.journal()  # a full reset on one empties it for both


def test_a_killed_process_s_deliveries_are_taken_over_and_delivered_once(instances) -> None:
    one, other = instances
    with Receiver(fail_first=3) as receiver:
        made = [one.create(receiver) for _ in range(3)]  # followed by the process about to be killed
        one.advance(3)
        one.advance(3)  # some events delivered, others failed once or twice: retries on the schedule
        before = delivered_once(receiver)
        pending = [event for event in one.journal() if event["state"] == "pending"]
        assert pending and any(event["attempt_count"] > 0 for event in pending)
        one.process.kill()  # SIGKILL: no chance to hand anything over
        one.process.wait(10)
        for _ in range(10):
            other.advance(20)  # settles once the lease lapsed and the other process took the subjects over
        counts = delivered_once(receiver)
        journal = other.journal()
    assert {event["subject"] for event in journal} == set(made)
    assert len(journal) == len(made) * len(EVENTS), journal
    assert all(event["state"] == "delivered" for event in journal), journal
    assert counts == Counter({event["id"]: 1 for event in journal})  # none lost, none twice
    assert set(before) < set(counts)
    assert "took over" in "".join(other.output)


def test_a_cleanly_stopped_process_hands_its_subjects_over(long_leases) -> None:
    one, other = long_leases
    with Receiver() as receiver:
        made = one.create(receiver)
        one.stop()  # SIGTERM: leases let go at once
        assert one.process.returncode == 0  # through the server's cleanup, not killed by the signal
        other.advance(60)
        journal = other.journal()
    assert [event["state"] for event in journal] == ["delivered"] * len(EVENTS)
    assert {event["subject"] for event in journal} == {made}
    assert sorted(delivered_once(receiver).values()) == [1] * len(EVENTS)



def test_a_cancel_and_delete_on_the_process_not_following_still_delivers_the_cancel(instances) -> None:
    one, other = instances
    auth = {"x-api-key": DEFAULT_API_KEY}
    with Receiver() as receiver:
        made = httpx.post(one.base + "/predictions", headers=auth, timeout=10,
                          json={"model": "truefusion-pro", "input": {"prompt": "a fox"},
                                "webhook": {"url": receiver.url, "events": ["starting", "cancelled"]}}).json()
        one.advance(2)  # starting, delivered by the process that follows it
        assert httpx.post(f"{other.base}/predictions/{made['id']}/cancel", headers=auth, timeout=10).status_code == 200
        assert httpx.delete(f"{other.base}/predictions/{made['id']}", headers=auth, timeout=10).status_code == 200
        other.advance(1)
        journal = other.journal()
        counts = delivered_once(receiver)
    assert [(event["event"], event["state"]) for event in journal] == [("starting", "delivered"),
                                                                       ("cancelled", "delivered")]
    assert counts == Counter({event["id"]: 1 for event in journal})


def test_unseeded_processes_sign_with_one_secret_that_survives_a_reset(redis_store_url: str) -> None:
    settings = make_settings(store=redis_store_url, seed=None)
    with ServerThread(settings) as one, ServerThread(settings) as other, control(one) as mock_a, \
            control(other) as mock_b:
        secret = mock_a.get("/webhooks/secret", params={"key": KEY}).json()["secret"]
        assert mock_b.get("/webhooks/secret", params={"key": KEY}).json()["secret"] == secret
        assert mock_b.post("/reset").status_code == 200
        with ServerThread(settings) as third, control(third) as mock_c:
            assert mock_c.get("/webhooks/secret", params={"key": KEY}).json()["secret"] == secret
