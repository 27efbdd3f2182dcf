"""The contracts in ``contracts/``: valid OpenAPI 3.1, complete against the mock's routes, catalogs
injected from ``fixtures/``, every JSON example of the docs matched to a schema and valid against it
(deviations listed with their reason), and validators that catch what they should.
"""

from __future__ import annotations

import copy
import json
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pytest
from openapi_spec_validator import validate as validate_openapi
from starlette.applications import Starlette
from starlette.responses import JSONResponse
from starlette.routing import Route
from starlette.testclient import TestClient

from mockserver import spec
from mockserver.app import build
from mockserver.core.errors import ApiError
from mockserver.gateai.generate_body import parse_request
from mockserver.skytells.catalog import Catalog
from mockserver.skytells.prediction_body import parse_create
from mockserver.skytells.predictions import WEBHOOK_EVENTS
from mockserver.spec import validate_request, validate_response, validate_schema
from mockserver.spec.data import load_json
from mockserver.spec.requests import body_problem
from tests.conftest import make_settings
from tests.contract_capture import ContractCapture, Violations
from tests.doc_examples import json_objects

SKYTELLS_DOCS = ("skytells-api-v1-schema.txt", "skytells-predictions.txt", "skytells-two-apis.txt",
                 "skytells-model-catalog.txt")
GATEAI_DOC = "gateai-core-api.md"
MOCK_ONLY = ("/_mock", "/files/", "/openapi.")  # the mock's own; /openapi.*: the contract itself


# -- the documents ---------------------------------------------------------------------------------


@pytest.mark.parametrize("api", spec.APIS)
def test_documents_are_valid_openapi_3_1(api: str) -> None:
    doc = spec.document(api)
    assert doc["openapi"] == "3.1.0"
    validate_openapi(doc)


@pytest.mark.parametrize("api", spec.APIS)
def test_document_is_a_fresh_copy_with_nothing_left_to_inject(api: str) -> None:
    doc = spec.document(api)
    doc["paths"].clear()
    assert spec.document(api)["paths"]
    assert not [name for name, schema in spec.document(api)["components"]["schemas"].items()
                if "x-injected" in schema]


def served_routes(api: str) -> set[tuple[str, str]]:
    app = build(make_settings()).apps[api]
    found = set()
    for route in app.routes:
        if isinstance(route, Route) and not route.path.startswith(MOCK_ONLY):
            found |= {(method, template(route.path)) for method in route.methods or () if method != "HEAD"}
    return found


def template(path: str) -> str:
    """A path template with its parameter names left out (the doc's ``{modelId}`` is the route's ``{model_id}``)."""
    return re.sub(r"{[^}]+}", "{}", path)


def documented_routes(api: str) -> set[tuple[str, str]]:
    doc = spec.document(api)
    return {(method.upper(), template(path)) for path, item in doc["paths"].items()
            for method in item if method in ("get", "post", "put", "delete", "patch")}


@pytest.mark.parametrize("api", spec.APIS)
def test_every_route_the_mock_serves_is_documented_and_nothing_else(api: str) -> None:
    assert served_routes(api) == documented_routes(api)


def test_control_plane_is_not_in_the_documents() -> None:
    for api in spec.APIS:
        assert not [path for path in spec.document(api)["paths"] if path.startswith(MOCK_ONLY)]


def test_skytells_model_schemas_come_from_the_catalog_fixture() -> None:
    doc = spec.document("skytells")
    schemas = doc["components"]["schemas"]
    models = load_json("skytells", "models.json")
    predicting = [m["namespace"] for m in models if "/v1/predictions" in m["endpoints"]]
    assert schemas["PredictionModelName"]["enum"] == predicting
    assert schemas["ChatModelName"]["enum"] == [m["namespace"] for m in models
                                                if "/v1/chat/completions" in m["endpoints"]]
    for model in models:
        if model["namespace"] in predicting:
            assert schemas[f"ModelInput.{model['namespace']}"] == model["input_schema"]
    mapping = schemas["CreatePredictionRequest"]["discriminator"]["mapping"]
    assert list(mapping) == predicting


def test_gateai_params_come_from_the_catalog_fixture() -> None:
    schemas = spec.document("gateai")["components"]["schemas"]
    raw = load_json("gateai", "models.json")
    assert schemas["ModelId"]["enum"] == [m["id"] for m in raw["models"]]
    flux = schemas["Params.flux-dev"]["allOf"][1]
    assert flux["required"] == ["prompt"]
    assert flux["properties"]["num_inference_steps"]["anyOf"][1] == {
        "type": "integer", "minimum": 1, "maximum": 40, "default": 28, "description": "Number of denoising steps"}
    # the request limit applies whatever the model allows: PROMPT_TOO_LONG over 1500 characters
    assert schemas["Params.seedance-2.0"]["allOf"][1]["properties"]["prompt"]["maxLength"] == 1500


LINKS = {
    ("skytells", "createPrediction", "201"): {"getPrediction", "cancelPrediction", "deletePrediction",
                                               "streamPrediction"},
    ("skytells", "createResponse", "200"): {"getResponse", "deleteResponse", "listResponseInputItems"},
    ("gateai", "generate", "200"): {"getTask"},
}


@pytest.mark.parametrize(("api", "operation", "status"), list(LINKS))
def test_links_for_stateful_testing(api: str, operation: str, status: str) -> None:
    doc = spec.document(api)
    operations = {op["operationId"]: (path, op) for path, item in doc["paths"].items() for op in item.values()
                  if isinstance(op, dict) and "operationId" in op}
    _, op = operations[operation]
    response = op["responses"][status]
    if "$ref" in response:
        response = doc["components"]["responses"][response["$ref"].rsplit("/", 1)[1]]
    links = response["links"]
    assert {link["operationId"] for link in links.values()} == LINKS[(api, operation, status)]
    for link in links.values():
        target_path, _ = operations[link["operationId"]]
        for name in link["parameters"]:
            assert "{" + name + "}" in target_path


# -- the docs' JSON examples -------------------------------------------------------------------------


def classify(api: str, example: dict[str, Any]) -> str | None:
    """The component schema a documented JSON object is an example of (None: not recognised)."""
    keys = set(example)
    if api == "gateai":
        if {"model", "params"} <= keys:
            return "GenerateRequest"
        rules = [({"task_id", "url", "status"}, "GenerateResponse"), ({"status", "result"}, "TaskStatus"),
                 ({"fits_in_budget"}, "EstimateResponse"), ({"your_budget"}, "Credits"),
                 ({"budget", "concurrency"}, "Dashboard"), ({"error"}, "Error")]
        for needed, name in rules:
            if needed <= keys:
                return name
        if {"id", "type", "cost", "params"} <= keys:
            return "ModelDetail" if isinstance(example["params"], dict) else "ModelSummary"
        return None
    if example.get("type") == "inference" and "status" in keys:
        return "Prediction"
    if example.get("object") == "chat.completion":
        return "ChatCompletion"
    if example.get("object") == "response":
        return "Response"
    if example.get("object") == "list":
        return "EmbeddingList"
    if "messages" in keys:
        return "ChatCompletionRequest"
    if "model" in keys and isinstance(example.get("input"), dict):
        return "CreatePredictionRequest"
    if "model" in keys and "encoding_format" in keys:
        return "EmbeddingsRequest"
    if "model" in keys and "input" in keys:
        return "ResponseRequest"
    if "error_id" in keys:
        return "PredictionApiError"
    if isinstance(example.get("error"), dict):
        return "InferenceApiError"
    if "data" in keys and example.get("success") is True:
        return "Prediction"  # the Predictions page's envelope (a deviation below)
    if example.get("type") == "object" and "properties" in keys:
        return "ModelInputSchema"
    if example.get("type") in ("string", "array") and set(example) <= {"type", "format", "items"}:
        return "ModelOutputSchema"
    if "prompt" in keys:
        return "CommonInputParameters"
    return None


def _replace_placeholders(value: Any) -> Any:
    if isinstance(value, dict):
        return {key: _replace_placeholders(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_replace_placeholders(item) for item in value]
    if isinstance(value, str) and value.startswith("OUTPUT_URL_"):
        return f"https://delivery.skytells.cloud/{value.lower()}.jpg"
    return value


def _numbers_only(example: dict[str, Any]) -> dict[str, Any]:
    fixed = copy.deepcopy(example)
    for item in fixed["data"]:
        item["embedding"] = [x for x in item["embedding"] if isinstance(x, float | int)]
    return fixed


@dataclass(frozen=True)
class Deviation:
    """A documented example the contract does not accept as is, why, and the example as the contract has it."""

    doc: str
    selects: Callable[[dict[str, Any]], bool]
    reason: str
    contract_form: Callable[[dict[str, Any]], dict[str, Any]] | None


DEVIATIONS = [
    Deviation("skytells-predictions.txt", lambda e: "success" in e,
              "Create response wrapped in {success, message, data}; the two-APIs guide and both SDKs read the bare "
              "Prediction Object (prediction['id']), which the contract documents.",
              lambda e: _replace_placeholders(e["data"])),
    Deviation("skytells-predictions.txt", lambda e: e.get("id") == "SOME-PREDICTION-ID",
              "output[] and metadata.storage.files[].url hold placeholders (OUTPUT_URL_1), not the URLs the page "
              "describes ('Array of output URLs'); the contract asserts format uri.",
              _replace_placeholders),
    Deviation("skytells-two-apis.txt", lambda e: set(e) == {"error_id", "message"},
              "The Prediction error example omits the nested `error` object the official SDKs read (without it the "
              "Python SDK raises HTTP_ERROR and loses the error_id); the contract requires both in one body.",
              lambda e: {**e, "error": {"error_id": e["error_id"], "message": e["message"],
                                        "details": e["message"], "http_status": 402}}),
    Deviation("skytells-two-apis.txt", lambda e: e.get("object") == "list",
              "The embedding vector is elided with a \"...\" string item; embeddings are numbers.", _numbers_only),
    Deviation("skytells-model-catalog.txt", lambda e: e.get("object") == "response",
              "The gpt-5.3-codex Response example is abridged ('see Responses -- Response object for all fields'): "
              "it lacks created_at and output, which the openai SDK reads (its output_text is computed from output).",
              lambda e: {**e, "created_at": 1773759323, "output": [
                  {"type": "message", "role": "assistant", "content": [{"type": "output_text", "text": "..."}]}]}),
    Deviation(GATEAI_DOC, lambda e: e.get("model") == "model-name",
              "The generic request body names a placeholder model ('model-name').",
              lambda e: {**e, "model": "gpt-image-2"}),
    Deviation(GATEAI_DOC, lambda e: e.get("model") == "hailuo-2_3-fast" and "start_frame" not in e["params"],
              "The example leaves out start_frame, which the model's own table marks required "
              "(GET /v1/models/hailuo-2_3-fast serves the example with it).",
              lambda e: {**e, "params": {**e["params"], "start_frame": "https://example.com/cat.jpg"}}),
    Deviation(GATEAI_DOC, lambda e: e.get("model") == "kling-2.5-turbo-standard" and "start_frame" not in e["params"],
              "The example leaves out start_frame, which the model's own table marks required.",
              lambda e: {**e, "params": {**e["params"], "start_frame": "https://example.com/cat.jpg"}}),
    Deviation(GATEAI_DOC, lambda e: set(e) == {"error", "suggestions"},
              "The model-not-found example has no `code`; the doc names error codes (PROMPT_TOO_LONG, "
              "QUANTITY_TOO_HIGH, RATE_LIMITED) clients must branch on, so the contract requires `code` beside the "
              "message.", lambda e: {**e, "code": "MODEL_NOT_FOUND"}),
]


def all_examples() -> list[tuple[str, str, int, dict[str, Any]]]:
    found = []
    for doc in SKYTELLS_DOCS:
        found += [("skytells", doc, index, example) for index, example in enumerate(json_objects(doc))]
    # the /credits example has a trailing comma
    found += [("gateai", GATEAI_DOC, index, example) for index, example in enumerate(json_objects(GATEAI_DOC, True))]
    return found


EXAMPLES = all_examples()


def deviation_of(doc: str, example: dict[str, Any]) -> Deviation | None:
    return next((d for d in DEVIATIONS if d.doc == doc and d.selects(example)), None)


def test_the_docs_hold_the_examples_this_file_checks() -> None:
    counts = {doc: sum(1 for _, d, _, _ in EXAMPLES if d == doc) for doc in (*SKYTELLS_DOCS, GATEAI_DOC)}
    assert counts == {"skytells-api-v1-schema.txt": 0, "skytells-predictions.txt": 4, "skytells-two-apis.txt": 11,
                      "skytells-model-catalog.txt": 38, GATEAI_DOC: 64}
    # the plain-text copy of the GateAI doc (what /docs.txt serves) holds the same examples
    assert json_objects("gateai-core-api.txt", True) == json_objects(GATEAI_DOC, True)


def test_every_deviation_names_exactly_one_example() -> None:
    for deviation in DEVIATIONS:
        matches = [e for _, doc, _, e in EXAMPLES if doc == deviation.doc and deviation.selects(e)]
        assert len(matches) == 1, deviation.reason


@pytest.mark.parametrize(("api", "doc", "index", "example"), EXAMPLES,
                         ids=[f"{doc}#{index}" for _, doc, index, _ in EXAMPLES])
def test_every_doc_example_validates_against_its_schema(api: str, doc: str, index: int,
                                                         example: dict[str, Any]) -> None:
    schema = classify(api, example)
    assert schema is not None, f"no schema recognises this documented example: {json.dumps(example)[:200]}"
    problems = validate_schema(api, schema, example)
    deviation = deviation_of(doc, example)
    if deviation is None:
        assert problems == [], f"{schema}: {problems}"
        return
    # a listed deviation: the example really does differ, and the contract's form of it validates
    assert problems, f"listed as a deviation but valid against {schema}: {deviation.reason}"
    assert deviation.contract_form is not None
    assert validate_schema(api, schema, deviation.contract_form(example)) == []


# -- the validators --------------------------------------------------------------------------------

JSON = {"content-type": "application/json"}
SSE = {"content-type": "text/event-stream"}


def prediction_error(error_id: str = "INVALID_INPUT", status: int = 400) -> bytes:
    return json.dumps({"status": False, "error_id": error_id, "message": "m", "response": "m",
                       "error": {"error_id": error_id, "message": "m", "details": "m", "http_status": status,
                                 "param": None, "request_id": "req_1"}}).encode()


def test_response_status_and_content_type_must_be_documented() -> None:
    not_found = prediction_error("PREDICTION_NOT_FOUND", 404)
    assert validate_response("skytells", "GET", "/v1/predictions/abc", 404, JSON, not_found) == []
    [problem] = validate_response("skytells", "GET", "/v1/predictions/abc", 402, JSON, prediction_error())
    assert "status not documented" in problem
    [problem] = validate_response("skytells", "GET", "/v1/models", 401, {"content-type": "text/html"}, b"<html>")
    assert "content type 'text/html' not documented" in problem


def test_response_bodies_are_checked_field_by_field() -> None:
    body = json.loads(prediction_error())
    del body["error"]["http_status"]
    [problem] = validate_response("skytells", "POST", "/v1/predictions", 400, JSON, json.dumps(body))
    assert "$.error: 'http_status' is a required property" in problem
    inference = {"error": {"message": "m", "type": "invalid_request_error", "code": "x", "error_id": "X",
                           "status": 400}}
    assert validate_response("skytells", "POST", "/v1/chat/completions", 400, JSON, json.dumps(inference)) == []
    # the Inference API answers in its own format, not the Prediction one
    assert validate_response("skytells", "POST", "/v1/chat/completions", 400, JSON, prediction_error())


def test_unknown_routes_and_wrong_methods_answer_in_the_apis_error_format() -> None:
    assert validate_response("skytells", "GET", "/v1/nowhere", 404, JSON, prediction_error("NOT_FOUND", 404)) == []
    assert validate_response("skytells", "PUT", "/v1/predictions", 405, JSON,
                             prediction_error("METHOD_NOT_ALLOWED", 405)) == []
    assert validate_response("skytells", "PUT", "/v1/predictions", 200, JSON, b"{}")
    gateai_error = json.dumps({"error": "No route", "code": "NOT_FOUND", "request_id": "req_1"})
    assert validate_response("gateai", "GET", "/nowhere", 404, JSON, gateai_error) == []
    assert validate_response("gateai", "GET", "/nowhere", 404, JSON, prediction_error())


def test_documented_headers_are_required() -> None:
    body = json.dumps({"error": "slow down", "code": "RATE_LIMITED", "request_id": "req_1"})
    [problem] = validate_response("gateai", "POST", "/api/generate", 429, JSON, body)
    assert "header Retry-After is missing" in problem
    assert validate_response("gateai", "POST", "/api/generate", 429, {**JSON, "Retry-After": "12"}, body) == []
    assert validate_response("gateai", "POST", "/api/generate", 429, {**JSON, "Retry-After": "soon"}, body)


def chunk(content: str | None = None, finish: str | None = None) -> str:
    delta = {} if content is None else {"content": content}
    body = {"id": "chatcmpl-1", "object": "chat.completion.chunk", "created": 1, "model": "gpt-5",
            "choices": [{"index": 0, "delta": delta, "logprobs": None, "finish_reason": finish}]}
    return "data: " + json.dumps(body) + "\n\n"


def test_sse_streams_are_checked_event_by_event() -> None:
    good = chunk("Hi") + chunk(finish="stop") + "data: [DONE]\n\n"
    assert validate_response("skytells", "POST", "/v1/chat/completions", 200, SSE, good) == []
    assert any("does not end with data: [DONE]" in p for p in
               validate_response("skytells", "POST", "/v1/chat/completions", 200, SSE, chunk("Hi")))
    # a client that stopped reading: what arrived is checked, not the end
    assert validate_response("skytells", "POST", "/v1/chat/completions", 200, SSE, chunk("Hi"), complete=False) == []
    bad = chunk("Hi").replace('"finish_reason": null', '"finish_reason": "done"') + "data: [DONE]\n\n"
    assert any("finish_reason" in p for p in validate_response("skytells", "POST", "/v1/chat/completions", 200,
                                                               SSE, bad))
    assert any("not terminated" in p for p in validate_response("skytells", "POST", "/v1/chat/completions", 200,
                                                                SSE, "data: [DONE]\n"))
    assert any("undocumented event name" in p for p in
               validate_response("skytells", "POST", "/v1/chat/completions", 200, SSE,
                                 "event: surprise\n" + chunk("x") + "data: [DONE]\n\n"))


def test_named_sse_events_must_carry_their_own_type_and_end_the_stream() -> None:
    event = {"type": "response.output_text.delta", "sequence_number": 0, "item_id": "msg_1", "output_index": 0,
             "content_index": 0, "delta": "Hi", "logprobs": []}
    wrong_name = "event: response.output_text.done\ndata: " + json.dumps(event) + "\n\n"
    problems = validate_response("skytells", "POST", "/v1/responses", 200, SSE, wrong_name)
    assert any("not the event name" in p for p in problems)
    assert any("ends with" in p for p in problems)
    done = {"id": "9d5b8c6a-eadd-4b05-839a-2313b73ca224", "status": "succeeded"}
    stream = ": ping\r\n\r\nevent: done\r\ndata: " + json.dumps(done) + "\r\n\r\n"
    assert validate_response("skytells", "GET", "/v1/predictions/x/stream", 200, SSE, stream) == []


def test_requests_are_checked_for_credentials_parameters_and_body() -> None:
    key = {"x-api-key": "sk-1", **JSON}
    body = json.dumps({"model": "truefusion", "input": {"prompt": "x"}})
    assert validate_request("skytells", "POST", "/v1/predictions", key, body) == []
    assert any("no credentials" in p for p in validate_request("skytells", "POST", "/v1/predictions", JSON, body))
    bearer = {"authorization": "Bearer sk-1", **JSON}
    chat = json.dumps({"model": "gpt-5", "messages": [{"role": "user", "content": "Hi"}]})
    assert validate_request("skytells", "POST", "/v1/chat/completions", bearer, chat) == []
    assert any("$.input.prompt" in p or "'prompt' is a required property" in p for p in
               validate_request("skytells", "POST", "/v1/predictions", key, json.dumps({"model": "truefusion",
                                                                                        "input": {}})))
    too_many = validate_request("skytells", "GET", "/v1/predictions", key, query="per_page=51")
    assert any("per_page" in p for p in too_many)
    assert validate_request("gateai", "GET", "/api/me", {}, query="key=sk-1") == []
    assert validate_request("gateai", "GET", "/api/me", {})
    assert validate_request("gateai", "GET", "/v1/models", {}) == []


# -- the server checks request bodies with the same schemas ----------------------------------------

CATALOG = Catalog.load()
FOX = {"model": "truefusion", "input": {"prompt": "a fox"}}


@pytest.mark.parametrize(("extra", "error_id", "param", "needle"), [
    ({"input": "a fox"}, "INVALID_INPUT", "input", "input must be an object (got string)"),
    ({"await": "yes"}, "INVALID_PARAMETER", "await", "await must be a boolean"),
    ({"stream": 1}, "INVALID_PARAMETER", "stream", "stream must be a boolean"),
    ({"webhook": "ftp://x"}, "INVALID_PARAMETER", "webhook", "webhook must be an http(s) URL"),
    ({"webhook": {"url": "https://a.b x"}}, "INVALID_PARAMETER", "webhook.url", "webhook.url must be an http(s) URL"),
    ({"webhook": {"url": "https://a.b", "events": ["boom"]}}, "INVALID_PARAMETER", "webhook.events[0]", "'boom'"),
    ({"webhook": {"events": ["succeeded"]}}, "INVALID_PARAMETER", "webhook", "needs a url"),
    ({"webhook": 7}, "INVALID_PARAMETER", "webhook", "an http(s) URL or an object"),
])
def test_create_bodies_are_checked_with_the_contract(extra: dict, error_id: str, param: str, needle: str) -> None:
    with pytest.raises(ApiError) as caught:
        parse_create({**FOX, **extra}, CATALOG)
    error = caught.value
    assert (error.status, error.error_id, error.param) == (400, error_id, param)
    assert needle in error.message and param.split("[")[0] in error.message


@pytest.mark.parametrize(("webhook", "expected"), [
    (None, {"url": None, "events": []}),
    ({}, {"url": None, "events": []}),
    ({"url": None, "events": []}, {"url": None, "events": []}),
    ("https://a.b/h", {"url": "https://a.b/h", "events": ["succeeded", "failed", "cancelled"]}),
    ({"url": "https://a.b/h"}, {"url": "https://a.b/h", "events": ["succeeded", "failed", "cancelled"]}),
    ({"url": "https://a.b/h", "events": ["prediction.started"]}, {"url": "https://a.b/h",
                                                                   "events": ["prediction.started"]}),
])
def test_accepted_webhooks_are_normalised(webhook: Any, expected: dict) -> None:
    assert parse_create({**FOX, "webhook": webhook, "await": None}, CATALOG).webhook == expected


def test_the_contract_lists_the_webhook_events_the_server_knows() -> None:
    schema = spec.document("skytells")["components"]["schemas"]["WebhookEvent"]
    assert set(schema["enum"]) == WEBHOOK_EVENTS


@pytest.mark.parametrize(("body", "code", "param", "needle"), [
    ({"params": {"prompt": "x"}}, "INVALID_REQUEST", "model", "model is required"),
    ({"model": 7}, "INVALID_REQUEST", "model", "model must be a model id"),
    ({"model": " "}, "INVALID_REQUEST", "model", "model must be a model id"),
    ({"model": "flux-dev", "type": 3}, "INVALID_REQUEST", "type", "type must be a string"),
    ({"model": "flux-dev", "params": "x"}, "INVALID_PARAMS", "params", "params must be an object"),
])
def test_generate_bodies_are_checked_with_the_contract(body: dict, code: str, param: str, needle: str) -> None:
    with pytest.raises(ApiError) as caught:
        parse_request(body)
    error = caught.value
    assert (error.status, error.error_id, error.param) == (400, code, param)
    assert needle in error.message


def test_body_problem_is_none_for_conforming_bodies() -> None:
    assert body_problem("skytells", "CreatePredictionBody", FOX) is None
    assert body_problem("gateai", "GenerateBody", {"model": "flux-dev", "type": "image", "params": None}) is None
    assert parse_request({"model": " flux-dev ", "params": None}).params == {}


# -- the test-suite capture ------------------------------------------------------------------------


def test_the_capture_reports_a_response_that_breaks_the_contract() -> None:
    async def models(request: Any) -> JSONResponse:
        return JSONResponse([{"namespace": "x"}])

    async def health(request: Any) -> JSONResponse:
        return JSONResponse({"anything": True})

    app = Starlette(routes=[Route("/v1/models", models), Route("/_mock/health", health)])
    sink = Violations()
    sink.begin("t")
    with TestClient(ContractCapture(app, "skytells", sink)) as client:
        client.get("/v1/models")
        client.get("/_mock/health")  # the mock's own routes are not part of the contract
    problems = sink.take("t")
    assert sink.checked == 1
    assert any("GET /v1/models -> 200 application/json: $[0]: 'name' is a required property" in p for p in problems)
