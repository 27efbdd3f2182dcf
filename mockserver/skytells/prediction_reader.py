"""Predictions as the control plane lists them (``GET /_mock/jobs``): read only, through the API's own views."""

from __future__ import annotations

from typing import Any

from mockserver.core.jobs import JobState
from mockserver.core.runtime import Runtime
from mockserver.core.vendor import ShownJob
from mockserver.skytells.catalog import Catalog
from mockserver.skytells.prediction_views import Links
from mockserver.skytells.predictions import Predictions


class PredictionReader:
    """Reads every key's predictions (a :class:`mockserver.core.vendor.JobReader`)."""

    def __init__(self, runtime: Runtime) -> None:
        self.predictions = Predictions(runtime, Catalog.load())

    def state(self, record: dict[str, Any], now: float) -> JobState:
        return self.predictions.state(record, now)

    def show(self, record: dict[str, Any], api_base: str, now: float) -> ShownJob:
        shown = self.predictions.views.view(record, Links(api_base + "/v1", api_base + "/files/"), now=now)
        return ShownJob(object=shown, timeline=self.predictions.timeline(record),
                        cost=shown["metadata"]["billing"]["credits_used"], refunded=bool(record.get("refunded")),
                        given=record.get("given_output"), files=self.predictions.engine.output_names(record))
