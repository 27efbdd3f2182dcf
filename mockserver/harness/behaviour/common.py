"""Shared machinery of the behaviour checks: HTTP with spend control, violations, running a machine.

A behaviour check is a Hypothesis :class:`RuleBasedStateMachine` over HTTP. Each generated program
starts from a clean slate on the mock (``POST /_mock/reset``) and moves time through the mock's clock,
so programs are deterministic (seeded) and need no sleeping; against a real endpoint they track only
what they created, compare against a baseline read at the start, and wait for real (bounded).
"""

from __future__ import annotations

import json
import re
import time
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any, ClassVar

import httpx
from hypothesis import HealthCheck, Phase, Verbosity, settings
from hypothesis.errors import FlakyFailure
from hypothesis.reporting import with_reporter
from hypothesis.stateful import RuleBasedStateMachine, run_state_machine_as_test

from mockserver import spec
from mockserver.harness.apis import harness_api
from mockserver.harness.findings import BEHAVIOUR, Finding
from mockserver.harness.options import Options
from mockserver.harness.spend import Prices, SpendGuard, SpendLimitReached, actual_cost
from mockserver.harness.target import Target, WaitBudgetExceeded
from mockserver.spec import sse

TRANSCRIPT_LINES = 40
#: ``GET /v1/predictions/{id} -> 200 application/json: $.metadata.billing: 'x' is a required property``
_PROBLEM = re.compile(r"^(?P<op>\S+ \S+) -> (?P<status>\d+)[^:]*: (?P<where>\$[^:]*): (?P<what>.*)$", re.DOTALL)
_REQUIRED = re.compile(r"^'(?P<name>[^']+)' is a required property")


def problem_violation(problem: str, fallback_operation: str) -> Violation:
    """A :func:`mockserver.spec.validate_response` problem as a violation naming the operation and the field."""
    match = _PROBLEM.match(problem)
    if match is None:
        operation, _, message = problem.partition(": ")
        return Violation("contract.response", operation.split(" ->")[0] or fallback_operation, message or problem)
    where, what = match["where"], match["what"].strip()
    field = where[2:] if where.startswith("$.") else None
    required = _REQUIRED.match(what)
    if required:
        field = f"{field}.{required['name']}" if field else required["name"]
    return Violation("contract.response", match["op"], f"HTTP {match['status']}: {what}", field)


class Violation(AssertionError):
    """The API broke a documented rule; names the check, the operation and the field."""

    def __init__(self, check: str, operation: str, message: str, field: str | None = None) -> None:
        self.check = check
        self.operation = operation
        self.message = message
        self.field = field
        where = f" field '{field}'" if field else ""
        super().__init__(f"[{check}] {operation}{where}: {message}")


class NotApplicable(Exception):
    """This check cannot run against this target (reported as skipped, with the reason)."""


def dig(body: Any, path: str) -> Any:
    """``body["a"]["b"][0]`` for ``"a.b.0"``; None where absent."""
    current = body
    for part in path.split("."):
        if isinstance(current, dict):
            current = current.get(part)
        elif isinstance(current, list) and part.isdigit() and int(part) < len(current):
            current = current[int(part)]
        else:
            return None
    return current


@dataclass
class Context:
    """What every machine of one run shares: the target, prices, the spend guard and counters."""

    target: Target
    prices: Prices
    guard: SpendGuard
    options: Options
    requests: int = 0
    examples: int = 0
    transcript: list[str] = field(default_factory=list)
    cache: dict[str, Any] = field(default_factory=dict)  # per-run facts a machine computed once

    @property
    def prefix(self) -> str:
        """The path prefix operations are named with (the API's base path: Skytells' ``/v1``)."""
        return harness_api(self.options.api).base_path

    def operation(self, method: str, template: str) -> str:
        return f"{method.upper()} {self.prefix}{template}"

    def begin_example(self) -> None:
        self.examples += 1
        self.transcript.clear()
        self.target.prepare_example()

    def note(self, line: str) -> None:
        self.transcript.append(line)
        del self.transcript[:-TRANSCRIPT_LINES]

    def call(self, method: str, template: str, *, params: dict[str, str] | None = None, key: str | None = None,
             json_body: Any = None, query: dict[str, Any] | None = None, headers: dict[str, str] | None = None,
             stream: bool = False) -> httpx.Response:
        """One request; paid ones pass the spend guard first. ``stream`` returns the raw, fully read response."""
        method = method.upper()
        if self.options.read_only and method != "GET":
            raise RuntimeError(f"read-only run: refusing {method} {template} (a behaviour check is miswired)")
        path = template.format(**(params or {}))
        operation = self.operation(method, template)
        estimate = 0.0
        if self.prices.paid(method, self.prefix + template):
            estimate = self.prices.cost(method, self.prefix + template, json_body)
            self.guard.authorize(operation, estimate)
        client = self.target.client(key)
        response = client.request(method, path, json=json_body, params=query, headers=headers)
        self.requests += 1
        who = "" if key in (None, self.target.key) else " (other key)"
        self.note(f"{method} {path}{who} -> {response.status_code} {response.text[:160]!r}")
        problems = spec.validate_response(self.options.api, method, self.prefix + path, response.status_code,
                                               dict(response.headers), response.content)
        if problems:
            raise problem_violation(problems[0], operation)
        if estimate:
            body = _json_or_none(response) if not stream else None
            self.guard.settle(estimate, actual_cost(self.prefix + template,
                                                    response.status_code, body, self.prices))
        return response

    def json(self, response: httpx.Response, check: str, operation: str) -> Any:
        """The JSON body, or a violation saying it is not JSON."""
        try:
            return response.json()
        except ValueError:
            raise Violation(check, operation, f"response {response.status_code} is not JSON "
                                              f"(content-type {response.headers.get('content-type')!r}): "
                                              f"{response.text[:120]!r}") from None

    def pass_time(self, seconds: float) -> None:
        self.note(f"... {seconds:g} s pass")
        self.target.pass_time(seconds)


def _json_or_none(response: httpx.Response) -> Any:
    try:
        return response.json()
    except ValueError:
        return None


def expect(condition: bool, check: str, operation: str, message: str, field: str | None = None) -> None:
    if not condition:
        raise Violation(check, operation, message, field)


def expect_status(response: httpx.Response, expected: int | Iterable[int], check: str, operation: str,
                  why: str) -> None:
    allowed = {expected} if isinstance(expected, int) else set(expected)
    if response.status_code not in allowed:
        shown = " or ".join(str(s) for s in sorted(allowed))
        raise Violation(check, operation, f"expected HTTP {shown} ({why}), got {response.status_code}: "
                                          f"{response.text[:200]!r}", field="status_code")


class HarnessMachine(RuleBasedStateMachine):
    """Base of every behaviour machine; ``ctx`` is bound per run."""

    ctx: ClassVar[Context]
    #: Stable name, e.g. ``"skytells.prediction_lifecycle"``.
    name: ClassVar[str] = ""
    description: ClassVar[str] = ""
    #: Sends only GET requests (may run with ``--read-only``).
    read_only: ClassVar[bool] = False
    #: Paid requests per program step at most (for the plan).
    paid_per_step: ClassVar[float] = 0.0

    def __init__(self) -> None:
        super().__init__()
        self.ctx.begin_example()

    @classmethod
    def applicable(cls, ctx: Context) -> str | None:
        """None if the machine can run against this target, else why not."""
        return None

    @classmethod
    def cost_per_paid_request(cls, ctx: Context) -> float:
        """An upper bound of one paid request of this machine (for the plan)."""
        return 0.0


@dataclass
class MachineOutcome:
    """What running one machine gave."""

    name: str
    examples: int = 0
    requests: int = 0
    seconds: float = 0.0
    finding: Finding | None = None
    error: str | None = None
    skipped: str | None = None
    stopped: str | None = None


def _first_violation(error: BaseException) -> BaseException:
    if isinstance(error, FlakyFailure | BaseExceptionGroup):
        for inner in error.exceptions:
            found = _first_violation(inner)
            if isinstance(found, Violation | SpendLimitReached | WaitBudgetExceeded | NotApplicable):
                return found
        return error.exceptions[0] if error.exceptions else error
    return error


def run_machine(machine: type[HarnessMachine], ctx: Context, *, max_examples: int, steps: int, seed: int,
                shrink: bool = True) -> MachineOutcome:
    """Run ``machine`` as a seeded Hypothesis test and turn its result into an outcome."""
    outcome = MachineOutcome(machine.name)
    reason = machine.applicable(ctx)
    if reason is not None:
        outcome.skipped = reason
        return outcome
    bound = type(machine.__name__, (machine,), {"ctx": ctx})

    def factory() -> HarnessMachine:
        return bound()

    factory._hypothesis_internal_use_seed = seed  # type: ignore[attr-defined]  # what @seed sets
    phases = [Phase.explicit, Phase.generate, *([Phase.shrink] if shrink else [])]
    config = settings(max_examples=max_examples, stateful_step_count=steps, deadline=None, database=None,
                      suppress_health_check=list(HealthCheck), phases=phases, print_blob=False,
                      report_multiple_bugs=False, verbosity=Verbosity.normal)
    printed: list[str] = []
    start_examples, start_requests, started = ctx.examples, ctx.requests, time.monotonic()
    try:
        with with_reporter(printed.append):
            run_state_machine_as_test(factory, settings=config)
    except BaseException as raised:
        if isinstance(raised, KeyboardInterrupt):
            raise
        error = _first_violation(raised)
        program = "\n".join([*getattr(error, "__notes__", ()), *printed]).strip()
        if isinstance(error, Violation):
            details = "minimal program:\n" + program + "\n\nrequests of that program:\n" + "\n".join(ctx.transcript)
            outcome.finding = Finding(BEHAVIOUR, error.check, error.operation, error.message, error.field,
                                      phase=machine.name, details=details)
        elif isinstance(error, SpendLimitReached):
            outcome.stopped = str(error)
        elif isinstance(error, WaitBudgetExceeded | NotApplicable):
            outcome.skipped = str(error)
        else:
            outcome.error = f"{machine.name}: {type(error).__name__}: {error}\n" + "\n".join(ctx.transcript[-10:])
    outcome.examples = ctx.examples - start_examples
    outcome.requests = ctx.requests - start_requests
    outcome.seconds = time.monotonic() - started
    return outcome


def sse_frames(text: str) -> list[dict[str, str]]:
    """An event stream as frames ``{"event"?, "id"?, "retry"?, "data", "_bad"?}`` (comments dropped).

    Read by :class:`mockserver.spec.sse.Parser`; a last event not ended by a blank line is kept (the checks
    report it), and ``_bad`` is the first line of a frame that is not an SSE field.
    """
    parser = sse.Parser()
    events = parser.feed(text.encode())
    last = parser.close()
    frames: list[dict[str, str]] = []
    for event in [*events, last] if last is not None else events:
        frame = {name: value for name, value in (("event", event.event), ("id", event.id), ("retry", event.retry))
                 if value is not None}
        if event.unknown:
            frame["_bad"] = event.unknown[0]
        frame["data"] = event.text
        frames.append(frame)
    return frames


def parse_json_data(frame: dict[str, str]) -> Any:
    try:
        return json.loads(frame["data"])
    except (ValueError, KeyError):
        return None
