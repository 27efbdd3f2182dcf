"""Every Inference API JSON example in the docs has the keys and value types of the mock's answer.

The examples (and the documented request bodies, sent as they are) are taken from the doc files
through ``tests/doc_examples.py`` (extracted by ``scripts/extract_doc_examples.py``). Keys the mock adds on
purpose are listed below, each with the reason.
"""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from tests.conftest import KEY
from tests.doc_examples import json_objects, same_shape

TWO_APIS_DOC = "skytells-two-apis.txt"
CATALOG_DOC = "skytells-model-catalog.txt"

#: Chat: the two-APIs page's ChatCompletionResponse is complete -- the mock adds nothing to it.
CHAT_EXTRA: frozenset[str] = frozenset()
#: The catalog's per-model chat examples are abridged versions of that ChatCompletionResponse; the
#: mock's answer has the full documented shape (checked against it by ``test_catalog_extras_are_documented``).
CATALOG_CHAT_EXTRA = frozenset({
    "$.created", "$.system_fingerprint", "$.prompt_filter_results", "$.choices[].logprobs",
    "$.choices[].content_filter_results", "$.choices[].message.annotations", "$.choices[].message.refusal",
    "$.usage.completion_tokens_details", "$.usage.prompt_tokens_details",
})
#: Responses: the examples show a few fields; the mock returns the OpenAI Response object the
#: ``openai`` SDK parses (the catalog: "Shape follows the OpenAI Responses object"), the issue's
#: ``annotations`` on each text part, token details in usage, and the Skytells ``content_filters[]``
#: the API v1 schema page documents for Responses.
RESPONSE_EXTRA = frozenset({
    "$.background", "$.completed_at", "$.error", "$.incomplete_details", "$.instructions", "$.max_output_tokens",
    "$.parallel_tool_calls", "$.previous_response_id", "$.reasoning", "$.store", "$.temperature", "$.text",
    "$.tool_choice", "$.tools", "$.top_p", "$.truncation", "$.user", "$.metadata", "$.content_filters",
    "$.output[].id", "$.output[].status", "$.output[].content[].annotations", "$.output[].content[].logprobs",
    "$.usage.input_tokens_details", "$.usage.output_tokens_details",
})
#: The catalog's gpt-5.3-codex example shows five fields of that same object.
CATALOG_RESPONSE_EXTRA = RESPONSE_EXTRA | {"$.created_at", "$.output", "$.usage"}
EMBEDDINGS_EXTRA: frozenset[str] = frozenset()
ERROR_EXTRA: frozenset[str] = frozenset()


def examples(doc: str) -> list[dict[str, Any]]:
    return json_objects(doc)


def one(doc: str, test) -> dict[str, Any]:
    [found] = [example for example in examples(doc) if test(example)]
    return found


def chat_request() -> dict[str, Any]:
    return one(TWO_APIS_DOC, lambda e: "messages" in e)


def chat_example() -> dict[str, Any]:
    return one(TWO_APIS_DOC, lambda e: e.get("object") == "chat.completion")


def catalog_examples(kind: str) -> list[dict[str, Any]]:
    return [e for e in examples(CATALOG_DOC) if e.get("object") == kind]


def test_the_docs_hold_the_examples_we_check() -> None:
    assert chat_request()["model"] == "deepbrain-router"
    assert chat_example()["id"].startswith("chatcmpl-")
    assert [e["model"] for e in catalog_examples("chat.completion")] == ["gpt-5", "gpt-5.4", "deepbrain-router"]
    assert [e["model"] for e in catalog_examples("response")] == ["gpt-5.3-codex"]
    assert one(TWO_APIS_DOC, lambda e: e.get("object") == "list")["data"][0]["object"] == "embedding"
    assert one(TWO_APIS_DOC, lambda e: isinstance(e.get("error"), dict))["error"]["status"] == 402


def test_catalog_extras_are_documented() -> None:
    """Every key the abridged catalog examples lack is in the full ChatCompletionResponse example."""
    full = chat_example()
    missing = []
    for path in sorted(CATALOG_CHAT_EXTRA):
        node: Any = full
        for part in path.removeprefix("$.").split("."):
            if not isinstance(node, dict) or part.removesuffix("[]") not in node:
                missing.append(path)
                break
            node = node[part.removesuffix("[]")]
            node = node[0] if part.endswith("[]") else node
    assert missing == []


def test_chat_completion_response_matches(http: httpx.Client) -> None:
    response = http.post("/chat/completions", json=chat_request())  # the documented request, verbatim
    assert response.status_code == 200, response.text
    mock, doc = response.json(), chat_example()
    assert same_shape(doc, mock, extra_keys=CHAT_EXTRA) == []
    assert mock["id"].startswith("chatcmpl-") and mock["object"] == doc["object"] and mock["model"] == doc["model"]
    assert mock["system_fingerprint"].startswith("fp_")
    assert mock["choices"][0]["finish_reason"] == "stop"
    # every category of both filter objects, not only the first array item
    assert mock["choices"][0]["content_filter_results"].keys() == doc["choices"][0]["content_filter_results"].keys()
    assert mock["prompt_filter_results"][0]["content_filter_results"].keys() == \
        doc["prompt_filter_results"][0]["content_filter_results"].keys()


@pytest.mark.parametrize("doc", catalog_examples("chat.completion"), ids=lambda e: e["model"])
def test_catalog_chat_examples_match(http: httpx.Client, doc: dict[str, Any]) -> None:
    request = one(CATALOG_DOC, lambda e: "messages" in e)  # the catalog's curl body
    response = http.post("/chat/completions", json={**request, "model": doc["model"]})
    assert response.status_code == 200, response.text
    mock = response.json()
    assert same_shape(doc, mock, extra_keys=CATALOG_CHAT_EXTRA) == []
    assert mock["model"] == doc["model"] and mock["choices"][0]["finish_reason"] == doc["choices"][0]["finish_reason"]


def test_response_object_matches(http: httpx.Client) -> None:
    request = one(TWO_APIS_DOC, lambda e: "previous_response_id" in e)
    doc = one(TWO_APIS_DOC, lambda e: e.get("object") == "response")
    first = http.post("/responses", json={"model": request["model"], "input": "What is the Prediction API?"})
    assert first.status_code == 200, first.text
    for mock in (first.json(), http.get(f"/responses/{first.json()['id']}").json()):
        assert same_shape(doc, mock, extra_keys=RESPONSE_EXTRA) == []
    # the documented follow-up turn, with a real id in place of "resp_abc123"
    follow = http.post("/responses", json={**request, "previous_response_id": first.json()["id"]})
    assert follow.status_code == 200, follow.text
    mock = follow.json()
    assert same_shape(doc, mock, extra_keys=RESPONSE_EXTRA) == []
    assert mock["id"].startswith("resp_") and mock["status"] == doc["status"] and mock["model"] == doc["model"]
    assert mock["previous_response_id"] == first.json()["id"] and mock["instructions"] == request["instructions"]


@pytest.mark.parametrize("doc", catalog_examples("response"), ids=lambda e: e["model"])
def test_catalog_response_examples_match(http: httpx.Client, doc: dict[str, Any]) -> None:
    response = http.post("/responses", json={"model": doc["model"], "input": "Refactor this function"})
    assert response.status_code == 200, response.text
    assert same_shape(doc, response.json(), extra_keys=CATALOG_RESPONSE_EXTRA) == []
    assert response.json()["status"] == doc["status"]


def test_embeddings_response_matches(http: httpx.Client) -> None:
    request = one(TWO_APIS_DOC, lambda e: "encoding_format" in e)
    doc = one(TWO_APIS_DOC, lambda e: e.get("object") == "list")
    response = http.post("/embeddings", json=request)
    assert response.status_code == 200, response.text
    mock = response.json()
    assert same_shape(doc, mock, extra_keys=EMBEDDINGS_EXTRA) == []
    numbers = [v for v in doc["data"][0]["embedding"] if v != "..."]
    assert all(isinstance(v, float) for v in numbers + mock["data"][0]["embedding"])


def test_inference_error_matches(http: httpx.Client, runtime) -> None:
    doc = one(TWO_APIS_DOC, lambda e: isinstance(e.get("error"), dict))
    runtime.accounts.change(KEY, credits=0.0)
    response = http.post("/chat/completions", json=chat_request())
    assert response.status_code == doc["error"]["status"] == 402
    mock = response.json()
    assert same_shape(doc, mock, extra_keys=ERROR_EXTRA) == []
    assert mock["error"].keys() == doc["error"].keys()
    for key in ("message", "type", "code", "error_id", "status", "param", "details"):
        assert mock["error"][key] == doc["error"][key], key
    assert mock["error"]["request_id"].startswith("req_")
    assert mock["error"]["request_id"] == response.headers["x-request-id"]
