"""Scripted outcomes over real HTTP: rules from ``runtime.rules.add``, a named scenario, or inline
``X-Mock-Scenario`` JSON, seen through the official ``skytells`` and ``openai`` SDKs and plain httpx."""

from __future__ import annotations

import json
import time

import httpx
import pytest
import skytells
from openai import OpenAI
from skytells import SkytellsClient, SkytellsError

from mockserver.core.runtime import Runtime
from mockserver.gateai.tasks import HARD_LIMIT, TIMEOUT_ERROR
from mockserver.skytells.inference import tokens
from tests.conftest import KEY, OTHER_KEY, START
from tests.sdk_clock import redirect_skytells_sleeps

ERROR = "CUDA out of memory on the upstream GPU"
SCENARIO = "x-mock-scenario"


def inline(*rules: dict) -> dict[str, str]:
    """The ``X-Mock-Scenario`` header carrying rules inline as JSON."""
    return {SCENARIO: json.dumps(rules[0] if len(rules) == 1 else list(rules))}


def control(base_url: str, path: str, body: dict) -> dict:
    """A control-plane call on the port ``base_url`` belongs to (``…/v1`` stripped)."""
    response = httpx.post(base_url.removesuffix("/v1") + "/_mock" + path, json=body)
    assert response.status_code == 200, response.text
    return response.json()


@pytest.fixture
def clock_driven_sleep(monkeypatch: pytest.MonkeyPatch, runtime: Runtime) -> list[float]:
    """The skytells SDK polls with time.sleep(5): its sleeps advance the mock clock instead."""
    return redirect_skytells_sleeps(monkeypatch, runtime.clock)


def sdk(skytells_url: str, **headers: str) -> SkytellsClient:
    return SkytellsClient(KEY, base_url=skytells_url, timeout=30_000, headers=headers or None)


def balance(runtime: Runtime, key: str = KEY) -> float:
    return runtime.accounts.get(key).credits  # type: ignore[union-attr]


# -- Skytells predictions --------------------------------------------------------------------


def run_three(client: SkytellsClient) -> tuple[list[SkytellsError], skytells.Prediction]:
    """Run the same model three times; the first two are expected to fail."""
    failures = []
    for _ in range(2):
        with pytest.raises(SkytellsError) as caught:
            client.run("truefusion-pro", input={"prompt": "A red fox"}, on_progress=lambda p: None)
        failures.append(caught.value)
    return failures, client.run("truefusion-pro", input={"prompt": "A red fox"}, on_progress=lambda p: None)


def test_next_two_predictions_fail_then_one_succeeds_sdk_global_rule(skytells_url: str, runtime: Runtime,
                                                                      clock_driven_sleep: list[float]) -> None:
    rule = runtime.rules.add({"match": {"api": "skytells", "model": "truefusion-pro"},
                              "outcome": {"status": "failed", "error": ERROR}, "times": 2})
    before = balance(runtime)
    failures, third = run_three(sdk(skytells_url))
    assert [f.error_id for f in failures] == ["PREDICTION_FAILED"] * 2
    assert all(str(f) == ERROR for f in failures)  # run() raises with the prediction's ``response``
    assert third.status == "succeeded" and isinstance(third.output, list) and third.output[0].endswith(".webp")
    assert balance(runtime) == pytest.approx(before - 0.05)  # the two failures cost nothing
    assert rule.fired == 2 and rule.exhausted
    assert clock_driven_sleep  # it really polled through the lifecycle on the mock clock


def test_next_two_predictions_fail_in_a_named_scenario(skytells_url: str, runtime: Runtime,
                                                       clock_driven_sleep: list[float]) -> None:
    runtime.rules.set_scenario("flaky-gpu", [{"match": {"model": "truefusion-pro"},
                                              "outcome": {"status": "failed", "error": ERROR}, "times": 2}])
    plain = sdk(skytells_url).run("truefusion-pro", input={"prompt": "unaffected"}, on_progress=lambda p: None)
    assert plain.status == "succeeded"  # without the header the scenario does not apply
    failures, third = run_three(sdk(skytells_url, **{"X-Mock-Scenario": "flaky-gpu"}))
    assert [f.error_id for f in failures] == ["PREDICTION_FAILED"] * 2
    assert third.status == "succeeded"
    listed = sdk(skytells_url).predictions.list(model="truefusion-pro")
    failed = [p for p in listed.data if p["status"] == "failed"]
    assert len(listed.data) == 4 and len(failed) == 2
    assert all(p["error"] == ERROR and p["metadata"]["billing"]["credits_used"] == 0 for p in failed)


def test_inline_header_fails_that_request_only(skytells_url: str, runtime: Runtime,
                                               clock_driven_sleep: list[float]) -> None:
    scripted = sdk(skytells_url, **inline({"outcome": {"status": "failed", "error": ERROR}}))
    for _ in range(2):  # inline rules are parsed per request: every request carrying it fails
        with pytest.raises(SkytellsError) as caught:
            scripted.run("truefusion-pro", input={"prompt": "x"}, on_progress=lambda p: None)
        assert caught.value.error_id == "PREDICTION_FAILED"
    assert sdk(skytells_url).run("truefusion-pro", input={"prompt": "x"}, on_progress=lambda p: None).status \
        == "succeeded"


def test_a_prediction_takes_the_scripted_time(http: httpx.Client, runtime: Runtime) -> None:
    created = http.post("/predictions", json={"model": "veo-3.1", "input": {"prompt": "Waves"}},
                        headers=inline({"match": {"model": "veo-3.1"}, "outcome": {"duration": 90}}))
    assert created.status_code == 201 and created.json()["status"] == "pending"
    pid = created.json()["id"]
    seen = {}
    for point in (30.0, 89.0, 90.0):
        runtime.clock.advance(point - (runtime.clock.now() - START))
        seen[point] = http.get(f"/predictions/{pid}").json()
    assert seen[30.0]["status"] in ("starting", "processing")
    assert seen[89.0]["status"] == "processing" and seen[89.0]["output"] is None
    done = seen[90.0]
    assert done["status"] == "succeeded" and done["output"].endswith(".mp4")
    assert done["metrics"]["total_time"] == 90 and 0 < done["metrics"]["predict_time"] <= 90


def test_given_outputs_appear_verbatim(http: httpx.Client, runtime: Runtime) -> None:
    urls = ["https://cdn.example.com/fox-1.png", "https://cdn.example.com/fox-2.png"]
    runtime.rules.add({"match": {"route": "POST /v1/predictions", "prompt": "fox"},
                       "outcome": {"output": urls, "duration": 0}})
    body = http.post("/predictions", json={"model": "truefusion-pro", "input": {"prompt": "A fox"}}).json()
    assert body["status"] == "succeeded" and body["output"] == urls
    assert [f["url"] for f in body["metadata"]["storage"]["files"]] == urls
    assert body["metadata"]["storage"]["files"][0]["type"] == "image/png"
    assert body["metadata"]["billing"]["credits_used"] == pytest.approx(0.05)
    other = http.post("/predictions", json={"model": "truefusion-pro", "input": {"prompt": "A cat"}}).json()
    assert other["status"] == "pending"  # the prompt matcher left this one alone


def test_scripted_success_beats_the_safety_checker(http: httpx.Client) -> None:
    body = {"model": "truefusion-edge", "input": {"prompt": "an nsfw scene"}}
    assert http.post("/predictions", json=body).json()["status"] == "failed"
    forced = http.post("/predictions", json=body, headers=inline({"outcome": {"status": "succeeded"}})).json()
    assert forced["status"] == "succeeded" and forced["output"]


def test_a_video_prediction_runs_to_succeeded_through_the_clock_api(http: httpx.Client, skytells_url: str) -> None:
    began = time.perf_counter()
    created = http.post("/predictions", json={"model": "veo-3.1", "input": {"prompt": "waves at dusk"}},
                        headers=inline({"outcome": {"duration": 1800}}))
    pid = created.json()["id"]
    assert http.get(f"/predictions/{pid}").json()["status"] == "pending"
    control(skytells_url, "/clock/advance", {"seconds": 1799})
    assert http.get(f"/predictions/{pid}").json()["status"] == "processing"
    control(skytells_url, "/clock/advance", {"seconds": 1})
    done = http.get(f"/predictions/{pid}").json()
    elapsed = time.perf_counter() - began
    assert done["status"] == "succeeded" and done["metrics"]["total_time"] == 1800
    print(f"\nveo-3.1 prediction: 30 virtual minutes to succeeded in {elapsed * 1000:.1f} ms of real time")


# -- GateAI ----------------------------------------------------------------------------------


def generate(client: httpx.Client, model: str = "gpt-image-2", headers: dict | None = None,
             **params: object) -> dict:
    response = client.post("/api/generate", json={"model": model, "params": {"prompt": "a fox", **params}},
                           headers=headers or {})
    assert response.status_code == 200, response.text
    return response.json()


def task(client: httpx.Client, task_id: str) -> dict:
    return client.get(f"/get/{task_id}").json()


def test_gateai_task_fails_with_the_given_error(gateai: httpx.Client, runtime: Runtime) -> None:
    runtime.rules.add({"match": {"api": "gateai", "model": "gpt-image-2"},
                       "outcome": {"status": "failed", "error": "Provider quota exhausted", "duration": 12},
                       "times": 1})
    failing = generate(gateai)
    assert failing["status"] == "PROCESSING"
    runtime.clock.advance(12)
    body = task(gateai, failing["task_id"])
    assert body["status"] == "FAILED" and body["error"] == "Provider quota exhausted"
    assert body["refunded"] is True and body["cost"] == 0 and body["result"] == []
    runtime.clock.advance(60)
    assert task(gateai, generate(gateai)["task_id"])["status"] == "PROCESSING"  # the rule is spent


def test_gateai_task_takes_the_given_time_and_returns_the_given_result(gateai: httpx.Client,
                                                                       runtime: Runtime) -> None:
    given = ["https://cdn.example.com/a.png", "https://cdn.example.com/b.png"]
    created = generate(gateai, headers=inline({"outcome": {"duration": 75, "output": given}}))
    runtime.clock.advance(74)
    assert task(gateai, created["task_id"])["status"] == "PROCESSING"
    runtime.clock.advance(1)
    body = task(gateai, created["task_id"])
    assert body["status"] == "FINISHED" and body["result"] == given


def test_gateai_scripted_outcome_wins_over_the_header_hooks(gateai: httpx.Client, runtime: Runtime) -> None:
    headers = {**inline({"outcome": {"duration": 5}}), "x-mock-duration": "500", "x-mock-outcome": "FAILED"}
    created = generate(gateai, headers=headers)
    runtime.clock.advance(5)
    body = task(gateai, created["task_id"])
    assert body["status"] == "FAILED" and "upstream" in body["error"]  # duration from the rule, FAILED from the hook
    plain = generate(gateai, headers={"x-mock-duration": "20"})  # the shorthand alone still works
    runtime.clock.advance(20)
    assert task(gateai, plain["task_id"])["status"] == "FINISHED"


def test_gateai_40_minute_timeout_through_the_clock_api(gateai: httpx.Client, gateai_url: str,
                                                        runtime: Runtime) -> None:
    runtime.rules.set_scenario("stuck", [{"match": {"route": "POST /api/generate"}, "outcome": {"duration": 3600}}])
    began = time.perf_counter()
    created = generate(gateai, model="seedance-2.0", headers={"X-Mock-Scenario": "stuck"})
    control(gateai_url, "/clock/advance", {"seconds": 1200})
    refunded = task(gateai, created["task_id"])
    assert refunded["status"] == "PROCESSING" and refunded["refunded"] is True
    control(gateai_url, "/clock/advance", {"seconds": HARD_LIMIT - 1200})
    body = task(gateai, created["task_id"])
    elapsed = time.perf_counter() - began
    assert body["status"] == "FAILED" and body["error"] == TIMEOUT_ERROR and body["cost"] == 0
    print(f"\nGateAI 40-minute timeout reached in {elapsed * 1000:.1f} ms of real time")


# -- Inference -------------------------------------------------------------------------------


@pytest.fixture
def openai_client(skytells_url: str) -> OpenAI:
    return OpenAI(api_key=KEY, base_url=skytells_url, max_retries=0)


REPLY = "Paris is the capital of France. It sits on the Seine."


def test_chat_replies_with_the_scripted_text_plain_and_streamed(openai_client: OpenAI, runtime: Runtime) -> None:
    runtime.rules.add({"match": {"route": "POST /v1/chat/completions"}, "outcome": {"reply": REPLY}})
    messages = [{"role": "user", "content": "What is the capital of France?"}]
    before = balance(runtime)
    completion = openai_client.chat.completions.create(model="deepbrain-router", messages=messages)
    assert completion.choices[0].message.content == REPLY and completion.choices[0].finish_reason == "stop"
    assert completion.usage.completion_tokens == tokens.count_tokens(REPLY)
    cost = completion.usage.prompt_tokens * 0.5e-6 + completion.usage.completion_tokens * 1.25e-6
    assert balance(runtime) == pytest.approx(before - cost, abs=1e-9)
    chunks = list(openai_client.chat.completions.create(model="deepbrain-router", messages=messages, stream=True,
                                                        stream_options={"include_usage": True}))
    assert "".join(c.choices[0].delta.content or "" for c in chunks if c.choices) == REPLY
    assert chunks[-1].usage.completion_tokens == tokens.count_tokens(REPLY)
    short = openai_client.chat.completions.create(model="deepbrain-router", messages=messages, max_tokens=3)
    assert short.choices[0].message.content == "Paris is the" and short.choices[0].finish_reason == "length"
    stopped = openai_client.chat.completions.create(model="deepbrain-router", messages=messages, stop=[" It"])
    assert stopped.choices[0].message.content == "Paris is the capital of France."


def test_chat_inline_header_reply(openai_client: OpenAI) -> None:
    completion = openai_client.chat.completions.create(
        model="gpt-5", messages=[{"role": "user", "content": "Hi"}],
        extra_headers=inline({"outcome": {"reply": "Scripted hello."}}))
    assert completion.choices[0].message.content == "Scripted hello."


def test_chat_replies_sequence_over_three_turns(openai_client: OpenAI, runtime: Runtime) -> None:
    replies = ["First answer.", "Second answer.", "Third answer."]
    runtime.rules.add({"match": {"route": "/v1/chat/*"}, "outcome": {"replies": replies}})
    messages: list[dict] = []
    got = []
    for question in ("One?", "Two?", "Three?"):
        messages.append({"role": "user", "content": question})
        reply = openai_client.chat.completions.create(model="gpt-5", messages=messages).choices[0].message.content
        messages.append({"role": "assistant", "content": reply})
        got.append(reply)
    assert got == replies
    fourth = openai_client.chat.completions.create(model="gpt-5", messages=messages).choices[0].message.content
    assert fourth not in replies  # the sequence is used up: generated text again


def test_responses_replies_sequence_with_previous_response_id(openai_client: OpenAI, runtime: Runtime) -> None:
    replies = ["Turn one.", "Turn two.", "Turn three."]
    runtime.rules.set_scenario("chat-story", [{"match": {"route": "POST /v1/responses"},
                                               "outcome": {"replies": replies}}])
    headers = {"X-Mock-Scenario": "chat-story"}
    previous = None
    turns = []
    for index, question in enumerate(("Start.", "Go on.", "Finish.")):
        stream = index == 1  # the middle turn is streamed
        kwargs = {"previous_response_id": previous} if previous else {}
        if stream:
            events = list(openai_client.responses.create(model="gpt-5", input=question, stream=True,
                                                         extra_headers=headers, **kwargs))
            assert "".join(e.delta for e in events if e.type == "response.output_text.delta") == replies[index]
            response = events[-1].response
        else:
            response = openai_client.responses.create(model="gpt-5", input=question, extra_headers=headers, **kwargs)
        turns.append(response)
        previous = response.id
    assert [t.output_text for t in turns] == replies
    last = turns[-1]
    replayed = tokens.count_all(["Start.", "Turn one.", "Go on.", "Turn two."])
    assert last.usage.input_tokens_details.cached_tokens == replayed
    assert last.usage.output_tokens == tokens.count_tokens("Turn three.")
    assert openai_client.responses.retrieve(turns[1].id).output_text == "Turn two."


def test_prompt_regex_picks_the_rule(openai_client: OpenAI, runtime: Runtime) -> None:
    runtime.rules.add({"match": {"prompt": r"(?i)\bweather\b"}, "outcome": {"reply": "Sunny, 24 degrees."}})
    runtime.rules.add({"match": {"prompt": r"(?i)capital of \w+"}, "outcome": {"reply": "Paris."}})

    def ask(text: str) -> str:
        return openai_client.chat.completions.create(
            model="gpt-5", messages=[{"role": "user", "content": text}]).choices[0].message.content

    assert ask("What's the WEATHER today?") == "Sunny, 24 degrees."
    assert ask("What is the capital of France?") == "Paris."
    assert ask("Tell me a story") not in ("Sunny, 24 degrees.", "Paris.")
    response = openai_client.responses.create(model="gpt-5", input="weather in Lyon?")
    assert response.output_text == "Sunny, 24 degrees."


def test_key_matcher_isolates_two_keys(skytells_url: str, runtime: Runtime) -> None:
    runtime.rules.add({"match": {"key": KEY}, "outcome": {"reply": "Only for the owner."}})
    mine = OpenAI(api_key=KEY, base_url=skytells_url, max_retries=0)
    theirs = OpenAI(api_key=OTHER_KEY, base_url=skytells_url, max_retries=0)
    messages = [{"role": "user", "content": "Hello"}]
    assert mine.chat.completions.create(model="gpt-5", messages=messages).choices[0].message.content \
        == "Only for the owner."
    assert theirs.chat.completions.create(model="gpt-5", messages=messages).choices[0].message.content \
        != "Only for the owner."
    runtime.rules.add({"match": {"key": OTHER_KEY, "model": "truefusion-pro"},
                       "outcome": {"status": "failed", "error": ERROR, "duration": 0}})
    with httpx.Client(base_url=skytells_url, timeout=30) as raw:
        body = {"model": "truefusion-pro", "input": {"prompt": "x"}}
        other = raw.post("/predictions", json=body, headers={"x-api-key": OTHER_KEY}).json()
        owner = raw.post("/predictions", json=body, headers={"x-api-key": KEY}).json()
    assert other["status"] == "failed" and other["error"] == ERROR
    assert owner["status"] == "pending"
