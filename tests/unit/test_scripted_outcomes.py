"""Scripted outcomes applied by each domain, with the :class:`ScriptedResult` passed in directly."""

from __future__ import annotations

import pytest

from mockserver.core.rules.model import ScriptedResult
from mockserver.core.runtime import Runtime
from mockserver.gateai.generate_body import parse_request
from mockserver.gateai.routes import combined_outcome
from mockserver.gateai.task_views import TaskViews
from mockserver.gateai.tasks import FAILED, FINISHED, HARD_LIMIT, PROCESSING, TIMEOUT_ERROR, UPSTREAM_ERROR, Tasks
from mockserver.skytells.catalog import Catalog
from mockserver.skytells.inference import chat, response_views, responses, tokens
from mockserver.skytells.inference.generation import generate
from mockserver.skytells.inference.text import Message
from mockserver.skytells.prediction_body import parse_create
from mockserver.skytells.prediction_views import given_files
from mockserver.skytells.predictions import SCRIPTED_ERROR, Predictions
from mockserver.skytells.routes import links_for
from tests.conftest import KEY, START, make_settings

CATALOG = Catalog.load()
BASE = "http://mock.test/v1"
LINKS = links_for(BASE)
SCRIPT = "Paris is the capital of France. It sits on the Seine."


@pytest.fixture
def runtime() -> Runtime:
    return Runtime.from_settings(make_settings())


@pytest.fixture
def predictions(runtime: Runtime) -> Predictions:
    return Predictions(runtime, CATALOG)


def balance(runtime: Runtime) -> float:
    return runtime.accounts.get(KEY).credits  # type: ignore[union-attr]


def create(predictions: Predictions, model: str = "truefusion-pro", prompt: str = "A red fox",
           outcome: ScriptedResult | None = None, **extra: object) -> dict:
    request = parse_create({"model": model, "input": {"prompt": prompt, **extra}}, CATALOG)
    return predictions.create(KEY, request, outcome)


def view_at(predictions: Predictions, record: dict, offset: float) -> dict:
    return predictions.views.view(record, LINKS, now=START + offset)


# -- Skytells predictions ------------------------------------------------------------------


def test_a_prediction_stored_without_recipes_shows_no_files(predictions: Predictions) -> None:
    """A succeeded prediction an older version left in a persistent store (no ``file_specs``, a plain dict as a
    shared store reads it back) is shown with its status, and no files."""
    old = {key: value for key, value in create(predictions).full().items() if key != "file_specs"}
    shown = view_at(predictions, old, 1000)
    assert shown["status"] == "succeeded" and shown["output"] == [] and shown["metadata"]["storage"]["files"] == []
    assert shown["metrics"]["image_count"] == 0 and predictions.engine.output_names(old) == []


def test_no_outcome_keeps_the_seeded_behaviour(predictions: Predictions) -> None:
    record = create(predictions)
    assert record["given_output"] is None and record["outcome"] == "succeeded" and record["file_specs"]
    again = create(predictions, outcome=ScriptedResult())
    assert again["outcome"] == "succeeded" and again["file_specs"] and again["given_output"] is None
    assert predictions.timeline(again)[-1][1] > START  # the seeded schedule, not collapsed


@pytest.mark.parametrize("model", ["truefusion-pro", "veo-3.1", "beatfusion-2.0"])
def test_duration_fixes_the_time_to_the_terminal_state(predictions: Predictions, model: str) -> None:
    given = {"lyrics": "[verse]\nla la"} if model == "beatfusion-2.0" else {"prompt": "Waves"}
    request = parse_create({"model": model, "input": given}, CATALOG)
    record = predictions.create(KEY, request, ScriptedResult(duration=42.5))
    line = predictions.timeline(record)
    assert [status for status, _ in line] == ["pending", "starting", "processing", "succeeded"]
    assert line[0][1] == START and line[-1][1] == START + 42.5
    started = dict(line)["processing"]
    assert record["predict_time"] == pytest.approx(START + 42.5 - started, abs=1e-5)
    assert view_at(predictions, record, 0)["status"] == "pending"
    assert view_at(predictions, record, 42.49)["status"] == "processing"
    done = view_at(predictions, record, 42.5)
    assert done["status"] == "succeeded" and done["output"]
    assert done["metrics"]["total_time"] == 42.5
    assert done["metrics"]["predict_time"] == record["predict_time"] <= 42.5


def test_duration_on_a_fast_model_is_not_collapsed_into_the_create_response(predictions: Predictions) -> None:
    record = create(predictions, model="truefusion-edge", outcome=ScriptedResult(duration=12))
    assert view_at(predictions, record, 0)["status"] == "processing"  # no pending/starting on fast models
    assert view_at(predictions, record, 12)["status"] == "succeeded"
    assert record["predict_time"] == 12
    instant = create(predictions, model="truefusion-edge", outcome=ScriptedResult(duration=0))
    assert view_at(predictions, instant, 0)["status"] == "succeeded"


def test_instant_mode_still_finishes_scripted_jobs_at_once(predictions: Predictions, runtime: Runtime) -> None:
    runtime.clock.configure(mode="instant")
    record = create(predictions, outcome=ScriptedResult(duration=300))
    assert predictions.views.view(record, LINKS)["status"] == "succeeded"


def test_scripted_failure_fails_at_the_end_with_the_error_and_costs_nothing(predictions: Predictions,
                                                                          runtime: Runtime) -> None:
    before = balance(runtime)
    record = create(predictions, outcome=ScriptedResult(status="failed", error="GPU exploded", duration=20))
    assert balance(runtime) == before and record["credits"] == 0 and not record["file_specs"]
    assert view_at(predictions, record, 19.9)["status"] == "processing"
    failed = view_at(predictions, record, 20)
    assert failed["status"] == "failed" and failed["error"] == failed["response"] == "GPU exploded"
    assert failed["output"] is None and failed["metadata"]["billing"]["credits_used"] == 0
    assert failed["metrics"]["total_time"] == 20


def test_failure_without_a_message_uses_the_default_error(predictions: Predictions) -> None:
    record = create(predictions, outcome=ScriptedResult(status="failed"))
    assert record["error"] == SCRIPTED_ERROR
    assert create(predictions, outcome=ScriptedResult(error="only an error"))["outcome"] == "failed"


def test_forced_success_overrides_the_safety_checker(predictions: Predictions, runtime: Runtime) -> None:
    assert create(predictions, prompt="nsfw scene")["outcome"] == "failed"
    before = balance(runtime)
    record = create(predictions, prompt="nsfw scene", outcome=ScriptedResult(status="succeeded"))
    assert record["outcome"] == "succeeded" and record["error"] is None
    assert balance(runtime) == pytest.approx(before - 0.05)


def test_given_outputs_replace_the_files_verbatim(predictions: Predictions, runtime: Runtime) -> None:
    urls = ["https://cdn.example.com/out/a.png", "https://cdn.example.com/out/b.webp?sig=1"]
    before = balance(runtime)
    record = create(predictions, outcome=ScriptedResult(output=urls, duration=0))
    assert not record["file_specs"] and balance(runtime) == pytest.approx(before - 0.05)  # charged as usual
    body = predictions.views.view(record, LINKS)
    assert body["output"] == urls
    assert body["metadata"]["storage"]["files"] == [
        {"name": "a.png", "type": "image/png", "size": None, "url": urls[0]},
        {"name": "b.webp", "type": "image/webp", "size": None, "url": urls[1]},
    ]
    assert body["metrics"]["image_count"] == 2
    single = predictions.views.view(create(predictions, model="truefusion-max", outcome=ScriptedResult(output="x.jpg",
                                                                                          duration=0)), LINKS)
    assert single["output"] == "x.jpg" and single["metadata"]["storage"]["files"] == []


def test_a_given_mock_file_url_reports_its_real_size(predictions: Predictions, runtime: Runtime) -> None:
    made = predictions.views.view(create(predictions, outcome=ScriptedResult(duration=0)), LINKS)
    url = made["output"][0]
    entries = given_files([url, {"text": "not a file"}, 7], runtime.files)
    assert entries == made["metadata"]["storage"]["files"]


# -- GateAI tasks --------------------------------------------------------------------------


def gateai_task(runtime: Runtime, outcome: ScriptedResult | None, model: str = "gpt-image-2",
                prompt: str = "a fox", **params: object) -> tuple[Tasks, dict]:
    tasks = Tasks(runtime)
    created = tasks.create(KEY, parse_request({"model": model, "params": {"prompt": prompt, **params}}), outcome)
    return tasks, created.record


def test_gateai_duration(runtime: Runtime) -> None:
    tasks, record = gateai_task(runtime, ScriptedResult(duration=90))
    assert tasks.state(record, START + 89.9).status == PROCESSING
    assert tasks.state(record, START + 90).status == FINISHED
    assert TaskViews(tasks).view(record, "/files/", START + 90)["result"]


def test_gateai_failure_with_the_error_is_refunded(runtime: Runtime) -> None:
    tasks, record = gateai_task(runtime, ScriptedResult(status="failed", error="upstream 503", duration=30))
    view = TaskViews(tasks).view(record, "/files/", START + 30)
    assert view["status"] == FAILED and view["error"] == "upstream 503"
    assert view["refunded"] is True and view["cost"] == 0 and view["result"] == []
    _, plain = gateai_task(runtime, ScriptedResult(status="failed", duration=0))
    assert plain["error"] == UPSTREAM_ERROR


def test_gateai_output_is_the_result_as_given(runtime: Runtime) -> None:
    given = ["https://cdn.example.com/1.png", "https://cdn.example.com/2.png"]
    tasks, record = gateai_task(runtime, ScriptedResult(output=given, duration=5))
    assert not record["file_specs"]
    assert TaskViews(tasks).view(record, "/files/", START + 4)["result"] == []
    assert TaskViews(tasks).view(record, "/files/", START + 5)["result"] == given
    runtime.clock.advance(5)
    (recent,) = TaskViews(tasks).dashboard(KEY)["recent_tasks"]
    assert recent["result_count"] == 2
    _, one = gateai_task(runtime, ScriptedResult(output="https://cdn.example.com/only.png", duration=0))
    assert TaskViews(Tasks(runtime)).view(one, "/files/")["result"] == ["https://cdn.example.com/only.png"]


def test_gateai_3d_glb_urls_follow_the_given_result(runtime: Runtime) -> None:
    given = ["https://cdn.example.com/m.jpg", "https://cdn.example.com/m.glb"]
    tasks, record = gateai_task(runtime, ScriptedResult(output=given, duration=0), model="rodin-v2", quality="low")
    view = TaskViews(tasks).view(record, "/files/")
    assert view["result"] == given and view["glb_urls"] == ["https://cdn.example.com/m.glb"]


def test_gateai_hard_limit_wins_over_a_scripted_success(runtime: Runtime) -> None:
    tasks, record = gateai_task(runtime, ScriptedResult(status="succeeded", duration=HARD_LIMIT + 100))
    assert tasks.state(record, START + HARD_LIMIT - 1).status == PROCESSING
    view = TaskViews(tasks).view(record, "/files/", START + HARD_LIMIT)
    assert view["status"] == FAILED and view["error"] == TIMEOUT_ERROR


def test_gateai_forced_success_overrides_moderation(runtime: Runtime) -> None:
    tasks, flagged = gateai_task(runtime, ScriptedResult(duration=1), prompt="gore")
    assert TaskViews(tasks).view(flagged, "/files/", START + 1)["status"] == FAILED
    tasks, forced = gateai_task(runtime, ScriptedResult(duration=1, status="succeeded"), prompt="gore")
    assert TaskViews(tasks).view(forced, "/files/", START + 1)["status"] == FINISHED


def test_header_shorthands_fill_only_what_the_rule_leaves_unset() -> None:
    hooks = ScriptedResult(status="failed", duration=100)
    assert combined_outcome(None, hooks) == hooks
    assert combined_outcome(ScriptedResult(output=["u"]), None) == ScriptedResult(output=["u"])
    assert combined_outcome(ScriptedResult(duration=5), hooks) == ScriptedResult(status="failed", duration=5)
    assert combined_outcome(ScriptedResult(status="succeeded"), hooks) == ScriptedResult(status="succeeded",
                                                                                       duration=100)
    merged = combined_outcome(ScriptedResult(error="boom"), ScriptedResult(status="succeeded"))
    assert merged == ScriptedResult(status="failed", error="boom")


# -- Inference -----------------------------------------------------------------------------


CONVERSATION = [Message("user", "What is the capital of France?")]


def test_scripted_reply_is_counted_cut_and_checked_like_generated_text(runtime: Runtime) -> None:
    plain = generate(runtime, "gpt-5", CONVERSATION, 1000, scripted=SCRIPT)
    assert plain.text == SCRIPT and plain.finish_reason == "stop"
    assert plain.completion_tokens == tokens.count_tokens(SCRIPT)
    assert plain.prompt_tokens == tokens.count_tokens(CONVERSATION[0].content)
    stopped = generate(runtime, "gpt-5", CONVERSATION, 1000, stop=[" It"], scripted=SCRIPT)
    assert stopped.text == "Paris is the capital of France." and stopped.finish_reason == "stop"
    short = generate(runtime, "gpt-5", CONVERSATION, 3, scripted=SCRIPT)
    assert short.text == "Paris is the" and short.finish_reason == "length" and short.completion_tokens == 3
    filtered = generate(runtime, "gpt-5", CONVERSATION, 1000, scripted="Fine until the gore starts.")
    assert filtered.finish_reason == "content_filter" and filtered.text == "Fine until the"


def test_chat_completion_and_stream_carry_the_scripted_reply(runtime: Runtime) -> None:
    request = chat.parse({"model": "gpt-5", "messages": [{"role": "user", "content": "Capital?"}],
                          "stream": True}, CATALOG)
    generations = chat.run(runtime, request, SCRIPT)
    body = chat.completion(request, generations, "chatcmpl-x", 0)
    assert body["choices"][0]["message"]["content"] == SCRIPT
    assert body["usage"]["completion_tokens"] == tokens.count_tokens(SCRIPT)
    deltas = [item["choices"][0]["delta"].get("content", "") for item, _ in chat.chunks(request, generations, "c", 0)
              if item["choices"]]
    assert "".join(deltas) == SCRIPT


def test_responses_chain_replays_scripted_replies(runtime: Runtime) -> None:
    store = responses.Responses(runtime)
    first_request = responses.parse({"model": "gpt-5", "input": "Capital of France?"}, CATALOG)
    first, _ = store.create(KEY, first_request, "Paris.")
    store.save(first)
    assert first["output_text"] == "Paris."
    assert response_views.view(first)["output"][0]["content"][0]["text"] == "Paris."
    second_request = responses.parse({"model": "gpt-5", "input": "And Italy?", "previous_response_id": first["id"]},
                                     CATALOG)
    second, second_generation = store.create(KEY, second_request, "Rome.")
    assert second["output_text"] == "Rome."
    assert second["conversation"][-2:] == [{"role": "assistant", "content": "Paris."},
                                           {"role": "user", "content": "And Italy?"}]
    replayed = tokens.count_all(["Capital of France?", "Paris."])
    assert second_generation.cached_tokens == replayed
    streamed = [data for data, _ in response_views.events(second, second_generation)
                if data["type"] == "response.output_text.delta"]
    assert "".join(d["delta"] for d in streamed) == "Rome."
