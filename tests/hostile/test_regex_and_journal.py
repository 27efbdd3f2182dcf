"""Client regexes cannot stall the server and cost nothing before authentication; the journal masks every
known key and stays readable whatever bodies it holds."""

from __future__ import annotations

import json
import time

import httpx

from mockserver.core.accounts import mask_key
from tests.conftest import KEY, OTHER_KEY
from tests.hostile.conftest import Hostile, error_of

EVIL = "(a|aa)+$"  # exponential for a backtracking engine: ~2^n steps on "aaaa…!"
PROMPT = "a" * 40 + "!"


def create(client: httpx.Client, prompt: str, **headers: str) -> httpx.Response:
    return client.post("/v1/predictions", json={"model": "truefusion", "input": {"prompt": prompt}}, headers=headers)


def test_an_exponential_regex_in_the_header_answers_at_once(hostile: Hostile) -> None:
    rule = json.dumps({"match": {"prompt": EVIL}, "fault": {"type": "error", "status": 418}})
    started = time.perf_counter()
    response = create(hostile.clients["skytells"], PROMPT, **{"x-mock-scenario": rule})
    assert time.perf_counter() - started < 2.0  # 2^40 backtracking steps would take days
    assert response.status_code == 201  # "!" ends the prompt: no match
    assert create(hostile.clients["skytells"], "a" * 40, **{"x-mock-scenario": rule}).status_code == 418
    assert hostile.clients["gateai"].get("/_mock/health").status_code == 200


def test_a_pattern_re2_cannot_run_in_linear_time_is_refused(hostile: Hostile) -> None:
    rule = json.dumps({"match": {"prompt": "(a)\\1"}, "fault": {"type": "error", "status": 418}})
    response = create(hostile.clients["skytells"], PROMPT, **{"x-mock-scenario": rule})
    assert response.status_code == 400
    assert error_of("prediction", response.json()) == ("INVALID_SCENARIO", "X-Mock-Scenario")
    refused = hostile.clients["gateai"].post("/_mock/rules", json={"match": {"prompt": "(?<=a)b"},
                                                                   "fault": {"type": "error"}})
    assert refused.status_code == 400 and "RE2" in refused.json()["error"]["message"]


def test_prompt_rules_never_see_a_caller_without_a_valid_key(hostile: Hostile) -> None:
    rule = {"match": {"prompt": "^a+$"}, "fault": {"type": "error", "status": 418}}
    assert hostile.clients["skytells"].post("/_mock/rules", json=rule).status_code == 201
    base = str(hostile.clients["skytells"].base_url)
    for headers in ({}, {"x-api-key": "sk-not-a-known-key"}):
        with httpx.Client(base_url=base, headers=headers) as stranger:
            response = create(stranger, "a" * 40)
        assert response.status_code == 401, response.text  # not the rule's 418: the body was never parsed
    assert create(hostile.clients["skytells"], "a" * 40).status_code == 418
    fired = hostile.clients["skytells"].get("/_mock/rules").json()["data"][0]["fired"]
    assert fired == 1


def test_a_key_pasted_into_a_prompt_is_masked_in_the_journal(hostile: Hostile) -> None:
    assert create(hostile.clients["skytells"], f"leaked {OTHER_KEY} here").status_code == 201
    generated = hostile.clients["skytells"].post("/_mock/keys", json={}).json()["key"]
    hostile.clients["gateai"].post("/api/generate", json={"model": "m", "prompt": f"and {generated}"})
    journal = hostile.clients["skytells"].get("/_mock/requests")
    assert journal.status_code == 200
    text = journal.text
    for key in (KEY, OTHER_KEY, generated):
        assert key not in text
    assert mask_key(OTHER_KEY) in text and mask_key(generated) in text
    entry = journal.json()["data"][-1]
    assert hostile.clients["skytells"].get(f"/_mock/requests/{entry['id']}").text.count(OTHER_KEY) == 0


def test_the_journal_stays_readable_after_hostile_bodies(hostile: Hostile) -> None:
    client = hostile.clients["skytells"]
    for body in (b'{"input": {"x": NaN}}', b"[" * 1500 + b"]" * 1500, b'{"p": "\\ud800"}', b'"\xed\xa0\x80"'):
        client.post("/v1/predictions", content=body, headers={"content-type": "application/json"})
    journal = client.get("/_mock/requests")
    assert journal.status_code == 200
    bodies = [entry["request"]["body"] for entry in journal.json()["data"]]
    # refused JSON is shown as text (or, not being UTF-8, as a byte count), never re-parsed
    assert all(isinstance(body, str) or set(body) == {"bytes", "content_type"} for body in bodies), bodies
