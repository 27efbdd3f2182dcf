"""The express answer of GateAI's ``GET /get/{task_id}`` (:meth:`GateAIAPI.express`) is the router's answer.

Two mocks built alike (same seed, same settings, same requests) differ only in that one has no express answer:
every request -- whatever its key, target, headers, rules, account state, journal or mount -- gets the same status,
headers and body from both, and leaves the same journal entry. The express answer must also be the one taken for
the plain case (else the comparison would hold for a path never used).
"""

from __future__ import annotations

import asyncio
from typing import Any

import httpx
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from mockserver.app import MockServer, build
from tests.conftest import KEY, OTHER_KEY, make_settings
from tests.property.test_express_equivalence import SUSPENDED_KEY, Recorder, gateway

GENERATION = {"model": "gpt-image-2", "type": "image", "params": {"prompt": "a fox in the snow"}}
KEYS = st.sampled_from([
    {"authorization": f"Bearer {KEY}"}, {"x-api-key": KEY}, {"authorization": f"bearer  {KEY} "},
    {"authorization": f"Bearer {OTHER_KEY}"}, {"authorization": f"Bearer {SUSPENDED_KEY}"},
    {"authorization": "Bearer sk-unknown-9999"}, {"authorization": "Basic abc"}, {},
])
#: Every example asks for each of these (``held``: a task of the key suspended after making it).
TARGETS = ["own", "other", "held", "unknown", "own/", "own/more", "bare", "own?key=x"]
EXTRAS = st.sampled_from([{}, {"origin": "http://localhost:3000"}, {"x-mock-scenario": "slow"},
                          {"x-mock-scenario": "none-such"}, {"host": "example.test:9000"}])
STATES = st.sampled_from(["plain", "global rule", "scenario rule", "public url", "later"])


def mock(state: str, journal: bool, single_port: bool) -> MockServer:
    changes: dict[str, Any] = {"journal_size": 5000 if journal else 0, "single_port": single_port,
                               "api_keys": (KEY, OTHER_KEY, SUSPENDED_KEY)}
    if state == "public url":
        changes["public_url"] = "https://mock.example.test/base/"
    return build(make_settings(**changes))


async def prepare(client: httpx.AsyncClient, control: httpx.AsyncClient, state: str) -> dict[str, str]:
    ids = {}
    for name, key in (("own", KEY), ("other", OTHER_KEY), ("held", SUSPENDED_KEY)):
        made = await client.post("/api/generate", json=GENERATION, headers={"authorization": f"Bearer {key}"})
        assert made.status_code == 200, made.text
        ids[name] = made.json()["task_id"]
    (await control.patch(f"/_mock/keys/{SUSPENDED_KEY}", json={"suspended": True})).raise_for_status()
    if state == "global rule":
        rule = {"match": {"route": "GET /get/{task_id}"}, "fault": {"type": "error", "status": 503}}
        (await control.post("/_mock/rules", json=rule)).raise_for_status()
    elif state == "scenario rule":
        rule = {"scenario": "slow", "fault": {"type": "error", "status": 500}}
        (await control.post("/_mock/rules", json=rule)).raise_for_status()
    elif state == "later":  # the task finished (and its view's phase changed)
        (await control.post("/_mock/clock/advance", json={"seconds": 600})).raise_for_status()
    return ids


def path_of(target: str, ids: dict[str, str]) -> str:
    if target == "bare":
        return "/get/"
    name, _, rest = target.partition("/")
    name, _, query = name.partition("?")
    task = ids.get(name, "task_unknown")
    return f"/get/{task}" + (f"/{rest}" if rest or target.endswith("/") else "") + (f"?{query}" if query else "")


async def exchange(server: MockServer, state: str, single_port: bool, method: str, target: str,
                   headers: dict[str, str]) -> tuple[list[Any], list[dict[str, Any]]]:
    app = server.combined() if single_port else server.apps["gateai"]
    prefix = "/gateai" if single_port else ""
    transport = httpx.ASGITransport(app=app, client=("127.0.0.1", 40000))
    async with httpx.AsyncClient(transport=transport, base_url="http://127.0.0.1:8081" + prefix) as client, \
            httpx.AsyncClient(transport=transport, base_url="http://127.0.0.1:8081" + prefix) as control:
        ids = await prepare(client, control, state)
        answers = []
        for asked in [target] if target else TARGETS:
            for _ in range(2):  # the second: a cached view
                reply = await client.request(method, path_of(asked, ids), headers=headers)
                answers.append((reply.status_code, sorted(reply.headers.multi_items()), reply.content))
        journal = (await control.get("/_mock/requests", params={"limit": 100})).json()
    entries = journal.get("data", []) if isinstance(journal, dict) else []
    for entry in entries:
        entry.pop("latency_ms", None)
    return answers, entries


def both(state: str, journal: bool, single_port: bool, method: str, target: str,
         headers: dict[str, str]) -> tuple[Any, Any, list[bool]]:
    """Both mocks' answers to ``target`` (every target when empty) and journals; the express answer's calls."""
    express_mock, router_mock = mock(state, journal, single_port), mock(state, journal, single_port)
    recorder = Recorder(express_mock.apps["gateai"].state.api.express)
    gateway(express_mock.apps["gateai"]).express = recorder
    gateway(router_mock.apps["gateai"]).express = None
    with_express = asyncio.run(exchange(express_mock, state, single_port, method, target, headers))
    without = asyncio.run(exchange(router_mock, state, single_port, method, target, headers))
    return with_express, without, recorder.answers


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(keys=KEYS, extras=EXTRAS, state=STATES, journal=st.booleans(), single_port=st.booleans(),
       method=st.sampled_from(["GET", "HEAD"]))
def test_the_express_answer_is_the_routers_answer(keys: dict[str, str], extras: dict[str, str], state: str,
                                                  journal: bool, single_port: bool, method: str) -> None:
    with_express, without, _ = both(state, journal, single_port, method, "", {**keys, **extras})
    assert with_express == without


def test_the_express_answer_is_taken_for_a_plain_get_and_declined_otherwise() -> None:
    bearer = {"authorization": f"Bearer {KEY}"}
    for state in ("plain", "later"):
        assert both(state, True, False, "GET", "own", bearer)[2][-2:] == [True, True]
    for state, target, headers in (("plain", "other", bearer), ("global rule", "own", bearer),
                                   ("plain", "own", {**bearer, "x-mock-scenario": "slow"}), ("plain", "own", {}),
                                   ("plain", "held", {"authorization": f"Bearer {SUSPENDED_KEY}"})):
        _, _, answers = both(state, True, False, "GET", target, headers)
        assert answers[-2:] == [False, False], (state, target, headers)
