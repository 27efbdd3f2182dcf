"""The layers every vendor's app gets, and the control plane beside its routes."""

from __future__ import annotations

from starlette.applications import Starlette

from mockserver.admin import errors as admin_errors
from mockserver.admin.routes import control_plane
from mockserver.core.asgi import RequestIdMiddleware, install_error_handlers
from mockserver.core.boundary import RENDER_STATE, BoundaryMiddleware
from mockserver.core.conventions import Cors, openapi_routes
from mockserver.core.health import health_route
from mockserver.core.journal import JournalMiddleware
from mockserver.core.pipeline import RulePipeline, install_rule_pipeline
from mockserver.core.runtime import Runtime
from mockserver.core.vendor import Vendor


def build_api_app(vendor: Vendor, runtime: Runtime) -> Starlette:
    """A vendor's personality: its routes, ``/_mock`` (health and control plane), errors in its format.

    Middleware, outermost first: CORS (unless ``cors_origins`` is empty: :mod:`mockserver.core.conventions`),
    request ids, the request journal, the request boundary (header, body and depth limits:
    :mod:`mockserver.core.boundary`); rules and faults apply at the route the router matched
    (:mod:`mockserver.core.pipeline`). ``/openapi.json`` and ``/openapi.yaml`` serve the vendor's contract (when
    it has one).
    """
    built = vendor.build(runtime)
    api, render = vendor.name, built.render
    documents = openapi_routes(vendor.contract) if vendor.contract else []
    app = Starlette(routes=[health_route(api, runtime), control_plane(runtime), *documents, *built.routes])
    install_error_handlers(app, render)
    setattr(app.state, RENDER_STATE, render)
    app.state.api = built.api
    install_rule_pipeline(app, RulePipeline(runtime, api, render, vendor.takes_query_key))
    app.add_middleware(BoundaryMiddleware, settings=runtime.settings, render=render, control_render=admin_errors.render)
    app.add_middleware(JournalMiddleware, runtime=runtime, api=api, takes_query_key=vendor.takes_query_key)
    app.add_middleware(RequestIdMiddleware, rng=runtime.rng)
    if runtime.settings.cors_origins:
        app.add_middleware(Cors, settings=runtime.settings)
    return app
