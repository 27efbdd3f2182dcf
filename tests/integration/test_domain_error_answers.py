"""The HTTP answers to the domain's errors, whole (status and body but the request id), as each API's mapping layer
gives them: an unknown, unsupported or missing parameter, a model served elsewhere, unknown models and responses,
a policy violation, invalid prediction input, GateAI's codes and bad uploads (issue 14: the domain raises domain
errors; these answers stayed byte-identical when it stopped raising HTTP statuses)."""

from __future__ import annotations

import io
from typing import Any

import httpx
import pytest

HI = [{"role": "user", "content": "hi"}]


def without_request_id(body: Any) -> Any:
    if isinstance(body, dict):
        return {key: without_request_id(value) for key, value in body.items() if key != "request_id"}
    return body


def inference(status: int, error_id: str, code: str, param: str | None, message: str,
              details: Any = None) -> dict[str, Any]:
    kind = {400: "invalid_request_error", 403: "permission_error", 404: "not_found_error"}[status]
    return {"error": {"message": message, "type": kind, "code": code, "error_id": error_id, "status": status,
                      "param": param, "details": details}}


def prediction(status: int, error_id: str, param: str | None, message: str, details: str | None = None,
               ) -> dict[str, Any]:
    return {"status": False, "error_id": error_id, "message": message, "response": message,
            "error": {"error_id": error_id, "message": message, "details": details or message, "http_status": status,
                      "param": param}}


@pytest.mark.parametrize(("method", "path", "body", "status", "expected"), [
    ("POST", "/chat/completions", {"model": "gpt-5", "messages": HI, "foo": 1}, 400,
     inference(400, "INVALID_PARAMETER", "unknown_parameter", "foo", "Unrecognized request argument supplied: foo")),
    ("POST", "/chat/completions", {"model": "gpt-5", "messages": HI, "audio": {}}, 400,
     inference(400, "INVALID_PARAMETER", "unsupported_parameter", "audio", "Audio output is not supported")),
    ("POST", "/chat/completions", {"model": "gpt-5.3-codex", "messages": HI}, 400,
     inference(400, "INVALID_PARAMETER", "unsupported_endpoint", "model",
               "Model 'gpt-5.3-codex' is a text model that is not served on POST /v1/chat/completions; "
               "use POST /v1/responses", {"endpoints": ["/v1/responses"]})),
    ("POST", "/chat/completions", {"model": "gpt-5"}, 400,
     inference(400, "INVALID_INPUT", "invalid_input", "messages", "Missing required parameter: 'messages'")),
    ("POST", "/chat/completions", {"model": "gpt-9", "messages": HI}, 404,
     inference(404, "MODEL_NOT_FOUND", "model_not_found", "model", "Model 'gpt-9' was not found",
               "Did you mean: gpt-5, gpt-5.4, gpt-image-1? See GET /v1/models for every namespace.")),
    ("POST", "/responses", {"model": "gpt-5", "input": "hi", "previous_response_id": "resp_x"}, 400,
     inference(400, "INVALID_PARAMETER", "previous_response_not_found", "previous_response_id",
               "Previous response with id 'resp_x' not found.")),
    ("GET", "/responses/resp_x", None, 404,
     inference(404, "RESPONSE_NOT_FOUND", "response_not_found", "response_id", "Response with id 'resp_x' not found.")),
    ("GET", "/models?fields=foo", None, 400,
     prediction(400, "INVALID_PARAMETER", "fields", "Unknown field(s) foo; allowed: input_schema, output_schema")),
    ("GET", "/models/flux-1.1-pr", None, 404,
     prediction(404, "MODEL_NOT_FOUND", "model", "Model 'flux-1.1-pr' was not found",
                "Did you mean: FLUX-1.1-pro, flux-2-pro-legacy, flux-2-flex? See GET /v1/models for every namespace.")),
    ("POST", "/predictions", {"model": "truefusion-pro", "input": {"prompt": "x", "image": "http://10.0.0.1/a.png"}},
     403, prediction(403, "SECURITY_VIOLATION", "input.image",
                     "input.image points at a private or loopback address; only public URLs are fetched")),
    ("POST", "/predictions", {"model": "truefusion-pro", "input": {"prompt": 5}}, 400,
     prediction(400, "INVALID_INPUT", "input.prompt", "input.prompt must be of type string (got int)")),
])
def test_skytells_answers(http: httpx.Client, method: str, path: str, body: Any, status: int,
                          expected: dict[str, Any]) -> None:
    response = http.request(method, path, json=body)
    assert response.status_code == status
    assert without_request_id(response.json()) == expected


def test_input_item_pages_are_checked_at_the_route(http: httpx.Client) -> None:
    created = http.post("/responses", json={"model": "gpt-5", "input": "hi"}).json()
    response = http.get(f"/responses/{created['id']}/input_items", params={"limit": "500"})
    assert response.status_code == 400
    assert without_request_id(response.json()) == inference(400, "INVALID_PARAMETER", "invalid_parameter", "limit",
                                                            "'limit' must be between 1 and 100, got 500")


@pytest.mark.parametrize(("path", "body", "status", "expected"), [
    ("/v1/models/seedance", None, 404,
     {"error": "Model not found", "code": "MODEL_NOT_FOUND", "param": "model",
      "suggestions": ["seedance-2.0", "seedance-1.0-pro", "seedance-2.0-fast", "seedance-1.0-pro-fast",
                      "seedream-4.0"]}),
    ("/api/generate", {"model": "gpt-image-2", "params": {"prompt": "x", "quantity": 9}}, 400,
     {"error": "quantity 9 is above the maximum of 8 per request", "code": "QUANTITY_TOO_HIGH", "param": "quantity",
      "details": {"quantity": 9, "max": 8}}),
    ("/api/generate", {"model": "flux-dev", "params": {"prompt": "x", "images": ["nope"]}}, 400,
     {"error": "images[0]: unknown upload id 'nope'", "code": "INVALID_PARAMS", "param": "images[0]"}),
])
def test_gateai_answers(gateai: httpx.Client, path: str, body: Any, status: int, expected: dict[str, Any]) -> None:
    response = gateai.request("POST" if body else "GET", path, json=body)
    assert response.status_code == status
    assert without_request_id(response.json()) == expected


def test_gateai_unreadable_upload_is_415(gateai: httpx.Client) -> None:
    garbage = ("g.bin", io.BytesIO(b"garbage!"), "application/octet-stream")
    response = gateai.post("/api/upload", files={"file": garbage})
    assert response.status_code == 415
    assert without_request_id(response.json()) == {
        "error": "Uploaded file 'g.bin' is not a readable image, video or audio file", "code": "UNSUPPORTED_MEDIA_TYPE",
        "param": "file", "details": {"content_type": "application/octet-stream"}}
