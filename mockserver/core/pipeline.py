"""The rule pipeline: rules chosen and faults applied once per API request, at the route the router matched.

:func:`install_rule_pipeline` wraps every API route of an app (and the router's not-found answer) in a
:class:`RuledRoute`, so the router's own match names the route template and nothing matches again. For each
API request (``/_mock…`` paths are the mock's own) the pipeline completes the request's
:class:`~mockserver.core.request_facts.RequestFacts` -- the route template, and, for a caller whose API key the
mock knows, the JSON body read ahead (up to ``max_body_bytes``, replayed to the app unchanged) and parsed
once for the model and prompt rules match on; an unauthenticated caller never causes a parse or a ``prompt``
regex search -- asks :meth:`~mockserver.core.rules.registry.Rules.select` with the ``X-Mock-Scenario``
header, keeps the selection on the facts for domain code, and lets the selected fault (a class of
:mod:`mockserver.core.rules.faults`) answer.

A bad ``X-Mock-Scenario`` header is a 400 ``INVALID_SCENARIO`` in the API's error format.
"""

from __future__ import annotations

import functools
import inspect
import re
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from starlette._utils import get_route_path, is_async_callable
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.routing import Match, Route
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from mockserver.core.asgi import MOCK_PREFIX, ErrorRenderer, error_response, route_path
from mockserver.core.bodies import depth_limit
from mockserver.core.errors import ApiError
from mockserver.core.front import lean_endpoint
from mockserver.core.request_facts import (
    HEADERS_KEY,
    STATE_KEY,
    QueryKeyRule,
    RequestFacts,
    ScopeHeaders,
    facts_of,
    header_index,
    no_query_key,
)
from mockserver.core.route_index import index_routes
from mockserver.core.rules.faults import FaultCall
from mockserver.core.rules.fields import RuleError
from mockserver.core.rules.prompts import prompt_text
from mockserver.core.rules.select import SCENARIO_HEADER

if TYPE_CHECKING:
    from mockserver.core.runtime import Runtime

# -- reading the body ahead ---------------------------------------------------------------------------


def wants_read_ahead(scope: Scope, limit: int) -> bool:
    """Only bodies that may be JSON and that fit the limit are read ahead (uploads stream through)."""
    headers = ScopeHeaders(scope)
    declared = headers.get("content-length")
    if declared is not None and declared.strip().isdigit() and int(declared) > limit:
        return False
    media = (headers.get("content-type") or "").split(";")[0].strip().lower()
    return not media or media == "application/json" or media.endswith("+json") or media == "text/plain"


async def buffer_body(receive: Receive, limit: int) -> tuple[bytes | None, Receive]:
    """Read the request body (up to ``limit`` bytes) and a ``receive`` that replays it unchanged.

    The body is returned only when complete and within the limit; otherwise None, and the replay
    hands the app what was read and then the rest of the stream.
    """
    messages: list[Message] = []
    size = 0
    complete = False
    while True:
        message = await receive()
        messages.append(message)
        if message["type"] != "http.request":
            break
        size += len(message.get("body", b""))
        if not message.get("more_body", False):
            complete = True
            break
        if size > limit:
            break
    body = b"".join(m.get("body", b"") for m in messages if m["type"] == "http.request")
    if complete and size <= limit:
        messages = [{"type": "http.request", "body": body, "more_body": False}]
    pending = list(messages)

    async def replay() -> Message:
        if pending:
            return pending.pop(0)
        return await receive()

    return (body if complete and size <= limit else None), replay


_SCENARIO = SCENARIO_HEADER.lower().encode()


def rules_may_apply(runtime: Runtime, scope: Scope) -> bool:
    """Whether some rule could apply to the request: a rule for every request exists, or it names a scenario
    (else the pipeline hands it straight to its route; so may a vendor's express answer)."""
    return runtime.rules.has_global_rules or _SCENARIO in (scope.get(HEADERS_KEY) or header_index(scope))


def express_item(runtime: Runtime, scope: Scope, path: str, prefix: str) -> str | None:
    """The id a ``GET <prefix><id>`` names (``path``: below the mount), when an express answer may answer it: one
    path segment after ``prefix`` (the route's match) and no rule that could apply (the pipeline's bypass); None
    otherwise."""
    if scope["method"] != "GET" or not path.startswith(prefix):
        return None
    item = path[len(prefix):]
    return None if not item or "/" in item or rules_may_apply(runtime, scope) else item


def invalid_scenario(message: str) -> ApiError:
    return ApiError(400, "INVALID_SCENARIO", message, param="X-Mock-Scenario")


# -- the pipeline -------------------------------------------------------------------------------------


class RulePipeline:
    """Chooses the rules for each API request of one app and lets the chosen fault answer."""

    def __init__(self, runtime: Runtime, api: str, render: ErrorRenderer,
                 takes_query_key: QueryKeyRule = no_query_key) -> None:
        self.runtime = runtime
        self.api = api
        self.render = render
        self.takes_query_key = takes_query_key

    async def read_ahead(self, scope: Scope, receive: Receive, facts: RequestFacts) -> Receive:
        """Buffer and parse a known caller's JSON body into ``facts`` (model, prompt); the replaying ``receive``."""
        limit = self.runtime.settings.max_body_bytes
        key = facts.key
        if key is None or not self.runtime.accounts.recognizes(key) or not wants_read_ahead(scope, limit):
            return receive
        facts.body, receive = await buffer_body(receive, limit)
        data = facts.json(depth_limit(scope))
        model = data.get("model") if isinstance(data, dict) else None
        facts.model = model if isinstance(model, str) else None
        facts.prompt = prompt_text(data)
        return receive

    async def run(self, scope: Scope, receive: Receive, send: Send, route: str | None, app: ASGIApp) -> None:
        """Serve one request that the router sent to ``app`` (the matched route's ``route`` template)."""
        state = scope.get("state")
        facts = state.get(STATE_KEY) if state else None  # known_facts: the journal made them for every API request
        if facts is None:
            if route_path(scope).startswith(MOCK_PREFIX):
                await app(scope, receive, send)
                return
            facts = facts_of(scope, self.api, self.takes_query_key)
        facts.route = route
        raw_scenario = (scope.get(HEADERS_KEY) or header_index(scope)).get(_SCENARIO)
        scenario = None if raw_scenario is None else raw_scenario.decode("latin-1")
        if scenario is None and not self.runtime.rules.has_global_rules:
            await app(scope, receive, send)  # nothing could match: no body read ahead, no selection
            return
        receive = await self.read_ahead(scope, receive, facts)
        try:
            selection = self.runtime.rules.select(facts, scenario)
        except RuleError as exc:
            response = error_response(invalid_scenario(str(exc)), Request(scope, receive), self.render)
            await response(scope, receive, send)
            return
        facts.selection = selection
        if selection.fault is None:
            await app(scope, receive, send)
            return
        await selection.fault.apply(FaultCall(app, scope, receive, send, selection.rule_ids, self.render))


#: Match's members, read once: an Enum member read from its class costs a descriptor call (~10x a global).
_NONE, _PARTIAL, _FULL = Match.NONE, Match.PARTIAL, Match.FULL


class RuledRoute(Route):
    """A route whose requests pass through the rule pipeline once the router has matched it (still a ``Route``:
    path, methods, name and matching are the wrapped route's)."""

    pipeline: RulePipeline
    literal_prefix: str  # the template up to its first parameter: every path the route matches starts with it
    #: For a template that is its literal prefix and at most one plain ``{name}`` at the end: that name ("" for
    #: none), so a path matches by string tests alone; None for any other template (the route's regex decides).
    tail: str | None

    @classmethod
    def wrapping(cls, route: Route, pipeline: RulePipeline) -> RuledRoute:
        ruled = cls.__new__(cls)
        ruled.__dict__.update(vars(route))
        ruled.pipeline = pipeline
        ruled.literal_prefix = route.path.split("{", 1)[0]
        ruled.tail = _plain_tail(route.path)
        if _plain_endpoint(route):
            ruled.app = lean_endpoint(route.endpoint)
        return ruled

    def matches(self, scope: Scope) -> tuple[Match, Scope]:
        """Starlette's match (same answer, same child scope), after a prefix test that rules out most paths without
        running the route's regex."""
        if scope["type"] != "http":
            return super().matches(scope)
        path = scope["path"] if not scope.get("root_path") else get_route_path(scope)
        prefix = self.literal_prefix
        if not path.startswith(prefix):
            return _NONE, {}
        tail = self.tail
        if tail == "":
            if path != prefix and path != prefix + "\n":  # the regex's "$" also matches before a final newline
                return _NONE, {}
            params: dict[str, Any] = {}
        elif tail is not None:
            value = path[len(prefix):]
            if not value or "/" in value:
                return _NONE, {}
            params = {tail: value}
        else:
            found = self.path_regex.match(path)
            if found is None:
                return _NONE, {}
            params = found.groupdict()
            for name, value in params.items():
                params[name] = self.param_convertors[name].convert(value)
        outer = scope.get("path_params")
        child = {"endpoint": self.endpoint, "path_params": {**outer, **params} if outer else params}
        return (_PARTIAL if self.methods and scope["method"] not in self.methods else _FULL), child

    async def handle(self, scope: Scope, receive: Receive, send: Send) -> None:
        if self.methods and scope["method"] not in self.methods:  # Starlette's handle answers the 405
            await self.pipeline.run(scope, receive, send, self.path, super().handle)
            return
        await self.pipeline.run(scope, receive, send, self.path, self.app)  # what Route.handle calls for the rest


_PLAIN_TAIL = re.compile(r"[^{}:]*(?:\{([A-Za-z_][A-Za-z0-9_]*)\})?")


def _plain_tail(template: str) -> str | None:
    """The name of ``template``'s one trailing ``{name}`` (a ``str`` parameter: one segment, any characters but
    ``/``), "" for a template without parameters, None for any other template (a convertor, a parameter inside,
    more than one)."""
    found = _PLAIN_TAIL.fullmatch(template)
    return None if found is None else found.group(1) or ""


def _plain_endpoint(route: Route) -> bool:
    """Whether Starlette made ``route``'s app from an ``async`` function alone (``request_response``, no route
    middleware), so :func:`~mockserver.core.front.lean_endpoint` serves it the same."""
    endpoint = route.endpoint
    while isinstance(endpoint, functools.partial):
        endpoint = endpoint.func
    return (inspect.isfunction(endpoint) or inspect.ismethod(endpoint)) and is_async_callable(route.endpoint) \
        and getattr(route.app, "__qualname__", "") == "request_response.<locals>.app"


def _unmatched(pipeline: RulePipeline, default: ASGIApp) -> Callable[[Scope, Receive, Send], Any]:
    async def not_found(scope: Scope, receive: Receive, send: Send) -> None:
        await pipeline.run(scope, receive, send, None, default)

    return not_found


def install_rule_pipeline(app: Starlette, pipeline: RulePipeline) -> None:
    """Put ``pipeline`` on every API route of ``app`` and on its not-found answer (``/_mock`` routes are left), and
    look routes up by their literal prefix (:mod:`mockserver.core.route_index`)."""
    router = app.router
    router.routes = [RuledRoute.wrapping(route, pipeline) if isinstance(route, Route) and not
                     route.path.startswith(MOCK_PREFIX) else route for route in router.routes]
    router.default = _unmatched(pipeline, router.default)
    index_routes(router)
