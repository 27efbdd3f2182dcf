"""Pull the JSON examples out of the API docs in ``../shared/api-docs`` (or $MOCKSERVER_API_DOCS)."""

from __future__ import annotations

import json
import os
import re
from pathlib import Path
from typing import Any

DOCS = Path(os.environ.get("MOCKSERVER_API_DOCS", Path(__file__).resolve().parents[2] / "shared" / "api-docs"))


def _balanced_end(text: str, start: int) -> int:
    depth, in_string, escaped = 0, False, False
    for index in range(start, len(text)):
        char = text[index]
        if in_string:
            if escaped:
                escaped = False
            elif char == "\\":
                escaped = True
            elif char == '"':
                in_string = False
        elif char == '"':
            in_string = True
        elif char == "{":
            depth += 1
        elif char == "}":
            depth -= 1
            if depth == 0:
                return index
    return -1


def json_objects(name: str, lenient: bool = False) -> list[dict[str, Any]]:
    """Every top-level JSON object that parses, in document order.

    ``lenient`` first drops trailing commas (``{"a": 1, }``), a slip some examples have.
    """
    text = (DOCS / name).read_text(encoding="utf-8")
    if lenient:
        text = re.sub(r",(\s*[}\]])", r"\1", text)
    found, index = [], 0
    while (index := text.find("{", index)) >= 0:
        end = _balanced_end(text, index)
        try:
            value = json.loads(text[index:end + 1]) if end > 0 else None
        except ValueError:
            value = None
        if isinstance(value, dict) and value:
            found.append(value)
            index = end + 1
        else:
            index += 1
    return found


def same_shape(doc: Any, mock: Any, path: str = "$", extra_keys: frozenset[str] = frozenset()) -> list[str]:
    """Differences in keys and value types between a doc example and a mock response.

    Every key of the example must be in the mock's object with a value of the same JSON type
    (``null`` in the example admits any type; int and float are both numbers); the mock may add
    only keys named in ``extra_keys`` (as ``path.key``). Arrays compare their first items.
    """
    problems: list[str] = []
    if doc is None:
        return problems
    if isinstance(doc, dict):
        if not isinstance(mock, dict):
            return [f"{path}: expected an object, got {type(mock).__name__}"]
        for key, value in doc.items():
            if key not in mock:
                problems.append(f"{path}.{key}: missing")
            else:
                problems.extend(same_shape(value, mock[key], f"{path}.{key}", extra_keys))
        problems.extend(f"{path}.{key}: not in the docs' example" for key in mock
                        if key not in doc and f"{path}.{key}" not in extra_keys)
        return problems
    if isinstance(doc, list):
        if not isinstance(mock, list):
            return [f"{path}: expected an array, got {type(mock).__name__}"]
        if doc and mock:
            problems.extend(same_shape(doc[0], mock[0], f"{path}[]", extra_keys))
        return problems
    kinds = {bool: "boolean", int: "number", float: "number", str: "string"}
    if kinds.get(type(doc)) != kinds.get(type(mock)):
        return [f"{path}: expected {kinds.get(type(doc))}, got {type(mock).__name__} ({mock!r})"]
    return problems
