"""Deterministic unit-length embeddings, both encodings, and request validation."""

from __future__ import annotations

import base64

import numpy as np
import pytest

from mockserver.core.errors import ApiError
from mockserver.core.randomness import Randomness
from mockserver.skytells.catalog import Catalog
from mockserver.skytells.inference import embeddings

CATALOG = Catalog.load()


def vec(text: str, seed: int = 1, model: str = "gpt-5", dims: int | None = None) -> np.ndarray:
    return embeddings.vector(Randomness(seed), model, text, 1536, dims)


def test_vectors_are_unit_length_float32_and_stable() -> None:
    first = vec("A photorealistic mountain lake at sunrise")
    assert first.dtype == np.float32 and first.shape == (1536,)
    assert np.linalg.norm(first.astype(np.float64)) == pytest.approx(1.0, abs=1e-6)
    assert np.array_equal(first, vec("A photorealistic mountain lake at sunrise"))
    assert not np.array_equal(first, vec("A photorealistic mountain lake at sunset"))
    assert not np.array_equal(first, vec("A photorealistic mountain lake at sunrise", model="gpt-5.4"))


def test_shared_words_point_in_similar_directions() -> None:
    lake = vec("mountain lake at sunrise")
    similar = vec("a mountain lake at sunrise today")
    unrelated = vec("quarterly revenue spreadsheet totals")
    assert float(lake @ similar) > 0.5 > abs(float(lake @ unrelated))


def test_dimensions_keep_the_leading_direction() -> None:
    full, short = vec("hello world"), vec("hello world", dims=256)
    assert short.shape == (256,)
    assert np.linalg.norm(short.astype(np.float64)) == pytest.approx(1.0, abs=1e-6)
    assert np.allclose(short, full[:256] / np.linalg.norm(full[:256]), atol=1e-6)


def test_base64_is_little_endian_float32_of_the_same_values() -> None:
    values = vec("hello")
    decoded = np.frombuffer(base64.b64decode(embeddings.encode(values, "base64")), dtype="<f4")
    assert decoded.tolist() == embeddings.encode(values, "float")


def test_create_body_and_usage() -> None:
    request = embeddings.parse({"model": "deepbrain-router", "input": ["one two", "three"]}, CATALOG)
    body, used = embeddings.create(Randomness(3), request)
    assert body["object"] == "list" and body["model"] == "deepbrain-router"
    assert [d["index"] for d in body["data"]] == [0, 1]
    assert used == 3 and body["usage"] == {"prompt_tokens": 3, "total_tokens": 3}


@pytest.mark.parametrize(("body", "param"), [
    ({"model": "gpt-5"}, "input"),
    ({"model": "gpt-5", "input": ""}, "input"),
    ({"model": "gpt-5", "input": []}, "input"),
    ({"model": "gpt-5", "input": ["ok", ""]}, "input[1]"),
    ({"model": "gpt-5", "input": "x", "dimensions": 0}, "dimensions"),
    ({"model": "gpt-5", "input": "x", "dimensions": 4096}, "dimensions"),
    ({"model": "gpt-5", "input": "x", "encoding_format": "int8"}, "encoding_format"),
    ({"model": "gpt-5.3-codex", "input": "x"}, "model"),
])
def test_bad_requests_name_the_param(body: dict, param: str) -> None:
    with pytest.raises(ApiError) as caught:
        embeddings.parse(body, CATALOG)
    assert caught.value.status == 400 and caught.value.param == param


def test_token_arrays_are_accepted() -> None:
    request = embeddings.parse({"model": "gpt-5", "input": [[1, 2, 3], [4]]}, CATALOG)
    assert len(request.inputs) == 2
    assert embeddings.parse({"model": "gpt-5", "input": [1, 2, 3]}, CATALOG).inputs == ("<1> <2> <3>",)
