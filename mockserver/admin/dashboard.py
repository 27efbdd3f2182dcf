"""Control-plane data the dashboard (``/_mock/ui``) needs and no other route gives, for every installed vendor.

* ``GET /_mock/jobs[?kind&key&status&limit]`` -- ``{"data": [job, …], "count", "total"}``: the jobs of every
  vendor (:attr:`mockserver.core.vendor.Vendor.jobs`: Skytells predictions, GateAI tasks) of every key, newest
  first. A job: ``{kind, api, id, key, masked, model, model_type, status, terminal, created_at, cost, refunded,
  error, timeline [{status, at, epoch, reached}], outputs [{name, content_type, size, media, url}], links,
  object}`` -- ``outputs[].url`` is relative to ``/_mock/`` (the file served by the control plane, so looking at
  it is never journaled), ``links`` are scripted outputs given as URLs, ``object`` is the job as its API renders
  it now.
* ``GET /_mock/usage`` -- ``{"data": [usage, …]}``: per key, ``{key, masked}`` and each vendor's limits in use
  under its name (:attr:`mockserver.core.vendor.Vendor.usage`: the Skytells per-minute window, GateAI's
  concurrency slots and generate window).
* ``GET /_mock/files/{name}`` -- an output file, as ``GET /files/{name}`` on the APIs, but not journaled.

Reading never changes state: no window hit, no slot, no journal entry.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from mockserver.admin.errors import bad_request
from mockserver.core.accounts import mask_key
from mockserver.core.asgi import MOCK_PREFIX, public_base
from mockserver.core.clock import isoformat
from mockserver.core.files import file_route
from mockserver.core.http import JSONResponse
from mockserver.core.runtime import Runtime
from mockserver.core.vendor import REGISTRY, JobReader, Vendor, VendorJobs

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


def job_kinds() -> dict[str, tuple[Vendor, VendorJobs]]:
    """``{kind: (vendor, its jobs hook)}`` of every installed vendor, in the registry's order."""
    return {jobs.kind: (vendor, jobs) for vendor in REGISTRY.all() for jobs in vendor.jobs}


@dataclass
class JobQuery:
    """``GET /_mock/jobs`` filters."""

    kind: str | None = None
    key: str | None = None
    status: str | None = None
    limit: int = DEFAULT_LIMIT

    @classmethod
    def parse(cls, params: Any, kinds: Mapping[str, Any]) -> JobQuery:
        unknown = sorted(set(params) - set(FILTERS))
        if unknown:
            raise bad_request(f"unknown filter(s): {', '.join(unknown)}; known: {', '.join(FILTERS)}",
                              param=unknown[0])
        kind = params.get("kind") or None
        if kind is not None and kind not in kinds:
            raise bad_request(f"kind must be one of {', '.join(kinds)}", param="kind")
        raw = (params.get("limit") or str(DEFAULT_LIMIT)).strip()
        if not raw.isdigit() or not 1 <= int(raw) <= MAX_LIMIT:
            raise bad_request(f"limit must be an integer from 1 to {MAX_LIMIT}", param="limit")
        return cls(kind=kind, key=params.get("key") or None, status=params.get("status") or None, limit=int(raw))


class JobsView:
    """Jobs of every key as the dashboard shows them, read through each vendor's own reader."""

    def __init__(self, runtime: Runtime) -> None:
        self.runtime = runtime
        self._readers: dict[str, JobReader] = {}

    def reader(self, jobs: VendorJobs) -> JobReader:
        if jobs.kind not in self._readers:
            self._readers[jobs.kind] = jobs.reader(self.runtime)
        return self._readers[jobs.kind]

    def records(self, query: JobQuery, kinds: Mapping[str, tuple[Vendor, VendorJobs]]
                ) -> Iterator[tuple[str, dict[str, Any]]]:
        for kind, (_, jobs) in kinds.items():
            if query.kind in (None, kind):
                for record in self.runtime.store.scan(jobs.stored, owner=query.key):
                    yield kind, record

    def find(self, query: JobQuery, api_base: str) -> tuple[list[dict[str, Any]], int]:
        """The matching jobs, newest first (at most ``query.limit``), and how many match in all.

        Only the jobs shown are rendered: a poll stays cheap however many jobs the store holds."""
        kinds, now = job_kinds(), self.runtime.clock.now()
        found = [(kind, record) for kind, record in self.records(query, kinds)
                 if query.status is None or self.reader(kinds[kind][1]).state(record, now).status == query.status]
        found.sort(key=lambda item: item[1]["created_at"], reverse=True)
        return [self.job(*kinds[kind], record, api_base, now) for kind, record in found[:query.limit]], len(found)

    def job(self, vendor: Vendor, jobs: VendorJobs, record: dict[str, Any], api_base: str, now: float
            ) -> dict[str, Any]:
        reader = self.reader(jobs)
        shown, state, owner = reader.show(record, api_base, now), reader.state(record, now), record["owner"]
        error = shown.object.get("error")
        return {
            "kind": jobs.kind, "api": vendor.name, "id": record["id"], "key": owner, "masked": mask_key(owner),
            "model": record["model"], "model_type": record.get("model_type"),
            "status": state.status, "terminal": state.terminal,
            "created_at": isoformat(record["created_at"]), "created_epoch": record["created_at"],
            "cost": shown.cost, "refunded": shown.refunded, "error": error,
            "timeline": [{"status": status, "at": isoformat(at), "epoch": at, "reached": at <= now}
                         for status, at in shown.timeline],
            "outputs": self.outputs(shown.files) if state.terminal and error is None else [],
            "links": _links(shown.given) if state.terminal else [],
            "object": shown.object,
        }

    def outputs(self, names: Sequence[str]) -> list[dict[str, Any]]:
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


def usage(runtime: Runtime, key: str) -> dict[str, Any]:
    """One key's limits in use now, under each vendor's name (read only)."""
    return {"key": key, "masked": mask_key(key),
            **{vendor.name: vendor.usage(runtime, key) for vendor in REGISTRY.all() if vendor.usage is not None}}


def api_base(request: Request) -> str:
    """The API's base URL as this caller reached it (the control plane's mount taken off)."""
    return public_base(request).removesuffix(MOCK_PREFIX)


def routes(runtime: Runtime) -> list[BaseRoute]:
    view = JobsView(runtime)

    async def list_jobs(request: Request) -> Response:
        found, total = view.find(JobQuery.parse(request.query_params, job_kinds()), api_base(request))
        return JSONResponse({"data": found, "count": len(found), "total": total})

    async def list_usage(request: Request) -> Response:
        return JSONResponse({"data": [usage(runtime, account.key) for account in runtime.accounts.all()]})

    return [
        Route("/jobs", list_jobs, methods=["GET"]),
        Route("/usage", list_usage, methods=["GET"]),
        file_route(runtime.files, runtime.renders, runtime.files_cache_control),
    ]
