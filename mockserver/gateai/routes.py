"""GateAI HTTP layer: thin handlers over the catalog, tasks, budget and uploads.

Auth: ``Authorization: Bearer sk-…`` (or ``x-api-key``) everywhere except ``GET /v1/models``,
``GET /docs.txt`` and the output files; ``GET /api/me`` takes the key as ``?key=``.

Test hooks on ``POST /api/generate`` (not part of GateAI), shorthands for a scripted outcome:
``X-Mock-Duration: <seconds>`` fixes how long the upstream takes (virtual seconds; >= 2400 never finishes
in time), ``X-Mock-Outcome: FAILED`` makes it fail at the end of that time (``FINISHED`` makes it
succeed). A scripted outcome from a matching rule wins, field by field, over these headers.
"""

from __future__ import annotations

import functools
import math
from dataclasses import replace
from functools import cache

from starlette.datastructures import UploadFile
from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response
from starlette.routing import BaseRoute, Route
from starlette.types import Scope

from mockserver.core.accounts import Account
from mockserver.core.asgi import public_base, public_base_of
from mockserver.core.boundary import limited_receive
from mockserver.core.errors import ApiError
from mockserver.core.files import file_route
from mockserver.core.http import EncodedJSON, JSONResponse, api_key_from, read_json_object
from mockserver.core.jobs import JobNotFound
from mockserver.core.pipeline import express_item
from mockserver.core.request_facts import key_of
from mockserver.core.rules.model import ScriptedResult
from mockserver.core.rules.select import scripted_result
from mockserver.core.runtime import Runtime
from mockserver.gateai import catalog
from mockserver.gateai.generate_body import parse_request
from mockserver.gateai.task_errors import answers_domain_errors
from mockserver.gateai.task_views import TaskViews
from mockserver.gateai.tasks import FAILED, FINISHED, Tasks
from mockserver.gateai.uploads import MAX_FILES, Uploads
from mockserver.spec.data import fixture_path


@cache
def docs_text() -> str:
    """The GateAI documentation as shipped in ``fixtures/gateai/docs.txt`` (a copy of gateai-core-api.txt)."""
    return fixture_path("gateai", "docs.txt").read_text(encoding="utf-8")


def upload_too_large(limit: int) -> ApiError:
    """413 for an upload body over ``limit`` bytes (refused while it streams in)."""
    return ApiError(413, "PAYLOAD_TOO_LARGE", f"Upload exceeds {limit} bytes")


#: The longest X-Mock-Duration (as a scripted outcome's ``duration``): 10 days.
MAX_MOCK_DURATION = 10 * 86_400.0
#: The path prefix of ``GET /get/{task_id}``.
TASK_PATH = "/get/"


def header_outcome(request: Request) -> ScriptedResult | None:
    """The outcome the ``X-Mock-Duration`` / ``X-Mock-Outcome`` headers ask for (None without them)."""
    duration = None
    raw = request.headers.get("x-mock-duration")
    if raw is not None:
        try:
            duration = float(raw)
        except ValueError:
            duration = -1.0
        if not math.isfinite(duration) or not 0 <= duration <= MAX_MOCK_DURATION:
            raise ApiError(400, "INVALID_REQUEST",
                           f"X-Mock-Duration must be a number of seconds from 0 to {MAX_MOCK_DURATION:g}",
                           param="X-Mock-Duration")
    raw_outcome = request.headers.get("x-mock-outcome")
    status = None
    if raw_outcome is not None:
        outcome = raw_outcome.strip().upper()
        if outcome not in (FINISHED, FAILED):
            raise ApiError(400, "INVALID_REQUEST", "X-Mock-Outcome must be FINISHED or FAILED",
                           param="X-Mock-Outcome")
        status = "failed" if outcome == FAILED else "succeeded"
    if duration is None and status is None:
        return None
    return ScriptedResult(status=status, duration=duration)


def combined_outcome(scripted: ScriptedResult | None, hooks: ScriptedResult | None) -> ScriptedResult | None:
    """The scripted outcome, with the header shorthands filling only the fields it leaves unset."""
    if scripted is None or hooks is None:
        return scripted or hooks
    if scripted.status is None and scripted.error is not None:
        scripted = replace(scripted, status="failed")  # an error alone means a failure: keep it one
    return replace(hooks, **scripted.as_json())


@functools.lru_cache(maxsize=256)
def _files_base(base: str) -> str:
    """``<base>/files/`` (one string per base: the task views are cached by it)."""
    return base + "/files/"


class GateAIAPI:
    """Handlers bound to one runtime."""

    def __init__(self, runtime: Runtime, tasks: Tasks, uploads: Uploads) -> None:
        self.runtime = runtime
        self.tasks = tasks
        self.uploads = uploads
        self.views = TaskViews(tasks)

    # -- helpers -------------------------------------------------------------------------

    def authenticate(self, request: Request, key: str | None = None) -> Account:
        key = key or api_key_from(request)
        if not key:
            raise ApiError(401, "UNAUTHORIZED", "Missing API key: send Authorization: Bearer sk-your-api-key")
        account = self.runtime.accounts.get(key)
        if account is None:
            raise ApiError(401, "UNAUTHORIZED", "Invalid API key")
        if account.suspended:
            raise ApiError(403, "ACCOUNT_SUSPENDED", "This API key is suspended")
        return account

    @staticmethod
    def files_base(request: Request) -> str:
        return _files_base(public_base(request))

    async def body(self, request: Request) -> dict:
        return await read_json_object(request, self.runtime.settings.max_body_bytes)

    # -- discovery -----------------------------------------------------------------------

    async def list_models(self, request: Request) -> Response:
        return JSONResponse(catalog.list_view())

    async def models_schema(self, request: Request) -> Response:
        self.authenticate(request)
        return JSONResponse(catalog.schema_view())

    async def get_model(self, request: Request) -> Response:
        self.authenticate(request)
        return JSONResponse(catalog.model_view(request.path_params["model_id"]))

    async def docs(self, request: Request) -> Response:
        return PlainTextResponse(docs_text(), media_type="text/plain; charset=utf-8")

    # -- generation ----------------------------------------------------------------------

    async def generate(self, request: Request) -> Response:
        account = self.authenticate(request)
        outcome = combined_outcome(scripted_result(request), header_outcome(request))
        created = self.tasks.create(account.key, parse_request(await self.body(request)), outcome)
        prefix = request.scope.get("root_path", "").rstrip("/")
        return JSONResponse(self.views.generate_view(created, f"{prefix}/get/{created.record['id']}"))

    async def estimate(self, request: Request) -> Response:
        account = self.authenticate(request)
        return JSONResponse(self.tasks.estimate(account.key, parse_request(await self.body(request))))

    async def get_task(self, request: Request) -> Response:
        account = self.authenticate(request)
        record = self.tasks.get(account.key, request.path_params["task_id"])
        return EncodedJSON(self.views.encoded(record, self.files_base(request)))

    def express(self, scope: Scope, path: str) -> bytes | None:
        """``GET /get/{task_id}`` answered as :meth:`get_task` answers it, without the router's layers
        (:data:`mockserver.core.front.Express`): the task's JSON when no rule could apply, the key's account is
        active and the task is the key's; None for any other request."""
        runtime = self.runtime
        task_id = express_item(runtime, scope, path, TASK_PATH)
        if task_id is None:
            return None
        account = runtime.accounts.get(key_of(scope))
        if account is None or account.suspended:
            return None
        try:
            record = self.tasks.get(account.key, task_id)
        except JobNotFound:
            return None
        return self.views.encoded(record, _files_base(public_base_of(scope)))

    async def upload(self, request: Request) -> Response:
        account = self.authenticate(request)
        content_type = request.headers.get("content-type", "")
        if not content_type.lower().startswith("multipart/form-data"):
            raise ApiError(415, "UNSUPPORTED_MEDIA_TYPE",
                           f"Content-Type must be multipart/form-data with a 'file' field, got {content_type!r}")
        limit = self.runtime.settings.max_body_bytes
        declared = request.headers.get("content-length")
        if declared is not None and declared.isdigit() and int(declared) > limit:
            raise upload_too_large(limit)
        request = Request(request.scope, limited_receive(request.receive, limit, upload_too_large))  # chunked
        async with request.form(max_files=MAX_FILES, max_fields=MAX_FILES) as form:
            files = [value for _, value in form.multi_items() if isinstance(value, UploadFile)]
            if not files:
                raise ApiError(400, "INVALID_REQUEST", "No file in the upload: send a multipart field named 'file'",
                               param="file")
            contents = []
            for item in files:
                data = await item.read()
                if len(data) > limit:
                    raise ApiError(413, "PAYLOAD_TOO_LARGE", f"File {item.filename!r} exceeds {limit} bytes",
                                   param="file")
                contents.append((item.filename or "upload", item.content_type or "", data))
        saved = [self.uploads.save(account.key, name, ctype, data) for name, ctype, data in contents]
        return JSONResponse({"files": [Uploads.view(record) for record in saved]})

    # -- account -------------------------------------------------------------------------

    async def credits(self, request: Request) -> Response:
        account = self.authenticate(request)
        return JSONResponse(self.views.credits(account.key))

    async def me(self, request: Request) -> Response:
        account = self.authenticate(request, request.query_params.get("key"))
        return JSONResponse(self.views.dashboard(account.key))

    def routes(self) -> list[BaseRoute]:
        mapped = answers_domain_errors  # the domain's errors, answered as documented
        return [
            file_route(self.runtime.files, self.runtime.renders, self.runtime.files_cache_control),
            Route("/v1/models", mapped(self.list_models), methods=["GET"]),
            Route("/v1/models/schema", mapped(self.models_schema), methods=["GET"]),
            Route("/v1/models/{model_id}", mapped(self.get_model), methods=["GET"]),
            Route("/docs.txt", self.docs, methods=["GET"]),
            Route("/api/generate", mapped(self.generate), methods=["POST"]),
            Route("/api/estimate", mapped(self.estimate), methods=["POST"]),
            Route("/api/upload", mapped(self.upload), methods=["POST"]),
            Route(TASK_PATH + "{task_id}", mapped(self.get_task), methods=["GET"]),
            Route("/credits", mapped(self.credits), methods=["GET"]),
            Route("/api/me", mapped(self.me), methods=["GET"]),
        ]
