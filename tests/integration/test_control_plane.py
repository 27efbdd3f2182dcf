"""The control plane's own rules: who may call it, reset, and the clock -- over real HTTP and in-process."""

from __future__ import annotations

import asyncio
import time

import httpx
import pytest
from starlette.applications import Starlette

from mockserver.admin.client import ControlPlaneError, MockControl
from mockserver.server import ServerThread
from tests.conftest import KEY, OTHER_KEY, START, make_settings


@pytest.fixture
def control(server: ServerThread) -> MockControl:
    with MockControl(server.urls["skytells"]) as client:
        yield client


def _create_prediction(http: httpx.Client) -> str:
    response = http.post("/predictions", json={"model": "truefusion-pro", "input": {"prompt": "a red fox"}})
    assert response.status_code == 201, response.text
    return response.json()["id"]


# -- clock ---------------------------------------------------------------------------------


def test_clock_read_advance_set_and_mode(control: MockControl, http: httpx.Client) -> None:
    assert control.clock.get() == {"now": "2026-01-01T00:00:00.000000Z", "epoch": START, "mode": "manual",
                                   "speed": 1.0, "autojump": None}
    pid = _create_prediction(http)
    assert http.get(f"/predictions/{pid}").json()["status"] == "pending"
    assert control.clock.advance(90)["epoch"] == START + 90
    assert http.get(f"/predictions/{pid}").json()["status"] == "succeeded"
    assert control.clock.set("2026-01-02T00:00:00Z")["epoch"] == START + 86_400
    assert control.clock.set(START + 86_400 + 5)["now"] == "2026-01-02T00:00:05.000000Z"
    state = control.clock.mode("realtime", speed=1000)
    assert (state["mode"], state["speed"]) == ("realtime", 1000)
    assert state["epoch"] >= START + 86_405  # switching mode never jumps time


def test_clock_refuses_bad_input_with_clear_errors(control: MockControl, server: ServerThread) -> None:
    base = server.urls["skytells"].removesuffix("/v1") + "/_mock"
    cases = [
        ("/clock/advance", {"seconds": -1}, "seconds"),
        ("/clock/advance", {"seconds": "soon"}, "seconds"),
        ("/clock/advance", {}, "seconds"),
        ("/clock/set", {}, "time"),
        ("/clock/set", {"time": "yesterday"}, "time"),
        ("/clock/set", {"time": START - 1}, "time"),
        ("/clock/mode", {"mode": "warp"}, "mode"),
        ("/clock/mode", {"speed": 0}, "speed"),
        ("/clock/mode", {"autojump": -0.5}, "autojump"),
        ("/clock/mode", {"autojump": "soon"}, "autojump"),
    ]
    for path, body, param in cases:
        response = httpx.post(base + path, json=body)
        assert response.status_code == 400, (path, body, response.text)
        error = response.json()["error"]
        assert error["code"] == "INVALID_REQUEST" and error["param"] == param and error["message"]
    not_json = httpx.post(base + "/clock/advance", content=b"{oops", headers={"content-type": "application/json"})
    assert not_json.status_code == 400 and "JSON" in not_json.json()["error"]["message"]
    assert httpx.get(base + "/nope").status_code == 404
    with pytest.raises(ControlPlaneError) as caught:
        control.clock.set(START - 10)
    assert caught.value.status == 400 and "only moves forward" in caught.value.message


def test_autojump_answers_an_awaited_create_without_anyone_moving_the_clock(control: MockControl,
                                                                           http: httpx.Client) -> None:
    control.clock.mode(autojump=0)
    assert control.clock.get()["autojump"] == 0
    response = http.post("/predictions", json={"model": "truefusion-pro", "input": {"prompt": "a red fox"},
                                               "await": True})
    body = response.json()
    # without autojump nobody moves the manual clock: after await_timeout the answer would be "pending"
    assert response.status_code == 201 and body["status"] == "succeeded", response.text
    now = control.clock.now()
    assert START < now <= START + 600  # time moved only to the prediction's own end
    assert body["completed_at"] is not None
    assert http.get(f"/predictions/{body['id']}").json()["status"] == "succeeded"
    control.clock.mode(autojump=None)  # off again: a second awaited create waits for the clock (not tested: slow)
    assert control.clock.get()["autojump"] is None
    control.reset()
    assert control.clock.get()["autojump"] is None  # reset restores the configured value


def test_a_video_prediction_runs_to_its_end_through_the_clock_api(control: MockControl, http: httpx.Client) -> None:
    began = time.perf_counter()
    created = http.post("/predictions", json={"model": "veo-3.1", "input": {"prompt": "waves at dusk"}}).json()
    assert created["status"] == "pending"
    control.clock.advance(3600)
    done = http.get(f"/predictions/{created['id']}").json()
    assert done["status"] == "succeeded" and done["output"]
    video = httpx.get(done["output"] if isinstance(done["output"], str) else done["output"][0])
    assert video.status_code == 200 and video.content[4:8] == b"ftyp"
    print(f"video prediction driven to its end in {time.perf_counter() - began:.3f} s of real time")


# -- reset ---------------------------------------------------------------------------------


def test_reset_all_forgets_traffic_and_restarts_the_clock(control: MockControl, http: httpx.Client) -> None:
    pid = _create_prediction(http)
    control.clock.advance(500)
    answer = control.reset()
    assert answer["reset"] == "all" and answer["clock"]["epoch"] == START
    assert http.get(f"/predictions/{pid}").status_code == 404


def test_reset_one_key_keeps_the_others(control: MockControl, http: httpx.Client, skytells_url: str) -> None:
    mine = _create_prediction(http)
    with httpx.Client(base_url=skytells_url, headers={"x-api-key": OTHER_KEY}) as other:
        theirs = _create_prediction(other)
        control.clock.advance(30)
        assert control.reset(key=OTHER_KEY)["reset"] == "key"
        assert other.get(f"/predictions/{theirs}").status_code == 404
    assert http.get(f"/predictions/{mine}").status_code == 200
    assert control.clock.now() == START + 30  # a key reset leaves time alone
    with pytest.raises(ControlPlaneError) as caught:
        control.reset(key="")
    assert caught.value.status == 400


def test_both_ports_steer_one_state(server: ServerThread, http: httpx.Client) -> None:
    with MockControl(server.urls["gateai"]) as gateai_side:
        gateai_side.clock.advance(42)
    with MockControl(server.urls["skytells"]) as skytells_side:
        assert skytells_side.clock.now() == START + 42


def test_health_is_open_and_mock_paths_are_not_api_routes(server: ServerThread) -> None:
    for url in (server.urls["skytells"].removesuffix("/v1"), server.urls["gateai"]):
        health = httpx.get(url + "/_mock/health")
        assert health.status_code == 200 and health.json()["status"] == "ok"


# -- access ----------------------------------------------------------------------------------


def _asgi_client(app: Starlette, host: str, headers: dict[str, str] | None = None) -> httpx.AsyncClient:
    transport = httpx.ASGITransport(app=app, client=(host, 40000))
    return httpx.AsyncClient(transport=transport, base_url="http://mock", headers=headers or {})


@pytest.mark.parametrize("host", ["127.0.0.1", "::1"])
def test_loopback_callers_are_let_in_by_default(host: str) -> None:
    from mockserver.app import build

    async def check() -> None:
        async with _asgi_client(build(make_settings()).apps["skytells"], host) as client:
            assert (await client.get("/_mock/clock")).status_code == 200

    asyncio.run(check())


def test_other_callers_are_refused_without_a_token() -> None:
    from mockserver.app import build

    async def check() -> None:
        async with _asgi_client(build(make_settings()).apps["gateai"], "10.1.2.3") as client:
            refused = await client.post("/_mock/reset")
            assert refused.status_code == 403
            assert refused.json()["error"]["code"] == "LOOPBACK_ONLY"
            assert "--admin-token" in refused.json()["error"]["message"]
            assert (await client.get("/_mock/health")).status_code == 200  # liveness stays open
            # the APIs themselves are for everyone
            assert (await client.get("/v1/models")).status_code == 200

    asyncio.run(check())


def test_an_admin_token_is_required_from_everyone_once_configured() -> None:
    with ServerThread(make_settings(admin_token="s3cret-token")) as running:
        base = running.urls["gateai"] + "/_mock"
        missing = httpx.get(base + "/clock")
        assert missing.status_code == 401 and missing.json()["error"]["code"] == "ADMIN_TOKEN_REQUIRED"
        wrong = httpx.get(base + "/clock", headers={"X-Mock-Admin-Token": "nope"})
        assert wrong.status_code == 403 and wrong.json()["error"]["code"] == "ADMIN_TOKEN_INVALID"
        assert httpx.get(base + "/clock", headers={"X-Mock-Admin-Token": "s3cret-token"}).status_code == 200
        assert httpx.get(base + "/clock", headers={"Authorization": "Bearer s3cret-token"}).status_code == 200
        with MockControl(running.urls["skytells"], admin_token="s3cret-token") as control:
            assert control.clock.advance(5)["epoch"] == START + 5
        # the API keys are not admin tokens
        assert httpx.get(base + "/clock", headers={"Authorization": f"Bearer {KEY}"}).status_code == 403


def test_binding_beyond_loopback_makes_a_token() -> None:
    from mockserver.admin.access import effective_token
    from mockserver.settings import Settings

    assert effective_token(Settings()) is None
    made = effective_token(Settings(host="0.0.0.0"))
    assert made and made.startswith("mock-admin-") and made != effective_token(Settings(host="0.0.0.0"))
    assert effective_token(Settings(host="0.0.0.0", admin_token="given")) == "given"
