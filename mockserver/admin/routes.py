"""Assemble the control plane: one Starlette app mounted at ``/_mock`` on every API port.

Both ports share one runtime, so either port's control plane steers the whole server.
"""

from __future__ import annotations

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.routing import Mount
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from mockserver.admin import access, dashboard, errors, journal, keys, mappings, rules, state, ui, webhooks
from mockserver.core.asgi import MOCK_PREFIX, error_response, install_error_handlers
from mockserver.core.errors import ApiError
from mockserver.core.runtime import Runtime

#: Methods that change nothing (no settling after them).
READ_ONLY = frozenset({"GET", "HEAD", "OPTIONS"})


class AdminAccess:
    """Refuses callers that may not use the control plane (see :mod:`mockserver.admin.access`)."""

    def __init__(self, app: ASGIApp, runtime: Runtime) -> None:
        self.app = app
        self.runtime = runtime

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            self.runtime.catch_up()  # another process's full reset clears this one's rules and journal first
            request = Request(scope, receive)
            try:
                access.check(request, self.runtime.admin_token)
            except ApiError as error:
                await error_response(error, request, errors.render)(scope, receive, send)
                return
            if self.runtime.shared is not None and scope["method"] not in READ_ONLY:
                send = self._settling(send)
        await self.app(scope, receive, send)

    def _settling(self, send: Send) -> Send:
        """``send``, after the shared store settled this change (:meth:`SharedState.settle`) before the last chunk."""
        shared = self.runtime.shared
        assert shared is not None

        async def settled(message: Message) -> None:
            if message["type"] == "http.response.body" and not message.get("more_body", False):
                shared.settle()
            await send(message)

        return settled


def control_plane(runtime: Runtime) -> Mount:
    """The ``/_mock`` mount (health is served separately and stays open)."""
    app = Starlette(routes=[
        *state.routes(runtime),
        *keys.routes(runtime),
        *rules.routes(runtime),
        *journal.routes(runtime),
        *webhooks.routes(runtime),
        *mappings.routes(runtime),
        *dashboard.routes(runtime),
    ])
    install_error_handlers(app, errors.render)
    app.add_middleware(AdminAccess, runtime=runtime)
    return Mount(MOCK_PREFIX, routes=[*ui.routes(runtime), Mount("", app=app)])  # the page has its own rule
