"""GateAI generations: create, estimate, read, dashboard -- no HTTP in here.

A task's whole future is fixed when it is created (:mod:`mockserver.core.jobs`): phases
``PROCESSING -> FINISHED | FAILED`` with a seeded duration (images 10-30 s, videos 1-5 min, 3D
1-3 min), the time its concurrency slot frees (when it ends, at the latest after 10 minutes), the
time its cost is refunded (20 minutes if it has not ended by then, or when it fails) and, past the
40-minute hard limit, a forced ``FAILED``. Status, cost and budget at any moment are pure functions of
the record and the clock, so clock jumps and shared stores need no timers.

Order of checks on ``/api/generate``: body and params (400/404), uploads (400), the 30 s sliding
window (:class:`WindowFull`; every valid request it lets through counts, even one then refused for
concurrency or budget), the concurrency slots (:class:`SlotsFull`), the daily budget (downgrade, else
:class:`~mockserver.gateai.budget.BudgetExceeded`). A refused request holds no slot and spends nothing.
The routes answer these domain errors with the documented 429 and 402 (:mod:`mockserver.gateai.task_errors`).

The core job engine keeps the tasks in the store and on the clock; the views are in
:mod:`mockserver.gateai.task_views`.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, fields
from typing import Any

from mockserver.core import jobs
from mockserver.core.files import SPECS_FIELD
from mockserver.core.limits import ConcurrencySlots, SlidingWindow
from mockserver.core.rules.model import ScriptedResult
from mockserver.core.runtime import Runtime
from mockserver.core.safety import flagged_terms
from mockserver.gateai import outputs, params, pricing
from mockserver.gateai.budget import Budget, BudgetExceeded, BudgetStatus, to_micros, to_usd
from mockserver.gateai.catalog import Model
from mockserver.gateai.generate_body import GenerateRequest
from mockserver.gateai.uploads import Uploads

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
JOB_KIND = jobs.JobKind(KIND, file_fields=("files", "glb_files"))
#: The file fields of a task that produces no files (failed, or a scripted result).
NO_FILES: dict[str, Any] = {"files": [], "glb_files": [], SPECS_FIELD: []}


class WindowFull(Exception):
    """The key has made its ``requests_per_window`` requests in the sliding window; retry after some seconds."""

    def __init__(self, limits: GenerateLimits, retry_after: str) -> None:
        super().__init__(f"window full; retry in {retry_after} s")
        self.limits = limits
        self.retry_after = retry_after


class SlotsFull(Exception):
    """All the key's concurrency slots are taken (``used`` of them)."""

    def __init__(self, limits: GenerateLimits, used: int, retry_after: str) -> None:
        super().__init__(f"{used} of {limits.concurrency} slots in use")
        self.limits = limits
        self.used = used
        self.retry_after = retry_after


@dataclass(frozen=True)
class TaskPlan:
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
        if not overrides:
            return _DOCUMENTED_LIMITS
        return cls(**{name: value for name, value in overrides.items() if name in _LIMIT_NAMES and value is not None})


_LIMIT_NAMES = frozenset(item.name for item in fields(GenerateLimits))
_DOCUMENTED_LIMITS = GenerateLimits()  # frozen: one object serves every key without overrides


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
        self.engine = jobs.JobEngine(JOB_KIND, runtime.store, runtime.clock, runtime.files)

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

    def _plan(self, task_id: str, model: Model, prepared: dict[str, Any], script: ScriptedResult) -> TaskPlan:
        """When and how the task ends: a scripted duration and status win over the seeded time and
        content moderation, but not over the 40-minute hard limit."""
        if script.duration is not None:
            duration = float(script.duration)
        else:
            low, high = DURATIONS.get(model.type, DURATIONS["image"])
            duration = round(low + (high - low) * self.runtime.rng.units(f"gateai-timing:{task_id}", 1)[0], 3)
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
            return TaskPlan(0.0, outcome, error, 0.0, None if refund is None else 0.0)
        return TaskPlan(ends, outcome, error, min(ends, SLOT_AUTO_RELEASE), refund)

    def _fit_budget(self, owner: str, request: GenerateRequest, prepared: params.Prepared,
                    now: float) -> tuple[params.Prepared, float]:
        """The params as prepared if they fit today's budget, else downgraded, and their cost;
        :class:`BudgetExceeded` if nothing fits."""
        status = self.budget.status(owner, now)
        cost = pricing.cost(request.model, prepared.params)
        if status.fits(cost):
            return prepared, cost
        fitted = params.downgrade(request.model, request.params, status.remaining,
                                  self.limits(owner).max_prompt_length)
        if fitted is None:
            raise BudgetExceeded(cost, status)
        return fitted, pricing.cost(request.model, fitted.params)

    def _admit(self, owner: str, limits: GenerateLimits) -> None:
        """Count the request in the key's sliding window; :class:`WindowFull` when it is full."""
        window = self.window_for(limits).hit(owner)
        if not window.allowed:
            raise WindowFull(limits, window.retry_after_header)

    def _take_slot(self, owner: str, task_id: str, model: Model, plan: TaskPlan, limits: GenerateLimits,
                   now: float) -> None:
        """Hold one of the key's concurrency slots until the task frees it; :class:`SlotsFull` when none is free."""
        slot = self.slots.acquire(owner, task_id, release_at=now + plan.slot_after, info={"model": model.id},
                                  limit=limits.concurrency)
        if not slot.allowed:
            raise SlotsFull(limits, slot.used, slot.retry_after_header)

    def _pay(self, owner: str, task_id: str, request: GenerateRequest, prepared: params.Prepared, plan: TaskPlan,
             now: float) -> tuple[params.Prepared, BudgetStatus, float]:
        """Fit the params to the budget and charge it (the final params, the budget after, the cost); a refusal
        frees the slot the task was holding."""
        try:
            final, cost = self._fit_budget(owner, request, prepared, now)
            refund_at = None if plan.refund_after is None else now + plan.refund_after
            status = self.budget.charge(owner, task_id, request.model.id, cost, refund_at, now)
        except Exception:
            self.slots.release(owner, task_id)
            raise
        return final, status, cost

    def _outputs(self, task_id: str, model: Model, final: dict[str, Any]) -> dict[str, Any]:
        """The record's fields for the result files and the 3D meshes: their names, and their recipes in the same
        order (nothing is rendered)."""
        seed = self.runtime.rng.bits(f"gateai-media:{task_id}", 31)
        planned, meshes = outputs.plan(task_id, model, final, seed)
        names, recipes = self.engine.outputs((item.name, item.spec) for item in [*planned, *meshes])
        return {"files": names[:len(planned)], "glb_files": names[len(planned):], SPECS_FIELD: recipes}

    def create(self, owner: str, request: GenerateRequest, scripted: ScriptedResult | None = None) -> Created:
        """Start a generation; ``scripted`` (a matching rule, or the ``X-Mock-*`` headers) fixes its
        duration, ending or ``result``."""
        script = scripted or ScriptedResult()
        model = request.model
        limits = self.limits(owner)
        prepared = params.prepare(model, request.params, limits.max_prompt_length)
        self.uploads.check(owner, prepared.params)
        now = self.runtime.clock.now()
        self._admit(owner, limits)
        task_id = self.runtime.rng.uuid4(KIND)
        plan = self._plan(task_id, model, prepared.params, script)
        self._take_slot(owner, task_id, model, plan, limits, now)
        final, status, cost = self._pay(owner, task_id, request, prepared, plan, now)
        produced = plan.outcome == FINISHED and script.output is None
        files = self._outputs(task_id, model, final.params) if produced else NO_FILES
        record = {
            "id": task_id,
            "owner": owner,
            "model": model.id,
            "model_type": model.type,
            "params": final.params,
            "adjustments": final.adjustments,
            "cost": cost,
            "created_at": now,
            "phases": jobs.packed(jobs.build_phases(now, [(PROCESSING, plan.ends_after), (plan.outcome, 0.0)])),
            "error": plan.error,
            "refund_at": None if plan.refund_after is None else now + plan.refund_after,
            **files,
            # a scripted output: the ``result`` list exactly as given, instead of generated files
            "given_result": None if script.output is None else given_result(script.output),
        }
        self.engine.put(record, notify=True)
        return Created(record, status, final.adjustments)

    # -- estimate ------------------------------------------------------------------------

    def estimate(self, owner: str, request: GenerateRequest) -> dict[str, Any]:
        """``{cost, daily_remaining, fits_in_budget}``; over budget, the parameters that would fit."""
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
        """The owner's task; anyone else's (or an unknown id) is :class:`~mockserver.core.jobs.JobNotFound`."""
        return self.engine.get(owner, task_id)

    def state(self, record: dict[str, Any], now: float | None = None) -> jobs.JobState:
        return self.engine.state(record, now)

    @staticmethod
    def refunded(record: dict[str, Any], now: float) -> bool:
        return record["refund_at"] is not None and record["refund_at"] <= now

    def cost_now(self, record: dict[str, Any], now: float) -> float | int:
        return 0 if self.refunded(record, now) else money(record["cost"])
