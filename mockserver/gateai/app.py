"""Build the GateAI Core API personality as a Starlette app."""

from __future__ import annotations

from starlette.applications import Starlette

from mockserver.core.asgi import RequestIdMiddleware, install_error_handlers
from mockserver.core.health import health_route
from mockserver.core.runtime import Runtime
from mockserver.gateai import errors
from mockserver.gateai.budget import Budget
from mockserver.gateai.routes import GateAIAPI
from mockserver.gateai.tasks import Tasks
from mockserver.gateai.uploads import Uploads


def build_app(runtime: Runtime) -> Starlette:
    """The GateAI app (paths as documented: ``/api/...``, ``/v1/models``, ``/get/{id}``; files under ``/files/``)."""
    uploads = Uploads(runtime)
    api = GateAIAPI(runtime, Tasks(runtime, Budget(runtime), uploads), uploads)
    app = Starlette(routes=[*api.routes(), health_route("gateai", runtime)])
    install_error_handlers(app, errors.render)
    app.add_middleware(RequestIdMiddleware, rng=runtime.rng)
    app.state.api = api
    return app
