"""Chat Completions (``POST /v1/chat/completions``): request parsing and the response shapes.

Everything here is plain data in, plain data out: :func:`parse` validates a body,
:func:`completion` renders a :class:`~.generation.Generation` as a ``chat.completion`` and
:func:`chunks` as the ``chat.completion.chunk`` sequence of a stream. Concatenating the chunks'
``delta.content`` gives exactly the non-streamed ``message.content``.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from typing import Any

from mockserver.core.runtime import Runtime
from mockserver.skytells.catalog import Catalog, Model
from mockserver.skytells.inference import params, safety
from mockserver.skytells.inference.generation import Generation, generate
from mockserver.skytells.inference.streaming import Item
from mockserver.skytells.inference.text import Message


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


def parse(body: dict[str, Any], catalog: Catalog) -> ChatRequest:
    """A validated request; any bad parameter is a 400 naming it."""
    model = params.model_for(body, catalog, params.CHAT)
    if "messages" not in body:
        raise params.invalid("messages", "Missing required parameter: 'messages'", "INVALID_INPUT")
    messages = params.messages(body["messages"], "messages")
    # ``max_completion_tokens`` is the OpenAI SDKs' newer name for ``max_tokens``.
    limit_name = "max_completion_tokens" if body.get("max_completion_tokens") is not None else "max_tokens"
    max_tokens = params.integer(body, limit_name, 1, params.DEFAULT_MAX_TOKENS)
    stream = params.boolean(body, "stream", False)
    options = body.get("stream_options")
    include_usage = False
    if options is not None:
        if not isinstance(options, dict):
            raise params.invalid("stream_options", "'stream_options' must be an object")
        if not stream:
            raise params.invalid("stream_options", "'stream_options' is only allowed when 'stream' is true")
        include_usage = params.boolean(options, "include_usage", False)
    n = params.integer(body, "n", 1, 1)
    if n != 1:
        raise params.invalid("n", "Only n=1 is supported")
    return ChatRequest(
        model=model,
        messages=tuple(messages),
        max_tokens=max_tokens or params.DEFAULT_MAX_TOKENS,
        stop=params.stop_sequences(body),
        stream=stream,
        include_usage=include_usage,
        temperature=params.number(body, "temperature", 0, 2, 0.7),
        top_p=params.number(body, "top_p", 0, 1, 0.95),
        frequency_penalty=params.number(body, "frequency_penalty", -2, 2, 0.0),
        presence_penalty=params.number(body, "presence_penalty", -2, 2, 0.0),
    )


def run(runtime: Runtime, request: ChatRequest, reply: str | None = None) -> Generation:
    """The assistant's turn; ``reply`` (a scripted outcome) replaces the generated text."""
    return generate(runtime, request.model.namespace, request.messages, request.max_tokens, request.stop,
                    scripted=reply)


def fingerprint(model: Model) -> str:
    """``system_fingerprint``: stable per model (it names the model version that served)."""
    return "fp_" + hashlib.sha256(f"skytells:{model.namespace}".encode()).hexdigest()[:10]


def usage(generation: Generation) -> dict[str, Any]:
    return {
        "prompt_tokens": generation.prompt_tokens,
        "completion_tokens": generation.completion_tokens,
        "total_tokens": generation.total_tokens,
        "completion_tokens_details": {"reasoning_tokens": 0, "audio_tokens": 0,
                                      "accepted_prediction_tokens": 0, "rejected_prediction_tokens": 0},
        "prompt_tokens_details": {"cached_tokens": generation.cached_tokens, "audio_tokens": 0},
    }


def completion(request: ChatRequest, generation: Generation, completion_id: str, created: int) -> dict[str, Any]:
    """The ``chat.completion`` object."""
    return {
        "id": completion_id,
        "object": "chat.completion",
        "created": created,
        "model": request.model.namespace,
        "system_fingerprint": fingerprint(request.model),
        "choices": [{
            "index": 0,
            "logprobs": None,
            "finish_reason": generation.finish_reason,
            "message": {"role": "assistant", "content": generation.text, "annotations": [], "refusal": None},
            "content_filter_results": safety.content_filter_results(generation.completion_safety),
        }],
        "prompt_filter_results": safety.prompt_filter_results(generation.prompt_safety),
        "usage": usage(generation),
    }


def chunks(request: ChatRequest, generation: Generation, completion_id: str, created: int) -> list[Item]:
    """The stream: a role chunk (with ``prompt_filter_results``), one chunk per token, a chunk with
    ``finish_reason``, and -- with ``stream_options.include_usage`` -- a usage chunk with empty
    ``choices`` (every other chunk then carries ``usage: null``, as OpenAI sends it).

    Azure-style services send the prompt's filter results in an extra leading chunk with an empty
    ``id`` and ``object``; the SDK tolerates it, but every chunk here keeps the completion's id,
    so ``prompt_filter_results`` ride on the role chunk instead."""
    base = {"id": completion_id, "object": "chat.completion.chunk", "created": created,
            "model": request.model.namespace, "system_fingerprint": fingerprint(request.model)}
    filters = safety.content_filter_results(generation.completion_safety)

    def chunk(delta: dict[str, Any], finish: str | None = None, filter_results: dict | None = None,
              **extra: Any) -> dict[str, Any]:
        body = {**base, "choices": [{"index": 0, "delta": delta, "logprobs": None, "finish_reason": finish,
                                     "content_filter_results": filter_results if filter_results is not None else {}}],
                **extra}
        if request.include_usage:
            body["usage"] = None
        return body

    items: list[Item] = [(chunk({"role": "assistant", "content": "", "refusal": None},
                                prompt_filter_results=safety.prompt_filter_results(generation.prompt_safety)), None)]
    items.extend((chunk({"content": token}, filter_results=filters), index)
                 for index, token in enumerate(generation.deltas))
    items.append((chunk({}, generation.finish_reason, filters), None))
    if request.include_usage:
        items.append(({**base, "choices": [], "usage": usage(generation)}, None))
    return items
