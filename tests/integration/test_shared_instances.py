"""Two mock servers, each with its own runtime, on one real Redis (``--store redis://``) act as one mock.

Each test starts two :class:`ServerThread` instances on the same store and drives them over HTTP: what one
creates, the other reads, cancels and deletes; limits, balances and the clock hold across both; a reset on one
clears both. Concurrency is real (threads, separate connections); time moves only through the control plane.
"""

from __future__ import annotations

import os
import re
import socket
import subprocess
import sys
import threading
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor

import httpx
import pytest

from mockserver.server import ServerThread
from mockserver.settings import DEFAULT_API_KEY
from tests.conftest import KEY, OTHER_KEY, make_settings
from tests.integration.test_gateai_http import generate
from tests.serve_banner import banner


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


def _serve(store: str, *extra: str, seed: bool = True) -> tuple[subprocess.Popen, str, str]:
    """``mockserver serve --store <store> [extra]`` on free ports; the process, its API base and control plane."""
    command = [sys.executable, "-m", "mockserver.cli", "serve", "--skytells-port", "0", "--gateai-port", "0",
               "--store", store, *extra, "--time-mode", "manual", *(["--seed", "7"] if seed else []),
               "--render-threads"]
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    text = banner(process)
    base = re.search(r"Skytells API base URL : (\S+)", text)
    control_url = re.search(r"control plane +: (\S+)", text)
    assert base and control_url, text
    return process, base.group(1), control_url.group(1)


def test_two_serve_processes_on_one_store(redis_store_url: str) -> None:
    first, base_a, control_a = _serve(redis_store_url)
    try:
        second, base_b, control_b = _serve(redis_store_url)
        try:
            auth = {"x-api-key": DEFAULT_API_KEY}
            made = httpx.post(base_a + "/predictions", headers=auth, timeout=10,
                              json={"model": "truefusion", "input": {"prompt": "two processes"}}).json()
            httpx.post(control_b + "/clock/advance", json={"seconds": 3600}, timeout=10)
            assert httpx.get(control_a + "/clock", timeout=10).json() == httpx.get(control_b + "/clock",
                                                                                    timeout=10).json()
            seen = httpx.get(f"{base_b}/predictions/{made['id']}", headers=auth, timeout=10).json()
            assert seen["id"] == made["id"] and seen["status"] == "succeeded"
        finally:
            second.terminate()
            second.wait(10)
    finally:
        first.terminate()
        first.wait(10)


def test_an_unreachable_store_stops_the_start_with_one_clear_line() -> None:
    with socket.socket() as probe:  # a port nothing listens on
        probe.bind(("127.0.0.1", 0))
        url = f"redis://127.0.0.1:{probe.getsockname()[1]}/0"
    result = subprocess.run([sys.executable, "-m", "mockserver.cli", "serve", "--store", url,
                             "--skytells-port", "0", "--gateai-port", "0"], capture_output=True, text=True, timeout=60)
    assert result.returncode == 2, result.stderr
    assert f"cannot reach the store at {url}" in result.stderr and "Traceback" not in result.stderr


def test_a_store_setting_that_is_no_url_is_a_bad_setting() -> None:
    result = subprocess.run([sys.executable, "-m", "mockserver.cli", "serve", "--store", "postgres://x"],
                            capture_output=True, text=True, timeout=60)
    assert result.returncode == 2 and "store must be memory or a Redis URL" in result.stderr


def test_a_full_reset_on_one_also_clears_the_others_own_journal_rules_and_webhooks(pair) -> None:
    one, other = pair
    with client(other, "skytells") as b, control(one) as mock_a, control(other) as mock_b:
        assert mock_b.post("/rules", json={"fault": {"type": "error", "status": 500}, "times": 5}).status_code == 201
        assert b.get("/models").status_code == 500
        assert mock_b.get("/requests/count").json()["count"] == 1
        assert mock_a.post("/reset").status_code == 200
        assert mock_b.get("/rules").json()["data"] == [] and mock_b.get("/requests/count").json()["count"] == 0
        assert b.get("/models").status_code == 200  # the other's rule is gone with the reset


def _children(pid: int) -> list[int]:
    with open(f"/proc/{pid}/task/{pid}/children") as listing:
        return [int(child) for child in listing.read().split()]


@pytest.mark.parametrize("http_server", ["uvicorn", "granian"])
def test_serve_with_two_workers_on_one_store(redis_store_url: str, http_server: str) -> None:
    parent, base, control_url = _serve_workers(redis_store_url, 2, "--server", http_server)
    try:
        workers = _children(parent.pid)
        assert len(workers) == 2
        auth = {"x-api-key": DEFAULT_API_KEY}
        body = {"model": "truefusion", "input": {"prompt": "workers"}}
        clients = [httpx.Client(base_url=base, headers=auth, timeout=10) for _ in range(8)]
        try:
            made = together([lambda c=c: c.post("/predictions", json=body) for c in clients])
            assert [answer.status_code for answer in made] == [201] * 8
            assert {answer.headers["server"] for answer in made} == {http_server}
            listed = {p["id"] for p in clients[0].get("/predictions").json()["data"]}
            assert listed == {answer.json()["id"] for answer in made}  # whichever worker served each create
        finally:
            for c in clients:
                c.close()
        assert httpx.post(control_url + "/clock/advance", json={"seconds": 60}, timeout=10).status_code == 200
    finally:
        parent.terminate()
        assert parent.wait(20) == 0
    assert all(not os.path.exists(f"/proc/{pid}") or _zombie(pid) for pid in workers)


def _zombie(pid: int) -> bool:
    with open(f"/proc/{pid}/stat") as stat:
        return stat.read().split(") ", 1)[1].startswith("Z")


def _serve_workers(store: str, count: int, *extra: str) -> tuple[subprocess.Popen, str, str]:
    process, base, control = _serve(store, "--workers", str(count), *extra, seed=False)
    threading.Thread(target=process.stdout.read, daemon=True).start()  # type: ignore[union-attr]
    return process, base, control


def test_workers_without_a_shared_store_are_refused() -> None:
    result = subprocess.run([sys.executable, "-m", "mockserver.cli", "serve", "--workers", "2"],
                            capture_output=True, text=True, timeout=60)
    assert result.returncode == 2 and "workers > 1 needs a shared store" in result.stderr


def test_after_a_reset_on_one_the_other_still_has_its_start_up_rules(redis_store_url: str, tmp_path) -> None:
    mappings = tmp_path / "rules.toml"
    mappings.write_text('rules = [{id = "slow-models", fault = {type = "error", status = 502}, '
                        'match = {route = "GET /v1/models"}}]\n')
    settings = make_settings(store=redis_store_url, mappings=(str(mappings),))
    with ServerThread(settings) as one, ServerThread(settings) as other, control(one) as mock_a, \
            control(other) as mock_b, client(other, "skytells") as b:
        assert mock_a.post("/reset").status_code == 200
        assert [rule["id"] for rule in mock_b.get("/rules").json()["data"]] == ["slow-models"]
        assert b.get("/models").status_code == 502
