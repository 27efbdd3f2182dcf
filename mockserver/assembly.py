"""The layers every vendor's app gets, and the control plane beside its routes."""

from __future__ import annotations

from typing import Any

from starlette.applications import Starlette
from starlette.types import ASGIApp

from mockserver.admin import errors as admin_errors
from mockserver.admin.routes import control_plane
from mockserver.core.asgi import install_error_handlers
from mockserver.core.boundary import RENDER_STATE
from mockserver.core.conventions import openapi_routes
from mockserver.core.front import ApiApp, Gateway, Handlers
from mockserver.core.health import health_route
from mockserver.core.pipeline import RulePipeline, install_rule_pipeline
from mockserver.core.runtime import Runtime
from mockserver.core.vendor import Vendor


def build_api_app(vendor: Vendor, runtime: Runtime) -> Starlette:
    """A vendor's personality: its routes, ``/_mock`` (health and control plane), errors in its format.

    One layer around the router (:class:`mockserver.core.front.Gateway`) runs, in this order: crash answers, CORS
    (unless ``cors_origins`` is empty: :mod:`mockserver.core.conventions`) and request ids; the request journal; the
    request boundary (header, body and depth limits: :mod:`mockserver.core.boundary`) and the error handlers; rules
    and faults apply at the route the router matched (:mod:`mockserver.core.pipeline`). ``/openapi.json`` and
    ``/openapi.yaml`` serve the vendor's contract (when it has one).
    """
    built = vendor.build(runtime)
    api, render = vendor.name, built.render
    documents = openapi_routes(vendor.contract) if vendor.contract else []

    def layers(router: ASGIApp, handlers: Handlers, crash: Any) -> ASGIApp:
        return Gateway(router, runtime, api, handlers, crash, render, admin_errors.render, vendor.takes_query_key,
                       built.express, built.express_write)

    app = ApiApp([health_route(api, runtime), control_plane(runtime), *documents, *built.routes], layers)
    install_error_handlers(app, render)
    setattr(app.state, RENDER_STATE, render)
    app.state.api = built.api
    install_rule_pipeline(app, RulePipeline(runtime, api, render, vendor.takes_query_key))
    return app
