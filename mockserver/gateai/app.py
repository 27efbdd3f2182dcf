"""Build the GateAI Core API personality: its routes and error format on a runtime."""

from __future__ import annotations

from mockserver.core.runtime import Runtime
from mockserver.core.vendor import VendorApp
from mockserver.gateai import errors
from mockserver.gateai.budget import Budget
from mockserver.gateai.routes import GateAIAPI
from mockserver.gateai.tasks import Tasks
from mockserver.gateai.uploads import Uploads


def build(runtime: Runtime) -> VendorApp:
    """The GateAI routes (paths as documented: ``/api/...``, ``/v1/models``, ``/get/{id}``; files under ``/files/``)."""
    uploads = Uploads(runtime)
    api = GateAIAPI(runtime, Tasks(runtime, Budget(runtime), uploads), uploads)
    return VendorApp(routes=api.routes(), render=errors.render, api=api, express=api.express)
