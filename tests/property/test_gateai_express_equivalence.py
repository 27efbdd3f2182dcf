"""The express answer of GateAI's ``GET /get/{task_id}`` (:meth:`GateAIAPI.express`) is the router's answer.

Two mocks built alike (same seed, same settings, same requests) differ only in that one has no express answer:
every request -- whatever its key, target, headers, rules, account state, journal or mount -- gets the same status,
headers and body from both, and leaves the same journal entry. The express answer must also be the one taken for
the plain case (else the comparison would hold for a path never used).
"""

from __future__ import annotations

from typing import Any

import httpx
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from mockserver.app import MockServer
from tests.conftest import KEY, OTHER_KEY
from tests.property.test_express_equivalence import SUSPENDED_KEY, asked, client_of, compare, mock, suspend_and_rule

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


async def prepare(client: httpx.AsyncClient, state: str) -> dict[str, str]:
    ids = {}
    for name, key in (("own", KEY), ("other", OTHER_KEY), ("held", SUSPENDED_KEY)):
        made = await client.post("/api/generate", json=GENERATION, headers={"authorization": f"Bearer {key}"})
        assert made.status_code == 200, made.text
        ids[name] = made.json()["task_id"]
    await suspend_and_rule(client, state, "GET /get/{task_id}")
    if state == "later":  # the task finished (and its view's phase changed)
        (await client.post("/_mock/clock/advance", json={"seconds": 600})).raise_for_status()
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
    async with client_of(server, "gateai", single_port) as client:
        ids = await prepare(client, state)
        return await asked(client, method, [path_of(one, ids) for one in ([target] if target else TARGETS)],
                           headers)


def both(state: str, journal: bool, single_port: bool, method: str, target: str,
         headers: dict[str, str]) -> tuple[Any, Any, list[bool]]:
    """Both mocks' answers to ``target`` (every target when empty) and journals; the express answer's calls."""
    return compare("gateai", lambda: mock(state, journal, single_port),
                   lambda server: exchange(server, state, single_port, method, target, headers))


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
