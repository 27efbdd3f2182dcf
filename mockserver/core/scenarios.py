"""Scripted outcomes and injected faults: rules matched against each request.

A **rule** is a matcher plus exactly one action:

* a **fault** -- something goes wrong on the wire: added latency, an error status in the API's own
  error format (5xx, or any status with a chosen ``error_id``), a 429 with ``Retry-After``, a
  connection reset, an empty reply, or an SSE stream cut after N events;
* an **outcome** -- the request succeeds at the HTTP level but its result is scripted: a
  prediction/task fails with a given error, takes a given time, or returns given outputs; a
  chat/responses turn replies with given text, calls given tools or answers given JSON (or takes the
  next of a sequence of such turns, for multi-step agent tests).

Matchers: ``api`` (``skytells``/``gateai``), ``route`` (``"POST /v1/predictions"``, a glob such as
``"/v1/chat/*"``, or the route template ``"/v1/predictions/{id}"``), ``model`` (exact or glob),
``key`` (exact) and ``prompt`` (a regular expression searched in the request's prompt text).
``times`` limits how many requests a rule fires for (``None``: unlimited); ``probability`` (with an
optional ``seed``) makes it fire at random but reproducibly.

Rules live in a :class:`Rules` registry: global rules apply to every request; rules registered
under a **scenario** name apply only to requests that carry ``X-Mock-Scenario: <name>``, so tests
running in parallel do not interfere. The header may also carry one rule (or a list) inline as
JSON, used alone (no global rules); requests with the same header text share those rules' budgets
(``times``, ``replies``) and random draws. Selection happens once per request
(:meth:`Rules.select`); the result rides on the request scope and domain code reads it with
:func:`scripted_outcome`.
"""

from __future__ import annotations

import fnmatch
import json
import math
import random
import re
import threading
from collections import OrderedDict
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from typing import Any

from mockserver.core.bodies import BodyError, parse_json
from mockserver.core.patterns import Pattern, PatternError, compile_pattern
from mockserver.core.vendor import REGISTRY

SCENARIO_HEADER = "x-mock-scenario"
FAULT_TYPES = ("latency", "error", "rate_limit", "reset", "empty", "sse_cut")
JOB_STATUSES = ("succeeded", "failed")
HTTP_METHODS = ("GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS")
#: Where the selection for a request is kept in the ASGI scope's ``state``.
SCOPE_KEY = "mock_selection"
#: How many distinct inline ``X-Mock-Scenario`` headers keep their rules' state.
INLINE_CACHE = 256


class RuleError(ValueError):
    """A rule (or scenario header) that cannot be understood; the message says why."""


ID_PATTERN = re.compile(r"[A-Za-z0-9_.\-]{1,64}")


def check_scenario_name(name: Any) -> str:
    """A scenario name: non-empty text that cannot be mistaken for inline JSON."""
    if not isinstance(name, str) or not name.strip():
        raise RuleError("scenario must be a non-empty string")
    if name != name.strip() or name.startswith(("{", "[")):
        raise RuleError("a scenario name cannot start with '{' or '[' (that is inline JSON) "
                        "or with or end in whitespace")
    if len(name) > 200:
        raise RuleError("a scenario name is at most 200 characters")
    return name


# -- what a request looks like to a matcher ------------------------------------------------


@dataclass(frozen=True)
class RequestFacts:
    """What rules can match on, taken from one request."""

    api: str
    method: str
    path: str  # below any mount prefix, e.g. "/v1/predictions"
    route: str | None = None  # the route template, e.g. "/v1/predictions/{id}"
    key: str | None = None
    model: str | None = None
    prompt: str | None = None


def prompt_text(body: Any) -> str | None:
    """The prompt of a request body in either API, for ``prompt`` matchers.

    Predictions: ``input.prompt``; GateAI: ``params.prompt``; chat: the message contents (text
    parts included), newest last; responses: ``input`` (a string or items) and ``instructions``.
    """
    if not isinstance(body, Mapping):
        return None
    parts: list[str] = []
    for holder in ("input", "params"):
        inner = body.get(holder)
        if isinstance(inner, Mapping) and isinstance(inner.get("prompt"), str):
            parts.append(inner["prompt"])
    if isinstance(body.get("prompt"), str):
        parts.append(body["prompt"])
    if isinstance(body.get("instructions"), str):
        parts.append(body["instructions"])
    if isinstance(body.get("input"), str):
        parts.append(body["input"])
    for listing in (body.get("messages"), body.get("input")):
        if isinstance(listing, list):
            parts.extend(_message_texts(listing))
    return "\n".join(parts) if parts else None


def _message_texts(messages: list[Any]) -> list[str]:
    texts: list[str] = []
    for message in messages:
        if not isinstance(message, Mapping):
            continue
        content = message.get("content")
        if isinstance(content, str):
            texts.append(content)
        elif isinstance(content, list):
            for part in content:
                if isinstance(part, Mapping) and isinstance(part.get("text"), str):
                    texts.append(part["text"])
    return texts


# -- rules ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Matcher:
    """Which requests a rule applies to; an unset field matches anything."""

    api: str | None = None
    method: str | None = None
    path: str | None = None  # glob on the path or the route template
    model: str | None = None  # exact or glob
    key: str | None = None
    prompt: Pattern | None = None  # RE2: linear-time search (mockserver.core.patterns)

    def matches(self, facts: RequestFacts) -> bool:
        if self.api is not None and self.api != facts.api:
            return False
        if self.method is not None and self.method != facts.method.upper():
            return False
        if self.path is not None:
            candidates = [facts.path] + ([facts.route] if facts.route else [])
            if not any(fnmatch.fnmatchcase(c, self.path) for c in candidates):
                return False
        if self.model is not None and (facts.model is None or not fnmatch.fnmatchcase(facts.model, self.model)):
            return False
        if self.key is not None and self.key != facts.key:
            return False
        return not (self.prompt is not None and (facts.prompt is None or not self.prompt.search(facts.prompt)))

    def as_json(self) -> dict[str, Any]:
        route = None
        if self.method or self.path:
            route = " ".join(part for part in (self.method, self.path) if part)
        out = {"api": self.api, "route": route, "model": self.model, "key": self.key,
               "prompt": self.prompt.pattern if self.prompt else None}
        return {k: v for k, v in out.items() if v is not None}


@dataclass(frozen=True)
class Fault:
    """Something that goes wrong on the wire."""

    type: str
    latency_ms: float = 0.0  # "latency": added before the real answer
    status: int = 500  # "error"
    error_id: str | None = None  # "error": default from the status
    message: str | None = None  # "error" / "rate_limit"
    retry_after: float = 1.0  # "rate_limit": seconds, sent as Retry-After (and retry-after-ms)
    after_events: int = 0  # "sse_cut": events delivered before the connection drops

    def as_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {"type": self.type}
        if self.type == "latency":
            out["latency_ms"] = self.latency_ms
        elif self.type == "error":
            out.update(status=self.status, error_id=self.error_id, message=self.message)
        elif self.type == "rate_limit":
            out.update(retry_after=self.retry_after, message=self.message)
        elif self.type == "sse_cut":
            out["after_events"] = self.after_events
        return {k: v for k, v in out.items() if v is not None}


@dataclass(frozen=True)
class ScriptedCall:
    """A tool call a scripted turn makes: the function's name and its arguments as JSON text."""

    name: str
    arguments: str

    def as_json(self) -> dict[str, Any]:
        return {"name": self.name, "arguments": json.loads(self.arguments)}


@dataclass(frozen=True)
class Turn:
    """One scripted model turn: text, tool calls or a JSON answer (exactly one is set)."""

    reply: str | None = None
    tool_calls: tuple[ScriptedCall, ...] | None = None
    json: str | None = None  # JSON text of the answer

    def as_json(self) -> str | dict[str, Any]:
        if self.reply is not None:
            return self.reply
        if self.tool_calls is not None:
            return {"tool_calls": [call.as_json() for call in self.tool_calls]}
        return {"json": json.loads(self.json or "null")}


@dataclass(frozen=True)
class Outcome:
    """A scripted result; unset fields keep the mock's normal behaviour."""

    status: str | None = None  # "succeeded" | "failed": how a prediction/task ends
    error: str | None = None  # the failure message when it fails
    duration: float | None = None  # virtual seconds from creation to the end
    output: Any = None  # outputs returned as given (URLs or values), instead of generated files
    reply: str | None = None  # chat/responses: the assistant's text
    tool_calls: tuple[ScriptedCall, ...] | None = None  # chat/responses: the tool calls the turn makes
    json: str | None = None  # chat/responses: the JSON answer (as text)

    @property
    def turn(self) -> Turn | None:
        """The scripted model turn, if this outcome scripts one."""
        if self.reply is None and self.tool_calls is None and self.json is None:
            return None
        return Turn(self.reply, self.tool_calls, self.json)

    def as_json(self) -> dict[str, Any]:
        out = {"status": self.status, "error": self.error, "duration": self.duration, "output": self.output}
        turn = self.turn
        if turn is not None:
            shown = turn.as_json()
            out.update({"reply": shown} if isinstance(shown, str) else shown)
        return {k: v for k, v in out.items() if v is not None}


@dataclass
class Rule:
    """A matcher and one action, with its firing budget."""

    id: str
    matcher: Matcher
    fault: Fault | None = None
    outcome: Outcome | None = None
    replies: tuple[Turn, ...] = ()  # a sequence of scripted turns, one per matching request
    times: int | None = None
    probability: float = 1.0
    seed: int | None = None
    scenario: str | None = None
    fired: int = 0
    _rng: random.Random = field(default_factory=random.Random, repr=False)

    @property
    def exhausted(self) -> bool:
        if self.replies and self.fired >= len(self.replies):
            return True
        return self.times is not None and self.fired >= self.times

    def as_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {"id": self.id, "match": self.matcher.as_json()}
        if self.scenario:
            out["scenario"] = self.scenario
        if self.fault:
            out["fault"] = self.fault.as_json()
        if self.outcome:
            out["outcome"] = self.outcome.as_json()
        if self.replies:
            out["outcome"] = {**out.get("outcome", {}), "replies": [turn.as_json() for turn in self.replies]}
        out.update(times=self.times, probability=self.probability, fired=self.fired,
                   remaining=None if self.times is None and not self.replies else self._remaining())
        if self.seed is not None:
            out["seed"] = self.seed
        return out

    def _remaining(self) -> int:
        limits = [n for n in (self.times, len(self.replies) if self.replies else None) if n is not None]
        return max(min(limits) - self.fired, 0)


def _number(spec: Mapping[str, Any], name: str, default: float, low: float, high: float | None = None) -> float:
    value = spec.get(name, default)
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        raise RuleError(f"{name} must be a number")
    if value < low or (high is not None and value > high):
        bound = f"between {low:g} and {high:g}" if high is not None else f">= {low:g}"
        raise RuleError(f"{name} must be {bound}")
    return float(value)


def _text(spec: Mapping[str, Any], name: str) -> str | None:
    value = spec.get(name)
    if value is not None and not isinstance(value, str):
        raise RuleError(f"{name} must be a string")
    return value


def parse_matcher(spec: Any) -> Matcher:
    if spec is None:
        return Matcher()
    if not isinstance(spec, Mapping):
        raise RuleError("match must be an object {api, route, model, key, prompt}")
    unknown = set(spec) - {"api", "route", "model", "key", "prompt"}
    if unknown:
        raise RuleError(f"unknown match field(s): {', '.join(sorted(unknown))}")
    api = _text(spec, "api")
    if api is not None and api not in REGISTRY.names():
        raise RuleError(f"match.api must be one of {', '.join(REGISTRY.names())}")
    method = path = None
    route = _text(spec, "route")
    if route:
        head, _, tail = route.strip().partition(" ")
        if head.upper() in HTTP_METHODS:
            method, path = head.upper(), (tail.strip() or None)
        else:
            path = route.strip()
    prompt = None
    raw_prompt = _text(spec, "prompt")
    if raw_prompt is not None:
        try:
            prompt = compile_pattern(raw_prompt)
        except PatternError as exc:
            raise RuleError(f"match.prompt is not a valid regular expression (RE2 syntax): {exc}") from None
    return Matcher(api=api, method=method, path=path, model=_text(spec, "model"), key=_text(spec, "key"),
                   prompt=prompt)


#: The fields each fault type takes besides ``type``.
FAULT_FIELDS: dict[str, tuple[str, ...]] = {
    "latency": ("latency_ms",),
    "error": ("status", "error_id", "message"),
    "rate_limit": ("retry_after", "message"),
    "reset": (),
    "empty": (),
    "sse_cut": ("after_events",),
}


def parse_fault(spec: Any) -> Fault:
    if isinstance(spec, str):
        spec = {"type": spec}
    if not isinstance(spec, Mapping):
        raise RuleError("fault must be an object with a type")
    kind = spec.get("type")
    if kind not in FAULT_TYPES:
        raise RuleError(f"fault.type must be one of {', '.join(FAULT_TYPES)}")
    unknown = set(spec) - {"type", *FAULT_FIELDS[kind]}
    if unknown:
        takes = ", ".join(FAULT_FIELDS[kind]) or "no other fields"
        raise RuleError(f"unknown field(s) for fault type {kind}: {', '.join(sorted(unknown))} (it takes {takes})")
    fault = Fault(type=kind, message=_text(spec, "message"))
    if kind == "latency":
        return replace(fault, latency_ms=_number(spec, "latency_ms", 0.0, 0.0, 600_000.0))
    if kind == "error":
        status = spec.get("status", 500)
        if not isinstance(status, int) or isinstance(status, bool) or not 400 <= status <= 599:
            raise RuleError("fault.status must be an HTTP error status (400-599)")
        return replace(fault, status=status, error_id=_text(spec, "error_id"))
    if kind == "rate_limit":
        return replace(fault, status=429, retry_after=_number(spec, "retry_after", 1.0, 0.0, 86_400.0))
    if kind == "sse_cut":
        after = spec.get("after_events", 0)
        if not isinstance(after, int) or isinstance(after, bool) or after < 0:
            raise RuleError("fault.after_events must be an integer >= 0")
        return replace(fault, after_events=after)
    return fault


TURN_FIELDS = ("reply", "tool_calls", "json")
OUTCOME_FIELDS = ("status", "error", "duration", "output", *TURN_FIELDS, "replies")


def _scripted_call(spec: Any, where: str) -> ScriptedCall:
    if not isinstance(spec, Mapping) or set(spec) - {"name", "arguments"}:
        raise RuleError(f"{where} must be an object {{name, arguments}}")
    name = spec.get("name")
    if not isinstance(name, str) or not name:
        raise RuleError(f"{where}.name must be a non-empty string")
    arguments = spec.get("arguments", {})
    if isinstance(arguments, str):
        try:
            arguments = json.loads(arguments)
        except ValueError:
            raise RuleError(f"{where}.arguments must be an object or its JSON text") from None
    if not isinstance(arguments, Mapping):
        raise RuleError(f"{where}.arguments must be an object or its JSON text")
    return ScriptedCall(name, json.dumps(arguments, ensure_ascii=False, allow_nan=False))


def parse_turn(spec: Any, where: str = "outcome") -> Turn:
    """One scripted turn: a string (text), or an object with one of ``reply``, ``tool_calls``, ``json``."""
    if isinstance(spec, str):
        return Turn(reply=spec)
    if not isinstance(spec, Mapping):
        raise RuleError(f"{where} must be a string or an object with one of reply, tool_calls, json")
    given = [name for name in TURN_FIELDS if spec.get(name) is not None]
    if len(given) != 1:
        raise RuleError(f"{where} takes one of reply, tool_calls, json")
    if given == ["reply"]:
        return Turn(reply=_text(spec, "reply"))
    if given == ["json"]:
        try:
            return Turn(json=json.dumps(spec["json"], ensure_ascii=False, allow_nan=False))
        except ValueError:
            raise RuleError(f"{where}.json must be finite JSON") from None
    calls = spec["tool_calls"]
    if not isinstance(calls, list) or not calls:
        raise RuleError(f"{where}.tool_calls must be a non-empty array of {{name, arguments}}")
    return Turn(tool_calls=tuple(_scripted_call(call, f"{where}.tool_calls[{i}]") for i, call in enumerate(calls)))


def _replies(spec: Mapping[str, Any]) -> tuple[Turn, ...]:
    replies = spec.get("replies")
    if replies is None:
        return ()
    if not isinstance(replies, list) or not replies:
        raise RuleError("outcome.replies must be a non-empty array of turns (strings or {reply|tool_calls|json})")
    if any(spec.get(name) is not None for name in TURN_FIELDS):
        raise RuleError("give outcome.reply/tool_calls/json or outcome.replies, not both")
    return tuple(parse_turn(turn, f"outcome.replies[{i}]") for i, turn in enumerate(replies))


def parse_outcome(spec: Any) -> tuple[Outcome, tuple[Turn, ...]]:
    if not isinstance(spec, Mapping):
        raise RuleError(f"outcome must be an object {{{', '.join(OUTCOME_FIELDS)}}}")
    unknown = set(spec) - set(OUTCOME_FIELDS)
    if unknown:
        raise RuleError(f"unknown outcome field(s): {', '.join(sorted(unknown))}")
    status = _text(spec, "status")
    if status is not None:
        status = status.lower()
        if status in ("finished", "completed"):
            status = "succeeded"
        if status not in JOB_STATUSES:
            raise RuleError("outcome.status must be succeeded or failed")
    error = _text(spec, "error")
    if error is not None and status is None:
        status = "failed"
    duration = None if spec.get("duration") is None else _number(spec, "duration", 0.0, 0.0, 10 * 86_400.0)
    replies = _replies(spec)
    scripted = {name: spec[name] for name in TURN_FIELDS if spec.get(name) is not None}
    turn = parse_turn(scripted) if scripted else Turn()
    outcome = Outcome(status=status, error=error, duration=duration, output=spec.get("output"),
                      reply=turn.reply, tool_calls=turn.tool_calls, json=turn.json)
    if outcome == Outcome() and not replies:
        raise RuleError(f"outcome must set at least one of {', '.join(OUTCOME_FIELDS)}")
    return outcome, replies


def parse_rule(spec: Any, rule_id: str, scenario: str | None = None, default_seed: int | None = None) -> Rule:
    """A rule from its JSON form; :class:`RuleError` says what is wrong."""
    if not isinstance(spec, Mapping):
        raise RuleError("a rule must be a JSON object")
    unknown = set(spec) - {"match", "fault", "outcome", "times", "probability", "seed", "id", "scenario"}
    if unknown:
        raise RuleError(f"unknown rule field(s): {', '.join(sorted(unknown))}")
    has_fault, has_outcome = spec.get("fault") is not None, spec.get("outcome") is not None
    if has_fault == has_outcome:
        raise RuleError("a rule needs exactly one of fault or outcome")
    times = spec.get("times")
    if times is not None and (not isinstance(times, int) or isinstance(times, bool) or times < 1):
        raise RuleError("times must be a positive integer (or null for unlimited)")
    seed = spec.get("seed")
    if seed is not None and (not isinstance(seed, int) or isinstance(seed, bool)):
        raise RuleError("seed must be an integer")
    rule = Rule(
        id=rule_id,
        matcher=parse_matcher(spec.get("match")),
        times=times,
        probability=_number(spec, "probability", 1.0, 0.0, 1.0),
        seed=seed,
        scenario=scenario,
    )
    if has_fault:
        rule.fault = parse_fault(spec["fault"])
    else:
        rule.outcome, rule.replies = parse_outcome(spec["outcome"])
    # A rule's own seed alone fixes its firing pattern; otherwise the server seed and the rule id do.
    if seed is not None:
        rule._rng = random.Random(f"rule-seed:{seed}")
    elif default_seed is not None:
        rule._rng = random.Random(f"{default_seed}:{rule_id}")
    return rule


# -- selection -----------------------------------------------------------------------------


@dataclass(frozen=True)
class Selection:
    """What applies to one request: at most one fault and one outcome, and the rules that fired."""

    fault: Fault | None = None
    outcome: Outcome | None = None
    rule_ids: tuple[str, ...] = ()
    scenario: str | None = None


NOTHING = Selection()


def takes_outcome(facts: RequestFacts) -> bool:
    """True if a scripted outcome means something for this request: creating a prediction or task, or a model
    turn (each vendor's ``outcome_requests``). Other requests (a poll, a list, a file download) never spend an
    outcome rule's ``times``."""
    return (facts.api, facts.method.upper(), facts.path.rstrip("/") or "/") in REGISTRY.outcome_requests()


def _fire(rule: Rule, facts: RequestFacts) -> bool:
    """True (and the rule's budget spent) if ``rule`` fires for this request. Call under the lock."""
    if rule.exhausted or not rule.matcher.matches(facts):
        return False
    if rule.probability < 1.0 and rule._rng.random() >= rule.probability:
        return False
    rule.fired += 1
    return True


class Rules:
    """The rule registry of one server: global rules and named scenarios (thread-safe)."""

    def __init__(self, seed: int | None = None) -> None:
        self.seed = seed
        self._lock = threading.Lock()
        self._rules: list[Rule] = []
        self._scenarios: dict[str, list[Rule]] = {}
        self._inline: OrderedDict[str, list[Rule]] = OrderedDict()
        self._counter = 0

    def _next_id(self) -> str:
        self._counter += 1
        return f"rule_{self._counter}"

    def _rule_id(self, spec: Any, taken: set[str]) -> str:
        """The id a new rule gets: the spec's ``id`` if given (unique), else the next ``rule_N``."""
        wanted = spec.get("id") if isinstance(spec, Mapping) else None
        if wanted is None:
            rule_id = self._next_id()
            while rule_id in taken:
                rule_id = self._next_id()
            return rule_id
        if not isinstance(wanted, str) or not ID_PATTERN.fullmatch(wanted):
            raise RuleError("id must be 1-64 letters, digits, '_', '-' or '.'")
        if wanted in taken:
            raise RuleError(f"a rule with id {wanted!r} already exists")
        return wanted

    def _ids(self) -> set[str]:
        return {r.id for r in self._rules} | {r.id for rules in self._scenarios.values() for r in rules}

    # -- managing ------------------------------------------------------------------------

    def add(self, spec: Any) -> Rule:
        """Register a global rule (or, with ``"scenario": name``, add it to that scenario)."""
        scenario = spec.get("scenario") if isinstance(spec, Mapping) else None
        if scenario is not None:
            check_scenario_name(scenario)
        with self._lock:
            rule = parse_rule(spec, self._rule_id(spec, self._ids()), scenario, self.seed)
            if scenario:
                self._scenarios.setdefault(scenario, []).append(rule)
            else:
                self._rules.append(rule)
            return rule

    @property
    def has_global_rules(self) -> bool:
        """True if some rule applies without a scenario header (read without the lock: a hint)."""
        return bool(self._rules)

    def list(self) -> list[Rule]:
        with self._lock:
            return [*self._rules, *(r for rules in self._scenarios.values() for r in rules)]

    def get(self, rule_id: str) -> Rule | None:
        return next((r for r in self.list() if r.id == rule_id), None)

    def remove(self, rule_id: str) -> bool:
        with self._lock:
            before = len(self._rules) + sum(map(len, self._scenarios.values()))
            self._rules = [r for r in self._rules if r.id != rule_id]
            self._scenarios = {name: [r for r in rules if r.id != rule_id]
                               for name, rules in self._scenarios.items()}
            return before != len(self._rules) + sum(map(len, self._scenarios.values()))

    def set_scenario(self, name: str, specs: list[Any]) -> list[Rule]:
        """Define (or replace) a named scenario from rule specs."""
        check_scenario_name(name)
        if not isinstance(specs, list):
            raise RuleError("a scenario is a list of rules")
        with self._lock:
            taken = self._ids() - {r.id for r in self._scenarios.get(name, [])}
            rules = []
            for index, spec in enumerate(specs):
                try:
                    rule = parse_rule(spec, self._rule_id(spec, taken), name, self.seed)
                except RuleError as exc:
                    raise RuleError(f"rules[{index}]: {exc}") from None
                taken.add(rule.id)
                rules.append(rule)
            self._scenarios[name] = rules
            return list(rules)

    def scenario(self, name: str) -> list[Rule] | None:
        with self._lock:
            rules = self._scenarios.get(name)
            return None if rules is None else list(rules)

    def scenario_names(self) -> list[str]:
        with self._lock:
            return sorted(self._scenarios)

    def remove_scenario(self, name: str) -> bool:
        with self._lock:
            return self._scenarios.pop(name, None) is not None

    def clear(self) -> None:
        with self._lock:
            self._rules.clear()
            self._scenarios.clear()
            self._inline.clear()
            self._counter = 0

    # -- selecting -----------------------------------------------------------------------

    def inline(self, header: str) -> list[Rule]:
        """Rules given inline in an ``X-Mock-Scenario`` header (a JSON rule or list of rules).

        The same header text gets the same rules back (the last :data:`INLINE_CACHE` headers are
        kept), so ``times``, ``probability`` and ``replies`` carry over between its requests.
        """
        with self._lock:
            cached = self._inline.get(header)
            if cached is not None:
                self._inline.move_to_end(header)
                return cached
        try:
            data = parse_json(header.encode("utf-8", "surrogatepass"))
        except BodyError as exc:
            raise RuleError(f"X-Mock-Scenario is not valid JSON: {exc.message}") from None
        specs = data if isinstance(data, list) else [data]
        rules = [parse_rule(spec, f"inline_{i + 1}", "inline", self.seed) for i, spec in enumerate(specs)]
        with self._lock:
            rules = self._inline.setdefault(header, rules)
            while len(self._inline) > INLINE_CACHE:
                self._inline.popitem(last=False)
        return rules

    def select(self, facts: RequestFacts, scenario: str | None = None) -> Selection:
        """The first matching fault and the first matching outcome; spends their budgets.

        ``scenario`` is the ``X-Mock-Scenario`` header: a registered name (its rules first, then the
        global ones) or inline JSON (only those rules). An unknown name is a :class:`RuleError`.
        """
        if scenario is not None and scenario.strip().startswith(("{", "[")):
            candidates = self.inline(scenario.strip())
            name: str | None = "inline"
        else:
            name = scenario.strip() if scenario else None
            with self._lock:
                named = self._scenarios.get(name) if name else []
                if named is None:
                    known = ", ".join(sorted(self._scenarios)) or "none defined"
                    raise RuleError(f"X-Mock-Scenario names an unknown scenario {name!r} (known: {known})")
                candidates = [*named, *self._rules]
        fault: Fault | None = None
        outcome: Outcome | None = None
        fired: list[str] = []
        with self._lock:
            for rule in candidates:
                if rule.fault is not None and fault is not None:
                    continue
                if rule.fault is None and (outcome is not None or not takes_outcome(facts)):
                    continue
                if not _fire(rule, facts):
                    continue
                fired.append(rule.id)
                if rule.fault is not None:
                    fault = rule.fault
                elif rule.replies:
                    turn = rule.replies[rule.fired - 1]
                    outcome = replace(rule.outcome or Outcome(), reply=turn.reply, tool_calls=turn.tool_calls,
                                      json=turn.json)
                else:
                    outcome = rule.outcome
                if fault is not None and outcome is not None:
                    break
        if not fired:
            return NOTHING if name is None else Selection(scenario=name)
        return Selection(fault=fault, outcome=outcome, rule_ids=tuple(fired), scenario=name)


def selection_of(scope: Mapping[str, Any]) -> Selection:
    """The selection the scenario middleware made for this request (nothing if none)."""
    return scope.get("state", {}).get(SCOPE_KEY, NOTHING)


def scripted_outcome(request: Any) -> Outcome | None:
    """The scripted outcome for a Starlette request (or ASGI scope), if a rule chose one."""
    scope = getattr(request, "scope", request)
    return selection_of(scope).outcome
