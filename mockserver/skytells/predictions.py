"""The Predictions API's behaviour: create, read, list, cancel, delete -- no HTTP in here.

A prediction's future is fixed at creation (:mod:`mockserver.core.jobs`): phases
``pending -> starting -> processing -> succeeded | failed`` with seeded durations, its outcome,
its cost and its output files. Its status at any moment is derived from the clock, so it is
right after clock jumps and on any process sharing the store.
"""

from __future__ import annotations

import asyncio
import math
import mimetypes
import re
from dataclasses import dataclass
from datetime import UTC, date, datetime, time
from pathlib import PurePosixPath
from typing import Any

from mockserver.core import jobs
from mockserver.core.accounts import InsufficientFunds
from mockserver.core.clock import isoformat
from mockserver.core.errors import ApiError
from mockserver.core.files import Files, file_name
from mockserver.core.http import split_url
from mockserver.core.runtime import Runtime
from mockserver.core.safety import flagged_terms
from mockserver.core.scenarios import Outcome
from mockserver.skytells import outputs
from mockserver.skytells.catalog import Catalog, Model
from mockserver.skytells.inputs import prepare_input
from mockserver.spec import pricing as billing
from mockserver.spec.data import load_json
from mockserver.spec.requests import body_problem

KIND = "prediction"
STATUSES = ("pending", "starting", "processing", "succeeded", "failed", "cancelled")
TERMINAL = frozenset({"succeeded", "failed", "cancelled"})
#: Both documented event spellings (API v1 schema page and Predictions page) are accepted.
WEBHOOK_EVENTS = frozenset({
    "prediction.started", "prediction.succeeded", "prediction.failed", "prediction.cancelled",
    "starting", "processing", "succeeded", "failed", "cancelled", "completed",
})
#: A plain-string webhook subscribes to the terminal events.
DEFAULT_WEBHOOK_EVENTS = ("succeeded", "failed", "cancelled")
#: The status each webhook event fires on ("prediction.started" fires on reaching processing, per the API
#: v1 schema's "Webhook Triggers"; "completed" is an alias of a successful end).
WEBHOOK_EVENT_STATUS = {
    "prediction.started": "processing", "prediction.succeeded": "succeeded", "prediction.failed": "failed",
    "prediction.cancelled": "cancelled", "starting": "starting", "processing": "processing",
    "succeeded": "succeeded", "failed": "failed", "cancelled": "cancelled", "completed": "succeeded",
}
PER_PAGE_DEFAULT, PER_PAGE_MAX = 15, 50
#: The failure message of a scripted failure that names no error.
SCRIPTED_ERROR = "The prediction failed: the model returned an error"
_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")


@dataclass(frozen=True)
class CreateRequest:
    """A validated ``POST /v1/predictions`` body."""

    model: Model
    input: dict[str, Any]
    params: dict[str, Any]
    wait: bool
    stream: bool
    webhook: dict[str, Any]


def _bool(body: dict[str, Any], name: str) -> bool:
    return body.get(name) is True  # the contract allows a boolean or null


def _is_http_url(value: str) -> bool:
    parts = split_url(value)
    return parts is not None and parts.scheme in ("http", "https") and bool(parts.netloc)


def parse_webhook(raw: Any) -> dict[str, Any]:
    """``webhook`` (checked against the contract's ``WebhookRequest``) as ``{url, events}``.

    A plain URL string, or an object without ``events``, subscribes to the terminal events;
    ``null``, ``{}`` and ``{url: null, events: []}`` mean no webhook.
    """
    if raw is None:
        return {"url": None, "events": []}
    if isinstance(raw, str):
        return {"url": raw, "events": list(DEFAULT_WEBHOOK_EVENTS)}
    if raw.get("url") is None:
        return {"url": None, "events": []}
    return {"url": raw["url"], "events": list(raw.get("events", DEFAULT_WEBHOOK_EVENTS))}


def parse_create(body: dict[str, Any], catalog: Catalog) -> CreateRequest:
    """Validate a create body: known model served here, valid input (defaults applied)."""
    model_name = body.get("model")
    if not isinstance(model_name, str) or not model_name:
        raise ApiError(400, "INVALID_PARAMETER", "model is required (a model namespace from GET /v1/models)",
                       param="model")
    model = catalog.get(model_name)
    if not model.serves_predictions:
        endpoints = " or ".join(f"POST {e}" for e in model.endpoints)
        raise ApiError(400, "INVALID_PARAMETER",
                       f"Model '{model.namespace}' is a {model.type} model served by the Inference API; "
                       f"use {endpoints} instead of the Predictions API", param="model")
    if "input" not in body:
        raise ApiError(400, "INVALID_INPUT", "input is required (the model's input_schema describes it)",
                       param="input")
    problem = body_problem("skytells", "CreatePredictionBody", body)  # the contract's top-level shape
    if problem is not None:
        on_input = problem.field == "input" or problem.field.startswith(("input.", "input["))
        raise ApiError(400, "INVALID_INPUT" if on_input else "INVALID_PARAMETER", problem.message,
                       param=problem.field or None)
    return CreateRequest(
        model=model,
        input=body["input"],
        params=prepare_input(model, body["input"]),
        wait=_bool(body, "await") or _bool(body, "wait"),
        stream=_bool(body, "stream"),
        webhook=parse_webhook(body.get("webhook")),
    )


def _draw(rng: Any, bounds: list[float]) -> float:
    low, high = bounds
    return round(rng.uniform(low, high), 6) if high > low else float(low)


class Predictions:
    """Prediction state and rules for one server (all keys)."""

    def __init__(self, runtime: Runtime, catalog: Catalog) -> None:
        self.runtime = runtime
        self.catalog = catalog
        self.timing = load_json("skytells", "timing.json")

    # -- creation ------------------------------------------------------------------------

    def _plan(self, pid: str, model: Model,
              duration: float | None = None) -> tuple[list[tuple[str, float]], float, bool]:
        """Seeded step durations, the compute seconds, and whether it finishes inline.

        A scripted ``duration`` keeps the seeded proportions of ``pending``/``starting``/``processing``
        scaled to add up to it, and is never collapsed into the create response (``instant`` mode aside).
        """
        profile = self.timing[model.speed]
        rng = self.runtime.rng.rng(f"timing:{pid}")
        pending = _draw(rng, profile["pending"])
        starting = _draw(rng, profile["starting"])
        if model.data.get("flags", {}).get("cold_boot"):
            starting += _draw(rng, self.timing["cold_boot"])
        processing = _draw(rng, profile["processing"])
        if duration is not None:
            scale = duration / (pending + starting + processing)
            pending, starting = round(pending * scale, 6), round(starting * scale, 6)
            processing = round(max(duration - pending - starting, 0.0), 6)
        steps = [("pending", pending), ("starting", starting), ("processing", processing)]
        return steps, processing, bool(profile["inline"]) and duration is None

    @staticmethod
    def _ending(request: CreateRequest, script: Outcome, safety_terms: Any) -> tuple[str, str | None]:
        """How the prediction ends and its error: a scripted status wins over the safety checker."""
        if script.status == "succeeded":
            return "succeeded", None
        if script.status == "failed" or script.error is not None:
            return "failed", script.error or SCRIPTED_ERROR
        given = request.params
        checker_off = given.get("disable_safety_checker") is True or given.get("safety_checker") is False
        flagged = [] if checker_off else flagged_terms(given, safety_terms)
        if flagged:
            return "failed", (f"NSFW content detected: the safety checker flagged the output ({', '.join(flagged)}). "
                              "Try a different prompt.")
        return "succeeded", None

    def create(self, owner: str, request: CreateRequest, scripted: Outcome | None = None,
               base_url: str | None = None) -> dict[str, Any]:
        """Create a prediction; ``scripted`` (from a matching rule) fixes its duration, ending or output.

        With a ``webhook.url`` its transitions are delivered there, rendered against ``base_url``.

        A failed prediction -- scripted or flagged by the safety checker -- is never charged.
        """
        runtime = self.runtime
        pid = runtime.rng.uuid4(KIND)
        now = runtime.clock.now()
        model = request.model
        script = scripted or Outcome()
        steps, predict_time, inline = self._plan(pid, model, script.duration)
        outcome, error = self._ending(request, script, runtime.settings.safety_terms)
        succeeds = outcome == "succeeded"
        planned = self._plan_outputs(pid, model, request.params) if succeeds and script.output is None else []
        cost = billing.credits_for(model, request.params, compute_seconds=predict_time) if succeeds else 0.0
        self._charge(owner, cost)  # only once the outputs are known to be producible
        collapse = inline or runtime.clock.collapses_durations
        phases = jobs.build_phases(now, [*steps, (outcome, 0.0)], collapse=collapse)
        if script.duration is not None and not collapse:
            phases[-1] = (outcome, now + script.duration)  # exactly the scripted time, whatever the rounding
        files: list[str] = []
        for index, spec in enumerate(planned):
            name = file_name(f"{pid}-{index}", spec.format)
            runtime.files.register(name, spec, pid, owner)
            files.append(name)
        record = {
            "id": pid,
            "owner": owner,
            "model": model.namespace,
            "model_type": model.type,
            "input": request.input,  # echoed exactly as sent ("The exact input you sent")
            "params": request.params,  # with the schema's defaults: what the simulated model ran with
            "stream": request.stream,
            "webhook": request.webhook,
            "created_at": now,
            "phases": phases,
            "cancelled_at": None,
            "outcome": outcome,
            "error": error,
            "predict_time": predict_time,
            "credits": cost,
            "refunded": False,
            "files": files,
            "given_output": script.output,  # a scripted output, returned verbatim instead of files
            "output_array": model.returns_array,
            "deleted": False,
        }
        runtime.store.put(KIND, pid, record, owner=owner)
        if request.webhook["url"]:
            self._subscribe_webhook(record, base_url)
        return record

    def _plan_outputs(self, pid: str, model: Model, params: dict[str, Any]) -> list[Any]:
        """The output files' recipes; input the mock cannot produce (e.g. a 9000 px side) is a 400, uncharged."""
        seed = self.runtime.rng.rng(f"media:{pid}").randrange(2**31)
        try:
            return outputs.plan_files(model, params, seed)
        except ValueError as exc:
            field = str(exc).split(" ", 1)[0]
            raise ApiError(400, "INVALID_INPUT", f"The model cannot produce this output: {exc}",
                           param=f"input.{field}" if field in params else "input") from None

    def _subscribe_webhook(self, record: dict[str, Any], base_url: str | None) -> None:
        """Deliver the subscribed transitions: the Prediction Object as ``GET`` renders it at each one."""
        settings = self.runtime.settings
        base = base_url or (settings.public_url or f"http://{settings.host}:{settings.skytells_port}") + "/v1"
        pid, store = record["id"], self.runtime.store

        def timeline() -> jobs.Phases | None:
            current = store.get(KIND, pid)
            return None if current is None else self.timeline(current)

        def render(_status: str, at: float) -> dict[str, Any]:
            return self.view(store.get(KIND, pid) or record, base, now=at)

        webhook = record["webhook"]
        statuses = {WEBHOOK_EVENT_STATUS[event] for event in webhook["events"]}
        self.runtime.webhooks.subscribe(pid, record["owner"], webhook["url"], statuses, timeline, render)

    def _charge(self, owner: str, cost: float) -> None:
        if cost <= 0:
            return
        try:
            self.runtime.accounts.debit(owner, cost)
        except InsufficientFunds as exc:
            if exc.balance <= 0:
                raise ApiError(402, "PAYMENT_REQUIRED",
                               "Your credit balance is empty; add credits to run predictions",
                               details={"balance": exc.balance, "required": cost}) from None
            raise ApiError(402, "INSUFFICIENT_CREDITS",
                           "You do not have enough credits to run this prediction",
                           details={"balance": exc.balance, "required": cost}) from None

    # -- reading -------------------------------------------------------------------------

    def get(self, owner: str, pid: str) -> dict[str, Any]:
        """The owner's prediction; anyone else's (or an unknown id) is a 404."""
        record = self.runtime.store.get(KIND, pid)
        if record is None or record["owner"] != owner:
            raise ApiError(404, "PREDICTION_NOT_FOUND", f"Prediction '{pid}' was not found", param="id")
        return record

    def state(self, record: dict[str, Any], now: float | None = None) -> jobs.JobState:
        now = self.runtime.clock.now() if now is None else now
        return jobs.state_at(record["phases"], now, record["cancelled_at"])

    def timeline(self, record: dict[str, Any]) -> jobs.Phases:
        return jobs.timeline(record["phases"], record["cancelled_at"])

    def _file_info(self, record: dict[str, Any]) -> list[dict[str, Any]]:
        """Name, type and size of each output file, from the recipes (nothing is rendered)."""
        return [
            {"name": info.name, "type": info.content_type, "size": info.size}
            for info in map(self.runtime.files.info, record["files"])
            if info is not None
        ]

    def view(self, record: dict[str, Any], base_url: str, now: float | None = None) -> dict[str, Any]:
        """The documented Prediction Object as of ``now``."""
        state = self.state(record, now)
        line = [(status, at) for status, at in self.timeline(record) if at <= state.entered_at]
        started = jobs.entered(line, "processing")
        succeeded = state.status == "succeeded"
        files_base = base_url.rsplit("/v1", 1)[0] + "/files/"
        storage: list[dict[str, Any]] = []
        output: Any = None
        if succeeded and record.get("given_output") is not None:
            output = record["given_output"]
            storage = given_files(output, self.runtime.files)
        elif succeeded:
            storage = [{**info, "url": files_base + info["name"]} for info in self._file_info(record)]
            urls = [entry["url"] for entry in storage]
            output = urls if record["output_array"] else (urls[0] if urls else None)
        metrics: dict[str, Any] = {}
        if state.terminal:
            total = round(state.entered_at - record["created_at"], 6)
            processing_time = record["predict_time"] if state.status != "cancelled" else round(
                max(state.entered_at - (started or state.entered_at), 0.0), 6)
            metrics = {"predict_time": processing_time, "total_time": max(total, processing_time)}
            if record["model_type"] == "image" and succeeded:
                given = record.get("given_output")
                count = len(record["files"]) if given is None else len(given) if isinstance(given, list) else 1
                metrics["image_count"] = count
        pid = record["id"]
        prediction_url = f"{base_url}/predictions/{pid}"
        body: dict[str, Any] = {
            "id": pid,
            "status": state.status,
            "type": "inference",
            "stream": record["stream"],
            "input": record["input"],
            "output": output,
            "created_at": isoformat(record["created_at"]),
            "started_at": isoformat(started) if started is not None else None,
            "completed_at": isoformat(state.entered_at) if state.terminal else None,
            "updated_at": isoformat(state.entered_at),
            "privacy": "private",
            "source": "api",
            "model": {"name": record["model"], "type": record["model_type"]},
            "webhook": record["webhook"],
            "metrics": metrics,
            "metadata": {
                "billing": {"credits_used": record["credits"] if succeeded else 0},
                "storage": {"files": storage},
                "data_available": succeeded and not record["deleted"],
            },
            "urls": {
                "get": prediction_url,
                "cancel": f"{prediction_url}/cancel",
                "stream": f"{prediction_url}/stream",
                "delete": f"{prediction_url}/delete",
            },
        }
        if state.status == "failed":
            body["error"] = record["error"]
            body["response"] = record["error"]
        return body

    # -- listing -------------------------------------------------------------------------

    def list(self, owner: str, page: Any = None, per_page: Any = None, model: str | None = None,
             status: str | None = None, date_from: str | None = None,
             date_to: str | None = None) -> tuple[list[dict[str, Any]], dict[str, int]]:
        """One page of the owner's predictions, newest first, and the pagination block."""
        page_number = _positive_int(page, "page", 1)
        size = _positive_int(per_page, "per_page", PER_PAGE_DEFAULT)
        if size > PER_PAGE_MAX:
            raise ApiError(400, "INVALID_PARAMETER", f"per_page must be at most {PER_PAGE_MAX}", param="per_page")
        if status is not None and status not in STATUSES:
            raise ApiError(400, "INVALID_PARAMETER", f"status must be one of {', '.join(STATUSES)}",
                           param="status")
        start = _day(date_from, "from")
        end = _day(date_to, "to")
        if start is not None and end is not None and start > end:
            raise ApiError(400, "INVALID_DATE_RANGE", "'from' must be on or before 'to'", param="from")
        low = None if start is None else datetime.combine(start, time.min, UTC).timestamp()
        high = None if end is None else datetime.combine(end, time.max, UTC).timestamp()
        now = self.runtime.clock.now()
        matches = []
        for record in self.runtime.store.scan(KIND, owner=owner):
            if model is not None and record["model"] != model:
                continue
            if low is not None and record["created_at"] < low:
                continue
            if high is not None and record["created_at"] > high:
                continue
            if status is not None and self.state(record, now).status != status:
                continue
            matches.append(record)
        total = len(matches)
        offset = (page_number - 1) * size
        pagination = {
            "current_page": page_number,
            "per_page": size,
            "total": total,
            "last_page": max(1, math.ceil(total / size)),
        }
        return matches[offset:offset + size], pagination

    # -- changing ------------------------------------------------------------------------

    def cancel(self, owner: str, pid: str) -> dict[str, Any]:
        """Cancel a prediction that has not finished; a finished one is a 400."""
        self.get(owner, pid)
        now = self.runtime.clock.now()
        problem: list[str] = []

        def apply(record: dict[str, Any]) -> dict[str, Any]:
            state = self.state(record, now)
            if state.terminal:
                problem.append(state.status)
                return record
            return {**record, "cancelled_at": now, "refunded": True}

        record = self.runtime.store.update(KIND, pid, apply)
        assert record is not None
        if problem:
            raise ApiError(400, "INVALID_PARAMETER",
                           f"Prediction '{pid}' has already {problem[0]} and can no longer be cancelled",
                           param="id", details={"status": problem[0]})
        if record["credits"] > 0:
            self.runtime.accounts.credit(owner, record["credits"])
        self.runtime.files.remove(record["files"])
        self.runtime.clock.notify()
        self.runtime.webhooks.refresh(pid)  # enqueue "cancelled" now: a delete may follow at once
        return record

    def delete(self, owner: str, pid: str) -> dict[str, Any]:
        """Remove a prediction and its files (a running one is cancelled first, and refunded)."""
        record = self.get(owner, pid)
        if not self.state(record).terminal:
            record = self.cancel(owner, pid)
        self.runtime.files.remove(record["files"])
        self.runtime.store.delete(KIND, pid)
        self.runtime.clock.notify()
        return {**record, "deleted": True}

    async def wait_terminal(self, record: dict[str, Any], max_real: float) -> dict[str, Any]:
        """Block (on the clock) until the prediction is terminal, at most ``max_real`` wall seconds."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + max_real
        pid = record["id"]
        while True:
            current = self.runtime.store.get(KIND, pid) or {**record, "deleted": True}
            if current.get("deleted") or self.state(current).terminal:
                return current
            line = self.timeline(current)
            now = self.runtime.clock.now()
            upcoming = [at for _, at in line if at > now]
            left = deadline - loop.time()
            if left <= 0 or self.runtime.clock.draining:  # shutting down: answer with the prediction as it is
                return current
            await self.runtime.clock.sleep_until(upcoming[0] if upcoming else now, max_real=left, client=True)


def given_files(output: Any, files: Files) -> list[dict[str, Any]]:
    """``metadata.storage.files`` for a scripted output: one entry per http(s) URL in it.

    ``name`` is the URL's last path segment; ``type`` and ``size`` are the real ones when the URL
    names one of the mock's own files, else ``type`` is guessed from the extension and ``size`` is
    null (unknown). Values that are not URLs (text, numbers, objects) have no file entry.
    """
    entries: list[dict[str, Any]] = []
    for value in output if isinstance(output, list) else [output]:
        if not isinstance(value, str) or not _is_http_url(value):
            continue
        parts = split_url(value)
        assert parts is not None  # _is_http_url said so
        name = PurePosixPath(parts.path).name or parts.netloc
        info = files.info(name) if "/files/" in parts.path else None
        if info is not None:
            entries.append({"name": name, "type": info.content_type, "size": info.size, "url": value})
        else:
            kind = mimetypes.guess_type(name)[0] or "application/octet-stream"
            entries.append({"name": name, "type": kind, "size": None, "url": value})
    return entries


def _positive_int(raw: Any, name: str, default: int) -> int:
    if raw is None or raw == "":
        return default
    try:
        value = int(str(raw))
    except ValueError:
        raise ApiError(400, "INVALID_PARAMETER", f"{name} must be a positive integer", param=name) from None
    if value < 1:
        raise ApiError(400, "INVALID_PARAMETER", f"{name} must be a positive integer", param=name)
    return value


def _day(raw: str | None, name: str) -> date | None:
    if raw is None or raw == "":
        return None
    if not _DATE.match(raw):
        raise ApiError(400, "INVALID_DATE_FORMAT", f"'{name}' must be a date as YYYY-MM-DD", param=name)
    try:
        return date.fromisoformat(raw)
    except ValueError:
        raise ApiError(400, "INVALID_DATE_FORMAT", f"'{name}' is not a valid calendar date", param=name) from None

