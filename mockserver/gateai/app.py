"""Build the GateAI Core API personality as a Starlette app."""

from __future__ import annotations

from starlette.applications import Starlette

from mockserver.core.layers import build_api_app
from mockserver.core.runtime import Runtime
from mockserver.gateai import errors, scripting
from mockserver.gateai.budget import Budget
from mockserver.gateai.routes import GateAIAPI
from mockserver.gateai.tasks import Tasks
from mockserver.gateai.uploads import Uploads


def build_app(runtime: Runtime) -> Starlette:
    """The GateAI app (paths as documented: ``/api/...``, ``/v1/models``, ``/get/{id}``; files under ``/files/``)."""
    uploads = Uploads(runtime)
    api = GateAIAPI(runtime, Tasks(runtime, Budget(runtime), uploads), uploads)
    app = build_api_app("gateai", runtime, api.routes(), errors.render, scripting.takes_query_key)
    app.state.api = api
    return app
