"""What users of other API mocks (Prism, WireMock, Mockoon) expect of every API port: CORS for browsers and
the API's own OpenAPI document at ``/openapi.json`` / ``/openapi.yaml``.

CORS is Starlette's :class:`~starlette.middleware.cors.CORSMiddleware` (preflights answered, headers on every
answer) for the API routes, from ``cors_origins`` (default ``*``, as Prism; empty turns it off); the control
plane (``/_mock``) gets it only with ``cors_control_plane``. :class:`mockserver.core.front.Gateway` applies it:
requests with ``Origin`` go through :func:`cors_middleware`, the others get what Starlette's would add
(:func:`vary_origin`) without its per-request header objects.
"""

from __future__ import annotations

from functools import cache
from typing import Any

from starlette.datastructures import MutableHeaders
from starlette.middleware.cors import CORSMiddleware
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route
from starlette.types import ASGIApp, Message

from mockserver.core.config import CoreSettings

OPENAPI_PATHS = ("/openapi.json", "/openapi.yaml")
#: Response headers a browser script may read (rate limits, request ids, retry hints).
EXPOSED_HEADERS = ["Retry-After", "X-Request-Id", "X-RateLimit-Limit", "X-RateLimit-Remaining",
                   "X-RateLimit-Reset"]


def cors_middleware(app: ASGIApp, settings: CoreSettings) -> CORSMiddleware | None:
    """Starlette's CORS middleware around ``app`` as the settings ask (None when ``cors_origins`` is empty)."""
    if not settings.cors_origins:
        return None
    return CORSMiddleware(app, allow_origins=list(settings.cors_origins), allow_methods=["*"], allow_headers=["*"],
                          expose_headers=EXPOSED_HEADERS, max_age=600)


def vary_origin(message: Message) -> None:
    """``Vary: Origin`` added to a response start, merged into a ``Vary`` the app set (as Starlette's CORS does)."""
    headers = message.get("headers") or []
    if any(name == b"vary" for name, _ in headers):
        vary = MutableHeaders(scope=message)  # merge as Starlette does
        vary["Vary"] = ", ".join([*vary.getlist("Vary"), "Origin"])
    else:
        message["headers"] = [*headers, (b"vary", b"Origin")]


@cache
def _rendered(api: str, fmt: str) -> bytes:
    from mockserver.spec import loader  # the contract documents and catalogs are loaded on first request only

    document: dict[str, Any] = loader.built(api)
    if fmt == "json":
        import orjson

        return orjson.dumps(document)
    import yaml

    return yaml.safe_dump(document, sort_keys=False, allow_unicode=True).encode("utf-8")


def openapi_routes(api: str) -> list[Route]:
    """``GET /openapi.json`` and ``/openapi.yaml``: the API's contract (``contracts/<api>.yaml``, catalogs in)."""

    async def as_json(request: Request) -> Response:
        return Response(_rendered(api, "json"), media_type="application/json")

    async def as_yaml(request: Request) -> Response:
        return Response(_rendered(api, "yaml"), media_type="application/yaml")

    return [Route(OPENAPI_PATHS[0], as_json, methods=["GET"]), Route(OPENAPI_PATHS[1], as_yaml, methods=["GET"])]
