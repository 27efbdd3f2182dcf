"""The request journal: every API request the mock answered (helper J implements this)."""

from __future__ import annotations

from starlette.types import ASGIApp, Receive, Scope, Send


class Journal:
    """A bounded, thread-safe log of requests (method, path, api, masked key, status, latency, bodies)."""

    def clear(self, owner: str | None = None) -> None:
        """Forget every entry (or one key's)."""


class JournalMiddleware:
    """Records each API request in the runtime's journal (helper J implements this)."""

    def __init__(self, app: ASGIApp, **_: object) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        await self.app(scope, receive, send)
