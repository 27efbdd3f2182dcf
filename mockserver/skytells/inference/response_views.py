"""The Response object, its stream events and the input-items list, rendered from a stored record."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from mockserver.skytells.inference import params, tokens
from mockserver.skytells.inference.generation import Generation
from mockserver.skytells.inference.streaming import Item

MAX_PAGE = 100
DEFAULT_PAGE = 20


def view(record: dict[str, Any], in_progress: bool = False) -> dict[str, Any]:
    """The Response object (OpenAI's fields plus Skytells ``content_filters``).

    ``in_progress`` gives the snapshot a stream opens with: no output, no usage yet.
    """
    reason = None if in_progress else record["incomplete_reason"]
    return {
        "id": record["id"],
        "object": "response",
        "created_at": record["created_at"],
        "status": "in_progress" if in_progress else record["status"],
        "background": False,
        "completed_at": None if in_progress else record["completed_at"],
        "error": None,
        "incomplete_details": {"reason": reason} if reason else None,
        "instructions": record["instructions"],
        "max_output_tokens": record["max_output_tokens"],
        "model": record["model"],
        "output": [] if in_progress else record["output_items"],
        "output_text": "" if in_progress else record["output_text"],
        "parallel_tool_calls": record["parallel_tool_calls"],
        "previous_response_id": record["previous_response_id"],
        "reasoning": {"effort": None, "summary": None},
        "store": record["store"],
        "temperature": record["temperature"],
        "text": record["text"],
        "tool_choice": record["tool_choice"],
        "tools": record["tools"],
        "top_p": record["top_p"],
        "truncation": "disabled",
        "usage": None if in_progress else record["usage"],
        "user": record["user"],
        "metadata": record["metadata"],
        "content_filters": [] if in_progress else record["content_filters"],
    }


def _message_steps(item: dict[str, Any], index: int, generation: Generation) -> list[Item]:
    where = {"item_id": item["id"], "output_index": index, "content_index": 0}
    part = item["content"][0]
    if part["type"] == "refusal":
        opening = {"type": "refusal", "refusal": ""}
        pieces = [({"type": "response.refusal.delta", **where, "delta": piece}, i)
                  for i, piece in enumerate(tokens.tokenize(part["refusal"]))]
        closing = ({"type": "response.refusal.done", **where, "refusal": part["refusal"]}, None)
    else:
        opening = {"type": "output_text", "text": "", "annotations": []}
        pieces = [({"type": "response.output_text.delta", **where, "delta": token, "logprobs": []}, i)
                  for i, token in enumerate(generation.deltas)]
        closing = ({"type": "response.output_text.done", **where, "text": part["text"], "logprobs": []}, None)
    return [
        ({"type": "response.output_item.added", "output_index": index,
          "item": {**item, "status": "in_progress", "content": []}}, None),
        ({"type": "response.content_part.added", **where, "part": opening}, None),
        *pieces, closing,
        ({"type": "response.content_part.done", **where,
          "part": {k: v for k, v in part.items() if k != "logprobs"}}, None),
        ({"type": "response.output_item.done", "output_index": index, "item": item}, None),
    ]


def _call_steps(item: dict[str, Any], index: int) -> list[Item]:
    where = {"item_id": item["id"], "output_index": index}
    return [
        ({"type": "response.output_item.added", "output_index": index,
          "item": {**item, "status": "in_progress", "arguments": ""}}, None),
        *(({"type": "response.function_call_arguments.delta", **where, "delta": piece}, i)
          for i, piece in enumerate(tokens.tokenize(item["arguments"]))),
        ({"type": "response.function_call_arguments.done", **where, "name": item["name"],
          "arguments": item["arguments"]}, None),
        ({"type": "response.output_item.done", "output_index": index, "item": item}, None),
    ]


def events(record: dict[str, Any], generation: Generation) -> list[Item]:
    """The typed stream events, in order, with ``sequence_number`` 0, 1, 2, ..."""
    opening = view(record, in_progress=True)
    steps: list[Item] = [({"type": "response.created", "response": opening}, None),
                         ({"type": "response.in_progress", "response": opening}, None)]
    for index, item in enumerate(record["output_items"]):
        steps.extend(_call_steps(item, index) if item["type"] == "function_call"
                     else _message_steps(item, index, generation))
    done = "response.completed" if record["status"] == "completed" else "response.incomplete"
    steps.append(({"type": done, "response": view(record)}, None))
    return [({**data, "sequence_number": number}, token) for number, (data, token) in enumerate(steps)]


@dataclass(frozen=True)
class Page:
    """Which input items a page shows: at most ``limit``, in ``order``, after/before a cursor item id."""

    limit: int = DEFAULT_PAGE
    order: str = "desc"
    after: str | None = None
    before: str | None = None


def input_items(record: dict[str, Any], page: Page) -> dict[str, Any]:
    """``GET /v1/responses/{id}/input_items``: a page of the response's input items (cursor ``after``/``before``)."""
    items = list(record["input_items"])
    if page.order == "desc":
        items.reverse()
    ids = [item.get("id") for item in items]
    for cursor, name in ((page.after, "after"), (page.before, "before")):
        if cursor is not None and cursor not in ids:
            raise params.invalid(name, f"No input item with id '{cursor}' in this response")
    start = ids.index(page.after) + 1 if page.after else 0
    stop = ids.index(page.before) if page.before else len(items)
    shown = items[start:stop][:page.limit]
    return {"object": "list", "data": shown, "first_id": shown[0].get("id") if shown else None,
            "last_id": shown[-1].get("id") if shown else None, "has_more": start + len(shown) < stop}
