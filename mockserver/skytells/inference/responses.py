"""Responses (``/v1/responses``): stateful turns stored per key, and the Response object shapes.

A stored response (kind ``"response"``, owned by the API key) keeps its conversation -- every
earlier turn replayed through ``previous_response_id`` plus its own input -- so a later turn is
generated from the whole conversation, and deleting an earlier response does not break a chain
already built on it. Instructions are not carried over between turns (as in OpenAI's API).
The replayed turns count as cached input tokens (billed at the model's cached-input price).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from mockserver.core.errors import ApiError
from mockserver.core.runtime import Runtime
from mockserver.skytells.catalog import Catalog, Model
from mockserver.skytells.inference import params, safety, tokens
from mockserver.skytells.inference.generation import Generation, generate
from mockserver.skytells.inference.streaming import Item
from mockserver.skytells.inference.text import Message

KIND = "response"
INPUT_PART_TYPES = ("input_text", "output_text", "text")
HEX = "0123456789abcdef"


@dataclass(frozen=True)
class ResponseRequest:
    model: Model
    input: tuple[Message, ...]
    instructions: str | None = None
    previous_response_id: str | None = None
    stream: bool = False
    max_output_tokens: int | None = None
    temperature: float = 0.7
    top_p: float = 0.95
    store: bool = True
    metadata: dict[str, str] | None = None
    user: str | None = None


def _input(value: Any) -> list[Message]:
    if isinstance(value, str):
        return [Message("user", value)]
    if isinstance(value, list) and value:
        for index, item in enumerate(value):
            if isinstance(item, dict) and item.get("type", "message") != "message":
                raise params.invalid(f"input[{index}].type",
                                     f"Input items of type {item.get('type')!r} are not supported; use messages")
        return params.messages(value, "input", INPUT_PART_TYPES)
    raise params.invalid("input", "'input' must be a string or a non-empty array of messages")


def parse(body: dict[str, Any], catalog: Catalog) -> ResponseRequest:
    model = params.model_for(body, catalog, params.RESPONSES)
    if "input" not in body:
        raise params.invalid("input", "Missing required parameter: 'input'", "INVALID_INPUT")
    metadata = body.get("metadata")
    if metadata is not None and (not isinstance(metadata, dict)
                                 or not all(isinstance(v, str) for v in metadata.values())):
        raise params.invalid("metadata", "'metadata' must be an object of string values")
    return ResponseRequest(
        model=model,
        input=tuple(_input(body["input"])),
        instructions=params.optional_string(body, "instructions"),
        previous_response_id=params.optional_string(body, "previous_response_id"),
        stream=params.boolean(body, "stream", False),
        max_output_tokens=params.integer(body, "max_output_tokens", 1, None),
        temperature=params.number(body, "temperature", 0, 2, 0.7),
        top_p=params.number(body, "top_p", 0, 1, 0.95),
        store=params.boolean(body, "store", True),
        metadata=metadata,
        user=params.optional_string(body, "user"),
    )


def _messages(records: list[dict[str, str]]) -> list[Message]:
    return [Message(m["role"], m["content"]) for m in records]


def _dicts(messages: list[Message] | tuple[Message, ...]) -> list[dict[str, str]]:
    return [{"role": m.role, "content": m.content} for m in messages]


class Responses:
    """Create, read and delete responses of one runtime."""

    def __init__(self, runtime: Runtime) -> None:
        self.runtime = runtime

    def get(self, owner: str, response_id: str) -> dict[str, Any]:
        record = self.runtime.store.get(KIND, response_id)
        if record is None or record["owner"] != owner:
            raise ApiError(404, "RESPONSE_NOT_FOUND", f"Response with id '{response_id}' not found.",
                           param="response_id", code="response_not_found")
        return record

    def delete(self, owner: str, response_id: str) -> dict[str, Any]:
        """OpenAI's deletion body; the ``openai`` SDK's ``responses.delete`` reads no body and returns None."""
        self.get(owner, response_id)
        self.runtime.store.delete(KIND, response_id)
        return {"id": response_id, "object": "response.deleted", "deleted": True}

    def history(self, owner: str, previous_id: str | None) -> list[Message]:
        """The conversation a new turn continues: the previous turn's conversation and its reply."""
        if previous_id is None:
            return []
        record = self.runtime.store.get(KIND, previous_id)
        if record is None or record["owner"] != owner:
            raise ApiError(400, "INVALID_PARAMETER", f"Previous response with id '{previous_id}' not found.",
                           param="previous_response_id", code="previous_response_not_found")
        return [*_messages(record["conversation"]), Message("assistant", record["output_text"])]

    def create(self, owner: str, request: ResponseRequest,
               reply: str | None = None) -> tuple[dict[str, Any], Generation]:
        """Generate the turn; returns the record (not yet stored: see :meth:`save`) and the generation.

        ``reply`` (a scripted outcome) replaces the generated text; later turns replay it like any reply.
        """
        runtime = self.runtime
        replayed = self.history(owner, request.previous_response_id)
        conversation = [*replayed, *request.input]
        prompt = ([Message("system", request.instructions)] if request.instructions else []) + conversation
        limit = request.max_output_tokens or params.DEFAULT_MAX_TOKENS
        generation = generate(runtime, request.model.namespace, prompt, limit,
                              cached_tokens=tokens.count_all(m.content for m in replayed), scripted=reply)
        status, reason = "completed", None
        if generation.finish_reason == "length":
            status, reason = "incomplete", "max_output_tokens"
        elif generation.finish_reason == "content_filter":
            status, reason = "incomplete", "content_filter"
        now = runtime.clock.now()
        record = {
            "id": "resp_" + runtime.rng.token("response", 48, HEX),
            "message_id": "msg_" + runtime.rng.token("response-message", 48, HEX),
            "owner": owner,
            "created_at": int(now),
            "completed_at": int(now) if status == "completed" else None,
            "model": request.model.namespace,
            "status": status,
            "incomplete_reason": reason,
            "instructions": request.instructions,
            "previous_response_id": request.previous_response_id,
            "max_output_tokens": request.max_output_tokens,
            "temperature": request.temperature,
            "top_p": request.top_p,
            "store": request.store,
            "metadata": dict(request.metadata or {}),
            "user": request.user,
            "conversation": _dicts(conversation),
            "output_text": generation.text,
            "usage": usage(generation),
            "content_filters": safety.content_filters(
                generation.prompt_safety, generation.completion_safety,
                sum(len(m.content) for m in prompt), len(generation.text)),
        }
        return record, generation

    def save(self, record: dict[str, Any]) -> None:
        if record["store"]:
            self.runtime.store.put(KIND, record["id"], record, owner=record["owner"])


def usage(generation: Generation) -> dict[str, Any]:
    return {
        "input_tokens": generation.prompt_tokens,
        "input_tokens_details": {"cached_tokens": generation.cached_tokens},
        "output_tokens": generation.completion_tokens,
        "output_tokens_details": {"reasoning_tokens": 0},
        "total_tokens": generation.total_tokens,
    }


def _text_part(text: str) -> dict[str, Any]:
    return {"type": "output_text", "text": text, "annotations": [], "logprobs": []}


def _message(record: dict[str, Any], status: str, content: list[dict[str, Any]]) -> dict[str, Any]:
    return {"id": record["message_id"], "type": "message", "status": status, "role": "assistant", "content": content}


def view(record: dict[str, Any], in_progress: bool = False) -> dict[str, Any]:
    """The Response object (OpenAI's fields plus Skytells ``content_filters``).

    ``in_progress`` gives the snapshot a stream opens with: no output, no usage yet.
    """
    status = "in_progress" if in_progress else record["status"]
    reason = None if in_progress else record["incomplete_reason"]
    output = [] if in_progress else [_message(record, record["status"], [_text_part(record["output_text"])])]
    return {
        "id": record["id"],
        "object": "response",
        "created_at": record["created_at"],
        "status": status,
        "background": False,
        "completed_at": None if in_progress else record["completed_at"],
        "error": None,
        "incomplete_details": {"reason": reason} if reason else None,
        "instructions": record["instructions"],
        "max_output_tokens": record["max_output_tokens"],
        "model": record["model"],
        "output": output,
        "output_text": "" if in_progress else record["output_text"],
        "parallel_tool_calls": True,
        "previous_response_id": record["previous_response_id"],
        "reasoning": {"effort": None, "summary": None},
        "store": record["store"],
        "temperature": record["temperature"],
        "text": {"format": {"type": "text"}},
        "tool_choice": "auto",
        "tools": [],
        "top_p": record["top_p"],
        "truncation": "disabled",
        "usage": None if in_progress else record["usage"],
        "user": record["user"],
        "metadata": record["metadata"],
        "content_filters": [] if in_progress else record["content_filters"],
    }


def events(record: dict[str, Any], generation: Generation) -> list[Item]:
    """The typed stream events, in order, with ``sequence_number`` 0, 1, 2, ..."""
    item_id = record["message_id"]
    where = {"item_id": item_id, "output_index": 0, "content_index": 0}
    final = view(record)
    opening = view(record, in_progress=True)
    steps: list[tuple[dict[str, Any], int | None]] = [
        ({"type": "response.created", "response": opening}, None),
        ({"type": "response.in_progress", "response": opening}, None),
        ({"type": "response.output_item.added", "output_index": 0,
          "item": _message(record, "in_progress", [])}, None),
        ({"type": "response.content_part.added", **where,
          "part": {"type": "output_text", "text": "", "annotations": []}}, None),
    ]
    steps.extend(({"type": "response.output_text.delta", **where, "delta": token, "logprobs": []}, index)
                 for index, token in enumerate(generation.deltas))
    steps.extend([
        ({"type": "response.output_text.done", **where, "text": generation.text, "logprobs": []}, None),
        ({"type": "response.content_part.done", **where,
          "part": {"type": "output_text", "text": generation.text, "annotations": []}}, None),
        ({"type": "response.output_item.done", "output_index": 0, "item": final["output"][0]}, None),
        ({"type": "response.completed" if record["status"] == "completed" else "response.incomplete",
          "response": final}, None),
    ])
    return [({**data, "sequence_number": number}, token) for number, (data, token) in enumerate(steps)]
