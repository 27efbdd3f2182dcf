"""Request-body checks the server runs with the contracts' own schemas.

:func:`body_problem` returns the first problem of a body against a component schema as a
:class:`FieldProblem`: the offending field (``webhook.url``, ``params``, ``events[0]``) and a
message that names it. A schema node may carry ``x-message`` (e.g. "must be an http(s) URL") to
phrase its failure; otherwise the message is built from the JSON Schema keyword that failed.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from jsonschema.exceptions import ValidationError

from mockserver.spec.validation import closest_errors, contract

_JSON_TYPES = {dict: "object", list: "array", str: "string", bool: "boolean", int: "integer", float: "number",
               type(None): "null"}


@dataclass(frozen=True)
class FieldProblem:
    """One problem of a request body: the field (dotted, ``""`` for the body itself) and a message naming it."""

    field: str
    message: str


def field_name(parts: list[Any]) -> str:
    out = ""
    for part in parts:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out


def _message(error: ValidationError, field: str) -> tuple[str, str]:
    schema = error.schema if isinstance(error.schema, dict) else {}
    where = field or "the request body"
    if error.validator == "required":
        missing = next((name for name in error.validator_value if name not in error.instance), "")
        name = f"{field}.{missing}" if field else missing
        described = schema.get("properties", {}).get(missing, {}).get("description")
        return name, f"{name} is required" + (f": {described[0].lower()}{described[1:]}" if described else "")
    if "x-message" in schema:
        return field, f"{where} {schema['x-message']}"
    if error.validator == "type":
        wanted = error.validator_value if isinstance(error.validator_value, list) else [error.validator_value]
        named = [kind for kind in wanted if kind != "null"] or wanted  # null just means "not sent"
        got = _JSON_TYPES.get(type(error.instance), type(error.instance).__name__)
        article = "an" if named[0][0] in "aeiou" else "a"
        return field, f"{where} must be {article} {' or '.join(named)} (got {got})"
    if error.validator == "enum":
        allowed = ", ".join(map(repr, error.validator_value))
        return field, f"{where} must be one of {allowed} (got {error.instance!r})"
    return field, f"{where}: {error.message}"


def body_problem(api: str, schema: str, body: Any) -> FieldProblem | None:
    """The first problem of ``body`` against ``#/components/schemas/<schema>`` (None: it conforms).

    Problems are ordered as the schema lists its properties, so the first is the one a reader of
    the schema would meet first.
    """
    found = contract(api)
    pointer = f"/components/schemas/{schema}"
    errors = list(found.validator(pointer).iter_errors(body))
    if not errors:
        return None
    order = list(found.resolve(found.at(pointer), pointer).node.get("properties", {}))  # only to rank problems

    def rank(error: ValidationError) -> tuple[int, list[str]]:
        path = [str(part) for part in error.absolute_path]
        head = path[0] if path else ""
        return (order.index(head) if head in order else len(order), path)

    first = min(errors, key=rank)
    leaf = closest_errors(first)
    first = min(leaf, key=rank) if leaf else first
    field, message = _message(first, field_name(list(first.absolute_path)))
    return FieldProblem(field, message)


def property_problem(api: str, schema: str, name: str, value: Any) -> FieldProblem | None:
    """The first problem of one body property ``name`` against its schema in ``#/components/schemas/<schema>``
    (None: it conforms, or the schema does not describe it)."""
    found = contract(api)
    pointer = f"/components/schemas/{schema}/properties/{name}"
    try:
        found.at(pointer)
    except (KeyError, IndexError, TypeError):
        return None
    errors = list(found.validator(pointer).iter_errors(value))
    if not errors:
        return None
    leaf = closest_errors(errors[0]) or [errors[0]]
    field, message = _message(leaf[0], field_name([name, *leaf[0].absolute_path]))
    return FieldProblem(field, message)
