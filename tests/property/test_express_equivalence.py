"""The express answer of ``GET /v1/predictions/{id}`` (:meth:`SkytellsAPI.express`) is the router's answer.

Two mocks built alike (same seed, same settings, same requests) differ only in that one has no express answer:
every request -- whatever its key, target, headers, rules, account state, journal or mount -- gets the same status,
headers and body from both, and leaves the same journal entry. The express answer must also be the one taken for
the plain case (else the comparison would hold for a path never used).
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Any

import httpx
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from mockserver.app import MockServer, build
from mockserver.core.front import Gateway
from tests.conftest import KEY, OTHER_KEY, make_settings

PROMPT = {"model": "truefusion-pro", "input": {"prompt": "a fox in the snow"}}
SUSPENDED_KEY = "sk-test-suspended-0003"

KEYS = st.sampled_from([
    {"x-api-key": KEY}, {"authorization": f"Bearer {KEY}"}, {"x-api-key": f"  {KEY} "}, {"x-api-key": OTHER_KEY},
    {"x-api-key": SUSPENDED_KEY}, {"x-api-key": "sk-unknown-9999"}, {"x-api-key": " "}, {},
])
TARGETS = st.sampled_from(["own", "other", "unknown", "own/", "own/cancel", "bare"])
EXTRAS = st.sampled_from([{}, {"origin": "http://localhost:3000"}, {"x-mock-scenario": "slow"},
                          {"x-mock-scenario": "none-such"}, {"host": "example.test:9000"}])
STATES = st.sampled_from(["plain", "global rule", "scenario rule", "rate limited", "public url"])


def gateway(app: Any) -> Gateway:
    """The app's one layer around its router (built on first use, as Starlette builds it)."""
    if app.middleware_stack is None:
        app.middleware_stack = app.build_middleware_stack()
    assert isinstance(app.middleware_stack, Gateway)
    return app.middleware_stack


class Recorder:
    """An express answer's wrapper that notes what it said (True: it answered)."""

    def __init__(self, express: Any) -> None:
        self.express, self.answers = express, []

    def __call__(self, scope: Any, path: str) -> bytes | None:
        body = self.express(scope, path)
        self.answers.append(body is not None)
        return body


def mock(state: str, journal: bool, single_port: bool) -> MockServer:
    changes: dict[str, Any] = {"journal_size": 5000 if journal else 0, "single_port": single_port,
                               "api_keys": (KEY, OTHER_KEY, SUSPENDED_KEY)}
    if state == "public url":
        changes["public_url"] = "https://mock.example.test/base/"
    return build(make_settings(**changes))


async def prepare(client: httpx.AsyncClient, state: str) -> dict[str, str]:
    ids = {}
    for name, key in (("own", KEY), ("other", OTHER_KEY)):
        made = await client.post("/v1/predictions", json=PROMPT, headers={"x-api-key": key})
        assert made.status_code == 201, made.text
        ids[name] = made.json()["id"]
    await suspend_and_rule(client, state, "GET /v1/predictions/{id}")
    if state == "rate limited":
        limits = {"limits": {"rate_limit_per_minute": 1}}
        (await client.patch(f"/_mock/keys/{KEY}", json=limits)).raise_for_status()
    return ids


async def suspend_and_rule(client: httpx.AsyncClient, state: str, route: str) -> None:
    """What every equivalence state starts from: :data:`SUSPENDED_KEY` suspended; for ``state`` "global rule" an
    error rule on ``route``, for "scenario rule" one under scenario ``slow``."""
    (await client.patch(f"/_mock/keys/{SUSPENDED_KEY}", json={"suspended": True})).raise_for_status()
    rule: dict[str, Any] | None = None
    if state == "global rule":
        rule = {"match": {"route": route}, "fault": {"type": "error", "status": 503}}
    elif state == "scenario rule":
        rule = {"scenario": "slow", "fault": {"type": "error", "status": 500}}
    if rule is not None:
        (await client.post("/_mock/rules", json=rule)).raise_for_status()


def path_of(target: str, ids: dict[str, str]) -> str:
    if target == "bare":
        return "/v1/predictions/"
    name, _, rest = target.partition("/")
    pid = ids.get(name, "pred_unknown")
    return f"/v1/predictions/{pid}" + (f"/{rest}" if rest or target.endswith("/") else "")


def client_of(server: MockServer, api: str, single_port: bool) -> httpx.AsyncClient:
    """A client of ``api``'s app (at its mount on the single port), over ASGI."""
    app = server.combined() if single_port else server.apps[api]
    transport = httpx.ASGITransport(app=app, client=("127.0.0.1", 40000))
    return httpx.AsyncClient(transport=transport, base_url="http://127.0.0.1:8080" + (f"/{api}" if single_port else ""))


async def asked(client: httpx.AsyncClient, method: str, paths: list[str],
                headers: dict[str, str]) -> tuple[list[Any], list[dict[str, Any]]]:
    """Each path asked twice (the second: a cached view, a rate limit reached): the answers, then the journal's
    entries of those requests (latencies dropped)."""
    answers = []
    for path in paths:
        for _ in range(2):
            reply = await client.request(method, path, headers=headers)
            answers.append((reply.status_code, sorted(reply.headers.multi_items()), reply.content))
    journal = (await client.get("/_mock/requests", params={"limit": 2 * len(paths)})).json()
    entries = journal.get("data", []) if isinstance(journal, dict) else []
    for entry in entries:
        entry.pop("latency_ms", None)
    return answers, entries


def compare(api: str, made: Callable[[], MockServer],
            run: Callable[[MockServer], Awaitable[Any]]) -> tuple[Any, Any, list[bool]]:
    """``run`` on two mocks ``made`` alike, the first with ``api``'s express answer (recorded), the second without;
    both results and what the express answer said."""
    express_mock, router_mock = made(), made()
    recorder = Recorder(express_mock.apps[api].state.api.express)
    gateway(express_mock.apps[api]).express = recorder
    gateway(router_mock.apps[api]).express = None
    return asyncio.run(run(express_mock)), asyncio.run(run(router_mock)), recorder.answers


async def exchange(server: MockServer, state: str, single_port: bool, method: str, target: str,
                   headers: dict[str, str]) -> tuple[list[Any], list[dict[str, Any]]]:
    async with client_of(server, "skytells", single_port) as client:
        ids = await prepare(client, state)
        return await asked(client, method, [path_of(target, ids)], headers)


def both(state: str, journal: bool, single_port: bool, method: str, target: str,
         headers: dict[str, str]) -> tuple[Any, Any, list[bool]]:
    return compare("skytells", lambda: mock(state, journal, single_port),
                   lambda server: exchange(server, state, single_port, method, target, headers))


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(keys=KEYS, target=TARGETS, extras=EXTRAS, state=STATES, journal=st.booleans(), single_port=st.booleans(),
       method=st.sampled_from(["GET", "HEAD"]))
def test_the_express_answer_is_the_routers_answer(keys: dict[str, str], target: str, extras: dict[str, str],
                                                  state: str, journal: bool, single_port: bool, method: str) -> None:
    with_express, without, _ = both(state, journal, single_port, method, target, {**keys, **extras})
    assert with_express == without


def test_the_express_answer_is_taken_for_a_plain_get_and_declined_otherwise() -> None:
    _, _, answers = both("plain", True, False, "GET", "own", {"x-api-key": KEY})
    assert answers[-2:] == [True, True]
    for state, target, headers in (("plain", "other", {"x-api-key": KEY}), ("global rule", "own", {"x-api-key": KEY}),
                                   ("plain", "own", {"x-api-key": KEY, "x-mock-scenario": "slow"}),
                                   ("rate limited", "own", {"x-api-key": KEY}), ("plain", "own", {})):
        _, _, answers = both(state, True, False, "GET", target, headers)
        assert answers[-2:] == [False, False], (state, target, headers)
