"""Control-plane data the dashboard (``/_mock/ui``) needs and no other route gives.

* ``GET /_mock/jobs[?kind&key&status&limit]`` -- ``{"data": [job, …], "count", "total"}``: Skytells
  predictions and GateAI tasks of every key, newest first. A job: ``{kind, api, id, key, masked, model,
  model_type, status, terminal, created_at, cost, refunded, error, timeline [{status, at, epoch, reached}],
  outputs [{name, content_type, size, media, url}], links, object}`` -- ``outputs[].url`` is relative to
  ``/_mock/`` (the file served by the control plane, so looking at it is never journaled), ``links`` are
  scripted outputs given as URLs, ``object`` is the job as its API renders it now.
* ``GET /_mock/usage`` -- ``{"data": [usage, …]}``: per key, the Skytells per-minute window, and GateAI's
  concurrency slots in use and generate-window hits (``used`` of ``max`` in ``window_seconds``).
* ``GET /_mock/files/{name}`` -- an output file, as ``GET /files/{name}`` on the APIs, but not journaled.

Reading never changes state: no window hit, no slot, no journal entry.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from functools import cached_property
from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from mockserver.admin.errors import bad_request
from mockserver.core import jobs
from mockserver.core.accounts import mask_key
from mockserver.core.asgi import MOCK_PREFIX, public_base
from mockserver.core.clock import isoformat
from mockserver.core.files import file_route
from mockserver.core.http import JSONResponse
from mockserver.core.limits import SlidingWindow
from mockserver.core.runtime import Runtime
from mockserver.gateai.task_views import TaskViews
from mockserver.gateai.tasks import KIND as TASK_KIND
from mockserver.gateai.tasks import Tasks
from mockserver.skytells.catalog import Catalog
from mockserver.skytells.prediction_views import Links
from mockserver.skytells.predictions import KIND as PREDICTION_KIND
from mockserver.skytells.predictions import Predictions
from mockserver.skytells.ratelimit import NAME as SKYTELLS_WINDOW
from mockserver.skytells.ratelimit import WINDOW_SECONDS as SKYTELLS_WINDOW_SECONDS

KINDS = {"prediction": "skytells", "task": "gateai"}
#: The store kind each job kind is kept under.
STORED = {"prediction": PREDICTION_KIND, "task": TASK_KIND}
DEFAULT_LIMIT = 100
MAX_LIMIT = 1000
FILTERS = ("kind", "key", "status", "limit")


def media_of(content_type: str) -> str:
    """How the dashboard shows a file: ``image``, ``audio``, ``video``, ``model`` (3D) or ``file``."""
    family, _, subtype = content_type.partition("/")
    if family in ("image", "audio", "video"):
        return family
    if family == "model" or "gltf" in subtype:
        return "model"
    return "file"


@dataclass
class JobQuery:
    """``GET /_mock/jobs`` filters."""

    kind: str | None = None
    key: str | None = None
    status: str | None = None
    limit: int = DEFAULT_LIMIT

    @classmethod
    def parse(cls, params: Any) -> JobQuery:
        unknown = sorted(set(params) - set(FILTERS))
        if unknown:
            raise bad_request(f"unknown filter(s): {', '.join(unknown)}; known: {', '.join(FILTERS)}",
                              param=unknown[0])
        kind = params.get("kind") or None
        if kind is not None and kind not in KINDS:
            raise bad_request(f"kind must be one of {', '.join(KINDS)}", param="kind")
        raw = (params.get("limit") or str(DEFAULT_LIMIT)).strip()
        if not raw.isdigit() or not 1 <= int(raw) <= MAX_LIMIT:
            raise bad_request(f"limit must be an integer from 1 to {MAX_LIMIT}", param="limit")
        return cls(kind=kind, key=params.get("key") or None, status=params.get("status") or None, limit=int(raw))


class JobsView:
    """Jobs of every key as the dashboard shows them, read through each API's own domain module."""

    def __init__(self, runtime: Runtime) -> None:
        self.runtime = runtime

    @cached_property
    def predictions(self) -> Predictions:
        return Predictions(self.runtime, Catalog.load())

    @cached_property
    def tasks(self) -> Tasks:
        return Tasks(self.runtime)

    def records(self, query: JobQuery) -> Iterator[tuple[str, dict[str, Any]]]:
        for kind in KINDS:
            if query.kind in (None, kind):
                for record in self.runtime.store.scan(STORED[kind], owner=query.key):
                    yield kind, record

    def state(self, kind: str, record: dict[str, Any], now: float) -> jobs.JobState:
        domain = self.predictions if kind == "prediction" else self.tasks
        return domain.state(record, now)

    def find(self, query: JobQuery, api_base: str) -> tuple[list[dict[str, Any]], int]:
        """The matching jobs, newest first (at most ``query.limit``), and how many match in all.

        Only the jobs shown are rendered: a poll stays cheap however many jobs the store holds."""
        now = self.runtime.clock.now()
        found = [(kind, record) for kind, record in self.records(query)
                 if query.status is None or self.state(kind, record, now).status == query.status]
        found.sort(key=lambda item: item[1]["created_at"], reverse=True)
        return [self.job(kind, record, api_base, now) for kind, record in found[:query.limit]], len(found)

    def job(self, kind: str, record: dict[str, Any], api_base: str, now: float) -> dict[str, Any]:
        if kind == "prediction":
            obj = self.predictions.views.view(record, Links(api_base + "/v1", api_base + "/files/"), now=now)
            line = self.predictions.timeline(record)
            cost = obj["metadata"]["billing"]["credits_used"]
            refunded, given = bool(record.get("refunded")), record.get("given_output")
            names = list(record.get("files", []))
        else:
            obj = TaskViews(self.tasks).view(record, api_base + "/files/", now=now)
            line = jobs.timeline(record["phases"])
            cost, refunded, given = obj["cost"], obj["refunded"], record.get("given_result")
            names = [*record.get("files", []), *record.get("glb_files", [])]
        owner, state = record["owner"], self.state(kind, record, now)
        return {
            "kind": kind, "api": KINDS[kind], "id": record["id"], "key": owner, "masked": mask_key(owner),
            "model": record["model"], "model_type": record.get("model_type"),
            "status": state.status, "terminal": state.terminal,
            "created_at": isoformat(record["created_at"]), "created_epoch": record["created_at"],
            "cost": cost, "refunded": refunded, "error": obj.get("error"),
            "timeline": [{"status": status, "at": isoformat(at), "epoch": at, "reached": at <= now}
                         for status, at in line],
            "outputs": self.outputs(names) if state.terminal and obj.get("error") is None else [],
            "links": _links(given) if state.terminal else [],
            "object": obj,
        }

    def outputs(self, names: list[str]) -> list[dict[str, Any]]:
        found = []
        for name in names:
            info = self.runtime.files.info(name)
            if info is not None:
                found.append({"name": name, "content_type": info.content_type, "size": info.size,
                              "media": media_of(info.content_type), "url": "files/" + name})
        return found


def _links(given: Any) -> list[str]:
    """Scripted outputs that are URLs (shown as links: the dashboard fetches nothing from elsewhere)."""
    values = given if isinstance(given, list) else [given]
    return [value for value in values if isinstance(value, str) and value.startswith(("http://", "https://"))]


def usage(runtime: Runtime, tasks: Tasks, key: str) -> dict[str, Any]:
    """One key's limits in use now (read only)."""
    account = runtime.accounts.get(key)
    own = account.limits if account is not None else {}
    per_minute = own.get("rate_limit_per_minute", runtime.settings.rate_limit_per_minute)
    minute = SlidingWindow(runtime.store, SKYTELLS_WINDOW, int(per_minute or 1), SKYTELLS_WINDOW_SECONDS,
                           runtime.clock.now)
    limits = tasks.limits(key)
    now = runtime.clock.now()
    slots = sorted(tasks.slots.active(key).items(), key=lambda item: item[1]["acquired_at"])
    return {
        "key": key, "masked": mask_key(key),
        "skytells": {"rate_limit_per_minute": per_minute, "used": minute.used(key) if per_minute else None,
                     "window_seconds": SKYTELLS_WINDOW_SECONDS},
        "gateai": {
            "concurrency": {"used": len(slots), "max": limits.concurrency,
                            "active_slots": [{"task_id": slot_id, "model": slot.get("model"),
                                              "acquired_at": isoformat(slot["acquired_at"]),
                                              "elapsed": round(now - slot["acquired_at"], 3)}
                                             for slot_id, slot in slots]},
            "window": {"used": tasks.window_for(limits).used(key), "max": limits.requests_per_window,
                       "window_seconds": limits.window_seconds},
        },
    }


def api_base(request: Request) -> str:
    """The API's base URL as this caller reached it (the control plane's mount taken off)."""
    return public_base(request).removesuffix(MOCK_PREFIX)


def routes(runtime: Runtime) -> list[BaseRoute]:
    view = JobsView(runtime)

    async def list_jobs(request: Request) -> Response:
        found, total = view.find(JobQuery.parse(request.query_params), api_base(request))
        return JSONResponse({"data": found, "count": len(found), "total": total})

    async def list_usage(request: Request) -> Response:
        return JSONResponse({"data": [usage(runtime, view.tasks, account.key) for account in runtime.accounts.all()]})

    return [
        Route("/jobs", list_jobs, methods=["GET"]),
        Route("/usage", list_usage, methods=["GET"]),
        file_route(runtime.files, runtime.renders, runtime.files_cache_control),
    ]
