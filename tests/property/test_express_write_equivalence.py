"""The express write of ``POST /v1/predictions`` (:meth:`SkytellsAPI.express_create`, offered by the server with
the body it held: :meth:`Gateway.answer_at_once`) is the router's answer, or a decline that changed nothing.

Two mocks built alike get the same creates: one offers each to the gateway at once first and, when it declines,
sends it the router's way (as the server's protocol does); the other always takes the router's way. Whatever the
key, body, content type, headers, rules, account or journal, both give the same status, headers and body, and leave
the same journal and the same state: the next create of each gets the same prediction id and the key the same
balance. The express write must also be the one taken for a plain create (else the comparison would hold for a path
never used).
"""

from __future__ import annotations

import asyncio
from typing import Any

import httpx
import orjson
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from mockserver.app import MockServer, build
from tests.conftest import KEY, OTHER_KEY, make_settings
from tests.property.test_express_equivalence import SUSPENDED_KEY, gateway, suspend_and_rule

PROMPT = {"model": "truefusion-pro", "input": {"prompt": "a fox in the snow"}}
#: Every example sends each of these bodies with each content type (one random pick would rarely meet the one
#: combination a wrong check gets wrong).
BODIES = [
    orjson.dumps(PROMPT), orjson.dumps({**PROMPT, "input": {"prompt": "a fox", "num_outputs": 2}}),
    orjson.dumps({**PROMPT, "wait": True}), orjson.dumps({**PROMPT, "stream": True}),
    orjson.dumps({**PROMPT, "webhook": "http://127.0.0.1:9/hook"}),
    orjson.dumps({"model": "truefusion-pro", "input": {"prompt": "a fox", "width": 100000, "height": 100000}}),
    orjson.dumps({"model": "truefusion-2-optima", "input": {"prompt": "a fox"}}),
    orjson.dumps({"model": "truefusion-pro", "input": {"prompt": "a fox in gore"}}),
    orjson.dumps({"model": "no-such-model", "input": {}}), orjson.dumps({"model": "truefusion-pro", "input": {}}),
    b"[1, 2]", b"", b"   ", b'{"model": "truefusion-pro", "input": {"prompt": "a fox"', b'{"model": NaN}',
    b'{"a":' * 70 + b"1" + b"}" * 70, orjson.dumps(PROMPT),
]
TYPES = [{"content-type": "application/json"}, {}, {"content-type": "text/plain"},
         {"content-type": "application/merge-patch+json; charset=utf-8"}]
KEYS = st.sampled_from([{"x-api-key": KEY}, {"authorization": f"Bearer {KEY}"}, {"x-api-key": OTHER_KEY},
                        {"x-api-key": SUSPENDED_KEY}, {"x-api-key": "sk-unknown-9999"}, {}])
EXTRAS = st.sampled_from([{}, {"origin": "http://localhost:3000"}, {"x-mock-scenario": "slow"},
                          {"x-mock-scenario": "none-such"}, {"host": "example.test:9000"}])
STATES = st.sampled_from(["plain", "global rule", "scenario rule", "rate limited", "no credits", "safety terms"])


def mock(state: str, journal: bool) -> MockServer:
    # the manual clock jumps at once to what an awaited create waits for (autojump 0)
    changes: dict[str, Any] = {"journal_size": 5000 if journal else 0, "api_keys": (KEY, OTHER_KEY, SUSPENDED_KEY),
                               "credits": 0.0 if state == "no credits" else 100.0, "autojump": 0.0}
    if state == "safety terms":
        changes["safety_terms"] = ("gore",)
    return build(make_settings(**changes))


async def prepare(client: httpx.AsyncClient, state: str) -> None:
    await suspend_and_rule(client, state, "POST /v1/predictions")
    if state == "rate limited":
        (await client.patch(f"/_mock/keys/{KEY}", json={"limits": {"rate_limit_per_minute": 1}})).raise_for_status()


def scope_of(request: httpx.Request) -> dict[str, Any]:
    """The scope the server's protocol has made when it offers the request (what httpx's ASGI transport makes)."""
    return {"type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1", "method": request.method,
            "scheme": "http", "path": request.url.path, "raw_path": request.url.raw_path.split(b"?")[0],
            "query_string": request.url.query, "root_path": "", "server": ("127.0.0.1", 8080),
            "client": ("127.0.0.1", 40000), "headers": [(name.lower(), value) for name, value in request.headers.raw],
            "state": {}}


async def creates(server: MockServer, state: str, at_once: bool,
                  headers: dict[str, str]) -> tuple[list[Any], list[bool]]:
    """Every body with every content type (offered at once first, or not), then what they left: the journal, the
    next prediction id, the key's balance; and whether each was answered at once."""
    app = server.apps["skytells"]
    transport = httpx.ASGITransport(app=app, client=("127.0.0.1", 40000))
    answers, taken = [], []
    async with httpx.AsyncClient(transport=transport, base_url="http://127.0.0.1:8080") as client:
        await prepare(client, state)
        for body, types in ((body, types) for types in TYPES for body in BODIES):
            request = client.build_request("POST", "/v1/predictions", headers={**headers, **types}, content=body)
            answered = gateway(app).answer_at_once(scope_of(request), body) if at_once else None
            taken.append(answered is not None)
            if answered is None:
                reply = await client.send(request)
                answered = (reply.status_code, reply.headers.raw, reply.content)
            status, raw, content = answered
            answers.append((status, sorted((name.lower(), value) for name, value in raw), content))
        journal = (await client.get("/_mock/requests", params={"limit": 100})).json()
        made = await client.post("/v1/predictions", json=PROMPT, headers={"x-api-key": OTHER_KEY})
        balance = server.runtime.accounts.get(KEY)
    entries = journal.get("data", []) if isinstance(journal, dict) else []
    for entry in entries:
        entry.pop("latency_ms", None)
    return [answers, entries, made.json().get("id"), balance and balance.credits], taken


def both(state: str, journal: bool, headers: dict[str, str]) -> tuple[Any, Any, list[bool]]:
    at_once, taken = asyncio.run(creates(mock(state, journal), state, True, headers))
    by_router, _ = asyncio.run(creates(mock(state, journal), state, False, headers))
    return at_once, by_router, taken


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(keys=KEYS, extras=EXTRAS, state=STATES, journal=st.booleans())
def test_the_express_write_is_the_routers_answer_or_a_decline_that_changed_nothing(
        keys: dict[str, str], extras: dict[str, str], state: str, journal: bool) -> None:
    at_once, by_router, _ = both(state, journal, {**keys, **extras})
    assert at_once == by_router


def test_the_express_write_is_taken_for_a_plain_create_and_declined_otherwise() -> None:
    # per content type, the bodies in order: the plain creates, the streamed one and the one the safety checker
    # will fail (made, not charged) are taken, with JSON's content types
    taken = [body in (orjson.dumps(PROMPT), BODIES[1], BODIES[3], BODIES[7]) and "text/plain" not in str(types)
             for types in TYPES for body in BODIES]
    assert both("plain", True, {"x-api-key": KEY})[2] == taken and sum(taken) == 15
    for state, headers in (("global rule", {}), ("rate limited", {}), ("plain", {"x-mock-scenario": "slow"}),
                           ("plain", {"origin": "http://localhost:3000"})):
        assert not any(both(state, True, {"x-api-key": KEY, **headers})[2]), (state, headers)
    # with no credits, only the prediction the safety checker fails is made (it is never charged)
    failed = [body == BODIES[7] and "text/plain" not in str(types) for types in TYPES for body in BODIES]
    assert both("no credits", True, {"x-api-key": KEY})[2] == failed
