"""Deterministic unit-length embeddings, both encodings, and request validation."""

from __future__ import annotations

import base64

import numpy as np
import pytest

from mockserver.core.errors import DomainError
from mockserver.core.http import json_bytes
from mockserver.core.randomness import Randomness
from mockserver.skytells.catalog import Catalog
from mockserver.skytells.inference import embeddings, tokens
from tests.domain_answers import inference_answer

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


@pytest.mark.parametrize("encoding_format", ["float", "base64"])
def test_serialized_bodies_are_the_bytes_of_the_plain_ones(encoding_format: str) -> None:
    texts = ["one two", "héllo 🙂 wörld", "one two", "\ud800 lone surrogate"]
    request = embeddings.parse({"model": "gpt-5", "input": texts, "encoding_format": encoding_format,
                                "dimensions": 64}, CATALOG)
    plain, used = embeddings.create(Randomness(3), request)
    for _ in range(2):  # written, then kept
        serialized, again = embeddings.create(Randomness(3), request, serialized=True)
        assert json_bytes(serialized) == json_bytes(plain) and again == used
    other, _ = embeddings.create(Randomness(4), request, serialized=True)
    assert json_bytes(other) != json_bytes(plain)


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
    with pytest.raises(DomainError) as caught:
        embeddings.parse(body, CATALOG)
    assert inference_answer(caught.value).status == 400 and inference_answer(caught.value).param == param


def test_token_arrays_are_accepted() -> None:
    request = embeddings.parse({"model": "gpt-5", "input": [[1, 2, 3], [4]]}, CATALOG)
    assert request.inputs == ("\x01\x02\x03", "\x04") and request.token_counts == (3, 1)
    assert embeddings.parse({"model": "gpt-5", "input": [1, 2, 3.0]}, CATALOG).inputs == ("\x01\x02\x03",)


TEXTS = ["What is machine learning?", "A photorealistic mountain lake at sunrise", "héllo 🙂 wörld, 12345!",
         "zyxwv qwerty\n\n\ttabs", "\ud800 lone surrogate"]


def embed(body_input: object, encoding_format: str = "float", seed: int = 5) -> dict:
    request = embeddings.parse({"model": "gpt-5", "input": body_input, "encoding_format": encoding_format}, CATALOG)
    return embeddings.create(Randomness(seed), request)[0]


@pytest.mark.parametrize("encoding_format", ["float", "base64"])
def test_the_ids_of_a_text_embed_exactly_like_the_text(encoding_format: str) -> None:
    ids = [tokens.encode(text) for text in TEXTS]
    by_text, by_ids = embed(TEXTS, encoding_format), embed(ids, encoding_format)
    assert [d["embedding"] for d in by_ids["data"]] == [d["embedding"] for d in by_text["data"]]
    assert embed(ids[0], encoding_format)["data"] == embed(TEXTS[0], encoding_format)["data"]
    mixed = embed([TEXTS[1], ids[2]], encoding_format)["data"]
    assert [d["embedding"] for d in mixed] == [d["embedding"] for d in by_text["data"][1:3]]


def test_token_id_input_bills_the_number_of_ids() -> None:
    ids = tokens.encode("zyxwv qwerty")  # not in the vocabulary: 12 byte ids for 2 text tokens
    assert len(ids) == 12 and tokens.count_tokens("zyxwv qwerty") == 2
    assert embed([ids, "zyxwv qwerty"])["usage"] == {"prompt_tokens": 14, "total_tokens": 14}
    request = embeddings.parse({"model": "gpt-5", "input": [ids, [7, 8]]}, CATALOG)
    assert embeddings.create(Randomness(1), request)[1] == 14


def test_foreign_token_ids_embed_deterministically_and_by_shared_ids() -> None:
    cl100k = [3923, 374, 5780, 6975, 30]  # tiktoken cl100k_base ids of "What is machine learning?"
    first = np.array(embed(cl100k)["data"][0]["embedding"])
    assert first.tolist() == embed(cl100k)["data"][0]["embedding"]
    near = np.array(embed([*cl100k, 100257])["data"][0]["embedding"])
    far = np.array(embed([100000, 100001, 100002, 100003, 100004])["data"][0]["embedding"])
    assert float(first @ near) > 0.5 > abs(float(first @ far))
    big = embed([[2**31 - 1, 10**9], [123456789]])
    assert len(big["data"]) == 2 and big["usage"]["prompt_tokens"] == 3


@pytest.mark.parametrize(("body_input", "param"), [
    ([1, -2], "input[1]"),
    ([1, 2.5], "input[1]"),
    ([2**31], "input[0]"),
    ([1, 1e300], "input[1]"),
    ([[1, 2], [3, 2**40]], "input[1]"),
    ([[1], [-1]], "input[1]"),
    ([[1], []], "input[1]"),
    ([[1], [True]], "input[1]"),
    ([1, "a"], "input[0]"),
    ([[1], None], "input[1]"),
])
def test_bad_token_ids_name_the_input(body_input: object, param: str) -> None:
    with pytest.raises(DomainError) as caught:
        embeddings.parse({"model": "gpt-5", "input": body_input}, CATALOG)
    assert inference_answer(caught.value).status == 400 and inference_answer(caught.value).param == param


def test_inputs_over_the_token_limits_are_refused_naming_them() -> None:
    long_text = "word " * 9000  # 9,001 tokens (" word" pieces and the last space)
    with pytest.raises(DomainError) as one:
        embeddings.parse({"model": "deepbrain-router", "input": ["ok", long_text]}, CATALOG)
    assert inference_answer(one.value).param == "input[1]" and "8192" in inference_answer(one.value).message
    with pytest.raises(DomainError) as ids:
        embeddings.parse({"model": "deepbrain-router", "input": [1] * 8193}, CATALOG)
    assert inference_answer(ids.value).param == "input"
    many = ["word " * 7600] * 40  # 7,601 tokens each, 304,040 in all
    with pytest.raises(DomainError) as total:
        embeddings.parse({"model": "deepbrain-router", "input": many}, CATALOG)
    assert inference_answer(total.value).param == "input" and "300000" in inference_answer(total.value).message

