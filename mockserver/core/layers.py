"""The layers every API app gets, and the control plane beside its routes."""

from __future__ import annotations

from starlette.applications import Starlette
from starlette.routing import BaseRoute

from mockserver.admin import errors as admin_errors
from mockserver.admin.routes import control_plane
from mockserver.core.asgi import ErrorRenderer, RequestIdMiddleware, install_error_handlers
from mockserver.core.boundary import RENDER_STATE, BoundaryMiddleware
from mockserver.core.conventions import Cors, openapi_routes
from mockserver.core.health import health_route
from mockserver.core.journal import JournalMiddleware
from mockserver.core.pipeline import RulePipeline, install_rule_pipeline
from mockserver.core.request_facts import QueryKeyRule, no_query_key
from mockserver.core.runtime import Runtime


def build_api_app(api: str, runtime: Runtime, routes: list[BaseRoute], render: ErrorRenderer,
                  takes_query_key: QueryKeyRule = no_query_key) -> Starlette:
    """An API personality: its routes, ``/_mock`` (health and control plane), errors in its format.

    Middleware, outermost first: CORS (unless ``cors_origins`` is empty: :mod:`mockserver.core.conventions`),
    request ids, the request journal, the request boundary (header, body and depth limits:
    :mod:`mockserver.core.boundary`); rules and faults apply at the matched route
    (:mod:`mockserver.core.pipeline`). ``/openapi.json`` and ``/openapi.yaml`` serve the
    API's contract.
    """
    app = Starlette(routes=[health_route(api, runtime), control_plane(runtime), *openapi_routes(api), *routes])
    install_error_handlers(app, render)
    setattr(app.state, RENDER_STATE, render)
    install_rule_pipeline(app, RulePipeline(runtime, api, render, takes_query_key))
    app.add_middleware(BoundaryMiddleware, settings=runtime.settings, render=render, control_render=admin_errors.render)
    app.add_middleware(JournalMiddleware, runtime=runtime, api=api, takes_query_key=takes_query_key)
    app.add_middleware(RequestIdMiddleware, rng=runtime.rng)
    if runtime.settings.cors_origins:
        app.add_middleware(Cors, settings=runtime.settings)
    return app
