"""Inputs found by fuzzing the contracts: each gets a clear 4xx in its API's format, never a 500."""

from __future__ import annotations

import httpx
import pytest


@pytest.mark.parametrize(("method", "path", "allow"), [
    ("OPTIONS", "/predictions", "GET, HEAD, POST"),
    ("PUT", "/predictions/abc", "DELETE, GET, HEAD"),
    ("GET", "/chat/completions", "POST"),
])
def test_405_allow_names_every_method_of_the_path(http: httpx.Client, method: str, path: str, allow: str) -> None:
    response = http.request(method, path)
    assert response.status_code == 405
    assert response.headers["allow"] == allow
    assert allow in response.text


@pytest.mark.parametrize("url", ["https://[", "https://example.com:99999/x.png"])
def test_gateai_unsplittable_reference_urls_are_400(gateai: httpx.Client, url: str) -> None:
    for route in ("/api/generate", "/api/estimate"):
        response = gateai.post(route, json={"model": "flux-kontext-pro", "params": {"prompt": "x", "image": url}})
        assert response.status_code == 400, response.text
        assert response.json()["param"] == "image"


def test_unsplittable_webhook_url_is_400(http: httpx.Client) -> None:
    response = http.post("/predictions", json={"model": "truefusion", "input": {"prompt": "x"},
                                               "webhook": "http://["})
    assert response.status_code == 400 and response.json()["error_id"] == "INVALID_PARAMETER"


@pytest.mark.parametrize("value", [0, {}, "", False])
def test_embeddings_encoding_format_must_be_float_or_base64(http: httpx.Client, value: object) -> None:
    response = http.post("/embeddings", json={"model": "deepbrain-router", "input": "x", "encoding_format": value})
    assert response.status_code == 400, response.text
    assert response.json()["error"]["param"] == "encoding_format"


def test_embeddings_token_ids_may_be_integral_floats(http: httpx.Client) -> None:
    as_ints = http.post("/embeddings", json={"model": "deepbrain-router", "input": [18071, 137]})
    as_floats = http.post("/embeddings", json={"model": "deepbrain-router", "input": [18071.0, 137.0]})
    assert as_ints.status_code == as_floats.status_code == 200
    assert as_ints.json()["data"] == as_floats.json()["data"]
    assert http.post("/embeddings", json={"model": "deepbrain-router", "input": [1.5]}).status_code == 400


def test_gateai_reference_urls_follow_the_contract_pattern(gateai: httpx.Client) -> None:
    for url, status in [("HTtPs://cdn.example.org/a.png", 200), ("https://cdn.example.org/a\x1fb.png", 400)]:
        response = gateai.post("/api/estimate", json={"model": "flux-kontext-pro", "params": {"prompt": "x",
                                                                                              "image": url}})
        assert response.status_code == status, response.text


@pytest.mark.parametrize("name", [0, None, ["a"]])
def test_a_chat_message_name_that_is_not_a_string_is_400(http: httpx.Client, name: object) -> None:
    """Found by `mockserver check` (schemathesis's coverage phase): the contract types ``name`` as a string."""
    answer = http.post("/chat/completions", json={"model": "gpt-5", "max_tokens": 1,
                                                     "messages": [{"role": "user", "content": "hi", "name": name}]})
    assert answer.status_code == 400 and answer.json()["error"]["param"] == "messages[0].name", answer.text
    assert http.post("/chat/completions", json={"model": "gpt-5", "max_tokens": 1, "messages": [
        {"role": "user", "content": "hi", "name": "ada"}]}).status_code == 200


@pytest.mark.parametrize(("field", "value"), [("status", 0), ("status", "done"), ("id", 7)])
def test_a_response_input_item_with_a_bad_status_or_id_is_400(http: httpx.Client, field: str, value: object) -> None:
    item = {"type": "message", "role": "user", "content": "hi", field: value}
    answer = http.post("/responses", json={"model": "gpt-5", "max_output_tokens": 1, "input": [item]})
    assert answer.status_code == 400 and answer.json()["error"]["param"] == f"input[0].{field}", answer.text


def test_an_input_item_given_an_empty_id_is_listed_with_an_id_of_its_own(http: httpx.Client) -> None:
    item = {"type": "message", "role": "user", "content": "hi", "id": "", "status": "completed"}
    created = http.post("/responses", json={"model": "gpt-5", "max_output_tokens": 1, "input": [item]})
    assert created.status_code == 200, created.text
    listed = http.get(f"/responses/{created.json()['id']}/input_items").json()["data"]
    assert [entry["id"][:4] for entry in listed] == ["msg_"], listed
