"""The dashboard at ``/_mock/ui``: a page of plain HTML, CSS and JavaScript modules shipped in the package
(``mockserver/admin/ui/``), which reads and drives the control plane's JSON routes from the browser.

Nothing is fetched from elsewhere (the ``Content-Security-Policy`` allows this origin only). Access is the
control plane's: without an admin token, loopback callers only; with one, the page (which holds no data)
loads for anyone and asks for the token, which it then sends as ``X-Mock-Admin-Token`` with every call.
"""

from __future__ import annotations

import html
from pathlib import Path

from starlette.requests import Request
from starlette.responses import HTMLResponse, Response
from starlette.routing import BaseRoute, Mount, Route
from starlette.staticfiles import StaticFiles
from starlette.types import ASGIApp, Receive, Scope, Send

from mockserver.admin import access, errors
from mockserver.core.asgi import error_response
from mockserver.core.errors import ApiError
from mockserver.core.runtime import Runtime

ASSETS = Path(__file__).with_name("ui")
#: Only this origin: no CDN, no fonts, no beacons; media from the control plane's file route.
CSP = ("default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data: blob:; "
       "media-src 'self' blob:; connect-src 'self'; object-src 'none'; base-uri 'self'; "
       "form-action 'self'; frame-ancestors 'none'")
HEADERS = {"content-security-policy": CSP, "cache-control": "no-cache", "x-content-type-options": "nosniff",
           "referrer-policy": "no-referrer"}


class ShellAccess:
    """The control plane's rule for the page: loopback only unless an admin token protects the data."""

    def __init__(self, app: ASGIApp, runtime: Runtime) -> None:
        self.app = app
        self.runtime = runtime

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            refusal = allowed(Request(scope, receive), self.runtime)
            if refusal is not None:
                await refusal(scope, receive, send)
                return
        await self.app(scope, receive, send)


def allowed(request: Request, runtime: Runtime) -> Response | None:
    """None if the caller may load the page, else the control plane's refusal."""
    if runtime.admin_token is not None:
        return None
    try:
        access.check(request, None)
    except ApiError as error:
        return error_response(error, request, errors.render)
    return None


def page(request: Request) -> Response:
    """``index.html`` with ``<base>`` set to this control plane's root, so every relative URL in the page
    (assets, ``requests``, ``files/…``) resolves under the mount it was reached through."""
    base = request.scope.get("root_path", "").removesuffix("/ui").rstrip("/") + "/"
    text = (ASSETS / "index.html").read_text(encoding="utf-8")
    return HTMLResponse(text.replace("{{BASE}}", html.escape(base, quote=True)), headers=HEADERS)


class _Assets(StaticFiles):
    async def get_response(self, path: str, scope: Scope) -> Response:
        response = await super().get_response(path, scope)
        response.headers.update(HEADERS)
        return response


def routes(runtime: Runtime) -> list[BaseRoute]:
    """``/ui`` (also ``/ui/``) and ``/ui/static/…``, under the control plane's access rule."""

    async def shell(request: Request) -> Response:
        return allowed(request, runtime) or page(request)

    return [
        Route("/ui", shell, methods=["GET", "HEAD"]),
        Route("/ui/", shell, methods=["GET", "HEAD"]),
        Mount("/ui/static", app=ShellAccess(_Assets(directory=ASSETS), runtime)),
    ]
