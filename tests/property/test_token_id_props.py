"""Hypothesis: token ids round-trip every text and embed exactly like it; any ids embed deterministically."""

from __future__ import annotations

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from mockserver.core.randomness import Randomness
from mockserver.skytells.catalog import Catalog
from mockserver.skytells.inference import embeddings, tokens

CATALOG = Catalog.load()

#: Any text at all: every code point, with lone surrogates and control characters drawn often (by default
#: Hypothesis almost never draws surrogates).
any_char = st.one_of(st.characters(exclude_categories=()), st.integers(0xD800, 0xDFFF).map(chr),
                     st.integers(0, 0x1F).map(chr))
any_text = st.text(any_char, max_size=80)
words = st.sampled_from(["machine", " learning", " the", "Lorem", ",", ".", "\n\n", " 42", "🙂", " zyx", "\ud800"])
prose = st.lists(st.one_of(words, any_text), min_size=1, max_size=10).map("".join)
token_ids = st.lists(st.integers(0, embeddings.MAX_TOKEN_ID), min_size=1, max_size=40)


def embed(body_input: object, encoding_format: str, seed: int) -> dict:
    request = embeddings.parse({"model": "gpt-5", "input": body_input, "encoding_format": encoding_format}, CATALOG)
    return embeddings.create(Randomness(seed), request)[0]


@settings(max_examples=300, deadline=None)
@given(text=st.one_of(any_text, prose))
def test_decode_of_encode_is_every_text(text: str) -> None:
    ids = tokens.encode(text)
    assert tokens.decode(ids) == text
    assert all(0 <= i < tokens.vocabulary_size() for i in ids)
    assert len(ids) >= tokens.count_tokens(text)  # a piece is one id, or its bytes


@settings(max_examples=80, deadline=None)
@given(text=prose.filter(bool), seed=st.integers(0, 2**32), encoding_format=st.sampled_from(["float", "base64"]))
def test_the_ids_of_any_text_embed_exactly_like_the_text(text: str, seed: int, encoding_format: str) -> None:
    ids = tokens.encode(text)
    by_ids = embed([ids, ids], encoding_format, seed)
    by_text = embed(text, encoding_format, seed)
    assert by_ids["data"][0]["embedding"] == by_ids["data"][1]["embedding"] == by_text["data"][0]["embedding"]
    assert embed(ids, encoding_format, seed)["data"] == by_text["data"]
    assert by_ids["usage"]["prompt_tokens"] == 2 * len(ids)


@settings(max_examples=60, deadline=None)
@given(ids=token_ids, seed=st.integers(0, 2**32))
def test_any_token_ids_embed_to_a_stable_unit_vector(ids: list[int], seed: int) -> None:
    first = embed(ids, "float", seed)
    assert first == embed(ids, "float", seed)
    values = np.array(first["data"][0]["embedding"])
    assert abs(float(np.linalg.norm(values)) - 1.0) < 1e-5
    assert first["usage"]["prompt_tokens"] == len(ids)
