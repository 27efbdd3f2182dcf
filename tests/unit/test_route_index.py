"""The route index picks, for every path and method, the route Starlette's linear scan picks."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from starlette.routing import BaseRoute, Match, Route, Router

from mockserver.app import build
from mockserver.core.pipeline import RuledRoute
from mockserver.core.route_index import RouteIndex, leading
from tests.conftest import make_settings

MOCK = build(make_settings())
SEGMENTS = st.sampled_from(["v1", "predictions", "predict", "models", "model", "chat", "completions", "files",
                            "get", "api", "generate", "me", "_mock", "health", "openapi.json", "x", "", "a.b"])


def first_full(routes: list[BaseRoute], scope: dict) -> BaseRoute | None:
    return next((route for route in routes if route.matches(scope)[0] is Match.FULL), None)


def scope_for(path: str, method: str, root: str = "") -> dict:
    return {"type": "http", "method": method, "path": root + path, "root_path": root, "headers": []}


@pytest.mark.parametrize("api", ["skytells", "gateai"])
@settings(max_examples=300, deadline=None)
@given(parts=st.lists(SEGMENTS, min_size=0, max_size=4), slash=st.booleans(),
       method=st.sampled_from(["GET", "POST", "DELETE", "HEAD"]), mounted=st.booleans())
def test_the_index_matches_what_the_linear_scan_matches(api: str, parts: list[str], slash: bool, method: str,
                                                          mounted: bool) -> None:
    router: Router = MOCK.apps[api].router
    path = "/" + "/".join(parts) + ("/" if slash and parts else "")
    scope = scope_for(path, method, "/mounted" if mounted else "")
    index = RouteIndex(router)
    expected = first_full(router.routes, scope)
    assert first_full(index.candidates(leading(path)), scope) is expected


def test_leading_segments() -> None:
    assert leading("/v1/predictions/abc/cancel") == "/v1/predictions"
    assert leading("/v1/predictions") == "/v1/predictions"
    assert leading("/v1") == "/v1"
    assert leading("/") == "/"
    assert leading("/get/") == "/get/"


@pytest.mark.parametrize("api", ["skytells", "gateai"])
@settings(max_examples=200, deadline=None)
@given(parts=st.lists(SEGMENTS, min_size=0, max_size=4), method=st.sampled_from(["GET", "POST", "DELETE"]),
       mounted=st.booleans(), outer=st.booleans())
def test_a_ruled_route_matches_as_starlettes_route(api: str, parts: list[str], method: str, mounted: bool,
                                                   outer: bool) -> None:
    scope = scope_for("/" + "/".join(parts), method, "/mounted" if mounted else "")
    if outer:
        scope["path_params"] = {"mount": "x"}
    for route in MOCK.apps[api].router.routes:
        if isinstance(route, RuledRoute):
            assert route.matches(scope) == Route.matches(route, scope)
