"""What the agent-turn checks send: function tools and structured-output schemas, as Hypothesis strategies.

The schemas are the kind agent frameworks send (pydantic / zod output): objects of strings with formats and
patterns, enums, bounded numbers (exclusive bounds, ``multipleOf``), arrays of objects, nested objects,
``anyOf``, ``const``, nullable types, ``$ref`` to ``$defs``, and (not strict) ``oneOf`` / ``allOf``.
With ``strict`` every property is required and no others are allowed, at every level (OpenAI's strict mode).
:func:`schema_problem` checks an instance against one of them (formats included).
"""

from __future__ import annotations

import copy
import re
from typing import Any

from hypothesis import strategies as st
from jsonschema import Draft202012Validator, FormatChecker

from mockserver.spec.formats import FORMATS

_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
CHECKER = FormatChecker(formats=())
CHECKER.checkers.update(FORMATS.checkers)
CHECKER.checks("email")(lambda value: not isinstance(value, str) or bool(_EMAIL.match(value)))

ADDRESS = {"type": "object", "properties": {"street": {"type": "string", "minLength": 1},
                                            "zip": {"type": "string", "pattern": "^[0-9]{5}$"}},
           "required": ["street", "zip"], "additionalProperties": False}
POINT = {"type": "object", "properties": {"lat": {"type": "number", "minimum": -90, "maximum": 90},
                                          "lon": {"type": "number", "minimum": -180, "maximum": 180}},
         "required": ["lat", "lon"], "additionalProperties": False}
#: name -> schema of one property (nested objects are closed, as strict mode wants)
PROPERTIES: dict[str, dict[str, Any]] = {
    "city": {"type": "string", "minLength": 1, "maxLength": 40, "description": "City name"},
    "unit": {"type": "string", "enum": ["celsius", "fahrenheit"]},
    "days": {"type": "integer", "minimum": 1, "maximum": 14},
    "date": {"type": "string", "format": "date"},
    "departure": {"type": "string", "format": "date-time"},
    "email": {"type": "string", "format": "email"},
    "order_id": {"type": "string", "format": "uuid"},
    "website": {"type": "string", "format": "uri"},
    "amount": {"type": "number", "minimum": 0, "maximum": 1000},
    "urgent": {"type": "boolean"},
    "tags": {"type": "array", "items": {"type": "string", "maxLength": 12}, "minItems": 1, "maxItems": 3},
    "airport": {"type": "string", "pattern": "^[A-Z]{3}$"},
    "address": ADDRESS,
    "location": {"$ref": "#/$defs/point"},
    "priority": {"anyOf": [{"type": "string", "enum": ["low", "high"]}, {"type": "integer", "minimum": 1,
                                                                         "maximum": 5}]},
    "version": {"const": "v1"},
    "note": {"type": ["string", "null"], "maxLength": 80},
    "lines": {"type": "array", "minItems": 1, "maxItems": 2, "items": {
        "type": "object", "properties": {"sku": {"type": "string", "pattern": "^[A-Z]{2}-[0-9]{3}$"},
                                         "qty": {"type": "integer", "minimum": 1, "maximum": 9}},
        "required": ["sku", "qty"], "additionalProperties": False}},
    "ratio": {"type": "number", "exclusiveMinimum": 0, "exclusiveMaximum": 1},
    "count": {"type": "integer", "multipleOf": 5, "minimum": 0, "maximum": 100},
}
#: Only in non-strict schemas (OpenAI's strict mode does not take ``oneOf`` / ``allOf``).
LOOSE_PROPERTIES: dict[str, dict[str, Any]] = {
    "contact": {"oneOf": [{"type": "string", "format": "email"}, {"type": "integer", "minimum": 1000,
                                                                   "maximum": 9999}]},
    "quantity": {"allOf": [{"type": "integer", "minimum": 1}, {"maximum": 10}]},
}
TOOL_NAMES = ("get_weather", "search_flights", "create_ticket", "lookup_order", "send_email", "convert_currency")
DESCRIPTIONS = {"get_weather": "Get the current weather for a city", "search_flights": "Search flights",
                "create_ticket": "Open a support ticket", "lookup_order": "Look up an order by id",
                "send_email": "Send an email", "convert_currency": "Convert an amount between currencies"}


def closed(schema: dict[str, Any], strict: bool) -> dict[str, Any]:
    """``schema`` with ``$defs`` when it refers to them; with ``strict``, every property required."""
    schema = copy.deepcopy(schema)
    if strict:
        schema["required"] = list(schema["properties"])
        schema["additionalProperties"] = False
    if "location" in schema["properties"]:
        schema["$defs"] = {"point": POINT}
    return schema


@st.composite
def object_schemas(draw: st.DrawFn, strict: bool | None = None) -> tuple[dict[str, Any], bool]:
    """An object schema of 1..4 properties (some required) and whether it is strict."""
    strict = draw(st.booleans()) if strict is None else strict
    pool = PROPERTIES if strict else {**PROPERTIES, **LOOSE_PROPERTIES}
    names = draw(st.lists(st.sampled_from(sorted(pool)), min_size=1, max_size=4, unique=True))
    required = draw(st.lists(st.sampled_from(names), unique=True))
    schema = {"type": "object", "properties": {name: pool[name] for name in names}, "required": sorted(required)}
    return closed(schema, strict), strict


@st.composite
def tools(draw: st.DrawFn, count: int = 1) -> list[dict[str, Any]]:
    """``count`` function tools with distinct names, as ``{name, description, parameters, strict}``."""
    names = draw(st.lists(st.sampled_from(TOOL_NAMES), min_size=count, max_size=count, unique=True))
    found = []
    for name in names:
        parameters, strict = draw(object_schemas())
        found.append({"name": name, "description": DESCRIPTIONS[name], "parameters": parameters, "strict": strict})
    return found


def schema_problem(schema: dict[str, Any], instance: Any) -> str | None:
    """The first reason ``instance`` is not valid against ``schema`` (None: it is)."""
    error = next(iter(Draft202012Validator(schema, format_checker=CHECKER).iter_errors(instance)), None)
    if error is None:
        return None
    where = "".join(f"[{p}]" if isinstance(p, int) else f".{p}" for p in error.absolute_path) or "(top level)"
    return f"{where}: {error.message}"
