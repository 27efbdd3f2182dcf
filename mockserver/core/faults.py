"""The scenario middleware: picks the rules for each request, applies faults (helper S implements this)."""

from __future__ import annotations

from starlette.types import ASGIApp, Receive, Scope, Send


class ScenarioMiddleware:
    """Selects scripted outcomes and faults for each API request and applies the faults."""

    def __init__(self, app: ASGIApp, **_: object) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        await self.app(scope, receive, send)
