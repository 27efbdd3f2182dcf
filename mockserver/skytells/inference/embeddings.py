"""Embeddings (``POST /v1/embeddings``): deterministic unit vectors.

A text's vector is the normalised sum of one seeded Gaussian vector per token (lower-cased,
stripped) plus a smaller one for the whole text, so the same text always gives the same vector
(for a given server seed and model) and texts that share words point in similar directions --
enough for vector-search code to behave plausibly. ``dimensions`` keeps the first ``d``
components and re-normalises (as OpenAI's shortened embeddings do). Vectors are computed in
float32; the ``float`` format sends those exact values and ``base64`` their little-endian bytes,
so both formats decode to identical numbers.

Token-id input (``[464, 3290]`` is one input, ``[[464], [3290, 11]]`` several) is decoded with the
mock's own tokenizer (:func:`tokens.decode`) and embedded exactly like that text, so the ids
``tokens.encode(text)`` give bit for bit the vector of ``text``; ``usage.prompt_tokens`` counts the
ids given (as OpenAI does). Ids from another tokenizer (tiktoken's ``cl100k_base``, as
``langchain-openai`` sends) still embed deterministically but *not* like their text: an id below
the mock's vocabulary size (:func:`tokens.vocabulary_size`) decodes to the mock's byte or token of
that number, and every larger id to a placeholder word of its own (`` tok`` + its digits as letters
``a``-``j``), so identical id sequences embed identically and sequences sharing ids point in similar
directions. Ids must be integers from 0 to ``2**31 - 1`` (a 400 names ``input[i]`` otherwise).
"""

from __future__ import annotations

import base64
import functools
from collections import Counter
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, NamedTuple

import orjson

from mockserver.core.randomness import Randomness
from mockserver.core.recent import Recent
from mockserver.skytells.catalog import Catalog, Model
from mockserver.skytells.inference import params, tokens

if TYPE_CHECKING:  # numpy loads with the first embedding, not when the server starts
    import numpy as np

#: The embedding size of each model (the catalog does not give one; OpenAI-like 1536 for all).
DIMENSIONS: dict[str, int] = {"deepbrain-router": 1536, "gpt-5": 1536, "gpt-5.4": 1536}
DEFAULT_DIMENSIONS = 1536
MAX_INPUTS = 2048
ENCODINGS = ("float", "base64")
WHOLE_TEXT_WEIGHT = 0.5
MAX_TOKEN_ID = 2**31 - 1
#: OpenAI's limits: tokens in one input, and in one request (they also bound the work a request can cause).
MAX_INPUT_TOKENS = 8192
MAX_REQUEST_TOKENS = 300_000


def native_dimensions(model: Model) -> int:
    return DIMENSIONS.get(model.namespace, DEFAULT_DIMENSIONS)


@dataclass(frozen=True)
class EmbeddingRequest:
    model: Model
    inputs: tuple[str, ...]
    dimensions: int
    encoding_format: str = "float"
    #: Tokens billed per input: the pieces of a text, or the number of ids given.
    token_counts: tuple[int, ...] = ()


class _Input(NamedTuple):
    text: str
    tokens: int


def _token_id(value: Any) -> int | None:
    """A token id: an integer ``0 <= id < 2**31`` (``160.0`` counts: JSON does not tell 160 from 160.0)."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    if isinstance(value, float) and not value.is_integer():
        return None
    return int(value) if 0 <= value <= MAX_TOKEN_ID else None


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def _ids_input(values: list[Any], param: str | None) -> _Input:
    """Token ids decoded to their text; ``param`` names the input (``None``: ``values`` is ``input`` itself)."""
    ids = []
    for position, value in enumerate(values):
        token_id = _token_id(value)
        if token_id is None:
            raise params.invalid(param or f"input[{position}]", f"Token id {param or 'input'}[{position}] must "
                                 f"be an integer from 0 to {MAX_TOKEN_ID}, got {value!r}")
        ids.append(token_id)
    return _Input(tokens.decode(ids), len(ids))


def _inputs(value: Any) -> list[_Input]:
    if isinstance(value, str):
        if not value:
            raise params.invalid("input", "'input' must not be an empty string")
        return [_Input(value, tokens.count_tokens(value))]
    if not isinstance(value, list) or not value:
        raise params.invalid("input", "'input' must be a string or a non-empty array of strings")
    if all(_is_number(item) for item in value):  # one input given as token ids
        return [_ids_input(value, None)]
    if len(value) > MAX_INPUTS:
        raise params.invalid("input", f"At most {MAX_INPUTS} inputs per request, got {len(value)}")
    inputs = []
    for index, item in enumerate(value):
        if isinstance(item, str) and item:
            inputs.append(_Input(item, tokens.count_tokens(item)))
        elif isinstance(item, list) and item and all(_is_number(v) for v in item):
            inputs.append(_ids_input(item, f"input[{index}]"))
        else:
            raise params.invalid(f"input[{index}]", "Each input must be a non-empty string (or array of token ids)")
    return inputs


def _within_limits(inputs: list[_Input], raw: Any) -> list[_Input]:
    """400 for an input over :data:`MAX_INPUT_TOKENS` (naming it) or a request over :data:`MAX_REQUEST_TOKENS`."""
    for index, item in enumerate(inputs):
        if item.tokens > MAX_INPUT_TOKENS:
            several = isinstance(raw, list) and isinstance(raw[0], list | str)
            where = f"input[{index}]" if several else "input"
            raise params.invalid(where, f"An input may have at most {MAX_INPUT_TOKENS} tokens, got {item.tokens}")
    total = sum(item.tokens for item in inputs)
    if total > MAX_REQUEST_TOKENS:
        raise params.invalid("input", f"A request may have at most {MAX_REQUEST_TOKENS} tokens, got {total}")
    return inputs


def parse(body: dict[str, Any], catalog: Catalog) -> EmbeddingRequest:
    model = params.model_for(body, catalog, params.EMBEDDINGS)
    if "input" not in body:
        raise params.missing("input")
    native = native_dimensions(model)
    dims = params.integer(body, "dimensions", 1, native, maximum=native)
    encoding = body.get("encoding_format")
    encoding = "float" if encoding is None else encoding
    if encoding not in ENCODINGS:
        raise params.invalid("encoding_format", f"'encoding_format' must be one of {', '.join(ENCODINGS)}")
    inputs = _within_limits(_inputs(body["input"]), body["input"])
    return EmbeddingRequest(model, tuple(i.text for i in inputs), dims or native, encoding,
                            tuple(i.tokens for i in inputs))


#: Gaussian vectors kept (one per word or text seen lately, 12 KB each at 1536 dimensions: ~12 MB at most), and
#: as many finished embeddings (6 KB each).
CACHED_VECTORS = 1024


@functools.lru_cache(maxsize=CACHED_VECTORS)
def _standard_normal(seed: int, size: int) -> np.ndarray:
    """``size`` standard normal draws of the generator seeded with ``seed`` (read-only: the cache shares it)."""
    import numpy as np

    values = np.random.default_rng(seed).standard_normal(size)
    values.flags.writeable = False
    return values


def _gaussian(rng: Randomness, purpose: str, size: int) -> np.ndarray:
    """The seeded Gaussian vector of ``purpose``; seeding NumPy's generator costs more than the draws, so a
    word's vector is drawn once and kept (keyed by its seed, which the server seed and purpose decide)."""
    return _standard_normal(rng.rng(purpose).getrandbits(64), size)


def _purpose(model: str, kind: str, text: str) -> str:
    """The seed purpose of a word or text; one with lone surrogates (no UTF-8 form) goes by its WTF-8 bytes."""
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return f"embedding:{model}:{kind}-wtf8:{text.encode('utf-8', 'surrogatepass').hex()}"
    return f"embedding:{model}:{kind}:{text}"


#: Finished embeddings by (seed digest of the text's purpose, native size, dimensions).
_embedded: Recent[tuple[bytes, int, int], np.ndarray] = Recent(CACHED_VECTORS)
#: Their JSON (``encode`` then serialized: ~30 KB as floats at 1536 dimensions, ~8 KB as base64), ~8 MB at most.
CACHED_ENCODINGS = 256
_encoded: Recent[tuple[bytes, int, int, str], orjson.Fragment] = Recent(CACHED_ENCODINGS)


def vector(rng: Randomness, model: str, text: str, native: int, dimensions: int | None = None) -> np.ndarray:
    """The unit-length float32 embedding of ``text`` (read-only: recent ones are kept and shared).

    The text's own seed (server seed, model and text) names the vector, so a text embedded lately is not
    summed again; at most :data:`CACHED_VECTORS` are kept, by the digest the randomness gives the text's purpose
    (one hash call; drawing the seed itself seeds a Mersenne Twister).
    """
    purpose = _purpose(model, "text", text)
    key = (rng.digest(purpose, 16), native, dimensions or native)
    known = _embedded.get(key)
    if known is not None:
        return known
    text_seed = rng.rng(purpose).getrandbits(64)
    return _embedded.put(key, _summed(rng, model, text, native, dimensions, text_seed))


def encoded(rng: Randomness, model: str, text: str, native: int, dimensions: int | None,
            encoding_format: str) -> orjson.Fragment:
    """The JSON of ``encode(vector(...), encoding_format)``, as a fragment orjson writes as is; the last
    :data:`CACHED_ENCODINGS` are kept (writing 1536 floats costs more than everything else of a request)."""
    import numpy as np

    key = (rng.digest(_purpose(model, "text", text), 16), native, dimensions or native, encoding_format)
    known = _encoded.get(key)
    if known is not None:
        return known
    values = vector(rng, model, text, native, dimensions)
    if encoding_format == "base64":
        data = orjson.dumps(encode(values, encoding_format))
    else:  # float64 arrays are written as their Python floats are (the same shortest forms)
        data = orjson.dumps(values.astype(np.float64), option=orjson.OPT_SERIALIZE_NUMPY)
    return _encoded.put(key, orjson.Fragment(data))


def _summed(rng: Randomness, model: str, text: str, native: int, dimensions: int | None,
            text_seed: int) -> np.ndarray:
    import numpy as np

    words = Counter(token.strip().lower() for token in tokens.tokenize(text) if token.strip())
    total = np.zeros(native)
    for word, count in words.items():
        total += count * _gaussian(rng, _purpose(model, "token", word), native)
    total += WHOLE_TEXT_WEIGHT * max(words.total(), 1) ** 0.5 * _standard_normal(text_seed, native)
    cut = total[: dimensions or native]
    values = (cut / np.linalg.norm(cut)).astype(np.float32)
    values.flags.writeable = False
    return values


def encode(values: np.ndarray, encoding_format: str) -> list[float] | str:
    import numpy as np

    if encoding_format == "base64":
        return base64.b64encode(values.astype("<f4").tobytes()).decode("ascii")
    return values.astype(np.float64).tolist()  # each float32 exactly, as Python floats


def create(rng: Randomness, request: EmbeddingRequest, serialized: bool = False) -> tuple[dict[str, Any], int]:
    """The embeddings list object and the tokens it bills; ``serialized``: each ``embedding`` is its JSON already
    (:func:`encoded`), for orjson to write the same bytes."""
    native = native_dimensions(request.model)
    model, dimensions, encoding_format = request.model.namespace, request.dimensions, request.encoding_format
    data = []
    for index, text in enumerate(request.inputs):
        embedding = (encoded(rng, model, text, native, dimensions, encoding_format) if serialized
                     else encode(vector(rng, model, text, native, dimensions), encoding_format))
        data.append({"object": "embedding", "index": index, "embedding": embedding})
    used = sum(request.token_counts) if request.token_counts else tokens.count_all(request.inputs)
    body = {"object": "list", "data": data, "model": request.model.namespace,
            "usage": {"prompt_tokens": used, "total_tokens": used}}
    return body, used
