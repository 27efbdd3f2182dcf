"""Embeddings (``POST /v1/embeddings``): deterministic unit vectors.

A text's vector is the normalised sum of one seeded Gaussian vector per token (lower-cased,
stripped) plus a smaller one for the whole text, so the same text always gives the same vector
(for a given server seed and model) and texts that share words point in similar directions --
enough for vector-search code to behave plausibly. ``dimensions`` keeps the first ``d``
components and re-normalises (as OpenAI's shortened embeddings do). Vectors are computed in
float32; the ``float`` format sends those exact values and ``base64`` their little-endian bytes,
so both formats decode to identical numbers.
"""

from __future__ import annotations

import base64
from dataclasses import dataclass
from typing import Any

import numpy as np

from mockserver.core.randomness import Randomness
from mockserver.skytells.catalog import Catalog, Model
from mockserver.skytells.inference import params, tokens

#: The embedding size of each model (the catalog does not give one; OpenAI-like 1536 for all).
DIMENSIONS: dict[str, int] = {"deepbrain-router": 1536, "gpt-5": 1536, "gpt-5.4": 1536}
DEFAULT_DIMENSIONS = 1536
MAX_INPUTS = 2048
ENCODINGS = ("float", "base64")
WHOLE_TEXT_WEIGHT = 0.5


def native_dimensions(model: Model) -> int:
    return DIMENSIONS.get(model.namespace, DEFAULT_DIMENSIONS)


@dataclass(frozen=True)
class EmbeddingRequest:
    model: Model
    inputs: tuple[str, ...]
    dimensions: int
    encoding_format: str = "float"


def _token_id(value: Any) -> int | None:
    """A token id: a non-negative integer (``160.0`` counts: JSON does not tell 160 from 160.0)."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    if isinstance(value, float) and not value.is_integer():
        return None
    return int(value) if value >= 0 else None


def _token_array_text(value: list[Any]) -> str | None:
    ids = [_token_id(t) for t in value]
    if ids and all(i is not None for i in ids):
        return " ".join(f"<{i}>" for i in ids)
    return None


def _inputs(value: Any) -> list[str]:
    if isinstance(value, str):
        if not value:
            raise params.invalid("input", "'input' must not be an empty string")
        return [value]
    if isinstance(value, list) and value:
        as_tokens = _token_array_text(value)
        if as_tokens is not None:  # one input given as token ids
            return [as_tokens]
        texts = []
        for index, item in enumerate(value):
            text = item if isinstance(item, str) else _token_array_text(item) if isinstance(item, list) else None
            if not text:
                raise params.invalid(f"input[{index}]", "Each input must be a non-empty string (or array of token ids)")
            texts.append(text)
        if len(texts) > MAX_INPUTS:
            raise params.invalid("input", f"At most {MAX_INPUTS} inputs per request, got {len(texts)}")
        return texts
    raise params.invalid("input", "'input' must be a string or a non-empty array of strings")


def parse(body: dict[str, Any], catalog: Catalog) -> EmbeddingRequest:
    model = params.model_for(body, catalog, params.EMBEDDINGS)
    if "input" not in body:
        raise params.invalid("input", "Missing required parameter: 'input'", "INVALID_INPUT")
    native = native_dimensions(model)
    dims = params.integer(body, "dimensions", 1, native, maximum=native)
    encoding = body.get("encoding_format")
    encoding = "float" if encoding is None else encoding
    if encoding not in ENCODINGS:
        raise params.invalid("encoding_format", f"'encoding_format' must be one of {', '.join(ENCODINGS)}")
    return EmbeddingRequest(model, tuple(_inputs(body["input"])), dims or native, encoding)


def _gaussian(rng: Randomness, purpose: str, size: int) -> np.ndarray:
    seed = rng.rng(purpose).getrandbits(64)
    return np.random.default_rng(seed).standard_normal(size)


def vector(rng: Randomness, model: str, text: str, native: int, dimensions: int | None = None) -> np.ndarray:
    """The unit-length float32 embedding of ``text``."""
    words = [token.strip().lower() for token in tokens.tokenize(text) if token.strip()]
    total = np.zeros(native)
    for word in dict.fromkeys(words):
        total += words.count(word) * _gaussian(rng, f"embedding:{model}:token:{word}", native)
    total += WHOLE_TEXT_WEIGHT * max(len(words), 1) ** 0.5 * _gaussian(rng, f"embedding:{model}:text:{text}", native)
    cut = total[: dimensions or native]
    return (cut / np.linalg.norm(cut)).astype(np.float32)


def encode(values: np.ndarray, encoding_format: str) -> list[float] | str:
    if encoding_format == "base64":
        return base64.b64encode(values.astype("<f4").tobytes()).decode("ascii")
    return [float(x) for x in values]


def create(rng: Randomness, request: EmbeddingRequest) -> tuple[dict[str, Any], int]:
    """The embeddings list object and the tokens it bills."""
    native = native_dimensions(request.model)
    data = []
    for index, text in enumerate(request.inputs):
        values = vector(rng, request.model.namespace, text, native, request.dimensions)
        data.append({"object": "embedding", "index": index, "embedding": encode(values, request.encoding_format)})
    used = tokens.count_all(request.inputs)
    body = {"object": "list", "data": data, "model": request.model.namespace,
            "usage": {"prompt_tokens": used, "total_tokens": used}}
    return body, used
