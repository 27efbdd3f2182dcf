"""Responses (``/v1/responses``): stateful turns stored per key.

A stored response (kind ``"response"``, owned by the API key) keeps its conversation -- every earlier turn
replayed through ``previous_response_id`` plus its own input -- so a later turn is generated from the whole
conversation, and deleting an earlier response does not break a chain already built on it. Instructions are
not carried over between turns (as in OpenAI's API). The replayed turns count as cached input tokens (billed
at the model's cached-input price). Each output item is also stored on its own (kind ``"response_item"``),
so a later request can name it with an ``item_reference``. The views live in :mod:`.response_views`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from mockserver.core.errors import NotFound
from mockserver.core.rules.model import Turn
from mockserver.core.runtime import Runtime
from mockserver.skytells.catalog import Catalog, Model
from mockserver.skytells.inference import params, response_input, safety, structured, tokens, tools
from mockserver.skytells.inference.generation import Generation, TurnRequest, generate_turn
from mockserver.skytells.inference.text import Message

KIND = "response"
ITEM_KIND = "response_item"
HEX = "0123456789abcdef"
KNOWN = frozenset({
    "model", "input", "instructions", "previous_response_id", "stream", "max_output_tokens", "temperature",
    "top_p", "store", "metadata", "user", "tools", "tool_choice", "parallel_tool_calls", "text", "include",
    "truncation", "reasoning", "service_tier", "prompt_cache_key", "safety_identifier", "stream_options",
    "top_logprobs", "max_tool_calls", "background", "conversation", "prompt",
})
#: Accepted without effect, but checked against the contract's types (as OpenAI checks them).
WITHOUT_EFFECT = frozenset({"include", "truncation", "reasoning", "service_tier", "prompt_cache_key",
                            "safety_identifier", "stream_options", "top_logprobs", "max_tool_calls"})
UNSUPPORTED = {
    "background": "Background responses are not supported",
    "conversation": "Conversations are not supported; use previous_response_id",
    "prompt": "Prompt templates are not supported",
}


@dataclass(frozen=True)
class ResponseRequest:
    model: Model
    input: tuple[dict[str, Any], ...]
    instructions: str | None = None
    previous_response_id: str | None = None
    stream: bool = False
    max_output_tokens: int | None = None
    temperature: float = 0.7
    top_p: float = 0.95
    store: bool = True
    metadata: dict[str, str] | None = None
    user: str | None = None
    tools: tools.ToolUse = tools.NO_TOOLS
    output: structured.OutputFormat = structured.TEXT
    tool_specs: tuple[dict[str, Any], ...] = ()  # the tools as given, echoed by the view
    tool_choice: Any = None  # as given, echoed by the view


def parse(body: dict[str, Any], catalog: Catalog) -> ResponseRequest:
    # ``background: false`` asks for what the mock does anyway; any other value of these is unsupported.
    params.known_only(body, KNOWN, {k: v for k, v in UNSUPPORTED.items() if not (k == "background"
                                                                                  and body.get(k) is False)})
    model = params.model_for(body, catalog, params.RESPONSES)
    params.accepted_types(body, WITHOUT_EFFECT, "ResponseRequest")
    if "input" not in body:
        raise params.missing("input")
    metadata = body.get("metadata")
    if metadata is not None and (not isinstance(metadata, dict)
                                 or not all(isinstance(v, str) for v in metadata.values())):
        raise params.invalid("metadata", "'metadata' must be an object of string values")
    use = tools.parse(body, nested=False)
    return ResponseRequest(
        model=model,
        input=tuple(response_input.parse_items(body["input"])),
        instructions=params.optional_string(body, "instructions"),
        previous_response_id=params.optional_string(body, "previous_response_id"),
        stream=params.boolean(body, "stream", False),
        max_output_tokens=params.integer(body, "max_output_tokens", 1, None),
        temperature=params.number(body, "temperature", 0, 2, 0.7),
        top_p=params.number(body, "top_p", 0, 1, 0.95),
        store=params.boolean(body, "store", True),
        metadata=metadata,
        user=params.optional_string(body, "user"),
        tools=use,
        output=structured.parse_text(body),
        tool_specs=tuple(body.get("tools") or ()),
        tool_choice=body.get("tool_choice") if body.get("tool_choice") is not None else "auto",
    )


def _status(generation: Generation) -> tuple[str, str | None]:
    if generation.finish_reason == "length":
        return "incomplete", "max_output_tokens"
    if generation.finish_reason == "content_filter":
        return "incomplete", "content_filter"
    return "completed", None


class Responses:
    """Create, read and delete responses of one runtime."""

    def __init__(self, runtime: Runtime) -> None:
        self.runtime = runtime

    def get(self, owner: str, response_id: str) -> dict[str, Any]:
        record = self.runtime.store.get(KIND, response_id)
        if record is None or record["owner"] != owner:
            raise NotFound("response", response_id)
        return record

    def delete(self, owner: str, response_id: str) -> dict[str, Any]:
        """OpenAI's deletion body; the ``openai`` SDK's ``responses.delete`` reads no body and returns None."""
        record = self.get(owner, response_id)
        self.runtime.store.delete(KIND, response_id)
        for item in record.get("output_items", ()):
            self.runtime.store.delete(ITEM_KIND, item["id"])
        return {"id": response_id, "object": "response.deleted", "deleted": True}

    def history(self, owner: str, previous_id: str | None) -> list[Message]:
        """The conversation a new turn continues: the previous turn's conversation and its reply."""
        if previous_id is None:
            return []
        record = self.runtime.store.get(KIND, previous_id)
        if record is None or record["owner"] != owner:
            raise NotFound("previous response", previous_id, field="previous_response_id")
        earlier = [Message.from_json(m) for m in record["conversation"]]
        return [*earlier, *response_input.conversation(record["output_items"], lambda _: {})]

    def item(self, owner: str, item_id: str) -> dict[str, Any]:
        """A stored output item named by an ``item_reference``."""
        stored = self.runtime.store.get(ITEM_KIND, item_id)
        if stored is None or stored["owner"] != owner:
            raise params.invalid("input", f"Item with id '{item_id}' not found.")
        return stored["item"]

    def _item_id(self, item: dict[str, Any]) -> str:
        prefix = {"message": "msg_", "function_call": "fc_", "function_call_output": "fco_"}[item["type"]]
        return prefix + self.runtime.rng.token(f"response-{item['type']}", 48, HEX)

    def create(self, owner: str, request: ResponseRequest,
               scripted: str | Turn | None = None) -> tuple[dict[str, Any], Generation]:
        """Generate the turn; returns the record (not yet stored: see :meth:`save`) and the generation.

        ``scripted`` (a rule's turn: text, tool calls or JSON) replaces what the model would say; later turns
        replay it like any reply.
        """
        runtime = self.runtime
        replayed = self.history(owner, request.previous_response_id)
        items = [item if "id" in item or item["type"] == "item_reference" else {"id": self._item_id(item), **item}
                 for item in request.input]
        conversation = [*replayed, *response_input.conversation(items, lambda ref: self.item(owner, ref))]
        prompt = ([Message("system", request.instructions)] if request.instructions else []) + conversation
        turn = TurnRequest(request.model.namespace, tuple(prompt),
                           request.max_output_tokens or params.DEFAULT_MAX_TOKENS,
                           cached_tokens=tokens.count_all(m.text_for_counting for m in replayed),
                           tools=request.tools, output=request.output)
        generation = generate_turn(runtime, turn, Turn(reply=scripted) if isinstance(scripted, str) else scripted)
        return self._record(owner, request, conversation, items, prompt, generation), generation

    def _output_items(self, generation: Generation, status: str) -> list[dict[str, Any]]:
        if generation.tool_calls:
            return [{"id": "fc_" + self.runtime.rng.token("response-function-call", 48, HEX), "type": "function_call",
                     "status": "completed", "arguments": call.arguments, "call_id": call.id, "name": call.name}
                    for call in generation.tool_calls]
        part = ({"type": "refusal", "refusal": generation.refusal} if generation.refusal is not None else
                {"type": "output_text", "text": generation.text, "annotations": [], "logprobs": []})
        return [{"id": "msg_" + self.runtime.rng.token("response-message", 48, HEX), "type": "message",
                 "status": status, "role": "assistant", "content": [part]}]

    def _record(self, owner: str, request: ResponseRequest, conversation: list[Message],
                items: list[dict[str, Any]], prompt: list[Message], generation: Generation) -> dict[str, Any]:
        status, reason = _status(generation)
        now = self.runtime.clock.now()
        record_id = "resp_" + self.runtime.rng.token("response", 48, HEX)
        return {
            "id": record_id, "owner": owner, "created_at": int(now),
            "completed_at": int(now) if status == "completed" else None,
            "model": request.model.namespace, "status": status, "incomplete_reason": reason,
            "instructions": request.instructions, "previous_response_id": request.previous_response_id,
            "max_output_tokens": request.max_output_tokens, "temperature": request.temperature,
            "top_p": request.top_p, "store": request.store, "metadata": dict(request.metadata or {}),
            "user": request.user, "tools": list(request.tool_specs), "tool_choice": request.tool_choice,
            "parallel_tool_calls": request.tools.parallel, "text": {"format": request.output.as_text_format()},
            "conversation": [m.as_json() for m in conversation],
            "input_items": items,
            "output_items": self._output_items(generation, status),
            "output_text": generation.text,
            "usage": usage(generation),
            "content_filters": safety.content_filters(
                generation.prompt_safety, generation.completion_safety,
                sum(len(m.content) for m in prompt), len(generation.text)),
        }

    def save(self, record: dict[str, Any]) -> None:
        if not record["store"]:
            return
        store = self.runtime.store
        store.put(KIND, record["id"], record, owner=record["owner"])
        for item in record["output_items"]:
            store.put(ITEM_KIND, item["id"], {"owner": record["owner"], "item": item}, owner=record["owner"])


def usage(generation: Generation) -> dict[str, Any]:
    return {
        "input_tokens": generation.prompt_tokens,
        "input_tokens_details": {"cached_tokens": generation.cached_tokens},
        "output_tokens": generation.completion_tokens,
        "output_tokens_details": {"reasoning_tokens": 0},
        "total_tokens": generation.total_tokens,
    }
