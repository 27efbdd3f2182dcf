"""Control-plane routes for webhooks (being built)."""

from __future__ import annotations

from starlette.routing import BaseRoute

from mockserver.core.runtime import Runtime


def routes(runtime: Runtime) -> list[BaseRoute]:
    return []
