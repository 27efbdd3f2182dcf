"""Structured outputs: ``response_format`` (chat) and ``text.format`` (Responses).

``json_object`` answers a JSON object (``{"answer": <the reply's first sentence>}``); ``json_schema`` answers
the JSON text of a seeded instance valid against the schema (``strict``: every property, no others). Both
are plain text to everything after generation: stop sequences, ``max_tokens`` and streaming apply to them
as to prose, so a cut reply is cut JSON with ``finish_reason: "length"``, as OpenAI's is.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from mockserver.core.randomness import Randomness
from mockserver.core.schema_instances import SchemaProblem, check_schema, instance
from mockserver.skytells.inference import params

KINDS = ("text", "json_object", "json_schema")
REFUSAL = "I'm sorry, but I can't help with that request."


@dataclass(frozen=True)
class OutputFormat:
    kind: str = "text"
    name: str | None = None
    schema: dict[str, Any] | None = None
    strict: bool = False
    description: str | None = None
    param: str = "response_format"  # where the schema was given, named by errors

    @property
    def structured(self) -> bool:
        return self.kind != "text"

    def as_text_format(self) -> dict[str, Any]:
        """The Responses ``text.format`` echo."""
        if self.kind != "json_schema":
            return {"type": self.kind}
        return {"type": "json_schema", "name": self.name, "schema": self.schema, "strict": self.strict,
                "description": self.description}


TEXT = OutputFormat()


def _schema_format(spec: dict[str, Any], param: str) -> OutputFormat:
    name = spec.get("name")
    if not isinstance(name, str) or not name:
        raise params.invalid(f"{param}.name", "A json_schema format needs a 'name'")
    schema = spec.get("schema")
    if not isinstance(schema, dict):
        raise params.invalid(f"{param}.schema", "'schema' must be a JSON Schema object")
    try:
        check_schema(schema)
    except SchemaProblem as problem:
        raise params.invalid(f"{param}.schema", f"Invalid schema for response_format '{name}': {problem}") from None
    strict = params.boolean(spec, "strict", False, within=f"{param}.")
    description = params.optional_string(spec, "description", within=f"{param}.")
    return OutputFormat("json_schema", name, schema, strict, description, f"{param}.schema")


def parse_format(value: Any, param: str, nested: bool) -> OutputFormat:
    """A chat ``response_format`` (``nested``: schema under ``json_schema``) or a Responses ``text.format``."""
    if value is None:
        return TEXT
    if not isinstance(value, dict) or value.get("type") not in KINDS:
        raise params.invalid(param, f"'{param}' must be an object whose type is one of {', '.join(KINDS)}")
    if value["type"] != "json_schema":
        return OutputFormat(value["type"])
    spec = value.get("json_schema") if nested else value
    if not isinstance(spec, dict):
        raise params.invalid(f"{param}.json_schema", "'json_schema' must be an object {name, schema, strict}")
    return _schema_format(spec, f"{param}.json_schema" if nested else param)


def parse_text(body: dict[str, Any]) -> OutputFormat:
    """The Responses ``text`` parameter (``{format: ...}``)."""
    value = body.get("text")
    if value is None:
        return TEXT
    if not isinstance(value, dict):
        raise params.invalid("text", "'text' must be an object {format}")
    return parse_format(value.get("format"), "text.format", nested=False)


def render(output: OutputFormat, rng: Randomness, purpose: str, prose: str, hint: str) -> str:
    """The reply's text in ``output``'s format; ``prose`` is the generated reply, ``hint`` the user's words."""
    if output.kind == "json_object":
        sentence = prose.split(". ")[0].rstrip(".") + "."
        return json.dumps({"answer": sentence}, ensure_ascii=False)
    if output.kind == "json_schema":
        try:
            value = instance(output.schema, rng.rng(purpose), strict=output.strict, hint=hint)
        except SchemaProblem as problem:
            raise params.invalid(output.param, f"No reply satisfies the schema: {problem}") from None
        return json.dumps(value, ensure_ascii=False)
    return prose
