"""Rules, scenarios, the request journal and keys across two mock servers on one real Redis (``--store redis://``).

The servers are the ``pair`` of :mod:`tests.integration.test_shared_instances` (two runtimes, each with its own
rule cache) and, once, two ``mockserver serve`` processes (its ``_serve``). What one is told, the next request to
the other obeys: a rule, a scenario, a budget spent, a key made or changed; the journal of requests to both is one,
and a per-key reset on one clears that key's entries for both.
"""

from __future__ import annotations

import httpx

from mockserver.settings import DEFAULT_API_KEY
from tests.conftest import KEY, OTHER_KEY
from tests.integration.test_shared_instances import _serve, client, control, pair, together

__all__ = ["pair"]  # the fixture, imported for this module's tests

ERROR = {"fault": {"type": "error", "status": 503}}
CREATE = {"model": "truefusion-pro", "input": {"prompt": "a fox"}}


def test_a_rule_added_on_one_fires_on_the_next_request_to_the_other(pair) -> None:
    one, other = pair
    with control(one) as mock_a, control(other) as mock_b, client(other, "skytells") as b:
        assert b.get("/models").status_code == 200
        made = mock_a.post("/rules", json={**ERROR, "match": {"route": "GET /v1/models"}, "id": "down"})
        assert made.status_code == 201, made.text
        assert b.get("/models").status_code == 503
        assert mock_b.get("/rules/down").json()["fired"] == 1
        assert mock_b.delete("/rules/down").status_code == 200
        assert b.get("/models").status_code == 200 and mock_a.get("/rules").json()["data"] == []


def test_a_rule_with_times_3_fires_exactly_3_times_over_both(pair) -> None:
    one, other = pair
    with control(one) as mock_a:
        assert mock_a.post("/faults", json={"type": "error", "status": 503, "times": 3}).status_code == 201
    clients = [client(server, "skytells") for server in (one, other) * 4]
    try:
        answers = together([lambda c=c: c.get("/models") for c in clients])
    finally:
        for c in clients:
            c.close()
    assert sorted(answer.status_code for answer in answers) == [200] * 5 + [503] * 3
    with control(other) as mock_b:
        assert mock_b.get("/rules").json()["data"][0] | {"fired": 3, "remaining": 0} == \
            mock_b.get("/rules").json()["data"][0]


def test_a_scenario_defined_on_one_is_used_by_a_request_to_the_other(pair) -> None:
    one, other = pair
    with control(one) as mock_a, client(other, "skytells") as b:
        scenario = [{"outcome": {"status": "failed", "error": "GPU on fire"}, "times": 1}]
        assert mock_a.put("/scenarios/gpu-fire", json=scenario).status_code == 201
        made = [b.post("/predictions", json=CREATE, headers={"x-mock-scenario": "gpu-fire"}) for _ in range(2)]
        assert [answer.status_code for answer in made] == [201, 201], made[0].text
        mock_a.post("/clock/advance", json={"seconds": 3600})
        ended = [b.get(f"/predictions/{answer.json()['id']}").json() for answer in made]
        assert ended[0]["status"] == "failed" and "GPU on fire" in str(ended[0]["response"])
        assert ended[1]["status"] == "succeeded"  # times: 1, spent on the other server's first request
        unknown = b.get("/models", headers={"x-mock-scenario": "nope"})
        assert unknown.status_code == 400 and "gpu-fire" in unknown.text


def test_the_journal_of_requests_to_both_is_read_from_either(pair) -> None:
    one, other = pair
    with client(one, "skytells") as a, client(other, "skytells", OTHER_KEY) as b, \
            control(one) as mock_a, control(other) as mock_b:
        made = [a.get("/models"), b.post("/predictions", json=CREATE), a.get("/models/nope")]
        for mock in (mock_a, mock_b):
            listed = mock.get("/requests").json()
            assert listed["total"] == 3 and [e["id"] for e in listed["data"]] == ["jr_3", "jr_2", "jr_1"]
            assert [e["status"] for e in listed["data"]] == [answer.status_code for answer in reversed(made)]
            assert mock.get("/requests", params={"key": OTHER_KEY}).json()["data"][0]["path"] == "/v1/predictions"
            assert mock.get("/requests/count", params={"status": "4xx"}).json() == {"count": 1}
        request_id = made[1].headers["x-request-id"]
        by_request = mock_a.get(f"/requests/{request_id}").json()
        assert by_request == mock_b.get("/requests/jr_2").json()
        assert by_request["request"]["body"] == CREATE and OTHER_KEY not in str(by_request)


def test_a_per_key_reset_on_one_clears_that_keys_journal_on_the_other(pair) -> None:
    one, other = pair
    with client(other, "skytells") as mine, client(other, "skytells", OTHER_KEY) as theirs, \
            control(one) as mock_a, control(other) as mock_b:
        mine.get("/models")
        theirs.get("/models")
        mine.post("/predictions", json=CREATE)
        assert mock_a.post("/reset", json={"key": KEY}).status_code == 200
        left = mock_b.get("/requests").json()["data"]
        assert [entry["request_id"] for entry in left] == [mock_b.get("/requests/jr_2").json()["request_id"]]
        assert mock_b.get("/requests", params={"key": KEY}).json()["total"] == 0
        assert mock_b.delete("/requests", params={"key": OTHER_KEY}).json() == {"deleted": 1}
        assert mock_a.get("/requests/count").json() == {"count": 0}


def test_a_key_made_or_changed_on_one_applies_on_the_other(pair) -> None:
    one, other = pair
    key = "sk-made-on-a-0001"
    with control(one) as mock_a, client(other, "skytells", key) as b:
        assert b.post("/predictions", json=CREATE).status_code == 401
        assert mock_a.post("/keys", json={"key": key, "credits": 50}).status_code == 201
        assert b.post("/predictions", json=CREATE).status_code == 201
        assert mock_a.patch(f"/keys/{key}", json={"suspended": True}).status_code == 200
        refused = b.post("/predictions", json=CREATE)
        assert refused.status_code == 401 and refused.json()["error_id"] == "ACCOUNT_SUSPENDED"
        assert mock_a.patch(f"/keys/{key}", json={"suspended": False, "credits": 0}).status_code == 200
        assert b.post("/predictions", json=CREATE).status_code == 402
        assert mock_a.delete(f"/keys/{key}").status_code == 200
        assert b.post("/predictions", json=CREATE).status_code == 401


def test_two_serve_processes_share_rules_and_the_journal(redis_store_url: str) -> None:
    first, base_a, control_a = _serve(redis_store_url)
    second, base_b, control_b = _serve(redis_store_url)
    auth = {"x-api-key": DEFAULT_API_KEY}
    try:
        rule = {**ERROR, "match": {"route": "GET /v1/models"}, "times": 2}
        assert httpx.post(control_a + "/rules", json=rule, timeout=10).status_code == 201
        codes = [httpx.get(base + "/models", headers=auth, timeout=10).status_code
                 for base in (base_b, base_a, base_b)]
        assert codes == [503, 503, 200]
        journal = httpx.get(control_b + "/requests", params={"order": "asc"}, timeout=10).json()
        assert [(e["status"], e["rules"]) for e in journal["data"]] == [(503, ["rule_1"]), (503, ["rule_1"]),
                                                                        (200, [])]
        assert journal == httpx.get(control_a + "/requests", params={"order": "asc"}, timeout=10).json()
    finally:
        for process in (second, first):
            process.terminate()
            process.wait(10)
