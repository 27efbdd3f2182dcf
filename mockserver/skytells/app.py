"""Build the Skytells API v1 personality as a Starlette app."""

from __future__ import annotations

from starlette.applications import Starlette

from mockserver.core.asgi import RequestIdMiddleware, install_error_handlers
from mockserver.core.health import health_route
from mockserver.core.runtime import Runtime
from mockserver.skytells import errors
from mockserver.skytells.catalog import Catalog
from mockserver.skytells.inference.routes import InferenceAPI
from mockserver.skytells.predictions import Predictions
from mockserver.skytells.routes import SkytellsAPI


def build_app(runtime: Runtime) -> Starlette:
    """The Skytells app (paths as documented: ``/v1/...``; files under ``/files/``)."""
    catalog = Catalog.load()
    api = SkytellsAPI(runtime, catalog, Predictions(runtime, catalog))
    app = Starlette(routes=[*api.routes(), *InferenceAPI(api).routes(), health_route("skytells", runtime)])
    install_error_handlers(app, errors.render)
    app.add_middleware(RequestIdMiddleware, rng=runtime.rng)
    app.state.api = api
    return app
