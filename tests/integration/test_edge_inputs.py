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
