"""Chat Completions (``POST /v1/chat/completions``): request parsing and the response shapes.

Everything here is plain data in, plain data out: :func:`parse` validates a body, :func:`run` makes one
:class:`~.generation.Generation` per choice (``n``), :func:`completion` renders them as a
``chat.completion`` and :func:`chunks` as the ``chat.completion.chunk`` sequence of a stream.
Concatenating the chunks' ``delta.content`` (or a tool call's ``function.arguments`` fragments) of a
choice gives exactly the non-streamed message.
"""

from __future__ import annotations

import functools
import hashlib
import itertools
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from typing import Any, Generic, TypeVar

import orjson

from mockserver.core.http import json_bytes
from mockserver.core.recent import Recent
from mockserver.core.rules.model import Turn
from mockserver.core.runtime import Runtime
from mockserver.skytells.catalog import Catalog, Model
from mockserver.skytells.inference import logprobs, params, safety, structured, text, tokens, tools
from mockserver.skytells.inference.generation import Generation, TurnRequest, generate_turn
from mockserver.skytells.inference.streaming import Item
from mockserver.skytells.inference.text import Message, ToolCall
from mockserver.spec.sse import json_event

MAX_CHOICES = 128
T = TypeVar("T")
#: Parameters of OpenAI's Chat Completions that the mock takes (validated, or accepted without effect).
KNOWN = frozenset({
    "model", "messages", "stream", "stream_options", "max_tokens", "max_completion_tokens", "temperature",
    "top_p", "frequency_penalty", "presence_penalty", "stop", "n", "tools", "tool_choice",
    "parallel_tool_calls", "response_format", "logprobs", "top_logprobs", "seed", "user", "metadata", "store",
    "logit_bias", "service_tier", "reasoning_effort", "prompt_cache_key", "safety_identifier", "verbosity",
    "modalities", "prediction",
})
#: Accepted without effect, but checked against the contract's types (as OpenAI checks them).
WITHOUT_EFFECT = frozenset({"seed", "user", "metadata", "store", "logit_bias", "service_tier", "reasoning_effort",
                            "prompt_cache_key", "safety_identifier", "verbosity", "prediction"})
UNSUPPORTED = {
    "audio": "Audio output is not supported",
    "functions": "'functions' is deprecated and not supported; use 'tools'",
    "function_call": "'function_call' is deprecated and not supported; use 'tool_choice'",
    "web_search_options": "Web search is not supported",
}


class kept(Generic[T]):
    """A property computed once per instance, then found in the instance's ``__dict__``: as
    :class:`functools.cached_property`, without the lock Python 3.11 takes on each first computation (a request
    seen for the first time computes every one)."""

    def __init__(self, compute: Callable[[Any], T]) -> None:
        self.compute = compute
        self.__doc__ = compute.__doc__

    def __set_name__(self, owner: type, name: str) -> None:
        self.name = name

    def __get__(self, instance: Any, owner: type | None = None) -> T:
        if instance is None:
            return self  # type: ignore[return-value]
        value = self.compute(instance)
        instance.__dict__[self.name] = value  # found there from now on (this is not a data descriptor)
        return value


@dataclass(frozen=True)
class ChatRequest:
    model: Model
    messages: tuple[Message, ...]
    max_tokens: int = params.DEFAULT_MAX_TOKENS
    stop: tuple[str, ...] = ()
    stream: bool = False
    include_usage: bool = False
    temperature: float = 0.7
    top_p: float = 0.95
    frequency_penalty: float = 0.0
    presence_penalty: float = 0.0
    n: int = 1
    tools: tools.ToolUse = tools.NO_TOOLS
    output: structured.OutputFormat = structured.TEXT
    logprobs: bool = False
    top_logprobs: int = 0

    @kept
    def conversation_digest(self) -> str:
        """:func:`~.text.conversation_digest` of the model and messages, made once (a request seen before is kept)."""
        return text.conversation_digest(self.model.namespace, self.messages)

    @kept
    def plain_turns(self) -> tuple[str, tuple[Any, ...]] | None:
        """For a plain request (no tools, format or logprobs), what its turns depend on apart from the server's seed
        and safety terms: the purpose of their seeded digest, and the image tokens, limits, stop sequences and ``n``
        (see :func:`_plain_turn_key`). None for a request whose turns draw more."""
        if self.tools.tools or self.output.structured or self.logprobs:
            return None
        return (f"turns:{self.model.namespace}:{self.conversation_digest}",
                (tuple(m.image_tokens for m in self.messages), self.max_tokens, self.stop, self.n))


def _stream_options(body: dict[str, Any], stream: bool) -> bool:
    options = body.get("stream_options")
    if options is None:
        return False
    if not isinstance(options, dict):
        raise params.invalid("stream_options", "'stream_options' must be an object")
    if not stream:
        raise params.invalid("stream_options", "'stream_options' is only allowed when 'stream' is true")
    return params.boolean(options, "include_usage", False)


def _logprob_options(body: dict[str, Any]) -> tuple[bool, int]:
    wanted = params.boolean(body, "logprobs", False)
    top = params.integer(body, "top_logprobs", 0, None, maximum=logprobs.MAX_TOP)
    if top is not None and not wanted:
        raise params.invalid("top_logprobs", "'top_logprobs' requires 'logprobs' to be true")
    return wanted, top or 0


def _modalities(body: dict[str, Any]) -> None:
    value = body.get("modalities")
    if value is not None and (not isinstance(value, list) or any(m != "text" for m in value)):
        raise params.invalid("modalities", "Only the 'text' modality is supported")


def parse(body: dict[str, Any], catalog: Catalog) -> ChatRequest:
    """A validated request; any bad parameter is a 400 naming it."""
    params.known_only(body, KNOWN, UNSUPPORTED)
    model = params.model_for(body, catalog, params.CHAT)
    params.accepted_types(body, WITHOUT_EFFECT, "ChatCompletionRequest")
    if "messages" not in body:
        raise params.missing("messages")
    messages = params.messages(body["messages"], "messages")
    # ``max_completion_tokens`` is the OpenAI SDKs' newer name for ``max_tokens``.
    limit_name = "max_completion_tokens" if body.get("max_completion_tokens") is not None else "max_tokens"
    stream = params.boolean(body, "stream", False)
    wanted, top = _logprob_options(body)
    _modalities(body)
    return ChatRequest(
        model=model,
        messages=tuple(messages),
        max_tokens=params.integer(body, limit_name, 1, params.DEFAULT_MAX_TOKENS) or params.DEFAULT_MAX_TOKENS,
        stop=params.stop_sequences(body),
        stream=stream,
        include_usage=_stream_options(body, stream),
        temperature=params.number(body, "temperature", 0, 2, 0.7),
        top_p=params.number(body, "top_p", 0, 1, 0.95),
        frequency_penalty=params.number(body, "frequency_penalty", -2, 2, 0.0),
        presence_penalty=params.number(body, "presence_penalty", -2, 2, 0.0),
        n=params.integer(body, "n", 1, 1, maximum=MAX_CHOICES) or 1,
        tools=tools.parse(body, nested=True),
        output=structured.parse_format(body.get("response_format"), "response_format", nested=True),
        logprobs=wanted,
        top_logprobs=top,
    )


#: Plain turns kept (no tools, format, logprobs or scripted turn: everything they depend on is in the key), so a
#: load test repeating one conversation generates it once; a turn is ~0.2-2 KB.
CACHED_TURNS = 1024
_turns: Recent[tuple[Any, ...], tuple[Generation, ...]] = Recent(CACHED_TURNS)


def _plain_turn_key(runtime: Runtime, request: ChatRequest) -> tuple[Any, ...] | None:
    """What a plain request's turns depend on: the seed, model and conversation (one digest), image tokens, limits,
    stop sequences, ``n`` and the safety terms; None for a request whose turns draw more (tools, formats, logprobs)."""
    plain = request.plain_turns
    if plain is None:
        return None
    purpose, rest = plain
    settings = runtime.settings
    return runtime.rng.digest(purpose, 16), rest, tuple(settings.safety_terms), tuple(settings.jailbreak_terms)


def run(runtime: Runtime, request: ChatRequest, scripted: str | Turn | None = None) -> list[Generation]:
    """The assistant's turn, once per choice; a scripted turn (text, calls or JSON) replaces every choice's."""
    key = _plain_turn_key(runtime, request) if scripted is None else None
    known = _turns.get(key) if key is not None else None
    if known is not None:
        return list(known)
    turn = Turn(reply=scripted) if isinstance(scripted, str) else scripted
    generations = []
    for index in range(request.n):
        generation = generate_turn(runtime, TurnRequest(request.model.namespace, request.messages,
                                                        request.max_tokens, request.stop, tools=request.tools,
                                                        output=request.output, variant=index), turn)
        if request.logprobs and generation.content:
            entries = logprobs.content(runtime.rng, f"{request.model.namespace}:{request.conversation_digest}:{index}",
                                       generation.deltas, request.top_logprobs)
            generation = replace(generation, logprobs=tuple(entries))
        generations.append(generation)
    if key is not None:
        _turns.put(key, tuple(generations))
    return generations


def fingerprint(model: Model) -> str:
    """``system_fingerprint``: stable per model (it names the model version that served)."""
    return _fingerprint(model.namespace)


@functools.lru_cache(maxsize=1024)
def _fingerprint(namespace: str) -> str:
    return "fp_" + hashlib.sha256(f"skytells:{namespace}".encode()).hexdigest()[:10]


def usage(generations: Sequence[Generation]) -> dict[str, Any]:
    """Prompt tokens once, completion tokens summed over the choices."""
    first = generations[0]
    completion = sum(g.completion_tokens for g in generations)
    return {
        "prompt_tokens": first.prompt_tokens,
        "completion_tokens": completion,
        "total_tokens": first.prompt_tokens + completion,
        "completion_tokens_details": {"reasoning_tokens": 0, "audio_tokens": 0,
                                      "accepted_prediction_tokens": 0, "rejected_prediction_tokens": 0},
        "prompt_tokens_details": {"cached_tokens": first.cached_tokens, "audio_tokens": 0},
    }


def billed_tokens(generations: Sequence[Generation]) -> tuple[int, int]:
    """(input, output) tokens to bill: the prompt once, every choice's completion."""
    return generations[0].prompt_tokens, sum(g.completion_tokens for g in generations)


def tool_call_json(call: ToolCall) -> dict[str, Any]:
    return {"id": call.id, "type": "function", "function": {"name": call.name, "arguments": call.arguments}}


def _message(generation: Generation) -> dict[str, Any]:
    message: dict[str, Any] = {"role": "assistant", "content": generation.content, "annotations": [],
                               "refusal": generation.refusal}
    if generation.tool_calls:
        message["tool_calls"] = [tool_call_json(call) for call in generation.tool_calls]
    return message


def _logprobs(request: ChatRequest, generation: Generation, entries: Sequence[dict] | None = None) -> Any:
    """A choice's ``logprobs``: None unless asked; ``entries`` (a chunk's share) default to all of them."""
    if not request.logprobs:
        return None
    shown = generation.logprobs if entries is None else entries
    return {"content": list(shown) if shown is not None else None, "refusal": None}


def completion(request: ChatRequest, generations: Sequence[Generation], completion_id: str,
               created: int) -> dict[str, Any]:
    """The ``chat.completion`` object."""
    return {
        "id": completion_id,
        "object": "chat.completion",
        "created": created,
        "model": request.model.namespace,
        "system_fingerprint": fingerprint(request.model),
        "choices": [{
            "index": index,
            "logprobs": _logprobs(request, generation),
            "finish_reason": generation.finish_reason,
            "message": _message(generation),
            "content_filter_results": safety.content_filter_results(generation.completion_safety),
        } for index, generation in enumerate(generations)],
        "prompt_filter_results": safety.prompt_filter_results(generations[0].prompt_safety),
        "usage": usage(generations),
    }


#: Completions kept, as their JSON after the start every completion shares (see :func:`encoded_completion`).
CACHED_COMPLETIONS = 1024
_completion_tails: Recent[tuple[Any, ...], bytes] = Recent(CACHED_COMPLETIONS)


def encoded_completion(request: ChatRequest, generations: Sequence[Generation], completion_id: str,
                       created: int) -> bytes:
    """The JSON of :func:`completion` (as :func:`~mockserver.core.http.json_bytes` writes it). It is its start
    (``{"id":…,"object":"chat.completion","created":…,``) and a tail only the turns and the model decide; the
    tails of the last :data:`CACHED_COMPLETIONS` completions without logprobs are kept."""
    key = None if request.logprobs else (tuple(generations), request.model.namespace)
    start = b'{"id":%b,"object":"chat.completion","created":%b,' % (orjson.dumps(completion_id), orjson.dumps(created))
    tail = _completion_tails.get(key) if key is not None else None
    if tail is not None:
        return start + tail
    body = json_bytes(completion(request, generations, completion_id, created))
    if key is not None and body.startswith(start):
        _completion_tails.put(key, body[len(start):])
    return body


def _call_steps(generation: Generation) -> list[tuple[dict[str, Any], Any, int | None]]:
    """A tool-calling choice's chunks: per call its header, then its arguments token by token."""
    steps: list[tuple[dict[str, Any], Any, int | None]] = []
    for position, call in enumerate(generation.tool_calls):
        steps.append(({"tool_calls": [{"index": position, **tool_call_json(call),
                                       "function": {"name": call.name, "arguments": ""}}]}, None, None))
        steps.extend(({"tool_calls": [{"index": position, "function": {"arguments": piece}}]}, None, i)
                     for i, piece in enumerate(tokens.tokenize(call.arguments)))
    return steps


def _choice_deltas(request: ChatRequest, generation: Generation) -> list[tuple[dict[str, Any], Any, int | None]]:
    """One choice's stream after its role chunk: (delta, logprobs, token index) per chunk, in order."""
    if generation.refusal is not None:
        return [({"refusal": piece}, _logprobs(request, generation, []), i)
                for i, piece in enumerate(tokens.tokenize(generation.refusal))]
    steps = _call_steps(generation)
    if not request.logprobs:
        steps.extend(({"content": token}, None, i) for i, token in enumerate(generation.deltas))
        return steps
    entries = generation.logprobs or ()
    steps.extend(({"content": token}, _logprobs(request, generation, entries[i:i + 1] if entries else None), i)
                 for i, token in enumerate(generation.deltas))
    return steps


#: Stands for a content token while a content chunk's frame is cut into the bytes before and after it.
_CONTENT_SLOT = "\x00content\x00"


def _content_frame_parts(sample: dict[str, Any]) -> tuple[bytes, bytes]:
    """The frame of ``sample`` (a content chunk holding :data:`_CONTENT_SLOT`) before and after its content."""
    before, after = json_event(sample).split(orjson.dumps(_CONTENT_SLOT))
    return before, after


def _choice_items(request: ChatRequest, generation: Generation, chunk: Callable[..., dict[str, Any]],
                  encoded: bool) -> list[Item]:
    """One choice's items after its role chunk; ``chunk(delta, logprobs_value=...)`` makes the choice's chunks.

    Encoded, a content chunk without logprobs (most of a stream) is the choice's frame around the token's JSON
    string, cut once from a sample chunk: the same bytes, and no chunk built per token."""
    if encoded and not request.logprobs and generation.refusal is None:
        before, after = _content_frame_parts(chunk({"content": _CONTENT_SLOT}))
        items: list[Item] = [(json_event(chunk(delta)), token) for delta, _, token in _call_steps(generation)]
        items.extend((before + orjson.dumps(token) + after, i) for i, token in enumerate(generation.deltas))
        return items
    bodies: list[Item] = [(chunk(delta, logprobs_value=shown), token)
                          for delta, shown, token in _choice_deltas(request, generation)]
    return [(json_event(body), token) for body, token in bodies] if encoded else bodies


def chunks(request: ChatRequest, generations: Sequence[Generation], completion_id: str, created: int,
           encoded: bool = False) -> list[Item]:
    """The stream: per choice a role chunk (the first with ``prompt_filter_results``), its content or tool-call
    chunks, and a chunk with ``finish_reason``; choices are interleaved token by token, as OpenAI sends them.
    With ``stream_options.include_usage`` a last chunk with empty ``choices`` carries the usage (every other
    chunk then has ``usage: null``, as OpenAI sends it).

    Azure-style services send the prompt's filter results in an extra leading chunk with an empty ``id`` and
    ``object``; the SDK tolerates it, but every chunk here keeps the completion's id, so
    ``prompt_filter_results`` ride on the first role chunk instead.

    ``encoded``: each item carries its SSE frame (:func:`~mockserver.spec.sse.json_event` of the chunk) instead of
    the chunk (content chunks: see :func:`_choice_items`)."""
    model, system_fingerprint = request.model.namespace, fingerprint(request.model)
    include_usage = request.include_usage

    def chunk(index: int, delta: dict[str, Any], finish: str | None = None, filters: dict | None = None,
              logprobs_value: Any = None, **extra: Any) -> dict[str, Any]:
        body = {"id": completion_id, "object": "chat.completion.chunk", "created": created, "model": model,
                "system_fingerprint": system_fingerprint,
                "choices": [{"index": index, "delta": delta, "logprobs": logprobs_value, "finish_reason": finish,
                             "content_filter_results": filters if filters is not None else {}}]}
        if extra:
            body.update(extra)
        if include_usage:
            body["usage"] = None
        return body

    def encode(body: dict[str, Any]) -> dict[str, Any] | bytes:
        return json_event(body) if encoded else body

    items: list[Item] = []
    for index, generation in enumerate(generations):
        role = {"role": "assistant", "content": None if generation.content is None else "", "refusal": None}
        extra = {"prompt_filter_results": safety.prompt_filter_results(generation.prompt_safety)} if not index else {}
        items.append((encode(chunk(index, role, **extra)), None))
    # One filter-results object per choice, shared by its chunks (they are only serialized).
    choice_filters = [safety.content_filter_results(g.completion_safety) for g in generations]
    per_choice = [_choice_items(request, generation, functools.partial(chunk, index, filters=choice_filters[index]),
                                encoded) for index, generation in enumerate(generations)]
    if len(per_choice) == 1:
        items.extend(per_choice[0])
    else:  # choices interleaved token by token
        for step in itertools.zip_longest(*per_choice):
            items.extend(item for item in step if item is not None)
    for index, generation in enumerate(generations):
        items.append((encode(chunk(index, {}, generation.finish_reason, choice_filters[index])), None))
    if include_usage:
        last = {"id": completion_id, "object": "chat.completion.chunk", "created": created, "model": model,
                "system_fingerprint": system_fingerprint, "choices": [], "usage": usage(generations)}
        items.append((encode(last), None))
    return items


#: Streams kept, as their frames after the start every chunk shares (see :func:`encoded_chunks`); a frame is
#: ~550 bytes, so a 16-token stream is ~10 KB and the longest reply (~130 lorem tokens, plus up to ~100 of a
#: quoted tool result) ~130 KB: ~8 MB at most.
CACHED_STREAMS = 64
_stream_tails: Recent[tuple[Any, ...], list[tuple[bytes, int | None]]] = Recent(CACHED_STREAMS)


def _frame_start(completion_id: str, created: int) -> bytes:
    """How every chunk's frame starts: its keys ``id``, ``object`` and ``created`` come first (see ``chunk``)."""
    return (b'data: {"id":' + orjson.dumps(completion_id) + b',"object":"chat.completion.chunk","created":'
            + orjson.dumps(created) + b",")


def encoded_chunks(request: ChatRequest, generations: Sequence[Generation], completion_id: str,
                   created: int) -> list[Item]:
    """``chunks(..., encoded=True)``. Every frame is its start (the completion's id and time) and a tail that
    only the turns, the model and ``include_usage`` decide; the tails of the last :data:`CACHED_STREAMS` streams
    (without logprobs) are kept, so a stream repeated is its start put before each kept tail."""
    key = None if request.logprobs else (tuple(generations), request.model.namespace, request.include_usage)
    start = _frame_start(completion_id, created)
    tails = _stream_tails.get(key) if key is not None else None
    if tails is not None:
        return [(start + tail, token) for tail, token in tails]
    items = chunks(request, generations, completion_id, created, encoded=True)
    if key is not None and all(isinstance(frame, bytes) and frame.startswith(start) for frame, _ in items):
        _stream_tails.put(key, [(frame[len(start):], token) for frame, token in items])
    return items
