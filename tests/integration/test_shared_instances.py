"""Two mock servers, each with its own runtime, on one real Redis (``--store redis://``) act as one mock.

Each test starts two :class:`ServerThread` instances on the same store and drives them over HTTP: what one
creates, the other reads, cancels and deletes; limits, balances and the clock hold across both; a reset on one
clears both. Concurrency is real (threads, separate connections); time moves only through the control plane.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor

import httpx
import pytest

from mockserver.server import ServerThread
from tests.conftest import KEY, OTHER_KEY, make_settings
from tests.integration.test_gateai_http import generate


@pytest.fixture
def pair(redis_store_url: str) -> Iterator[tuple[ServerThread, ServerThread]]:
    settings = make_settings(store=redis_store_url)
    first = ServerThread(settings).start()
    second = ServerThread(settings).start()
    try:
        yield first, second
    finally:
        first.stop()
        second.stop()


def client(server: ServerThread, api: str, key: str = KEY) -> httpx.Client:
    auth = {"x-api-key": key} if api == "skytells" else {"authorization": f"Bearer {key}"}
    return httpx.Client(base_url=server.urls[api], headers=auth, timeout=30)


def control(server: ServerThread) -> httpx.Client:
    return httpx.Client(base_url=server.urls["skytells"].removesuffix("/v1") + "/_mock", timeout=30)


def together(calls: list[Callable[[], httpx.Response]]) -> list[httpx.Response]:
    """Run the calls at once (each on its own thread, released by one barrier)."""
    barrier = threading.Barrier(len(calls))

    def run(call: Callable[[], httpx.Response]) -> httpx.Response:
        barrier.wait()
        return call()

    with ThreadPoolExecutor(len(calls)) as pool:
        return list(pool.map(run, calls))


def test_a_prediction_made_on_one_is_read_cancelled_and_deleted_on_the_other(pair) -> None:
    one, other = pair
    with client(one, "skytells") as a, client(other, "skytells") as b:
        created = a.post("/predictions", json={"model": "truefusion-pro", "input": {"prompt": "a fox"}})
        assert created.status_code == 201, created.text
        prediction_id = created.json()["id"]
        assert b.get(f"/predictions/{prediction_id}").json()["status"] == created.json()["status"]
        assert [p["id"] for p in b.get("/predictions").json()["data"]] == [prediction_id]
        assert b.post(f"/predictions/{prediction_id}/cancel").json()["status"] == "cancelled"
        assert a.get(f"/predictions/{prediction_id}").json()["status"] == "cancelled"
        assert b.delete(f"/predictions/{prediction_id}").status_code == 200
        assert a.get(f"/predictions/{prediction_id}").status_code == 404


def test_seeded_ids_never_collide_across_instances(pair) -> None:
    one, other = pair
    with client(one, "skytells") as a, client(other, "skytells") as b:
        made = [c.post("/predictions", json={"model": "truefusion-pro", "input": {"prompt": "x"}}).json()["id"]
                for c in (a, b, a, b)]
        assert len(set(made)) == 4
        assert {p["id"] for p in a.get("/predictions").json()["data"]} == set(made)


def test_seven_concurrent_generates_over_both_admit_exactly_five(pair) -> None:
    one, other = pair
    clients = [client(server, "gateai") for server in (one, other, one, other, one, other, one)]
    try:
        answers = together([lambda c=c: generate(c, "flux-schnell", takes=600) for c in clients])
    finally:
        for c in clients:
            c.close()
    codes = sorted(answer.status_code for answer in answers)
    assert codes == [200] * 5 + [429] * 2, [answer.text for answer in answers]
    assert all(a.json()["code"] == "RATE_LIMITED" for a in answers if a.status_code == 429)


def test_credits_never_go_negative_under_concurrent_creates_on_both(pair) -> None:
    one, other = pair
    with control(one) as mock_a, control(other) as mock_b, client(one, "skytells") as probe:
        before = mock_a.get(f"/keys/{KEY}").json()["credits"]
        assert probe.post("/predictions", json={"model": "truefusion-pro", "input": {"prompt": "x"}}).status_code == 201
        price = round(before - mock_b.get(f"/keys/{KEY}").json()["credits"], 9)
        assert price > 0
        key = "sk-shared-budget-0001"
        assert mock_a.post("/keys", json={"key": key, "credits": round(price * 3.5, 9)}).status_code in (200, 201)
    clients = [client(server, "skytells", key) for server in (one, other) * 4]
    body = {"model": "truefusion-pro", "input": {"prompt": "x"}}
    try:
        answers = together([lambda c=c: c.post("/predictions", json=body) for c in clients])
    finally:
        for c in clients:
            c.close()
    codes = sorted(answer.status_code for answer in answers)
    assert codes == [201] * 3 + [402] * 5, [answer.text for answer in answers]
    with control(other) as mock_b:
        left = mock_b.get(f"/keys/{key}").json()["credits"]
    assert 0 <= left == pytest.approx(price * 0.5)


def test_a_clock_advance_on_one_is_seen_by_the_other(pair) -> None:
    one, other = pair
    with control(one) as mock_a, control(other) as mock_b:
        start = mock_b.get("/clock").json()["epoch"]
        moved = mock_a.post("/clock/advance", json={"seconds": 2400}).json()
        assert mock_b.get("/clock").json()["epoch"] == moved["epoch"] == start + 2400
        assert mock_b.post("/clock/mode", json={"mode": "realtime", "speed": 60}).status_code == 200
        assert mock_a.get("/clock").json()["mode"] == "realtime"
    # a prediction's phases run on the shared clock: made on one, finished by an advance on the other
    with client(one, "skytells") as a, control(other) as mock_b:
        mock_b.post("/clock/mode", json={"mode": "manual"})
        made = a.post("/predictions", json={"model": "truefusion-pro", "input": {"prompt": "x"}}).json()
        mock_b.post("/clock/advance", json={"seconds": 3600})
        assert a.get(f"/predictions/{made['id']}").json()["status"] == "succeeded"


def test_reset_on_one_clears_both(pair) -> None:
    one, other = pair
    with client(one, "skytells") as a, client(other, "skytells", OTHER_KEY) as b, \
            control(one) as mock_a, control(other) as mock_b:
        mine = a.post("/predictions", json={"model": "truefusion-pro", "input": {"prompt": "x"}}).json()["id"]
        theirs = b.post("/predictions", json={"model": "truefusion-pro", "input": {"prompt": "x"}}).json()["id"]
        assert mock_b.post("/keys", json={"key": "sk-made-on-b-0001", "credits": 1}).status_code in (200, 201)
        mock_b.post("/clock/advance", json={"seconds": 600})
        assert mock_a.post("/reset").status_code == 200
        assert a.get(f"/predictions/{mine}").status_code == 404
        with client(other, "skytells") as b_owner:
            assert b_owner.get(f"/predictions/{mine}").status_code == 404
        assert b.get(f"/predictions/{theirs}").status_code == 404
        assert mock_b.get("/keys/sk-made-on-b-0001").status_code == 404
        assert mock_b.get(f"/keys/{KEY}").json()["credits"] == 100.0
        assert mock_a.get("/clock").json()["epoch"] == mock_b.get("/clock").json()["epoch"]
