"""Build the Skytells API v1 personality: its routes and error format on a runtime."""

from __future__ import annotations

from mockserver.core.front import ExpressWrite
from mockserver.core.runtime import Runtime
from mockserver.core.vendor import VendorApp
from mockserver.skytells import errors
from mockserver.skytells.catalog import Catalog
from mockserver.skytells.inference.routes import InferenceAPI
from mockserver.skytells.predictions import Predictions
from mockserver.skytells.routes import CREATE_PATH, SkytellsAPI


def build(runtime: Runtime) -> VendorApp:
    """The Skytells routes (paths as documented: ``/v1/...``; files under ``/files/``)."""
    catalog = Catalog.load()
    api = SkytellsAPI(runtime, catalog, Predictions(runtime, catalog))
    return VendorApp(routes=[*api.routes(), *InferenceAPI(api).routes()], render=errors.render, api=api,
                     express=api.express, express_write=ExpressWrite(CREATE_PATH, api.express_create))
