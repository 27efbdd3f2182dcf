"""The JSON examples of the API docs, as ``scripts/extract_doc_examples.py`` extracted them into
``tests/data/doc_examples.json`` (the docs themselves are not part of the repository)."""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path
from typing import Any

DATA = Path(__file__).resolve().parent / "data" / "doc_examples.json"


@cache
def _all() -> dict[str, dict[str, list[dict[str, Any]]]]:
    return json.loads(DATA.read_text(encoding="utf-8"))


def json_objects(name: str, lenient: bool = False) -> list[dict[str, Any]]:
    """Every top-level JSON object of doc file ``name`` that parses, in document order (fresh copies).

    ``lenient``: parsed after dropping trailing commas (``{"a": 1, }``), a slip some examples have.
    """
    examples = _all()[name]["lenient" if lenient else "strict"]
    return json.loads(json.dumps(examples))


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
