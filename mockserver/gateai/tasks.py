"""GateAI generations: create, estimate, read, dashboard -- no HTTP in here.

A task's whole future is fixed when it is created (:mod:`mockserver.core.jobs`): phases
``PROCESSING -> FINISHED | FAILED`` with a seeded duration (images 10-30 s, videos 1-5 min, 3D
1-3 min), the time its concurrency slot frees (when it ends, at the latest after 10 minutes), the
time its cost is refunded (20 minutes if it has not ended by then, or when it fails) and, past the
40-minute hard limit, a forced ``FAILED``. Status, cost and budget at any moment are pure functions of
the record and the clock, so clock jumps and shared stores need no timers.

Order of checks on ``/api/generate``: body and params (400/404), uploads (400), the 30 s sliding
window (429; every valid request it lets through counts, even one then refused for concurrency or
budget), the concurrency slots (429), the daily budget (downgrade, else 402). A refused request holds
no slot and spends nothing.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, fields
from typing import Any

from mockserver.core import jobs
from mockserver.core.errors import ApiError
from mockserver.core.limits import ConcurrencySlots, SlidingWindow
from mockserver.core.rules.model import ScriptedResult
from mockserver.core.runtime import Runtime
from mockserver.core.safety import flagged_terms
from mockserver.gateai import catalog, outputs, params, pricing
from mockserver.gateai.budget import (
    POOL_LOCKED,
    POOL_TOTAL_ACCOUNTS,
    Budget,
    BudgetStatus,
    budget_exceeded,
    to_micros,
    to_usd,
)
from mockserver.gateai.catalog import Model
from mockserver.gateai.errors import rate_limited
from mockserver.gateai.uploads import Uploads
from mockserver.spec.requests import body_problem

KIND = "gateai_task"
PROCESSING, FINISHED, FAILED = "PROCESSING", "FINISHED", "FAILED"

CONCURRENCY_LIMIT = 5
SLOT_AUTO_RELEASE = 600.0  # 10 minutes: the slot frees, the generation goes on
WINDOW_LIMIT = 5
WINDOW_SECONDS = 30.0
REFUND_AFTER = 1200.0  # 20 minutes: unfinished -> cost refunded, a later result is free
HARD_LIMIT = 2400.0  # 40 minutes: force-failed
RECENT_TASKS = 20
#: Seeded generation time per model type, in seconds ("images: ~10-30s, videos: ~1-5 min").
DURATIONS = {"image": (10.0, 30.0), "video": (60.0, 300.0), "3d": (60.0, 180.0)}
TIMEOUT_ERROR = "Generation timed out (40 min hard limit)"
UPSTREAM_ERROR = "Generation failed: the upstream provider returned an error (simulated)"


@dataclass(frozen=True)
class GenerateRequest:
    """A parsed ``/api/generate`` (or ``/api/estimate``) body: the model and the params as sent."""

    model: Model
    params: Any


@dataclass(frozen=True)
class Plan:
    """When a task ends, how, and when its slot frees and its cost comes back (seconds after creation)."""

    ends_after: float
    outcome: str
    error: str | None
    slot_after: float
    refund_after: float | None


@dataclass
class Created:
    """What ``/api/generate`` answers with."""

    record: dict[str, Any]
    budget: BudgetStatus
    adjustments: list[Any] = field(default_factory=list)


def parse_request(body: dict[str, Any]) -> GenerateRequest:
    """The model and params of a generate/estimate body checked against the contract's ``GenerateBody``."""
    problem = body_problem("gateai", "GenerateBody", body)
    if problem is not None:
        code = "INVALID_PARAMS" if problem.field.startswith("params") else "INVALID_REQUEST"
        raise ApiError(400, code, problem.message, param=problem.field or None)
    model = catalog.get(body["model"].strip())
    raw = body.get("params")
    return GenerateRequest(model, {} if raw is None else raw)


def given_result(output: Any) -> list[Any]:
    """A scripted output as ``result``: a list as given, any other value as a one-item list."""
    return list(output) if isinstance(output, list) else [output]


def result_count(record: dict[str, Any]) -> int:
    given = record.get("given_result")
    return len(record["files"]) if given is None else len(given)


@dataclass(frozen=True)
class GenerateLimits:
    """A key's generation limits: the documented ones, or the account's own (set on the control plane)."""

    concurrency: int = CONCURRENCY_LIMIT
    requests_per_window: int = WINDOW_LIMIT
    window_seconds: float = WINDOW_SECONDS
    max_prompt_length: int | None = None  # None: the documented maximum (catalog limits)

    @classmethod
    def of(cls, overrides: Mapping[str, Any]) -> GenerateLimits:
        names = {item.name for item in fields(cls)}
        return cls(**{name: value for name, value in overrides.items() if name in names and value is not None})


def money(usd: float) -> float | int:
    """A dollar amount as the API prints it (6 decimals at most; whole amounts as ints)."""
    return to_usd(to_micros(usd))


class Tasks:
    """GateAI generation state and rules for one server (all keys)."""

    def __init__(self, runtime: Runtime, budget: Budget | None = None, uploads: Uploads | None = None) -> None:
        self.runtime = runtime
        self.budget = budget or Budget(runtime)
        self.uploads = uploads or Uploads(runtime)
        now = runtime.clock.now
        self.window = SlidingWindow(runtime.store, "gateai-generate", WINDOW_LIMIT, WINDOW_SECONDS, now)
        self.slots = ConcurrencySlots(runtime.store, "gateai-generate", CONCURRENCY_LIMIT, now,
                                      auto_release=SLOT_AUTO_RELEASE)

    # -- limits --------------------------------------------------------------------------

    def limits(self, owner: str) -> GenerateLimits:
        """The owner's limits: the account's overrides (``concurrency``, ``requests_per_window``,
        ``window_seconds``, ``max_prompt_length``) over the documented defaults."""
        account = self.runtime.accounts.get(owner)
        return GenerateLimits.of(account.limits if account is not None else {})

    def window_for(self, limits: GenerateLimits) -> SlidingWindow:
        """The 30 s window, or the key's own length and size (same hit log, so changes apply at once)."""
        if (limits.requests_per_window, limits.window_seconds) == (WINDOW_LIMIT, WINDOW_SECONDS):
            return self.window
        return SlidingWindow(self.runtime.store, self.window.name, limits.requests_per_window,
                             limits.window_seconds, self.runtime.clock.now)

    # -- creation ------------------------------------------------------------------------

    def _plan(self, task_id: str, model: Model, prepared: dict[str, Any], script: ScriptedResult) -> Plan:
        """When and how the task ends: a scripted duration and status win over the seeded time and
        content moderation, but not over the 40-minute hard limit."""
        if script.duration is not None:
            duration = float(script.duration)
        else:
            low, high = DURATIONS.get(model.type, DURATIONS["image"])
            duration = round(self.runtime.rng.rng(f"gateai-timing:{task_id}").uniform(low, high), 3)
        flagged = flagged_terms(prepared.get("prompt"), self.runtime.settings.safety_terms)
        if duration >= HARD_LIMIT:
            ends, outcome, error = HARD_LIMIT, FAILED, TIMEOUT_ERROR
        elif script.status == "failed" or (script.status is None and script.error is not None):
            ends, outcome, error = duration, FAILED, script.error or UPSTREAM_ERROR
        elif flagged and script.status != "succeeded":
            ends, outcome = duration, FAILED
            error = f"Generation failed: the prompt was flagged by content moderation ({', '.join(flagged)})"
        else:
            ends, outcome, error = duration, FINISHED, None
        refund: float | None = None
        if ends > REFUND_AFTER:
            refund = REFUND_AFTER
        elif outcome == FAILED:
            refund = ends
        if self.runtime.clock.collapses_durations:
            return Plan(0.0, outcome, error, 0.0, None if refund is None else 0.0)
        return Plan(ends, outcome, error, min(ends, SLOT_AUTO_RELEASE), refund)

    def _fit_budget(self, owner: str, request: GenerateRequest, prepared: params.Prepared,
                    now: float) -> params.Prepared:
        """The params as prepared if they fit today's budget, else downgraded; 402 if nothing fits."""
        status = self.budget.status(owner, now)
        cost = pricing.cost(request.model, prepared.params)
        if status.fits(cost):
            return prepared
        fitted = params.downgrade(request.model, request.params, status.remaining,
                                  self.limits(owner).max_prompt_length)
        if fitted is None:
            raise budget_exceeded(cost, status)
        return fitted

    def create(self, owner: str, body: dict[str, Any], scripted: ScriptedResult | None = None) -> Created:
        """Start a generation; ``scripted`` (a matching rule, or the ``X-Mock-*`` headers) fixes its
        duration, ending or ``result``."""
        script = scripted or ScriptedResult()
        runtime = self.runtime
        request = parse_request(body)
        model = request.model
        limits = self.limits(owner)
        prepared = params.prepare(model, request.params, limits.max_prompt_length)
        self.uploads.check(owner, prepared.params)
        now = runtime.clock.now()
        window = self.window_for(limits).hit(owner)
        if not window.allowed:
            raise rate_limited(
                f"Rate limit: at most {limits.requests_per_window} generation requests per "
                f"{limits.window_seconds:g} s per key; retry in {window.retry_after_header} s",
                window.retry_after_header,
                {"limit": "requests_per_window", "max": limits.requests_per_window,
                 "window_seconds": limits.window_seconds},
            )
        task_id = runtime.rng.uuid4(KIND)
        plan = self._plan(task_id, model, prepared.params, script)
        slot = self.slots.acquire(owner, task_id, release_at=now + plan.slot_after, info={"model": model.id},
                                  limit=limits.concurrency)
        if not slot.allowed:
            raise rate_limited(
                f"Too many concurrent generations: {slot.used} of {limits.concurrency} slots in use; a slot frees "
                f"when a generation ends (or after {SLOT_AUTO_RELEASE / 60:g} minutes)",
                slot.retry_after_header,
                {"limit": "concurrency", "max": limits.concurrency, "used": slot.used},
            )
        try:
            final = self._fit_budget(owner, request, prepared, now)
            cost = pricing.cost(model, final.params)
            refund_at = None if plan.refund_after is None else now + plan.refund_after
            status = self.budget.charge(owner, task_id, model.id, cost, refund_at, now)
        except ApiError:
            self.slots.release(owner, task_id)
            raise
        phases = jobs.build_phases(now, [(PROCESSING, plan.ends_after), (plan.outcome, 0.0)])
        result: list[str] = []
        glb: list[str] = []
        if plan.outcome == FINISHED and script.output is None:
            seed = runtime.rng.rng(f"gateai-media:{task_id}").randrange(2**31)
            planned, meshes = outputs.plan(task_id, model, final.params, seed)
            for item in [*planned, *meshes]:
                runtime.files.register(item.name, item.spec, task_id, owner)
            result, glb = [item.name for item in planned], [item.name for item in meshes]
        record = {
            "id": task_id,
            "owner": owner,
            "model": model.id,
            "model_type": model.type,
            "params": final.params,
            "adjustments": final.adjustments,
            "cost": cost,
            "created_at": now,
            "phases": phases,
            "error": plan.error,
            "refund_at": refund_at,
            "files": result,
            "glb_files": glb,
            # a scripted output: the ``result`` list exactly as given, instead of generated files
            "given_result": None if script.output is None else given_result(script.output),
        }
        runtime.store.put(KIND, task_id, record, owner=owner)
        runtime.clock.notify()
        return Created(record, status, final.adjustments)

    def generate_view(self, created: Created, url_prefix: str = "") -> dict[str, Any]:
        """``{task_id, url, status, cost, remaining, adjustments?}``."""
        record = created.record
        body: dict[str, Any] = {
            "task_id": record["id"],
            "url": f"{url_prefix}/get/{record['id']}",
            "status": self.state(record).status,
            "cost": money(record["cost"]),
            "remaining": created.budget.remaining,
        }
        if created.adjustments:
            body["adjustments"] = created.adjustments
        return body

    # -- estimate ------------------------------------------------------------------------

    def estimate(self, owner: str, body: dict[str, Any]) -> dict[str, Any]:
        """``{cost, daily_remaining, fits_in_budget}``; over budget, the parameters that would fit."""
        request = parse_request(body)
        max_prompt_length = self.limits(owner).max_prompt_length
        prepared = params.prepare(request.model, request.params, max_prompt_length)
        self.uploads.check(owner, prepared.params)
        status = self.budget.status(owner)
        cost = pricing.cost(request.model, prepared.params)
        fits = status.fits(cost)
        out: dict[str, Any] = {"cost": money(cost), "daily_remaining": status.remaining, "fits_in_budget": fits}
        if fits:
            if prepared.adjustments:
                out["adjustments"] = prepared.adjustments
            return out
        fitted = params.downgrade(request.model, request.params, status.remaining, max_prompt_length)
        out["adjusted_params"] = None if fitted is None else fitted.params
        out["adjusted_cost"] = None if fitted is None else money(pricing.cost(request.model, fitted.params))
        out["adjustments"] = prepared.adjustments if fitted is None else fitted.adjustments
        return out

    # -- reading -------------------------------------------------------------------------

    def get(self, owner: str, task_id: str) -> dict[str, Any]:
        """The owner's task; anyone else's (or an unknown id) is a 404."""
        record = self.runtime.store.get(KIND, task_id)
        if record is None or record["owner"] != owner:
            raise ApiError(404, "TASK_NOT_FOUND", f"Task {task_id!r} not found", param="task_id")
        return record

    def state(self, record: dict[str, Any], now: float | None = None) -> jobs.JobState:
        now = self.runtime.clock.now() if now is None else now
        return jobs.state_at(record["phases"], now)

    @staticmethod
    def refunded(record: dict[str, Any], now: float) -> bool:
        return record["refund_at"] is not None and record["refund_at"] <= now

    def cost_now(self, record: dict[str, Any], now: float) -> float | int:
        return 0 if self.refunded(record, now) else money(record["cost"])

    def view(self, record: dict[str, Any], files_base: str, now: float | None = None) -> dict[str, Any]:
        """``GET /get/{task_id}``: ``{task_id, status, result, model, cost, refunded, glb_urls?, error?}``."""
        now = self.runtime.clock.now() if now is None else now
        status = self.state(record, now).status
        finished = status == FINISHED
        given = record.get("given_result")
        result = [files_base + name for name in record["files"]] if given is None else given
        body: dict[str, Any] = {
            "task_id": record["id"],
            "status": status,
            "result": result if finished else [],
            "model": record["model"],
            "cost": self.cost_now(record, now),
            "refunded": self.refunded(record, now),
        }
        if record["model_type"] == "3d":
            glb = [files_base + name for name in record["glb_files"]] if given is None else [
                url for url in given if isinstance(url, str) and url.lower().split("?")[0].endswith(".glb")]
            body["glb_urls"] = glb if finished else []
        if status == FAILED:
            body["error"] = record["error"]
        return body

    # -- account views -------------------------------------------------------------------

    def credits(self, owner: str) -> dict[str, Any]:
        """``GET /credits``."""
        return {
            "your_budget": self.budget.status(owner).as_json(),
            "pool": {"total_accounts": POOL_TOTAL_ACCOUNTS, "locked": POOL_LOCKED},
        }

    def dashboard(self, owner: str) -> dict[str, Any]:
        """``GET /api/me``: budget, concurrency, active and recent tasks, today's spending per model."""
        now = self.runtime.clock.now()
        slots = sorted(self.slots.active(owner).items(), key=lambda item: item[1]["acquired_at"])
        concurrency = self.limits(owner).concurrency
        active: list[dict[str, Any]] = []
        finished: list[tuple[float, dict[str, Any]]] = []
        for record in self.runtime.store.scan(KIND, owner=owner):
            state = self.state(record, now)
            if not state.terminal:
                active.append({
                    "task_id": record["id"],
                    "model": record["model"],
                    "status": state.status,
                    "cost": self.cost_now(record, now),
                    "elapsed": f"{int(now - record['created_at'])}s",
                })
            else:
                finished.append((state.entered_at, {
                    "task_id": record["id"],
                    "model": record["model"],
                    "status": state.status,
                    "cost": self.cost_now(record, now),
                    "result_count": result_count(record) if state.status == FINISHED else 0,
                }))
        finished.sort(key=lambda item: item[0], reverse=True)
        return {
            "budget": self.budget.status(owner, now).as_json(),
            "concurrency": {
                "used": len(slots),
                "max": concurrency,
                "available": max(concurrency - len(slots), 0),
                "active_slots": [
                    {"taskId": slot_id, "model": slot.get("model"), "elapsed": int(now - slot["acquired_at"])}
                    for slot_id, slot in slots
                ],
            },
            "active_tasks": active,
            "recent_tasks": [item for _, item in finished[:RECENT_TASKS]],
            "today_spending": self.budget.spending_today(owner, now),
        }
