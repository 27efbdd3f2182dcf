"""A third API is a plug-in: a toy vendor defined here, in a few dozen lines, installed in the registry for these
tests only, is served through the same build path as Skytells and GateAI. It gets its own port (and its mount in
single-port mode, and its URL on the pytest plugin's handle), key checks answering 401 in its own error format,
the request journal, the control plane's fault rules (``match.api: "toy"``), the control plane itself on its port,
the ``/_mock/health`` check, and its jobs (each echo is one) and usage on the dashboard's ``/_mock/jobs`` and
``/_mock/usage``.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from mockserver.core.accounts import mask_key
from mockserver.core.errors import ApiError
from mockserver.core.http import JSONResponse, api_key_in
from mockserver.core.jobs import JobState, state_at
from mockserver.core.runtime import Runtime
from mockserver.core.vendor import REGISTRY, ShownJob, Vendor, VendorApp, VendorJobs
from mockserver.pytest_plugin import running_mock
from mockserver.server import ServerThread
from tests.conftest import KEY, make_settings


def render(error: ApiError, path: str, request_id: str) -> dict[str, Any]:
    """The toy's own error format."""
    return {"toy_error": {"code": error.error_id, "says": error.message, "request": request_id}}


def build(runtime: Runtime) -> VendorApp:
    async def echo(request: Request) -> Response:
        key = api_key_in(request.headers)
        if not key or runtime.accounts.get(key) is None:
            raise ApiError(401, "NO_KEY", "the toy wants a key")
        now, echo_id = runtime.clock.now(), runtime.rng.uuid4("echo")
        runtime.store.put("toy_echo", echo_id, {"id": echo_id, "owner": key, "model": "parrot", "created_at": now,
                                                "phases": [("echoing", now), ("echoed", now + 10)]}, owner=key)
        return JSONResponse({"echo": await request.json()})

    return VendorApp(routes=[Route("/v1/echo", echo, methods=["POST"])], render=render)


class EchoReader:
    """The toy's jobs as the control plane lists them: an echo is ``echoing`` for 10 s, then ``echoed``."""

    def state(self, record: dict[str, Any], now: float) -> JobState:
        return state_at(record["phases"], now)

    def show(self, record: dict[str, Any], api_base: str, now: float) -> ShownJob:
        return ShownJob(object={"echo_id": record["id"], "url": f"{api_base}/v1/echoes/{record['id']}"},
                        timeline=record["phases"], cost=0, refunded=False)


TOY = Vendor(name="toy", title="Toy API", default_port=18099, build=build, base_path="/v1",
             outcome_requests=frozenset({("POST", "/v1/echo")}),
             jobs=(VendorJobs(kind="echo", stored="toy_echo", reader=lambda runtime: EchoReader()),),
             usage=lambda runtime, key: {"echoes": sum(1 for _ in runtime.store.scan("toy_echo", owner=key))})


@pytest.fixture
def toy() -> Iterator[ServerThread]:
    with REGISTRY.installed(TOY), ServerThread(make_settings()) as server:
        yield server


def echo(base: str, key: str | None = KEY) -> httpx.Response:
    return httpx.post(f"{base}/echo", json={"hello": "toy"}, headers={"x-api-key": key} if key else {})


def test_the_toy_gets_its_own_port_and_answers_with_a_key(toy: ServerThread) -> None:
    ports = {url.split(":")[2].split("/")[0] for url in toy.urls.values()}
    assert set(toy.urls) == {"skytells", "gateai", "toy"} and len(ports) == 3
    assert toy.urls["toy"].endswith("/v1")  # its base path, as the SDK of a vendor with one would want it
    answer = echo(toy.urls["toy"])
    assert answer.status_code == 200 and answer.json() == {"echo": {"hello": "toy"}}
    assert answer.headers["x-request-id"].startswith("req_")


def test_a_missing_key_is_a_401_in_the_toys_format(toy: ServerThread) -> None:
    answer = echo(toy.urls["toy"], key=None)
    assert answer.status_code == 401
    assert answer.json()["toy_error"]["code"] == "NO_KEY"
    assert answer.json()["toy_error"]["request"] == answer.headers["x-request-id"]


def test_the_journal_records_the_toys_requests(toy: ServerThread) -> None:
    echo(toy.urls["toy"])
    root = toy.urls["toy"].removesuffix("/v1")
    listing = httpx.get(f"{root}/_mock/requests", params={"api": "toy"}).json()
    assert [(e["api"], e["method"], e["path"], e["status"], e["key"]) for e in listing["data"]] == [
        ("toy", "POST", "/v1/echo", 200, mask_key(KEY))]


def test_a_fault_rule_for_the_toy_applies_to_it_only(toy: ServerThread) -> None:
    root = toy.urls["toy"].removesuffix("/v1")
    rule = {"match": {"api": "toy"}, "fault": {"type": "error", "status": 503}, "times": 1}
    assert httpx.post(f"{root}/_mock/rules", json=rule).status_code == 201
    models = httpx.get(f"{toy.urls['skytells']}/models", headers={"x-api-key": KEY})
    assert models.status_code == 200  # another API's request does not spend the toy's rule
    faulted = echo(toy.urls["toy"])
    assert faulted.status_code == 503 and "toy_error" in faulted.json()
    assert echo(toy.urls["toy"]).status_code == 200  # times: 1


def test_the_control_plane_and_health_answer_on_the_toys_port(toy: ServerThread) -> None:
    root = toy.urls["toy"].removesuffix("/v1")
    health = httpx.get(f"{root}/_mock/health").json()
    assert health["status"] == "ok" and health["api"] == "toy"
    assert httpx.get(f"{root}/_mock/clock").status_code == 200
    unknown = httpx.get(f"{root}/_mock/requests", params={"api": "nope"})
    assert unknown.status_code == 400 and "toy" in unknown.text  # the toy is one of the known APIs


def test_the_dashboard_lists_the_toys_jobs_and_usage(toy: ServerThread) -> None:
    echo(toy.urls["toy"])
    root = toy.urls["toy"].removesuffix("/v1")
    [job] = httpx.get(f"{root}/_mock/jobs", params={"kind": "echo"}).json()["data"]
    assert (job["api"], job["kind"], job["key"], job["status"], job["terminal"]) == ("toy", "echo", KEY, "echoing",
                                                                                      False)
    assert job["object"]["url"] == f"{root}/v1/echoes/{job['id']}"
    assert [step["status"] for step in job["timeline"]] == ["echoing", "echoed"]
    assert httpx.get(f"{root}/_mock/jobs", params={"status": "echoing"}).json()["total"] == 1
    assert "echo" in httpx.get(f"{root}/_mock/jobs", params={"kind": "nope"}).text  # one of the known kinds
    usage = next(u for u in httpx.get(f"{root}/_mock/usage").json()["data"] if u["key"] == KEY)
    assert usage["toy"] == {"echoes": 1} and {"skytells", "gateai"} <= set(usage)


def test_single_port_mode_mounts_the_toy_under_its_prefix() -> None:
    with REGISTRY.installed(TOY), ServerThread(make_settings(single_port=True)) as server:
        assert server.urls["toy"].endswith("/toy/v1")
        assert echo(server.urls["toy"]).json() == {"echo": {"hello": "toy"}}
        assert echo(server.urls["toy"], key=None).json()["toy_error"]["code"] == "NO_KEY"


def test_the_pytest_plugin_hands_tests_the_toys_url_on_a_running_mock() -> None:
    given = {"--mockserver-toy-url": "http://127.0.0.1:9/v1/", "--mockserver-api-key": KEY}
    with REGISTRY.installed(TOY):
        handle = running_mock("http://127.0.0.1:8/v1", given.get)
    handle.control.close()
    assert handle.urls == {"skytells": "http://127.0.0.1:8/v1", "gateai": "http://127.0.0.1:8",
                           "toy": "http://127.0.0.1:9/v1"}
    assert (handle.toy_url, handle.skytells_url, handle.api_key) == ("http://127.0.0.1:9/v1", handle.urls["skytells"],
                                                                     KEY)
    with pytest.raises(AttributeError):
        handle.nope_url  # noqa: B018


def test_the_toy_is_gone_after_its_tests() -> None:
    with REGISTRY.installed(TOY):
        assert "toy" in REGISTRY.names()
    assert REGISTRY.names() == ("skytells", "gateai")
    with pytest.raises(ValueError, match="already installed"), REGISTRY.installed(REGISTRY.all()[0]):
        pass
