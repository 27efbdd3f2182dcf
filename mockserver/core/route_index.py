"""Route lookup by the path's first two segments, instead of trying every route in turn.

Starlette's router asks each route whether it matches, in order, and takes the first full match. A route can only
match a path that starts with its *literal prefix* (the template up to its first parameter; a mount's path), so
for the first two segments of a path (``/v1/predictions`` of ``/v1/predictions/abc``) only the routes whose
prefix fits them can match. :func:`index_routes` keeps, per such key, those routes in their order (worked out on
first use, at most :data:`MAX_KEYS` keys), tries them, and hands the request to Starlette's own router when none
matches fully -- 404s, 405s and trailing-slash redirects are answered exactly as before.
"""

from __future__ import annotations

from starlette._utils import get_route_path
from starlette.routing import BaseRoute, Match, Mount, Route, Router
from starlette.types import Receive, Scope, Send

#: How many distinct leading segments keep their candidate routes (beyond it: worked out per request).
MAX_KEYS = 1024


def literal_prefix(route: BaseRoute) -> str:
    """What every path ``route`` matches starts with ("" when unknown: the route is tried for every path)."""
    if isinstance(route, Route):
        return route.path.split("{", 1)[0]
    if isinstance(route, Mount):
        return route.path.split("{", 1)[0]
    return ""


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
        self._cache: dict[str, list[BaseRoute]] = {}

    def candidates(self, key: str) -> list[BaseRoute]:
        """The routes that may match a path starting with ``key`` (and then ``/`` or nothing), in order."""
        if self.router.routes is not self._routes:  # the list was replaced: start again
            self._routes, self._cache = self.router.routes, {}
        found = self._cache.get(key)
        if found is None:
            found = [route for route in self.router.routes
                     if key.startswith(prefix := literal_prefix(route)) or prefix.startswith(key + "/")]
            if len(self._cache) < MAX_KEYS:
                self._cache[key] = found
        return found

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            for route in self.candidates(leading(get_route_path(scope))):
                match, child_scope = route.matches(scope)
                if match is Match.FULL:
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
