"""Build the Skytells API v1 personality as a Starlette app."""

from __future__ import annotations

from starlette.applications import Starlette

from mockserver.core.layers import build_api_app
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
    app = build_api_app("skytells", runtime, [*api.routes(), *InferenceAPI(api).routes()], errors.render)
    app.state.api = api
    return app
