"""Tasks as the control plane lists them (``GET /_mock/jobs``): read only, through the API's own views."""

from __future__ import annotations

from typing import Any

from mockserver.core import jobs
from mockserver.core.runtime import Runtime
from mockserver.core.vendor import ShownJob
from mockserver.gateai.task_views import TaskViews
from mockserver.gateai.tasks import Tasks


class TaskReader:
    """Reads every key's tasks (a :class:`mockserver.core.vendor.JobReader`)."""

    def __init__(self, runtime: Runtime) -> None:
        self.tasks = Tasks(runtime)
        self.views = TaskViews(self.tasks)

    def state(self, record: dict[str, Any], now: float) -> jobs.JobState:
        return self.tasks.state(record, now)

    def show(self, record: dict[str, Any], api_base: str, now: float) -> ShownJob:
        shown = self.views.view(record, api_base + "/files/", now=now)
        return ShownJob(object=shown, timeline=jobs.timeline(record["phases"]), cost=shown["cost"],
                        refunded=shown["refunded"], given=record.get("given_result"),
                        files=[*record.get("files", []), *record.get("glb_files", [])])
