"""Injected faults and rule selection over real HTTP, each observed by a real client.

The ``openai`` SDK's retry sleeps are redirected to the mock clock (and recorded), so nothing
here sleeps; only the ``latency`` fault costs real time (a fraction of a second, by design).
"""

from __future__ import annotations

import json
import threading
import time as real_time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor

import httpx
import openai
import openai._base_client
import pytest
from openai import OpenAI
from skytells import SkytellsClient, SkytellsError

from mockserver.server import ServerThread
from tests.conftest import KEY, OTHER_KEY, make_settings
from tests.sdk_clock import redirect_openai_sleeps

MESSAGES = [{"role": "user", "content": "Tell me about red foxes"}]
CHAT_ROUTE = {"route": "POST /v1/chat/completions"}


@pytest.fixture
def admin(skytells_url: str) -> Iterator[httpx.Client]:
    """The control plane (on the Skytells port; both ports share one runtime)."""
    with httpx.Client(base_url=skytells_url.removesuffix("/v1") + "/_mock", timeout=10) as client:
        yield client


def add(admin: httpx.Client, path: str, body: object) -> dict:
    response = admin.post(path, json=body)
    assert response.status_code == 201, response.text
    return response.json()


@pytest.fixture
def sdk_sleeps(monkeypatch: pytest.MonkeyPatch, runtime) -> list[float]:
    """``openai._base_client`` sleeps with ``time.sleep`` between retries: record it, advance the mock clock."""
    return redirect_openai_sleeps(monkeypatch, runtime.clock)


def sdk(url: str, retries: int = 2) -> OpenAI:
    return OpenAI(api_key=KEY, base_url=url, max_retries=retries)


# -- the openai SDK: retries on scripted errors --------------------------------------------


def test_openai_retries_a_scripted_429_after_retry_after_and_succeeds(
        admin: httpx.Client, skytells_url: str, sdk_sleeps: list[float], runtime) -> None:
    rule = add(admin, "/faults", {"type": "rate_limit", "retry_after": 3.5, "times": 2, "match": CHAT_ROUTE})
    start = runtime.clock.now()
    completion = sdk(skytells_url).chat.completions.create(model="gpt-5", messages=MESSAGES)
    assert completion.choices[0].message.content
    assert sdk_sleeps == [3.5, 3.5]  # retry-after-ms (exact) is what the SDK honours
    assert runtime.clock.now() - start == pytest.approx(7.0)
    spent = admin.get(f"/rules/{rule['id']}").json()
    assert (spent["fired"], spent["remaining"]) == (2, 0)


def test_openai_raises_rate_limit_error_when_retries_run_out(
        admin: httpx.Client, skytells_url: str, sdk_sleeps: list[float]) -> None:
    add(admin, "/faults", {"type": "rate_limit", "retry_after": 2, "match": CHAT_ROUTE})
    with pytest.raises(openai.RateLimitError) as caught:
        sdk(skytells_url, retries=1).chat.completions.create(model="gpt-5", messages=MESSAGES)
    assert sdk_sleeps == [2.0]
    response = caught.value.response
    assert response.headers["retry-after"] == "2" and response.headers["retry-after-ms"] == "2000"
    assert response.headers["x-request-id"].startswith("req_")
    error = response.json()["error"]
    assert error["error_id"] == "RATE_LIMIT_EXCEEDED" and error["type"] == "rate_limit_error"
    assert error["code"] == "rate_limit_exceeded" and error["request_id"] == response.headers["x-request-id"]
    assert "scripted by mock rule rule_1" in error["message"]


def test_openai_retries_a_scripted_503_and_succeeds_when_the_rule_runs_out(
        admin: httpx.Client, skytells_url: str, sdk_sleeps: list[float]) -> None:
    add(admin, "/faults", {"type": "error", "status": 503, "times": 2, "match": CHAT_ROUTE})
    completion = sdk(skytells_url).chat.completions.create(model="gpt-5", messages=MESSAGES)
    assert completion.choices[0].message.content
    assert len(sdk_sleeps) == 2 and all(0 < s <= 8 for s in sdk_sleeps)  # the SDK's own backoff


def test_openai_raises_internal_server_error_when_retries_run_out(
        admin: httpx.Client, skytells_url: str, sdk_sleeps: list[float]) -> None:
    add(admin, "/faults", {"type": "error", "status": 503, "message": "GPU pool drained", "match": CHAT_ROUTE})
    with pytest.raises(openai.InternalServerError) as caught:
        sdk(skytells_url).chat.completions.create(model="gpt-5", messages=MESSAGES)
    assert caught.value.status_code == 503 and len(sdk_sleeps) == 2
    error = caught.value.body
    assert error["message"] == "GPU pool drained" and error["error_id"] == "INTERNAL_ERROR"
    assert error["type"] == "server_error"


# -- the skytells SDK ------------------------------------------------------------------------


def test_skytells_sdk_surfaces_a_scripted_error_id(admin: httpx.Client, skytells_url: str, http: httpx.Client) -> None:
    # the SDK creates predictions with POST /v1/predict; the glob covers /v1/predictions too
    add(admin, "/faults", {"type": "error", "status": 402, "error_id": "INSUFFICIENT_CREDITS",
                           "match": {"route": "POST /v1/predict*"}})
    client = SkytellsClient(KEY, base_url=skytells_url, timeout=30_000)
    with pytest.raises(SkytellsError) as caught:
        client.predict({"model": "truefusion-pro", "input": {"prompt": "A red fox"}})
    assert caught.value.error_id == "INSUFFICIENT_CREDITS" and caught.value.http_status == 402
    assert "Payment Required" in str(caught.value)
    assert http.get("/predictions").json()["data"] == []  # the app was never called
    assert client.models.get("truefusion-pro")["namespace"] == "truefusion-pro"  # other routes unaffected


# -- cut streams ---------------------------------------------------------------------------


def test_openai_stream_cut_after_two_events_raises(admin: httpx.Client, skytells_url: str) -> None:
    add(admin, "/faults", {"type": "sse_cut", "after_events": 2, "times": 1})
    client = sdk(skytells_url, retries=0)
    received = []
    with pytest.raises(openai.APIConnectionError):
        for chunk in client.chat.completions.create(model="gpt-5", messages=MESSAGES, stream=True):
            received.append(chunk)
    assert len(received) == 2 and received[0].choices[0].delta.role == "assistant"
    whole = list(client.chat.completions.create(model="gpt-5", messages=MESSAGES, stream=True))
    assert len(whole) > 2  # the rule ran out: the next stream is whole


def test_prediction_stream_cut_raises_in_httpx(admin: httpx.Client, http: httpx.Client) -> None:
    created = http.post("/predictions", json={"model": "truefusion-pro", "input": {"prompt": "A fox"}}).json()
    add(admin, "/faults", {"type": "sse_cut", "after_events": 1,
                           "match": {"route": "GET /v1/predictions/{id}/stream"}})
    lines = []
    stream = http.stream("GET", f"/predictions/{created['id']}/stream", headers={"accept": "text/event-stream"},
                         timeout=10)
    with pytest.raises(httpx.RemoteProtocolError, match="incomplete chunked read"), stream as response:
        assert response.status_code == 200
        lines.extend(response.iter_lines())
    events = [line for line in lines if line.startswith("event:")]
    assert events == ["event: prediction"]
    data = json.loads(next(line for line in lines if line.startswith("data:"))[5:])
    assert data["id"] == created["id"] and data["status"] == "pending"


def test_sse_cut_leaves_a_plain_json_answer_alone(admin: httpx.Client, http: httpx.Client) -> None:
    add(admin, "/faults", {"type": "sse_cut", "after_events": 0})
    response = http.post("/chat/completions", json={"model": "gpt-5", "messages": MESSAGES})
    assert response.status_code == 200 and response.json()["object"] == "chat.completion"


def test_sse_cut_after_zero_events_sends_only_the_headers(admin: httpx.Client, http: httpx.Client) -> None:
    add(admin, "/faults", {"type": "sse_cut"})
    stream = http.stream("POST", "/chat/completions", json={"model": "gpt-5", "messages": MESSAGES, "stream": True})
    with pytest.raises(httpx.RemoteProtocolError), stream as response:
        assert response.status_code == 200
        assert response.headers["content-type"].startswith("text/event-stream")
        response.read()


# -- dropped connections -------------------------------------------------------------------


@pytest.mark.uvicorn_only
def test_reset_is_a_connection_reset_in_httpx(admin: httpx.Client, http: httpx.Client) -> None:
    add(admin, "/faults", {"type": "reset", "times": 1})
    with pytest.raises(httpx.ReadError) as caught:
        http.get("/models")
    assert "reset" in str(caught.value).lower()
    assert http.get("/models").status_code == 200  # the client reconnects; the rule is spent


@pytest.mark.uvicorn_only
def test_empty_is_a_disconnect_without_a_response_in_httpx(admin: httpx.Client, http: httpx.Client) -> None:
    add(admin, "/faults", {"type": "empty", "times": 1, "match": {"route": "POST /v1/predictions"}})
    with pytest.raises(httpx.RemoteProtocolError, match="without sending a response"):
        http.post("/predictions", json={"model": "truefusion-pro", "input": {"prompt": "A fox"}})
    assert http.get("/predictions").json()["data"] == []  # dropped before the app saw it


@pytest.mark.uvicorn_only
@pytest.mark.parametrize("kind", ["reset", "empty"])
def test_openai_raises_api_connection_error_when_retries_run_out(
        admin: httpx.Client, skytells_url: str, sdk_sleeps: list[float], kind: str) -> None:
    add(admin, "/faults", {"type": kind, "match": CHAT_ROUTE})
    with pytest.raises(openai.APIConnectionError):
        sdk(skytells_url).chat.completions.create(model="gpt-5", messages=MESSAGES)
    assert len(sdk_sleeps) == 2
    rules = admin.get("/rules").json()["data"]
    assert rules[0]["fired"] == 3  # the first try and two retries


@pytest.mark.uvicorn_only
def test_openai_retries_through_a_reset(admin: httpx.Client, skytells_url: str, sdk_sleeps: list[float]) -> None:
    add(admin, "/faults", {"type": "reset", "times": 1, "match": CHAT_ROUTE})
    assert sdk(skytells_url).chat.completions.create(model="gpt-5", messages=MESSAGES).choices
    assert len(sdk_sleeps) == 1


# -- latency -------------------------------------------------------------------------------


def test_latency_delays_the_answer_in_real_time(admin: httpx.Client, http: httpx.Client, runtime) -> None:
    add(admin, "/faults", {"type": "latency", "latency_ms": 150, "match": {"route": "GET /v1/models"}})
    clock_before = runtime.clock.now()
    started = real_time.monotonic()
    response = http.get("/models")
    assert real_time.monotonic() - started >= 0.15
    assert response.status_code == 200 and len(response.json()) == 39
    assert runtime.clock.now() == clock_before  # real time only: the mock clock does not move


# -- GateAI: the same faults in its own format ---------------------------------------------


def test_gateai_error_fault_in_its_format(admin: httpx.Client, gateai: httpx.Client) -> None:
    add(admin, "/faults", {"type": "error", "status": 503, "match": {"api": "gateai"}})
    response = gateai.get("/credits")
    body = response.json()
    assert response.status_code == 503 and body["code"] == "INTERNAL_ERROR"
    assert body["error"] == "Service Unavailable (HTTP 503 scripted by mock rule rule_1)"
    assert body["request_id"] == response.headers["x-request-id"]
    assert set(body) == {"error", "code", "request_id"}


def test_gateai_rate_limit_fault_in_its_format(admin: httpx.Client, gateai: httpx.Client) -> None:
    add(admin, "/faults", {"type": "rate_limit", "retry_after": 12.2, "match": {"route": "POST /api/generate"}})
    response = gateai.post("/api/generate", json={"model": "seedance-2.0", "type": "video",
                                                  "params": {"prompt": "Waves"}})
    assert response.status_code == 429
    assert response.headers["retry-after"] == "13" and response.headers["retry-after-ms"] == "12200"
    body = response.json()
    assert body["code"] == "RATE_LIMITED" and body["details"] == {"retry_after": 13}
    assert gateai.get("/credits").json()["your_budget"]["used"] == 0  # nothing was generated


@pytest.mark.uvicorn_only
def test_gateai_scripted_error_id_and_dropped_connections(admin: httpx.Client, gateai: httpx.Client) -> None:
    add(admin, "/faults", {"type": "error", "status": 402, "error_id": "BUDGET_EXCEEDED", "message": "Spent",
                           "times": 1})
    add(admin, "/faults", {"type": "reset", "times": 1})
    add(admin, "/faults", {"type": "empty", "times": 1})
    response = gateai.get("/credits")
    assert (response.status_code, response.json()["code"], response.json()["error"]) == (402, "BUDGET_EXCEEDED",
                                                                                         "Spent")
    with pytest.raises(httpx.ReadError):
        gateai.get("/credits")
    with pytest.raises(httpx.RemoteProtocolError):
        gateai.get("/credits")
    assert gateai.get("/credits").status_code == 200


def test_gateai_me_matches_the_key_from_the_query(admin: httpx.Client, gateai_url: str) -> None:
    add(admin, "/faults", {"type": "error", "status": 500, "match": {"key": OTHER_KEY}})
    assert httpx.get(f"{gateai_url}/api/me", params={"key": KEY}).status_code == 200
    assert httpx.get(f"{gateai_url}/api/me", params={"key": OTHER_KEY}).status_code == 500


# -- matching real requests ----------------------------------------------------------------


def test_rules_match_template_model_prompt_and_key_of_real_requests(admin: httpx.Client, http: httpx.Client,
                                                                   skytells_url: str) -> None:
    add(admin, "/rules", {"rules": [
        {"match": {"route": "GET /v1/predictions/{id}"}, "fault": {"type": "error", "status": 500}},
        {"match": {"model": "truefusion-*", "prompt": "(?i)wolf"}, "fault": {"type": "error", "status": 422}},
        {"match": {"key": OTHER_KEY, "api": "skytells"}, "fault": {"type": "error", "status": 418}},
    ]})
    fox = http.post("/predictions", json={"model": "truefusion-pro", "input": {"prompt": "A fox"}})
    assert fox.status_code == 201 and fox.json()["input"]["prompt"] == "A fox"  # the body reached the app intact
    wolf = http.post("/predictions", json={"model": "truefusion-pro", "input": {"prompt": "A grey Wolf"}})
    assert wolf.status_code == 422
    assert http.get(f"/predictions/{fox.json()['id']}").status_code == 500
    assert http.get("/predictions").status_code == 200  # the template needs an id
    other = httpx.get(f"{skytells_url}/models", headers={"authorization": f"Bearer {OTHER_KEY}"})
    assert other.status_code == 418
    listed = {rule["id"]: rule["fired"] for rule in admin.get("/rules").json()["data"]}
    assert listed == {"rule_1": 1, "rule_2": 1, "rule_3": 1}


def test_a_body_over_the_limit_passes_through_unparsed() -> None:
    with ServerThread(make_settings(max_body_bytes=300)) as small:
        small.runtime.rules.add({"match": {"model": "truefusion-*"}, "fault": {"type": "error", "status": 503}})
        url = small.urls["skytells"]
        body = {"model": "truefusion-pro", "input": {"prompt": "A fox " * 100}}
        response = httpx.post(f"{url}/predictions", json=body, headers={"x-api-key": KEY})
        assert response.status_code == 413  # the app's own answer: the rule could not see the model
        short = httpx.post(f"{url}/predictions", json={"model": "truefusion-pro", "input": {"prompt": "A fox"}},
                           headers={"x-api-key": KEY})
        assert short.status_code == 503


def test_single_port_mode_matches_paths_below_the_mount() -> None:
    with ServerThread(make_settings(single_port=True)) as combined:
        combined.runtime.rules.add({"match": {"route": "GET /v1/models", "api": "gateai"},
                                    "fault": {"type": "error", "status": 503}})
        assert httpx.get(f"{combined.urls['gateai']}/v1/models").status_code == 503
        skytells = httpx.get(f"{combined.urls['skytells']}/models", headers={"x-api-key": KEY})
        assert skytells.status_code == 200


# -- scenarios -----------------------------------------------------------------------------


def test_scenarios_isolate_concurrent_clients(admin: httpx.Client, skytells_url: str) -> None:
    assert admin.put("/scenarios/broken", json=[{"fault": {"type": "error", "status": 503}}]).status_code == 201
    assert admin.put("/scenarios/broke", json={"rules": [
        {"fault": {"type": "error", "status": 402, "error_id": "INSUFFICIENT_CREDITS"}}]}).status_code == 201
    start = threading.Barrier(3)

    def client(scenario: str | None) -> set[int]:
        headers = {"x-api-key": KEY} | ({"X-Mock-Scenario": scenario} if scenario else {})
        with httpx.Client(base_url=skytells_url, headers=headers, timeout=10) as session:
            start.wait()
            return {session.get("/models").status_code for _ in range(25)}

    with ThreadPoolExecutor(3) as pool:
        results = list(pool.map(client, ["broken", "broke", None]))
    assert results == [{503}, {402}, {200}]
    scenarios = {s["name"]: s["rules"][0]["fired"] for s in admin.get("/scenarios").json()["data"]}
    assert scenarios == {"broken": 25, "broke": 25}


def test_inline_scenario_header(http: httpx.Client) -> None:
    inline = json.dumps({"fault": {"type": "error", "status": 504}, "match": {"route": "GET /v1/models"}})
    assert http.get("/models", headers={"X-Mock-Scenario": inline}).status_code == 504
    assert http.get("/models").status_code == 200


def test_an_invalid_scenario_header_is_a_400_in_each_apis_format(
        admin: httpx.Client, http: httpx.Client, gateai: httpx.Client, skytells_url: str) -> None:
    admin.put("/scenarios/known", json=[])
    prediction = http.get("/predictions", headers={"X-Mock-Scenario": "unknown"})
    assert prediction.status_code == 400
    body = prediction.json()
    assert body["error_id"] == "INVALID_SCENARIO" and body["error"]["param"] == "X-Mock-Scenario"
    assert body["message"] == "X-Mock-Scenario names an unknown scenario 'unknown' (known: known)"
    client = OpenAI(api_key=KEY, base_url=skytells_url, max_retries=0,
                    default_headers={"X-Mock-Scenario": '{"fault": "nope"}'})
    with pytest.raises(openai.BadRequestError) as caught:
        client.chat.completions.create(model="gpt-5", messages=MESSAGES)
    assert caught.value.code == "invalid_scenario" and caught.value.param == "X-Mock-Scenario"
    assert "fault.type must be one of" in caught.value.message
    gate = gateai.get("/credits", headers={"X-Mock-Scenario": "[1]"})
    assert gate.status_code == 400
    assert gate.json() | {"request_id": None} == {"error": "a rule must be a JSON object", "code": "INVALID_SCENARIO",
                                                  "param": "X-Mock-Scenario", "request_id": None}


# -- the control plane is never faulted ----------------------------------------------------


@pytest.mark.uvicorn_only
def test_mock_routes_are_never_faulted(admin: httpx.Client, skytells_url: str, gateai_url: str) -> None:
    add(admin, "/faults", {"type": "reset"})
    for base in (skytells_url.removesuffix("/v1"), gateai_url):
        headers = {"X-Mock-Scenario": "no-such-scenario"}
        assert httpx.get(f"{base}/_mock/health", headers=headers).status_code == 200
        assert httpx.get(f"{base}/_mock/clock", headers=headers).status_code == 200
        assert httpx.get(f"{base}/_mock/rules").json()["data"][0]["fired"] == 0
    with pytest.raises(httpx.ReadError):
        httpx.get(f"{gateai_url}/v1/models")


# -- the control plane's rule routes -------------------------------------------------------


@pytest.mark.uvicorn_only
def test_rule_routes_create_list_get_delete(admin: httpx.Client) -> None:
    one = add(admin, "/rules", {"id": "flaky", "match": CHAT_ROUTE, "fault": {"type": "error", "status": 503},
                                "times": 2})
    assert one == {"id": "flaky", "match": CHAT_ROUTE, "fault": {"type": "error", "status": 503}, "times": 2,
                   "probability": 1.0, "fired": 0, "remaining": 2}
    many = add(admin, "/rules", [{"outcome": {"reply": "hi"}}, {"fault": "reset", "scenario": "s"}])
    assert [r["id"] for r in many["data"]] == ["rule_1", "rule_2"] and many["count"] == 2
    fault = add(admin, "/faults", {"type": "latency", "latency_ms": 5, "probability": 0.5, "seed": 9})
    assert fault["fault"] == {"type": "latency", "latency_ms": 5.0} and fault["seed"] == 9
    outcome = add(admin, "/outcomes", {"status": "failed", "error": "GPU on fire", "match": {"model": "flux-*"}})
    assert outcome["outcome"] == {"status": "failed", "error": "GPU on fire"}
    listed = admin.get("/rules").json()
    assert listed["count"] == 5 and [r["id"] for r in listed["data"]][-1] == "rule_2"  # scenario rules last
    assert admin.get("/rules/flaky").json()["remaining"] == 2
    assert admin.delete("/rules/flaky").json() == {"id": "flaky", "deleted": True}
    missing = admin.get("/rules/flaky")
    assert missing.status_code == 404 and "GET /_mock/rules lists them" in missing.json()["error"]["message"]
    assert admin.delete("/rules").json() == {"deleted": 4, "scenarios_deleted": 1}
    assert admin.get("/rules").json() == {"data": [], "count": 0}


@pytest.mark.uvicorn_only
def test_scenario_routes(admin: httpx.Client) -> None:
    created = admin.put("/scenarios/slow", json={"rules": [{"fault": {"type": "latency", "latency_ms": 1}}]})
    assert created.status_code == 201 and created.json()["name"] == "slow"
    replaced = admin.put("/scenarios/slow", json=[{"fault": "empty"}, {"outcome": {"replies": ["a", "b"]}}])
    assert replaced.status_code == 200 and [r.get("fault") for r in replaced.json()["rules"]] == [
        {"type": "empty"}, None]
    assert admin.get("/scenarios/slow").json()["rules"][1]["outcome"] == {"replies": ["a", "b"]}
    assert admin.get("/scenarios").json()["count"] == 1
    assert admin.delete("/scenarios/slow").json() == {"name": "slow", "deleted": True}
    assert admin.get("/scenarios/slow").status_code == 404 and admin.delete("/scenarios/slow").status_code == 404


@pytest.mark.parametrize(("method", "path", "body", "message"), [
    ("POST", "/rules", None, "a JSON body is required"),
    ("POST", "/rules", "{", "body is not valid JSON"),
    ("POST", "/rules", {"fault": {"type": "boom"}}, "fault.type must be one of"),
    ("POST", "/rules", {"rules": [{"fault": "sse_cut"}, {"fault": "nope"}]}, "rules[1]: fault.type must be one of"),
    ("POST", "/rules", {"rules": "all"}, "rules must be an array of rules"),
    ("POST", "/faults", {"type": "error", "status": 700}, "fault.status must be an HTTP error status"),
    ("POST", "/faults", [1], "body must be a JSON object"),
    ("POST", "/outcomes", {"status": "exploded"}, "outcome.status must be succeeded or failed"),
    ("PUT", "/scenarios/x", {"fault": "reset"}, 'body must be an array of rules or {"rules": [...]}'),
    ("PUT", "/scenarios/x", [{"fault": "reset", "times": -1}], "rules[0]: times must be a positive integer"),
    ("PUT", "/scenarios/%7Bx", [], "cannot start with '{'"),
])
def test_rule_routes_refuse_bad_input_clearly(admin: httpx.Client, method: str, path: str, body: object,
                                              message: str) -> None:
    content = body if isinstance(body, str) else (None if body is None else json.dumps(body))
    response = admin.request(method, path, content=content, headers={"content-type": "application/json"})
    assert response.status_code == 400, response.text
    assert message in response.json()["error"]["message"]
    assert admin.get("/rules").json()["count"] == 0  # nothing half-added
