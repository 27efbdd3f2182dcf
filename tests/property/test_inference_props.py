"""Hypothesis: Inference usage always adds up, streams equal plain answers, embeddings are unit and stable.

Driven through the domain modules (no HTTP): any conversation, any limits and stop sequences,
any safety configuration.
"""

from __future__ import annotations

import base64
import hashlib
import json

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from mockserver.core.randomness import Randomness
from mockserver.core.runtime import Runtime
from mockserver.settings import Settings
from mockserver.skytells.catalog import Catalog
from mockserver.skytells.inference import billing, chat, embeddings, response_views, responses, tokens
from mockserver.skytells.inference.text import Message, ToolCall, conversation_digest
from mockserver.spec import sse

KEY = "sk-prop-owner"
CATALOG = Catalog.load()


def runtime(seed: int = 11, **changes: object) -> Runtime:
    return Runtime.from_settings(Settings(api_keys=(KEY,), seed=seed, time_mode="manual",
                                          start_time=1_767_225_600.0, **changes))


texts = st.text(st.characters(codec="utf-8", exclude_categories=("Cs",)), min_size=0, max_size=60)
words = st.sampled_from(["machine", "learning", "cats", "dogs", "nsfw", "gore", "the", "a", "?", "42", "Hello"])
prompts = st.lists(st.one_of(words, texts), min_size=1, max_size=8).map(" ".join)
messages = st.lists(st.tuples(st.sampled_from(["system", "user", "assistant"]), prompts), min_size=1, max_size=4)
stops = st.lists(st.one_of(words, st.text(min_size=1, max_size=3)), max_size=4)
limits = st.integers(min_value=1, max_value=200)
chat_models = st.sampled_from(["gpt-5", "gpt-5.4", "deepbrain-router"])


def chat_request(model: str, conversation: list, max_tokens: int, stop: list, include_usage: bool = True):
    body = {"model": model, "messages": [{"role": r, "content": c} for r, c in conversation],
            "max_tokens": max_tokens, "stop": stop or None}
    streaming = {**body, "stream": True, "stream_options": {"include_usage": include_usage}}
    return chat.parse({k: v for k, v in body.items() if v is not None}, CATALOG), \
        chat.parse({k: v for k, v in streaming.items() if v is not None}, CATALOG)


@settings(max_examples=150, deadline=None)
@given(text=texts, cut=st.integers(min_value=0, max_value=80))
def test_tokenizer_is_lossless_and_prefix_stable(text: str, cut: int) -> None:
    pieces = tokens.tokenize(text)
    assert "".join(pieces) == text
    assert tokens.tokenize("".join(pieces[:cut])) == pieces[:cut]


@settings(max_examples=120, deadline=None)
@given(model=chat_models, conversation=messages, max_tokens=limits, stop=stops)
def test_chat_usage_adds_up_and_matches_the_text(model: str, conversation: list, max_tokens: int, stop: list) -> None:
    rt = runtime()
    plain, _ = chat_request(model, conversation, max_tokens, stop)
    body = chat.completion(plain, chat.run(rt, plain), "chatcmpl-x", 0)
    usage, choice = body["usage"], body["choices"][0]
    content = choice["message"]["content"]
    assert usage["total_tokens"] == usage["prompt_tokens"] + usage["completion_tokens"]
    assert usage["completion_tokens"] == tokens.count_tokens(content) <= max_tokens
    assert usage["prompt_tokens"] == sum(tokens.count_tokens(c) for _, c in conversation)
    assert not any(s in content for s in stop)
    assert choice["finish_reason"] in ("stop", "length", "content_filter")
    if choice["finish_reason"] == "length":
        assert usage["completion_tokens"] == max_tokens
    if choice["finish_reason"] == "content_filter":
        flagged = body["prompt_filter_results"][0]["content_filter_results"]
        completion = choice["content_filter_results"]
        assert any(v.get("filtered") for v in [*flagged.values(), *completion.values()])
    cost = billing.cost(plain.model, usage["prompt_tokens"], usage["completion_tokens"])
    assert cost == round(usage["prompt_tokens"] * 0.5e-6 + usage["completion_tokens"] * 1.25e-6, 9)


@settings(max_examples=120, deadline=None)
@given(model=chat_models, conversation=messages, max_tokens=limits, stop=stops, include_usage=st.booleans())
def test_chat_stream_deltas_equal_the_plain_text(model: str, conversation: list, max_tokens: int, stop: list,
                                                 include_usage: bool) -> None:
    plain, streamed = chat_request(model, conversation, max_tokens, stop, include_usage)
    expected = chat.completion(plain, chat.run(runtime(seed=5), plain), "chatcmpl-a", 0)
    # a second server with the same seed
    items = chat.chunks(streamed, chat.run(runtime(seed=5), streamed), "chatcmpl-b", 0)
    bodies = [data for data, _ in items]
    choices = [b["choices"][0] for b in bodies if b["choices"]]
    assert "".join(c["delta"].get("content", "") for c in choices) == expected["choices"][0]["message"]["content"]
    assert choices[-1]["finish_reason"] == expected["choices"][0]["finish_reason"]
    assert [c["finish_reason"] for c in choices[:-1]] == [None] * (len(choices) - 1)
    token_indexes = [index for _, index in items if index is not None]
    assert token_indexes == list(range(expected["usage"]["completion_tokens"]))
    if include_usage:
        assert bodies[-1]["choices"] == [] and bodies[-1]["usage"] == expected["usage"]
    else:
        assert all("usage" not in b for b in bodies)


@settings(max_examples=120, deadline=None)
@given(model=chat_models, conversation=messages, max_tokens=limits, stop=stops, n=st.integers(1, 3),
       logprobs=st.booleans(), include_usage=st.booleans(), scripted=st.one_of(st.none(), texts))
def test_a_stream_written_from_frame_templates_is_the_stream_of_its_chunks(
        model: str, conversation: list, max_tokens: int, stop: list, n: int, logprobs: bool, include_usage: bool,
        scripted: str | None) -> None:
    """Content frames cut from a sample chunk give byte for byte the frames of the chunks (any text, ``n``,
    logprobs, usage, safety)."""
    body = {"model": model, "messages": [{"role": r, "content": c} for r, c in conversation], "stream": True,
            "max_tokens": max_tokens, "n": n, "logprobs": logprobs,
            "stream_options": {"include_usage": include_usage}, **({"stop": stop} if stop else {})}
    request = chat.parse(body, CATALOG)
    generations = chat.run(runtime(seed=3, safety_terms=("gore",)), request, scripted)
    chunks = chat.chunks(request, generations, "chatcmpl-t", 7)
    frames = chat.chunks(request, generations, "chatcmpl-t", 7, encoded=True)
    assert [index for _, index in frames] == [index for _, index in chunks]
    assert [frame for frame, _ in frames] == [sse.json_event(data) for data, _ in chunks]


@settings(max_examples=80, deadline=None)
@given(turns=st.lists(prompts, min_size=1, max_size=3), instructions=st.one_of(st.none(), prompts),
       limit=st.one_of(st.none(), limits))
def test_responses_usage_and_stream_agree(turns: list[str], instructions: str | None, limit: int | None) -> None:
    rt = runtime(seed=3)
    service = responses.Responses(rt)
    previous = None
    history: list[str] = []
    for text in turns:
        body = {"model": "gpt-5.3-codex", "input": text, "instructions": instructions,
                "previous_response_id": previous, "max_output_tokens": limit}
        request = responses.parse({k: v for k, v in body.items() if v is not None}, CATALOG)
        record, generation = service.create(KEY, request)
        service.save(record)
        view = response_views.view(record)
        usage = view["usage"]
        assert usage["total_tokens"] == usage["input_tokens"] + usage["output_tokens"]
        assert usage["output_tokens"] == tokens.count_tokens(view["output_text"])
        assert usage["input_tokens"] == (tokens.count_all(history) + tokens.count_tokens(text)
                                         + (tokens.count_tokens(instructions) if instructions else 0))
        assert usage["input_tokens_details"]["cached_tokens"] == tokens.count_all(history)
        events = [data for data, _ in response_views.events(record, generation)]
        assert [e["sequence_number"] for e in events] == list(range(len(events)))
        deltas = "".join(e["delta"] for e in events if e["type"] == "response.output_text.delta")
        assert deltas == view["output_text"] == view["output"][0]["content"][0]["text"]
        assert events[-1]["response"] == view
        history += [text, view["output_text"]]
        previous = record["id"]


@settings(max_examples=60, deadline=None)
@given(text=texts.filter(bool), seed=st.integers(0, 2**32), dims=st.one_of(st.none(), st.integers(1, 1536)),
       model=chat_models)
def test_embeddings_are_unit_length_and_stable(text: str, seed: int, dims: int | None, model: str) -> None:
    first = embeddings.vector(Randomness(seed), model, text, 1536, dims)
    again = embeddings.vector(Randomness(seed), model, text, 1536, dims)
    assert first.shape == (dims or 1536,) and first.dtype == np.float32
    assert np.array_equal(first, again)
    assert abs(float(np.linalg.norm(first.astype(np.float64))) - 1.0) < 1e-5
    decoded = np.frombuffer(base64.b64decode(embeddings.encode(first, "base64")), dtype="<f4")
    assert decoded.tolist() == embeddings.encode(first, "float")


@settings(max_examples=150, deadline=None)
@given(model=chat_models, turns=st.lists(st.tuples(st.sampled_from(["system", "user", "assistant", "tool"]), texts,
                                                   st.lists(st.tuples(texts, texts, texts), max_size=2),
                                                   st.one_of(st.none(), texts)), min_size=1, max_size=4))
def test_the_conversation_digest_is_the_sha256_of_its_canonical_json(model: str, turns: list) -> None:
    """The digest (which seeds every reply) hashes the stdlib's compact JSON of the turns, whoever writes it."""
    conversation = [Message(role, content, tuple(ToolCall(*call) for call in calls), call_id)
                    for role, content, calls, call_id in turns]
    canonical = [model, [[m.role, m.content] + ([[list(c) for c in m.tool_calls], m.tool_call_id]
                                                if m.tool_calls or m.tool_call_id else []) for m in conversation]]
    expected = hashlib.sha256(json.dumps(canonical, ensure_ascii=False, separators=(",", ":")).encode()).hexdigest()
    assert conversation_digest(model, conversation) == expected
