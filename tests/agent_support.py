"""Shared pieces of the agent-client integration tests (openai, langchain-openai, litellm).

Two function tools with JSON Schemas, the "execution" of a call (a deterministic string the final answer must
quote), schema checks for generated arguments and structured replies, and a fixture that writes the request
journal of each test to ``$AGENT_JOURNAL_DIR`` (when set) so a failing client exchange can be read afterwards.
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import jsonschema
import pytest

CALL_ID = re.compile(r"^call_[A-Za-z0-9]{24}$")
MODEL = "deepbrain-router"

WEATHER_PARAMETERS: dict[str, Any] = {
    "type": "object",
    "properties": {
        "city": {"type": "string", "minLength": 1, "maxLength": 40},
        "unit": {"type": "string", "enum": ["celsius", "fahrenheit"]},
        "days": {"type": "integer", "minimum": 1, "maximum": 7},
    },
    "required": ["city", "unit"],
    "additionalProperties": False,
}
TIME_PARAMETERS: dict[str, Any] = {
    "type": "object",
    "properties": {"timezone": {"type": "string", "pattern": "^[A-Z][a-z]+/[A-Z][a-z]+$"},
                   "date": {"type": "string", "format": "date"}},
    "required": ["timezone"],
    "additionalProperties": False,
}
#: Descriptions avoid common words so that only the name words decide which tool a prompt matches.
SCHEMAS = {"get_weather": WEATHER_PARAMETERS, "get_time": TIME_PARAMETERS}
DESCRIPTIONS = {"get_weather": "Forecast lookup", "get_time": "Clock lookup"}
CHAT_TOOLS: list[dict[str, Any]] = [
    {"type": "function", "function": {"name": name, "description": DESCRIPTIONS[name], "parameters": schema}}
    for name, schema in SCHEMAS.items()]
RESPONSES_TOOLS: list[dict[str, Any]] = [
    {"type": "function", "name": name, "description": DESCRIPTIONS[name], "parameters": schema}
    for name, schema in SCHEMAS.items()]

WEATHER_QUESTION = "What is the weather in Paris?"
BOTH_QUESTION = "What is the weather and the time in Paris?"
UNRELATED_QUESTION = "Tell me a story about dragons."


def run_tool(name: str, arguments: str | dict[str, Any]) -> str:
    """The local "execution" of a call: a distinctive string derived from the arguments."""
    args = json.loads(arguments) if isinstance(arguments, str) else arguments
    if name == "get_weather":
        return f"TOOL-RESULT sunny 21 {args['unit']} in {args['city']}"
    return f"TOOL-RESULT 14:05 in {args['timezone']}"


def assert_valid(instance: str | dict[str, Any] | list[Any], schema: dict[str, Any]) -> Any:
    """``instance`` (JSON text or a decoded value) is valid against ``schema`` (formats checked); returns it decoded."""
    value = json.loads(instance) if isinstance(instance, str) else instance
    jsonschema.validate(value, schema, format_checker=jsonschema.FormatChecker())
    return value


def assert_call(name: str, arguments: str | dict[str, Any], call_id: str, expected_name: str | None = None) -> None:
    """A tool call as the design describes it: a known tool, schema-valid arguments, a ``call_`` id."""
    assert name in SCHEMAS, name
    if expected_name is not None:
        assert name == expected_name
    assert_valid(arguments, SCHEMAS[name])
    assert CALL_ID.match(call_id), call_id


def journal(skytells_url: str) -> list[dict[str, Any]]:
    """The mock's request journal, oldest first (``GET /_mock/requests``)."""
    root = skytells_url.removesuffix("/v1")
    return httpx.get(f"{root}/_mock/requests", params={"order": "asc", "limit": 500}).json()["data"]


def requests_to(skytells_url: str, path: str) -> list[dict[str, Any]]:
    """Bodies of the requests a client sent to ``path`` (e.g. ``/v1/chat/completions``), oldest first."""
    return [entry["request"]["body"] for entry in journal(skytells_url) if entry["path"] == path]


@pytest.fixture(autouse=True)
def _dump_journal(request: pytest.FixtureRequest) -> Iterator[None]:
    """With ``AGENT_JOURNAL_DIR`` set, each test's request journal is written there as JSON."""
    target = os.environ.get("AGENT_JOURNAL_DIR")
    url = request.getfixturevalue("skytells_url") if target and "skytells_url" in request.fixturenames else None
    yield
    if not target or url is None:
        return
    name = re.sub(r"[^A-Za-z0-9_.-]+", "_", request.node.nodeid)
    Path(target).mkdir(parents=True, exist_ok=True)
    Path(target, f"{name}.json").write_text(json.dumps(journal(url), indent=1))
