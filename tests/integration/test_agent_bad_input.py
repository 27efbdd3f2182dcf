"""Hostile agent input over HTTP: schemas no instance satisfies, ``$ref`` cycles, 10k-deep schemas and absurd ``n``
get a 400 in the Inference error format naming the parameter -- never a 500, a hang or a charge."""

from __future__ import annotations

import json
from typing import Any

import httpx
import pytest

from tests.conftest import KEY

WEATHER = {"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]}


def deep_schema(depth: int) -> dict[str, Any]:
    schema: dict[str, Any] = {"type": "string"}
    for _ in range(depth):
        schema = {"type": "object", "properties": {"a": schema}, "required": ["a"]}
    return schema


def tool(parameters: Any) -> list[dict[str, Any]]:
    return [{"type": "function", "function": {"name": "f", "parameters": parameters}}]


def schema_format(schema: Any) -> dict[str, Any]:
    return {"type": "json_schema", "json_schema": {"name": "out", "schema": schema, "strict": True}}


PARAMETERS = "tools[0].function.parameters"
FORMAT = "response_format.json_schema.schema"
CASES = [
    pytest.param({"tools": tool({"type": "object", "properties": {"x": {"type": "integer", "minimum": 5,
                                                                          "maximum": 1}}, "required": ["x"]})},
                 PARAMETERS, id="minimum-over-maximum"),
    pytest.param({"tools": tool({"type": "object", "properties": {"x": {"enum": []}}, "required": ["x"]})},
                 PARAMETERS, id="empty-enum"),
    pytest.param({"tools": tool({"type": "object", "properties": {"x": {"$ref": "#/properties/x"}},
                                 "required": ["x"]})}, PARAMETERS, id="ref-cycle"),
    pytest.param({"tools": tool({"type": "object", "$defs": {"n": {"type": "object", "properties": {
        "next": {"$ref": "#/$defs/n"}}, "required": ["next"]}}, "properties": {"n": {"$ref": "#/$defs/n"}},
        "required": ["n"]})}, PARAMETERS, id="required-ref-cycle"),
    pytest.param({"tools": tool({"type": "object", "properties": {"x": {"$ref": "#/$defs/missing"}}})},
                 PARAMETERS, id="dangling-ref"),
    pytest.param({"tools": tool(deep_schema(200))}, None, id="200-deep-schema"),
    pytest.param({"response_format": schema_format({"type": "object", "allOf": [{"type": "string"}]})},
                 FORMAT, id="allof-conflict"),
    pytest.param({"response_format": schema_format(deep_schema(100))}, None, id="100-deep-format"),
    pytest.param({"n": 10**9}, "n", id="absurd-n"),
    pytest.param({"n": -1}, "n", id="negative-n"),
    pytest.param({"tools": tool(WEATHER) * 200}, "tools", id="200-tools"),
]


@pytest.mark.parametrize(("changes", "param"), CASES)
def test_bad_agent_input_is_a_named_400_and_costs_nothing(http: httpx.Client, runtime, changes: dict,
                                                          param: str | None) -> None:
    before = runtime.accounts.get(KEY).credits
    body = {"model": "gpt-5", "messages": [{"role": "user", "content": "Weather in Paris?"}], **changes}
    response = http.post("/chat/completions", content=json.dumps(body), headers={"content-type": "application/json"},
                         timeout=10)
    assert response.status_code == 400, response.text
    error = response.json()["error"]
    assert error["status"] == 400 and error["type"] and error["message"]
    if param is not None:
        assert error["param"] == param
    else:  # too deep to describe: the parameter it sits in is named
        assert error["param"] and error["param"].split(".")[0].split("[")[0] in changes
    assert runtime.accounts.get(KEY).credits == before
    assert http.post("/chat/completions", json={"model": "gpt-5", "messages": [
        {"role": "user", "content": "still fine?"}]}).status_code == 200


def test_ten_thousand_deep_schema_is_refused_quickly(http: httpx.Client) -> None:
    depth = 10_000  # written as text: json.dumps itself cannot nest this deep
    schema = '{"type":"object","properties":{"a":' * depth + '{"type":"string"}' + '},"required":["a"]}' * depth
    body = ('{"model":"gpt-5","messages":[{"role":"user","content":"hi"}],'
            '"tools":[{"type":"function","function":{"name":"f","parameters":' + schema + '}}]}')
    response = http.post("/chat/completions", content=body, timeout=10, headers={"content-type": "application/json"})
    assert response.status_code == 400, response.text
    assert response.json()["error"]["param"].startswith("tools")


def test_responses_tools_and_formats_are_checked_the_same_way(http: httpx.Client) -> None:
    bad = {"type": "object", "properties": {"x": {"type": "integer", "minimum": 5, "maximum": 1}}, "required": ["x"]}
    response = http.post("/responses", json={"model": "gpt-5", "input": "hi", "tools": [
        {"type": "function", "name": "f", "parameters": bad}]})
    assert response.status_code == 400 and response.json()["error"]["param"] == "tools[0].parameters"
    response = http.post("/responses", json={"model": "gpt-5", "input": "hi", "text": {"format": {
        "type": "json_schema", "name": "x", "schema": {"$ref": "#"}}}})
    assert response.status_code == 400 and response.json()["error"]["param"] == "text.format.schema"
