"""The Predictions API's behaviour: plan, price, create, list, cancel, delete -- no HTTP in here.

A prediction's future is fixed at creation: phases ``pending -> starting -> processing -> succeeded |
failed`` with seeded durations, its outcome, its cost and its output files. The core job engine
(:mod:`mockserver.core.jobs`) keeps it in the store and on the clock, so its status is right after clock
jumps and on any process sharing the store. This module only plans (which phases, how long, which ending),
prices and lists; it raises domain errors (:mod:`mockserver.core.jobs.errors`,
:class:`~mockserver.core.accounts.InsufficientFunds`, :class:`OutputNotProducible`) that the routes map to
HTTP.
"""

from __future__ import annotations

import functools
import math
import re
from types import MappingProxyType
from typing import TYPE_CHECKING, Any, NamedTuple

import orjson

from mockserver.core import jobs
from mockserver.core.accounts import Account
from mockserver.core.files import SEED_INDEX, SPECS_FIELD, Recipe, file_name, recipe
from mockserver.core.rules.model import ScriptedResult
from mockserver.core.runtime import Runtime
from mockserver.core.safety import flagged_terms
from mockserver.skytells import outputs
from mockserver.skytells.catalog import Catalog, Model
from mockserver.skytells.prediction_views import Links, PredictionViews
from mockserver.spec import pricing as billing
from mockserver.spec.data import load_json

if TYPE_CHECKING:
    from mockserver.skytells.prediction_body import CreateRequest

KIND = "prediction"
_JSON_ESCAPED = re.compile(r'["\\\x00-\x1f]')
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
#: The webhook of a prediction without one; records share this object (records are never changed in place).
NO_WEBHOOK: dict[str, Any] = {"url": None, "events": []}


class PredictionRecord(jobs.CompactRecord):
    """A stored prediction: the fields at these defaults are left out (~190 bytes less per prediction)."""

    __slots__ = ()
    DEFAULTS = MappingProxyType({
        "stream": False, "webhook": NO_WEBHOOK, "cancelled_at": None, "outcome": "succeeded", "error": None,
        "refunded": False, "given_output": None, "output_array": True, "deleted": False, SPECS_FIELD: (),
    })


#: The failure message of a scripted failure that names no error.
SCRIPTED_ERROR = "The prediction failed: the model returned an error"


def output_file_names(record: dict[str, Any]) -> list[str]:
    """A prediction's output file names, derived from its id and its files' recipes (``<id>-<index>.<ext>``): the
    record keeps the recipes alone (eleven keys would double the size of its dict)."""
    return [file_name(record["id"], index, values[0]) for index, values in enumerate(record.get(SPECS_FIELD) or ())]


JOB_KIND = jobs.JobKind(KIND, refund_field="credits", file_fields=(), file_names=output_file_names)
#: What an unscripted create follows: the mock's normal behaviour (a frozen value, shared).
NO_SCRIPT = ScriptedResult()


class OutputNotProducible(Exception):
    """The input asks for output the mock cannot produce (e.g. a 9000 px side); ``field`` names the input."""

    def __init__(self, field: str | None, reason: str) -> None:
        super().__init__(reason)
        self.field = field
        self.reason = reason


class Schedule(NamedTuple):
    """A prediction's planned steps, its compute seconds, and whether it finishes inside the create call."""

    steps: list[tuple[str, float]]
    predict_time: float
    inline: bool


#: A model's step duration bounds and whether it finishes inline (:meth:`Predictions._bounds`).
_Bounds = tuple[list[float], list[float], list[float] | None, list[float], bool]


def _draw(unit: float, bounds: list[float]) -> float:
    """``unit`` (in [0, 1)) placed in ``bounds``, as :meth:`random.Random.uniform` places it, to the microsecond."""
    low, high = bounds
    return round(low + (high - low) * unit, 6) if high > low else float(low)


@functools.lru_cache(maxsize=64)
def _wanted(terms: tuple[str, ...]) -> tuple[tuple[str, ...], bool]:
    """The terms to look for, lowered, and whether any has a character JSON escapes (always worth the full check)."""
    wanted = tuple(term.lower() for term in terms if term)
    return wanted, any(_JSON_ESCAPED.search(term) for term in wanted)


def _may_flag(value: Any, terms: Any) -> bool:
    """Whether any term may occur in ``value``'s strings: one search of its JSON text, lowered (a string lowers the
    same alone or between quotes), so False means :func:`flagged_terms` finds nothing. A term with a character JSON
    escapes, or a value orjson cannot encode, is always worth the full check."""
    wanted, escaped = _wanted(tuple(terms))
    if not wanted:
        return False
    if escaped:
        return True
    try:
        text = orjson.dumps(value).decode().lower()
    except TypeError:
        return True
    return any(term in text for term in wanted)


def ending(request: CreateRequest, script: ScriptedResult, safety_terms: Any) -> tuple[str, str | None]:
    """How the prediction ends and its error: a scripted status wins over the safety checker."""
    if script.status == "succeeded":
        return "succeeded", None
    if script.status == "failed" or script.error is not None:
        return "failed", script.error or SCRIPTED_ERROR
    terms = tuple(safety_terms)
    verdict = request.derived.get(("safety", terms))  # the checker's verdict on one request's input never changes
    if verdict is None:
        verdict = request.derived[("safety", terms)] = _safety_verdict(request.params, terms)
    return verdict


def _safety_verdict(given: dict[str, Any], safety_terms: tuple[str, ...]) -> tuple[str, str | None]:
    checker_off = given.get("disable_safety_checker") is True or given.get("safety_checker") is False
    flagged = [] if checker_off or not _may_flag(given, safety_terms) else flagged_terms(given, safety_terms)
    if flagged:
        return "failed", (f"NSFW content detected: the safety checker flagged the output ({', '.join(flagged)}). "
                          "Try a different prompt.")
    return "succeeded", None


def _pagination(page: int, per_page: int, total: int) -> dict[str, int]:
    return {"current_page": page, "per_page": per_page, "total": total,
            "last_page": max(1, math.ceil(total / per_page))}


class Predictions:
    """Prediction planning and pricing for one server (all keys), on the core job engine."""

    def __init__(self, runtime: Runtime, catalog: Catalog) -> None:
        self.runtime = runtime
        self.catalog = catalog
        self.timing = load_json("skytells", "timing.json")
        self._timing_bounds: dict[str, _Bounds] = {}  # by model namespace (the catalog's models do not change)
        self.engine = jobs.JobEngine(JOB_KIND, runtime.store, runtime.clock, runtime.files,
                                     accounts=runtime.accounts, webhooks=runtime.webhooks)
        self.views = PredictionViews(self.engine, runtime.files)
        self.engine.renders_with(lambda current, at, links: self.views.view(current, Links(**links), now=at))

    # -- planning ------------------------------------------------------------------------

    def _schedule(self, pid: str, model: Model, duration: float | None = None) -> Schedule:
        """Seeded step durations, the compute seconds, and whether it finishes inline.

        A scripted ``duration`` keeps the seeded proportions of ``pending``/``starting``/``processing``
        scaled to add up to it, and is never collapsed into the create response (``instant`` mode aside).
        """
        pending_in, starting_in, cold_boot, processing_in, inline = self._bounds(model)
        units = self.runtime.rng.units(f"timing:{pid}", 4)  # pending, starting, a cold boot, processing
        pending = _draw(units[0], pending_in)
        starting = _draw(units[1], starting_in)
        if cold_boot is not None:
            starting += _draw(units[2], cold_boot)
        processing = _draw(units[3], processing_in)
        if duration is not None:
            scale = duration / (pending + starting + processing)
            pending, starting = round(pending * scale, 6), round(starting * scale, 6)
            processing = round(max(duration - pending - starting, 0.0), 6)
        steps = [("pending", pending), ("starting", starting), ("processing", processing)]
        return Schedule(steps, processing, inline and duration is None)

    def _bounds(self, model: Model) -> _Bounds:
        """The model's step duration bounds (pending, starting, a cold boot's or None, processing) and whether it
        finishes inline, from its speed's timing profile (read once per model: a create needs them all)."""
        bounds = self._timing_bounds.get(model.namespace)
        if bounds is None:
            profile = self.timing[model.speed]
            cold_boot = self.timing["cold_boot"] if model.data.get("flags", {}).get("cold_boot") else None
            bounds = self._timing_bounds[model.namespace] = (
                profile["pending"], profile["starting"], cold_boot, profile["processing"], bool(profile["inline"]))
        return bounds

    def _phases(self, now: float, schedule: Schedule, outcome: str, duration: float | None) -> jobs.Phases:
        collapse = schedule.inline or self.runtime.clock.collapses_durations
        phases = jobs.build_phases(now, [*schedule.steps, (outcome, 0.0)], collapse=collapse)
        if duration is not None and not collapse:
            phases[-1] = (outcome, now + duration)  # exactly the scripted time, whatever the rounding
        return phases

    def _plan_outputs(self, pid: str, request: CreateRequest) -> tuple[Recipe, ...]:
        """The output files' recipes, as the record keeps them (their names follow: :func:`output_file_names`);
        input the mock cannot produce is :class:`OutputNotProducible`.

        What the prediction's seed does not change is planned once per request (:func:`outputs.plan_templates`)."""
        seed = self.runtime.rng.bits(f"media:{pid}", 31)
        # a template's seed is relative to the prediction's: recipe(spec.reseeded(seed + spec.seed)) for each
        return tuple((*values[:SEED_INDEX], seed + values[SEED_INDEX], *values[SEED_INDEX + 1:])
                     for values in self._templates(request))

    @staticmethod
    def _templates(request: CreateRequest) -> tuple[Recipe, ...]:
        """The output files' recipes but for the prediction's seed, planned once per request; input the mock cannot
        produce is :class:`OutputNotProducible`."""
        templates = request.derived.get("templates")
        if templates is None:
            params = request.params
            try:
                planned = outputs.plan_templates(request.model, params)
            except ValueError as exc:
                field = str(exc).split(" ", 1)[0]
                raise OutputNotProducible(field if field in params else None, str(exc)) from None
            templates = request.derived["templates"] = tuple(map(recipe, planned))
        return templates

    def _credits(self, request: CreateRequest, compute_seconds: float) -> float:
        """What a successful prediction costs; known once per request unless billed by compute time."""
        model = request.model
        if model.pricing.get("unit") in billing.PER_COMPUTE_SECOND:
            return billing.credits_for(model, request.params, compute_seconds=compute_seconds)
        cost = request.derived.get("credits")
        if cost is None:
            cost = request.derived["credits"] = billing.credits_for(model, request.params)
        return cost

    # -- creation ------------------------------------------------------------------------

    def create(self, owner: str, request: CreateRequest, scripted: ScriptedResult | None = None,
               links: Links | None = None) -> dict[str, Any]:
        """Create a prediction; ``scripted`` (from a matching rule) fixes its duration, ending or output.

        With a ``webhook.url`` its transitions are delivered there, rendered with ``links``. A failed
        prediction -- scripted or flagged by the safety checker -- is never charged.
        """
        runtime, engine = self.runtime, self.engine
        pid = runtime.rng.uuid4(KIND)
        now = runtime.clock.now()
        model = request.model
        script = scripted or NO_SCRIPT
        schedule = self._schedule(pid, model, script.duration)
        outcome, error = ending(request, script, runtime.settings.safety_terms)
        succeeds = outcome == "succeeded"
        planned = self._plan_outputs(pid, request) if succeeds and script.output is None else ()
        cost = self._credits(request, schedule.predict_time) if succeeds else 0.0
        engine.charge(owner, cost)  # only once the outputs are known to be producible
        record = PredictionRecord({
            "id": pid,
            "owner": owner,
            "model": model.namespace,
            "model_type": model.type,
            "input": request.input,  # echoed exactly as sent ("The exact input you sent")
            "created_at": now,
            "phases": jobs.packed(self._phases(now, schedule, outcome, script.duration)),
            "predict_time": schedule.predict_time,
            "credits": cost,
        })
        record.set_unless_default({  # only the fields not at their default
            SPECS_FIELD: planned,  # the files' names follow from them (output_file_names)
            "stream": request.stream,
            "webhook": request.webhook,
            "outcome": outcome,
            "error": error,
            "given_output": script.output,  # a scripted output, returned verbatim instead of files
            "output_array": model.returns_array,
        })
        engine.put(record)
        if request.webhook["url"]:
            self._subscribe_webhook(record, links)
        return record

    def create_if_sure(self, account: Account, request: CreateRequest) -> dict[str, Any] | None:
        """:meth:`create` of an unscripted prediction without a webhook, when it cannot fail; None -- nothing drawn,
        charged or stored -- when it might: output the mock cannot produce, credits that do not cover its price, a
        price that follows the compute time it is yet to draw, or a shared store (another instance may spend the
        balance between the check and the debit). What :meth:`create` checks, checked first."""
        if (self.runtime.shared is not None or request.webhook["url"]
                or request.model.pricing.get("unit") in billing.PER_COMPUTE_SECOND):
            return None
        outcome, _ = ending(request, NO_SCRIPT, self.runtime.settings.safety_terms)
        if outcome == "succeeded":
            try:
                self._templates(request)
            except OutputNotProducible:
                return None
            if not account.covers(self._credits(request, 0.0)):
                return None
        return self.create(account.key, request)

    def _subscribe_webhook(self, record: dict[str, Any], links: Links | None) -> None:
        """Deliver the subscribed transitions: the Prediction Object as ``GET`` renders it at each one."""
        if links is None:
            raise ValueError("a prediction with a webhook needs the links its payloads print")
        webhook = record["webhook"]
        statuses = {WEBHOOK_EVENT_STATUS[event] for event in webhook["events"]}
        self.engine.follow(record, webhook["url"], statuses, context={"api": links.api, "files": links.files})

    # -- reading -------------------------------------------------------------------------

    def get(self, owner: str, pid: str) -> dict[str, Any]:
        """The owner's prediction; anyone else's (or an unknown id) is :class:`~mockserver.core.jobs.JobNotFound`."""
        return self.engine.get(owner, pid)

    def state(self, record: dict[str, Any], now: float | None = None) -> jobs.JobState:
        return self.engine.state(record, now)

    def timeline(self, record: dict[str, Any]) -> jobs.Phases:
        return self.engine.timeline(record)

    def list(self, owner: str, page: int = 1, per_page: int = PER_PAGE_DEFAULT, model: str | None = None,
             status: str | None = None, created_from: float | None = None,
             created_to: float | None = None) -> tuple[list[dict[str, Any]], dict[str, int]]:
        """One page of the owner's predictions, newest first, and the pagination block.

        Unfiltered, the page is read from the store's per-owner index (O(page)); a filter reads the owner's
        predictions through (status depends on the clock, so it has no index)."""
        offset = (page - 1) * per_page
        if model is None and status is None and created_from is None and created_to is None:
            total = self.engine.count(owner)
            return self.engine.page(owner, offset, per_page), _pagination(page, per_page, total)
        now = self.runtime.clock.now()
        matches = [
            record for record in self.engine.scan(owner)
            if (model is None or record["model"] == model)
            and (created_from is None or record["created_at"] >= created_from)
            and (created_to is None or record["created_at"] <= created_to)
            and (status is None or self.engine.state(record, now).status == status)
        ]
        return matches[offset:offset + per_page], _pagination(page, per_page, len(matches))

    # -- changing ------------------------------------------------------------------------

    def cancel(self, owner: str, pid: str) -> dict[str, Any]:
        """Cancel (and refund) an unfinished prediction; a finished one is ``JobNotCancellable``."""
        return self.engine.cancel(owner, pid)

    def delete(self, owner: str, pid: str) -> dict[str, Any]:
        """Remove a prediction and its files (a running one is cancelled first, and refunded)."""
        return self.engine.delete(owner, pid)

    async def wait_terminal(self, record: dict[str, Any], max_real: float) -> dict[str, Any]:
        """Block (on the clock) until the prediction is terminal, at most ``max_real`` wall seconds."""
        return await jobs.wait_terminal(self.engine, record, max_real)
