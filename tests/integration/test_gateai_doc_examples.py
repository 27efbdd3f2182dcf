"""Every JSON example in gateai-core-api.md against the mock over real HTTP.

Response examples: the mock's answer has the example's keys with values of the same JSON types
(``same_shape``); keys the mock adds are named. Request examples (every model's example body, the
inline-reference example): ``POST /api/generate`` accepts each one.
"""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from tests.conftest import KEY
from tests.doc_examples import json_objects, same_shape

DOC = "gateai-core-api.md"
EXAMPLES = json_objects(DOC, lenient=True)  # the /credits example has a trailing comma


def example(*keys: str) -> dict[str, Any]:
    """The first documented object whose top-level keys start with ``keys``."""
    return next(obj for obj in EXAMPLES if list(obj)[: len(keys)] == list(keys))


def every_path(value: Any, path: str = "$") -> frozenset[str]:
    """All key paths of ``value`` (to allow extra keys below a point, e.g. full param schemas)."""
    paths: set[str] = set()
    if isinstance(value, dict):
        for key, item in value.items():
            paths.add(f"{path}.{key}")
            paths |= every_path(item, f"{path}.{key}")
    elif isinstance(value, list) and value:
        paths |= every_path(value[0], f"{path}[]")
    return frozenset(paths)


REQUESTS = [obj for obj in EXAMPLES if "model" in obj and "params" in obj and set(obj) <= {"model", "type", "params"}]


# Documented request bodies the mock refuses, and why: a placeholder, and two examples that leave out a
# parameter their own table marks required (GET /v1/models/{id} serves them with start_frame added).
REFUSED = {
    "model-name": (404, "MODEL_NOT_FOUND", "model"),
    "hailuo-2_3-fast": (400, "INVALID_PARAMS", "start_frame"),
    "kling-2.5-turbo-standard": (400, "INVALID_PARAMS", "start_frame"),
}


def test_the_doc_has_the_examples_this_file_checks() -> None:
    assert len(REQUESTS) == 55  # the generic body, 53 model examples and the inline-reference example
    assert {obj["model"] for obj in REQUESTS} >= {"seedance-2.0", "rodin-v2", "gpt-image-2"}


def test_generate_response(gateai: httpx.Client) -> None:
    doc = example("task_id", "url", "status", "cost", "remaining")
    body = gateai.post("/api/generate", json={"model": "gpt-image-2", "params": {"prompt": "x"}}).json()
    assert same_shape(doc, body) == []
    assert body["url"] == f"/get/{body['task_id']}" and body["status"] == doc["status"]
    snapped = gateai.post("/api/generate", json={"model": "flux-dev", "params": {"prompt": "x", "width": 1001}})
    assert same_shape(doc, snapped.json(), extra_keys=frozenset({"$.adjustments"})) == []


def test_status_response(gateai: httpx.Client, runtime) -> None:
    doc = example("status", "result", "model", "cost")
    created = gateai.post("/api/generate", json={"model": "gpt-image-2",
                                                 "params": {"prompt": "x", "quality": "high"}}).json()
    runtime.clock.advance(30)
    body = gateai.get(created["url"]).json()
    assert same_shape(doc, body, extra_keys=frozenset({"$.task_id", "$.refunded"})) == []
    assert body["status"] == "FINISHED" and body["cost"] == doc["cost"]
    # The doc's example names the model "gpt_image_2_0"; the mock answers with the id that was sent, as
    # /api/me's example does ("gpt-image-2").
    assert body["model"] == "gpt-image-2"


def test_estimate_response(gateai: httpx.Client) -> None:
    doc = example("cost", "daily_remaining", "fits_in_budget")
    body = gateai.post("/api/estimate", json={"model": "gpt-image-2", "type": "image",
                                              "params": {"prompt": "x", "width": 1024, "height": 1024,
                                                         "quality": "high"}}).json()
    assert same_shape(doc, body) == []
    assert body == {"cost": 0.11, "daily_remaining": 100, "fits_in_budget": True} == doc


def test_models_list_entries(gateai_url: str) -> None:
    models = {m["id"]: m for m in httpx.get(gateai_url + "/v1/models").json()}
    for doc in (obj for obj in EXAMPLES if set(obj) == {"id", "type", "cost", "params"}
                and isinstance(obj["params"], list)):
        assert same_shape(doc, models[doc["id"]]) == []
        assert models[doc["id"]]["type"] == doc["type"]
        assert set(doc["params"]) - set(models[doc["id"]]["params"]) <= {"motion_has_audio"}


# The doc's /v1/models/seedance-2.0 example disagrees with the seedance-2.0 section, which the mock
# follows (fixtures/gateai/models.json notes): duration is an enum 4..15 (no min/max keys), `mode` is an
# optional preset without a default, and the ready-to-send example is the section's example body.
SEEDANCE_VIEW_DEVIATIONS = {
    "$.params.mode.default: missing",
    "$.params.duration.min: missing",
    "$.params.duration.max: missing",
    "$.example.params.mode: missing",
}


def test_single_model_view(gateai: httpx.Client) -> None:
    doc = example("id", "type", "cost", "params", "example")
    body = gateai.get("/v1/models/seedance-2.0").json()
    problems = set(same_shape(doc, body, extra_keys=every_path(body)))
    assert problems == SEEDANCE_VIEW_DEVIATIONS
    assert body["params"]["mode"]["enum"] == doc["params"]["mode"]["enum"]
    assert body["params"]["prompt"]["required"] is True


def test_model_not_found(gateai: httpx.Client) -> None:
    doc = example("error", "suggestions")
    response = gateai.get("/v1/models/seedance")
    assert response.status_code == 404
    body = response.json()
    assert same_shape(doc, body, extra_keys=frozenset({"$.code", "$.param", "$.request_id"})) == []
    assert body["error"] == doc["error"] and body["suggestions"][0] == doc["suggestions"][0]


def test_credits_response(gateai: httpx.Client) -> None:
    doc = example("your_budget", "pool")
    assert same_shape(doc, gateai.get("/credits").json()) == []


def test_dashboard_response(gateai: httpx.Client, gateai_url: str, runtime) -> None:
    doc = example("budget", "concurrency", "active_tasks", "recent_tasks", "today_spending")
    gateai.post("/api/generate", json={"model": "gpt-image-2", "params": {"prompt": "x", "quantity": 4}})
    runtime.clock.advance(30)
    gateai.post("/api/generate", json={"model": "seedance-2.0", "params": {"prompt": "y"}})
    runtime.clock.advance(12)
    body = httpx.get(gateai_url + "/api/me", params={"key": KEY}).json()
    assert all(body["concurrency"]["active_slots"]) and body["active_tasks"] and body["recent_tasks"]
    assert same_shape(doc, body) == []
    assert body["recent_tasks"][0]["result_count"] == 4 and body["active_tasks"][0]["elapsed"] == "12s"


@pytest.mark.parametrize("body", REQUESTS, ids=lambda body: body["model"])
def test_every_documented_request_body_generates(gateai: httpx.Client, runtime, body: dict[str, Any]) -> None:
    response = gateai.post("/api/generate", json=body)
    if body["model"] in REFUSED:
        status, code, param = REFUSED[body["model"]]
        assert (response.status_code, response.json()["code"], response.json()["param"]) == (status, code, param)
        ready = gateai.get(f"/v1/models/{body['model']}").json()["example"] if status == 400 else None
        if ready is not None:
            assert gateai.post("/api/generate", json=ready).status_code == 200
        return
    assert response.status_code == 200, response.text
    created = response.json()
    runtime.clock.advance(300)
    status = gateai.get(created["url"]).json()
    assert status["status"] == "FINISHED" and status["result"], status
    assert httpx.get(status["result"][0]).status_code == 200
