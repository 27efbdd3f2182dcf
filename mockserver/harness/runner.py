"""schemathesis 4.x, driven from Python: the examples, coverage, fuzzing and stateful phases with every check.

The contract comes from :func:`mockserver.spec.document`; the engine (``schemathesis.engine.from_schema(schema)
.execute()``) yields events that are turned into progress lines, per-phase counts and :class:`Finding`\\ s.
Every request schemathesis sends passes a ``before_call`` hook (scoped to this run's schema) that enforces
``--read-only`` and the spend guard; a refused request stops the run.

Against the mock, time moves on after each paid request (``POST /_mock/clock/advance``) so the documented
rate limits (GateAI: 5 per 30 s, 5 in flight) do not turn the rest of the run into 429s, and the run's key gets
ample credits and budget (``PATCH /_mock/keys/{key}``) so valid requests are not refused for money.
"""

from __future__ import annotations

import contextlib
import json
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

import httpx
import schemathesis
from hypothesis import strategies as st
from schemathesis.config import SchemathesisConfig
from schemathesis.engine import Status, events, from_schema
from schemathesis.generation import GenerationMode
from schemathesis.hooks import GLOBAL_HOOK_DISPATCHER, HookContext

from mockserver import spec
from mockserver.admin.client import ControlPlaneError
from mockserver.harness import cross_rules, removals
from mockserver.harness.apis import harness_api
from mockserver.harness.budget import CoverageBudget
from mockserver.harness.findings import SCHEMATHESIS, Finding, PhaseStats
from mockserver.harness.options import ST_PHASES, Options
from mockserver.harness.progress import Display, Meter
from mockserver.harness.spend import Prices, SpendGuard, SpendLimitReached, actual_cost
from mockserver.harness.target import Target, api_root

Progress = Callable[[str], None]
#: Virtual seconds the mock's clock moves after each paid request schemathesis sends.
MOCK_SECONDS_PER_PAID_CALL = 11.0
#: Credits / budget the run's key gets on the mock before schemathesis runs.
MOCK_AMPLE_MONEY = 1_000_000.0


#: Per SSE event, as schemathesis reads a ``text/event-stream`` ``schema`` of an OpenAPI 3.1 document.
SSE_EVENT_SCHEMA = {"type": "object", "required": ["data"],
                    "properties": {"data": {"type": "string"}, "event": {"type": "string"}, "id": {"type": "string"}}}

#: Schema-valid requests an API must refuse because of server state, by operation: extra statuses allowed by
#: ``positive_data_acceptance``. Cancelling a prediction that has finished is a 400 (README error table);
#: a ``previous_response_id`` that does not exist is a 400 (OpenAI Responses semantics); a valid prediction
#: the balance cannot cover is a 402; and one documented rule spans two parameters, which a schema cannot say.
STATE_DEPENDENT_REJECTIONS = {
    "POST /v1/predictions": ["402"],  # a valid prediction the balance cannot cover (README: Billing)
    "POST /v1/predict": ["402"],
    "POST /v1/predictions/{id}/cancel": ["400"],
    "POST /v1/responses": ["400"],
    "GET /v1/responses/{id}/input_items": ["400"],  # `after` / `before` must name an item of that response
    "GET /v1/predictions": ["400"],  # `from` after `to` is INVALID_DATE_RANGE: a rule across two parameters
    "POST /api/upload": ["415"],
    # ids in params.images / params.videos must name files uploaded before (POST /api/upload): state
    "POST /api/generate": ["400"],
    "POST /api/estimate": ["400"],  # the bytes must really be an image, video or audio file: no schema says that
}
POSITIVE_DEFAULT = ["2XX", "3XX", "401", "403", "404", "409", "429", "5XX"]


class ReadOnlyViolation(Exception):
    """A non-GET request was about to be sent in a read-only run (never expected: the filters exclude them)."""


@dataclass
class SchemathesisOutcome:
    findings: list[Finding] = field(default_factory=list)
    phases: list[PhaseStats] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    stopped: str | None = None
    non_get_sent: int = 0


def auth_config(api: str, key: str) -> dict[str, Any]:
    """Credentials for every security scheme the contract declares."""
    return {"openapi": harness_api(api).auth_schemes(key)}


def build_config(options: Options) -> SchemathesisConfig:
    """The run's configuration as a schemathesis config dict (validated by schemathesis itself).

    Which operations run is said with ``[[operations]]`` entries only (``enabled = false`` deselects): with
    any entry present, schemathesis ORs ``schema.include(...)`` filters with "every operation", so
    ``--read-only`` and ``--operations`` cannot be schema filters once per-operation settings exist.
    """
    phases: dict[str, dict[str, Any]] = {name: {"enabled": name in options.st_phases} for name in ST_PHASES}
    phases["stateful"]["max-steps"] = max(options.steps, 2)
    if options.read_only:
        # the coverage phase also probes other methods on each path ("unsupported_method"): not in read-only
        phases["coverage"]["unexpected-methods"] = []
    operations: list[dict[str, Any]] = [
        {"include-name": name,
         "checks": {"positive_data_acceptance": {"expected-statuses": [*POSITIVE_DEFAULT, *extra]}}}
        for name, extra in STATE_DEPENDENT_REJECTIONS.items()
    ]
    if options.read_only:
        operations.append({"exclude-method": "GET", "enabled": False})
    if options.operations:
        operations.append({"exclude-name": list(options.operations), "enabled": False})
    data: dict[str, Any] = {
        "base-url": api_root(options.api, options.base_url),
        "seed": options.seed,
        "auth": auth_config(options.api, options.api_key),
        "generation": {"max-examples": options.max_examples, "database": "none"},
        "phases": phases,
        # the built-in availability check, replaced for this run by one that knows ``x-removes`` (removals.py)
        "checks": {"enabled": True, removals.BUILTIN: {"enabled": False}},
        # against a real endpoint no single wait outlasts --timeout either
        "request-timeout": min(options.request_timeout, options.timeout),
        "workers": options.workers,
        "cache": {"enabled": False},
        "suppress-health-check": ["all"],
        "warnings": False,
        # keep request bodies readable in reports (``max_tokens`` is not a secret); keys stay hidden
        "output": {"sanitization": {"keys-to-sanitize": ["x-api-key", "authorization", "key"],
                                    "sensitive-markers": ["x-api-key", "authorization"]}},
        "operations": operations,
    }
    return SchemathesisConfig.from_dict(data)


def for_schemathesis(document: dict[str, Any]) -> dict[str, Any]:
    """The contract as schemathesis should read it.

    Workaround (contract defect, reported): the contract gives ``text/event-stream`` media types
    ``schema: {type: string}`` (the whole stream) plus an ``x-sse`` extension with the per-event schemas;
    schemathesis 4 reads an OpenAPI 3.1 stream's ``schema`` as the schema of *each event* (an object with
    ``data``/``event``), so every stream would fail. Here such a ``schema`` becomes the generic event shape;
    the per-event payloads are checked by the behaviour checks through :func:`mockserver.spec.validate_response`,
    which understands ``x-sse``.
    """
    for item in document.get("paths", {}).values():
        for operation in item.values() if isinstance(item, dict) else ():
            for response in (operation.get("responses", {}) if isinstance(operation, dict) else {}).values():
                media = response.get("content", {}).get("text/event-stream") if isinstance(response, dict) else None
                if isinstance(media, dict) and "x-sse" in media and "itemSchema" not in media:
                    media["schema"] = SSE_EVENT_SCHEMA
    return document


#: The contracts' ``format: json`` (JSON text: tool-call arguments): generated as the JSON text of a small value.
JSON_TEXT = st.recursive(st.none() | st.booleans() | st.integers() | st.text(max_size=8),
                         lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner,
                                                                                      max_size=3),
                         max_leaves=6).map(json.dumps)


def load_schema(options: Options, target: Target | None = None) -> Any:
    """The API's contract as a schemathesis schema, restricted for ``--read-only`` and ``operations``."""
    schemathesis.openapi.format("json", JSON_TEXT)
    return schemathesis.openapi.from_dict(for_schemathesis(spec.document(options.api)),
                                          config=build_config(options))


def operation_labels(schema: Any) -> list[str]:
    labels = []
    for result in schema.get_all_operations():
        operation = result.ok() if hasattr(result, "ok") else result
        if operation is not None:
            labels.append(operation.label)
    return labels


def _field_of(failure: Any) -> str | None:
    path = getattr(failure, "instance_path", None)
    if path is not None:
        return ".".join(str(part) for part in path) or "(body)"
    name = type(failure).__name__
    return {"UndefinedStatusCode": "status_code", "UndefinedContentType": "content-type",
            "MalformedMediaType": "content-type", "MissingHeaders": "headers",
            "JSONDecodeErrorContext": "(body)"}.get(name)


def _response_line(interaction: Any) -> str:
    """``got 400 {"error_id": …}`` for the response a failure was found on."""
    response = getattr(interaction, "response", None)
    if response is None:
        return ""
    content = getattr(response, "content", b"") or b""
    text = content.decode("utf-8", "replace") if isinstance(content, bytes) else str(content)
    return f"got {response.status_code} {' '.join(text.split())[:160]}"


def _first_lines(text: str, count: int = 3) -> str:
    lines = [line.strip() for line in text.strip().splitlines() if line.strip()]
    return " ".join(lines[:count])


class GuardHook:
    """A ``before_call``/``after_call`` pair for one schema: read-only, spend and (on the mock) time."""

    def __init__(self, schema: Any, options: Options, target: Target, prices: Prices, guard: SpendGuard) -> None:
        self.schema, self.options, self.target, self.prices, self.guard = schema, options, target, prices, guard
        self.non_get = 0
        self.sent = 0  # requests about to be sent (live progress)
        self.estimates: dict[int, float] = {}
        self.lock = threading.Lock()

    def ours(self, case: Any) -> bool:
        return case.operation.schema.raw_schema is self.schema.raw_schema

    def before_call(self, context: HookContext, case: Any, kwargs: dict[str, Any]) -> None:
        if not self.ours(case):
            return
        self.sent += 1
        method = case.method.upper()
        meta = getattr(case, "meta", None)
        if meta is not None and meta.generation.mode == GenerationMode.POSITIVE:
            cross_rules.satisfy(case.path, case.body)
        if method != "GET":
            if self.options.read_only:
                raise ReadOnlyViolation(f"read-only run: {method} {case.formatted_path} was not sent")
            with self.lock:
                self.non_get += 1
        if self.prices.paid(method, case.path):
            cost = self.prices.cost(method, case.path, case.body if isinstance(case.body, dict) else None)
            self.guard.authorize(f"{method} {case.path}", cost)
            self.estimates[id(case)] = cost

    def after_call(self, context: HookContext, case: Any, response: Any) -> None:
        if not self.ours(case) or not self.prices.paid(case.method, case.path):
            return
        estimate = self.estimates.pop(id(case), 0.0)
        try:
            body = response.json()
        except Exception:
            body = None
        self.guard.settle(estimate, actual_cost(case.path, response.status_code, body, self.prices))
        if self.target.control is not None and response.status_code < 400:
            self.target.control.clock.advance(MOCK_SECONDS_PER_PAID_CALL, settle=False)

    @contextlib.contextmanager
    def installed(self) -> Iterator[GuardHook]:
        before = GLOBAL_HOOK_DISPATCHER.register_hook_with_name(self.before_call, "before_call")
        after = GLOBAL_HOOK_DISPATCHER.register_hook_with_name(self.after_call, "after_call")
        try:
            yield self
        finally:
            GLOBAL_HOOK_DISPATCHER.unregister(before)
            GLOBAL_HOOK_DISPATCHER.unregister(after)


def prepare_mock(target: Target) -> None:
    """A clean mock whose run key can afford every valid request schemathesis makes up (its clock stays
    driven by the harness: :meth:`Target.reset`)."""
    if target.control is None:
        return
    target.reset()
    with contextlib.suppress(ControlPlaneError, httpx.HTTPError):
        target.control.keys.update(target.key, credits=MOCK_AMPLE_MONEY, daily_budget=MOCK_AMPLE_MONEY)


class EventCollector:
    """Turns engine events into counts per phase, findings, errors and progress lines."""

    def __init__(self, progress: Progress, display: Display | None = None, sent: Callable[[], int] = lambda: 0) -> None:
        self.progress = progress
        self.display = display or Display()
        self.sent = sent
        self.outcome = SchemathesisOutcome()
        self.stats: dict[str, PhaseStats] = {}
        self.seen: set[tuple[str, str, str, str | None]] = set()
        self.started: dict[str, float] = {}

    def phase(self, name: str) -> PhaseStats:
        if name not in self.stats:
            self.stats[name] = PhaseStats(name=name, source=SCHEMATHESIS)
        return self.stats[name]

    def handle(self, event: Any) -> None:
        if isinstance(event, events.PhaseStarted):
            name = event.phase.name.value
            if name in ST_PHASES:
                self.started[name] = time.monotonic()
                self.progress(f"[schemathesis] {name} ...")
                stats, first = self.phase(name), self.sent()
                self.display.start(Meter(f"[schemathesis] {name}", cases=lambda: stats.examples,
                                         failed=lambda: stats.checks_failed, requests=lambda: self.sent() - first))
        elif isinstance(event, events.PhaseFinished):
            name = event.phase.name.value
            if name in ST_PHASES:
                self.display.stop()
                stats = self.phase(name)
                stats.seconds += time.monotonic() - self.started.get(name, time.monotonic())
                if event.status == Status.SKIP:
                    reason = event.phase.skip_reason
                    stats.status = "skipped" if not stats.examples else stats.status
                    stats.note = str(reason.value if hasattr(reason, "value") else reason or "")
                self.progress(f"[schemathesis] {name}: {stats.examples} cases, {stats.requests} requests, "
                              f"{stats.checks_failed} failed checks ({stats.status})")
        elif isinstance(event, events.ScenarioFinished):
            self.scenario(event)
        elif isinstance(event, events.NonFatalError):
            self.error(event)
        elif isinstance(event, events.FatalError):
            self.outcome.errors.append(f"schemathesis: {type(event.exception).__name__}: {event.exception}")
        elif isinstance(event, events.EngineFinished):
            for failure in event.failures or ():
                self.add_failure("after_run", "after_run", failure, "")

    def scenario(self, event: Any) -> None:
        name = event.phase.value if hasattr(event.phase, "value") else str(event.phase)
        stats = self.phase(name)
        recorder = event.recorder
        # generated cases; a check's follow-up requests (e.g. the same case without auth) count as requests only
        # (a stateful scenario's steps are cases of their own)
        stats.examples += sum(1 for node in recorder.cases.values()
                              if node.parent_id is None or node.transition is not None)
        stats.requests += len(recorder.interactions)
        for case_id, checks in recorder.checks.items():
            for check in checks:
                if check.status == Status.FAILURE and check.failure_info is not None:
                    stats.checks_failed += 1
                    interaction = recorder.interactions.get(check.failure_info.failure.case_id or case_id)
                    self.add_failure(name, check.name, check.failure_info.failure, check.failure_info.code_sample,
                                     _response_line(interaction))
                elif check.status == Status.SUCCESS:
                    stats.checks_passed += 1
        if stats.checks_failed:
            stats.status = "failed"

    def add_failure(self, phase: str, check: str, failure: Any, code_sample: str, response: str = "") -> None:
        operation = getattr(failure, "operation", None) or "(run)"
        field_name = _field_of(failure)
        title = getattr(failure, "title", type(failure).__name__)
        key = (check, operation, title, field_name)
        if key in self.seen:
            return
        self.seen.add(key)
        message = f"{title}: {_first_lines(getattr(failure, 'message', '') or '')}".rstrip(": ")
        if response:
            message += f" [{response}]"
        details = (getattr(failure, "message", "") or "").strip()
        if code_sample:
            details += f"\n\nReproduce with:\n\n    {code_sample}"
        self.outcome.findings.append(Finding(SCHEMATHESIS, check, operation, message, field_name, phase, details))
        self.progress(f"  FAIL {Finding(SCHEMATHESIS, check, operation, message, field_name).headline()}")

    def error(self, event: Any) -> None:
        value = event.value
        cause = getattr(value, "__cause__", None) or value
        if isinstance(cause, SpendLimitReached):
            self.outcome.stopped = str(cause)
            return
        if isinstance(cause, ReadOnlyViolation):
            self.outcome.errors.append(str(cause))
            return
        summary = _first_lines(event.info.message)
        self.outcome.errors.append(f"schemathesis {event.label}: {event.info.title}: {summary}")


def run_schemathesis(options: Options, target: Target, prices: Prices, guard: SpendGuard,
                     progress: Progress, display: Display | None = None) -> SchemathesisOutcome:
    """Run the enabled schemathesis phases against the target and collect what they found."""
    if not options.st_phases:
        return SchemathesisOutcome()
    schema = load_schema(options, target)
    prepare_mock(target)
    hook = GuardHook(schema, options, target, prices, guard)
    collector = EventCollector(progress, display, lambda: hook.sent)
    budget = CoverageBudget(schema, options.max_examples)
    with hook.installed(), removals.installed(), budget.installed():
        stream = from_schema(schema).execute()
        try:
            for event in stream:
                collector.handle(event)
                if collector.outcome.stopped is not None:
                    stream.stop()
        finally:
            collector.display.stop()
    collector.outcome.phases = [collector.stats[name] for name in ST_PHASES if name in collector.stats]
    collector.outcome.non_get_sent = hook.non_get
    return collector.outcome
