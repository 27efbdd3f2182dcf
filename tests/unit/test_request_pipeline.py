"""One request pipeline: the key, the body's JSON and the route are each worked out once per request, and the
rules see the same facts the handlers use."""

from __future__ import annotations

import asyncio
from typing import Any

import httpx
import pytest
from hypothesis import given
from hypothesis import strategies as st
from starlette.routing import Route

from mockserver.app import build
from mockserver.core import http as core_http
from mockserver.core import request_facts
from mockserver.core.pipeline import RuledRoute
from mockserver.core.request_facts import api_key_in, request_key
from mockserver.core.vendor import REGISTRY
from tests.conftest import KEY, make_settings

CHAT = {"model": "gpt-5", "messages": [{"role": "user", "content": "Tell me about foxes"}]}


def counting(monkeypatch: pytest.MonkeyPatch, owner: Any, name: str) -> list[Any]:
    """Replace ``owner.name`` by a wrapper that records each call's first argument."""
    calls: list[Any] = []
    original = getattr(owner, name)

    def wrapper(*args: Any, **kwargs: Any) -> Any:
        calls.append(args[0] if args else None)
        return original(*args, **kwargs)

    monkeypatch.setattr(owner, name, wrapper)
    return calls


async def post_chat(app: Any) -> httpx.Response:
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://mock") as client:
        return await client.post("/v1/chat/completions", json=CHAT, headers={"x-api-key": KEY})


def test_with_rules_active_the_body_is_parsed_once_and_the_key_read_once(monkeypatch: pytest.MonkeyPatch) -> None:
    mock = build(make_settings())
    mock.runtime.rules.add({"match": {"prompt": "fox", "model": "gpt-*"}, "outcome": {"reply": "Scripted."}})
    parses = counting(monkeypatch, request_facts, "parse_json")
    parses_in_handler = counting(monkeypatch, core_http, "parse_json")
    keys = counting(monkeypatch, request_facts, "request_key")
    response = asyncio.run(post_chat(mock.apps["skytells"]))
    assert response.status_code == 200
    assert response.json()["choices"][0]["message"]["content"] == "Scripted."  # the rule saw model and prompt
    assert len(parses) == 1 and parses_in_handler == []  # the handler reused the pipeline's parse
    assert len(keys) == 1  # journal, rules and the handler's auth share one key


def test_the_route_is_matched_by_the_router_alone(monkeypatch: pytest.MonkeyPatch) -> None:
    mock = build(make_settings())
    mock.runtime.rules.add({"match": {"route": "POST /v1/chat/completions"}, "fault": {"type": "latency"}})
    app = mock.apps["skytells"]
    matches = counting(monkeypatch, Route, "matches")
    ruled_matches = counting(monkeypatch, RuledRoute, "matches")  # a prefix test first, then Route.matches
    response = asyncio.run(post_chat(app))
    assert response.status_code == 200 and mock.runtime.rules.get("rule_1").fired == 1
    # the route index asks only the routes whose literal prefix fits the path (here the one matched), once each,
    # and nothing matches again after the router (a ruled route answers as Starlette's Route.matches would:
    # tests/unit/test_route_index.py)
    assert [route.path for route in ruled_matches] == ["/v1/chat/completions"]
    assert matches == []


@pytest.mark.parametrize(("headers", "query", "path", "key"), [
    ([(b"x-api-key", b" sk-a ")], b"key=sk-q", "/api/me", "sk-a"),  # headers first
    ([(b"authorization", b"Bearer sk-b")], b"", "/v1/models", "sk-b"),
    ([(b"authorization", b"Basic sk-b")], b"", "/v1/models", None),
    ([], b"key=sk-q", "/api/me", "sk-q"),  # this vendor path takes ?key=
    ([], b"key=sk-q", "/v1/models", None),  # others do not
])
def test_one_key_rule_with_the_vendors_query_key_paths(headers: list, query: bytes, path: str,
                                                        key: str | None) -> None:
    scope = {"type": "http", "path": path, "query_string": query, "headers": headers}
    assert request_key(scope, REGISTRY.get("gateai").takes_query_key) == key  # type: ignore[union-attr]
    assert api_key_in({"x-api-key": "", "authorization": "bearer  sk-c "}) == "sk-c"


async def answers(app: Any, *requests: tuple[str, str]) -> list[httpx.Response]:
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://mock") as client:
        return [await client.request(method, path, headers={"x-api-key": KEY}) for method, path in requests]


def test_rules_apply_to_unrouted_requests_and_wrong_methods_with_the_template_named() -> None:
    mock = build(make_settings())
    mock.runtime.rules.add({"match": {"route": "/v1/predictions/{id}"}, "fault": {"type": "error", "status": 502}})
    mock.runtime.rules.add({"match": {"route": "/v1/nowhere"}, "fault": {"type": "error", "status": 503}})
    wrong_method, unrouted, control = asyncio.run(answers(
        mock.apps["skytells"], ("PUT", "/v1/predictions/abc"), ("GET", "/v1/nowhere"), ("GET", "/_mock/rules")))
    assert wrong_method.status_code == 502  # a 405 path: the partially matched route's template is named
    assert unrouted.status_code == 503  # no route: the path alone is matched
    assert control.status_code == 200 and len(control.json()["data"]) == 2  # the control plane is never faulted
    assert [rule.fired for rule in mock.runtime.rules.list()] == [1, 1]


@given(st.sampled_from(["/v1/predictions/{id}", "/v1/models", "/files/{name:path}", "/get/{id}/x"]),
       st.sampled_from(["", "/skytells", "/v1"]), st.text(alphabet="/v1predictionsmodelfgetx{}\n", max_size=24))
def test_the_prefix_test_never_rules_out_a_route_starlette_would_match(template: str, root: str, tail: str) -> None:
    route = Route(template, lambda request: None)
    ruled = RuledRoute.wrapping(route, pipeline=None)  # type: ignore[arg-type]
    for path in (tail, root + tail, "/" + tail, root + "/" + tail):
        scope = {"type": "http", "method": "GET", "path": path, "root_path": root}
        assert ruled.matches(scope) == route.matches(scope)
