"""Route lookup by the path's first two segments, instead of trying every route in turn.

Starlette's router asks each route whether it matches, in order, and takes the first full match. A route can only
match a path that starts with its *literal prefix* (the template up to its first parameter; a mount's path), so
for the first two segments of a path (``/v1/predictions`` of ``/v1/predictions/abc``) only the routes whose
prefix fits them can match, and of those only the ones that serve the request's method can match *fully*.
:func:`index_routes` keeps, per such key and method, those routes in their order (worked out on first use from the
routes that fit the key's first segment, at most :data:`MAX_KEYS` keys: a path with an id in its second segment,
``/get/<id>``, makes a key per id), tries them, and hands the request to Starlette's own router when none matches
fully -- 404s, 405s and trailing-slash redirects are answered exactly as before.
"""

from __future__ import annotations

from starlette._utils import get_route_path
from starlette.routing import BaseRoute, Match, Mount, Route, Router
from starlette.types import Receive, Scope, Send

_FULL = Match.FULL  # read once: an Enum member read from its class costs a descriptor call
#: How many distinct leading segments keep their candidate routes (beyond it: worked out per request).
MAX_KEYS = 1024


def literal_prefix(route: BaseRoute) -> str:
    """What every path ``route`` matches starts with ("" when unknown: the route is tried for every path)."""
    if isinstance(route, Route):
        return route.path.split("{", 1)[0]
    if isinstance(route, Mount):
        return route.path.split("{", 1)[0]
    return ""


def fits(route: BaseRoute, key: str) -> bool:
    """Whether ``route`` may match a path that starts with ``key`` (and then ``/`` or nothing)."""
    prefix = literal_prefix(route)
    return key.startswith(prefix) or prefix.startswith(key + "/")


def _literal(route: BaseRoute) -> str | None:
    """The one path a route without parameters matches (give or take a final newline); None for other routes.

    Such a route cannot match a path longer than the path's leading segments when it *is* those segments.
    """
    if isinstance(route, Route) and "{" not in route.path:
        return route.path
    return None


def serves(route: BaseRoute, method: str) -> bool:
    """Whether ``route`` may match a request with ``method`` fully (a route with methods: only those)."""
    methods = route.methods if isinstance(route, Route) else None
    return methods is None or method in methods


def leading(path: str) -> str:
    """The path up to its third ``/`` (``/v1/predictions/abc`` -> ``/v1/predictions``)."""
    first = path.find("/", 1)
    if first < 0:
        return path
    second = path.find("/", first + 1)
    return path if second < 0 else path[:second]


class RouteIndex:
    """``router``'s dispatch, trying only the routes that can match (see the module)."""

    def __init__(self, router: Router) -> None:
        self.router = router
        self._routes = router.routes
        self._cache: dict[tuple[str, str, bool], list[BaseRoute]] = {}  # by (key, method, longer)
        self._pools: dict[tuple[str, str], list[BaseRoute]] = {}  # by (first segment, method)

    def candidates(self, key: str, method: str, longer: bool = False) -> list[BaseRoute]:
        """The routes that may fully match a ``method`` request for a path starting with ``key`` (and then ``/`` or
        nothing; ``longer``: the path goes on past ``key``), in order."""
        if self.router.routes is not self._routes:  # the list was replaced: start again
            self._routes, self._cache, self._pools = self.router.routes, {}, {}
        found = self._cache.get((key, method, longer))
        if found is None:
            found = [route for route in self._pool(key, method) if fits(route, key) and
                     not (longer and _literal(route) == key)]
            if len(self._cache) < MAX_KEYS:
                self._cache[key, method, longer] = found
        return found

    def _pool(self, key: str, method: str) -> list[BaseRoute]:
        """The routes serving ``method`` that fit ``key``'s first segment: every route that fits ``key`` is among
        them, so a key not cached yet (e.g. ``/get/<a new id>``) is worked out from a few routes, not all."""
        second = key.find("/", 1)
        first = key if second < 0 else key[:second]
        pool = self._pools.get((first, method))
        if pool is None:
            pool = [route for route in self.router.routes if serves(route, method) and fits(route, first)]
            if len(self._pools) < MAX_KEYS:
                self._pools[first, method] = pool
        return pool

    def candidates_for(self, path: str, method: str) -> list[BaseRoute]:
        """The routes that may fully match a ``method`` request for ``path``, in order."""
        key = leading(path)
        return self.candidates(key, method, len(path) > len(key))

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            path = scope["path"] if not scope.get("root_path") else get_route_path(scope)
            method = scope["method"]
            key = leading(path)
            longer = len(path) > len(key)
            found = self._cache.get((key, method, longer)) if self.router.routes is self._routes else None
            for route in self.candidates(key, method, longer) if found is None else found:
                match, child_scope = route.matches(scope)
                if match is _FULL:
                    scope.setdefault("router", self.router)
                    scope["route"] = route
                    scope.update(child_scope)
                    await route.handle(scope, receive, send)
                    return
        await self.router.app(scope, receive, send)


def index_routes(router: Router) -> None:
    """Dispatch ``router``'s requests through a :class:`RouteIndex` (unless it has middleware of its own)."""
    if router.middleware_stack == router.app:
        router.middleware_stack = RouteIndex(router)
