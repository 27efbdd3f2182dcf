"""``GET /_mock/health``: liveness for Docker and orchestrators, outside every documented path."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from mockserver.core.asgi import MOCK_PREFIX
from mockserver.core.clock import isoformat
from mockserver.core.http import JSONResponse
from mockserver.core.runtime import Runtime

PATH = MOCK_PREFIX + "/health"


def health_route(api: str, runtime: Runtime) -> Route:
    """A route answering ``{"status": "ok", "api": ..., "clock": {...}}`` without auth."""

    async def health(request: Request) -> Response:
        state = runtime.clock.state()
        return JSONResponse({"status": "ok", "api": api,
                             "clock": {"now": isoformat(state.now), "mode": state.mode, "speed": state.speed}})

    return Route(PATH, health, methods=["GET"])
