"""Rules from their JSON form; :class:`~mockserver.core.rules.fields.RuleError` says what is wrong."""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from mockserver.core.patterns import PatternError, compile_pattern
from mockserver.core.rules.faults import FAULTS, FaultRegistry
from mockserver.core.rules.fields import RuleError, number, text
from mockserver.core.rules.model import Matcher, Rule, ScriptedCall, ScriptedResult, Turn

JOB_STATUSES = ("succeeded", "failed")
HTTP_METHODS = ("GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS")
RULE_KEYS = frozenset({"match", "fault", "outcome", "times", "probability", "seed", "id", "scenario"})
MATCH_KEYS = ("api", "route", "model", "key", "prompt")
TURN_FIELDS = ("reply", "tool_calls", "json")
OUTCOME_FIELDS = ("status", "error", "duration", "output", *TURN_FIELDS, "replies")


def parse_matcher(spec: Any, apis: tuple[str, ...]) -> Matcher:
    """A matcher; ``apis`` are the API names ``match.api`` may give."""
    if spec is None:
        return Matcher()
    if not isinstance(spec, Mapping):
        raise RuleError("match must be an object {api, route, model, key, prompt}")
    unknown = set(spec) - set(MATCH_KEYS)
    if unknown:
        raise RuleError(f"unknown match field(s): {', '.join(sorted(unknown))}")
    api = text(spec, "api")
    if api is not None and api not in apis:
        raise RuleError(f"match.api must be one of {', '.join(apis)}")
    method = path = None
    route = text(spec, "route")
    if route:
        head, _, tail = route.strip().partition(" ")
        if head.upper() in HTTP_METHODS:
            method, path = head.upper(), (tail.strip() or None)
        else:
            path = route.strip()
    prompt = None
    raw_prompt = text(spec, "prompt")
    if raw_prompt is not None:
        try:
            prompt = compile_pattern(raw_prompt)
        except PatternError as exc:
            raise RuleError(f"match.prompt is not a valid regular expression (RE2 syntax): {exc}") from None
    return Matcher(api=api, method=method, path=path, model=text(spec, "model"), key=text(spec, "key"),
                   prompt=prompt)


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
        return Turn(reply=text(spec, "reply"))
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


def _job_status(spec: Mapping[str, Any]) -> str | None:
    status = text(spec, "status")
    if status is None:
        return None if text(spec, "error") is None else "failed"
    status = status.lower()
    if status in ("finished", "completed"):
        status = "succeeded"
    if status not in JOB_STATUSES:
        raise RuleError("outcome.status must be succeeded or failed")
    return status


def parse_scripted_result(spec: Any) -> tuple[ScriptedResult, tuple[Turn, ...]]:
    """A rule's ``outcome``: the scripted result and its sequence of turns (``replies``), if any."""
    if not isinstance(spec, Mapping):
        raise RuleError(f"outcome must be an object {{{', '.join(OUTCOME_FIELDS)}}}")
    unknown = set(spec) - set(OUTCOME_FIELDS)
    if unknown:
        raise RuleError(f"unknown outcome field(s): {', '.join(sorted(unknown))}")
    status = _job_status(spec)
    error = text(spec, "error")
    duration = None if spec.get("duration") is None else number(spec, "duration", 0.0, 0.0, 10 * 86_400.0)
    replies = _replies(spec)
    scripted = {name: spec[name] for name in TURN_FIELDS if spec.get(name) is not None}
    turn = parse_turn(scripted) if scripted else Turn()
    result = ScriptedResult(status=status, error=error, duration=duration, output=spec.get("output"),
                            reply=turn.reply, tool_calls=turn.tool_calls, json=turn.json)
    if result == ScriptedResult() and not replies:
        raise RuleError(f"outcome must set at least one of {', '.join(OUTCOME_FIELDS)}")
    return result, replies


def _budget(spec: Mapping[str, Any]) -> tuple[int | None, int | None]:
    times = spec.get("times")
    if times is not None and (not isinstance(times, int) or isinstance(times, bool) or times < 1):
        raise RuleError("times must be a positive integer (or null for unlimited)")
    seed = spec.get("seed")
    if seed is not None and (not isinstance(seed, int) or isinstance(seed, bool)):
        raise RuleError("seed must be an integer")
    return times, seed


def parse_rule(spec: Any, rule_id: str, apis: tuple[str, ...], scenario: str | None = None,
               default_seed: int | None = None, faults: FaultRegistry = FAULTS) -> Rule:
    """A rule from its JSON form; ``apis`` are the API names its matcher may give."""
    if not isinstance(spec, Mapping):
        raise RuleError("a rule must be a JSON object")
    unknown = set(spec) - RULE_KEYS
    if unknown:
        raise RuleError(f"unknown rule field(s): {', '.join(sorted(unknown))}")
    has_fault, has_outcome = spec.get("fault") is not None, spec.get("outcome") is not None
    if has_fault == has_outcome:
        raise RuleError("a rule needs exactly one of fault or outcome")
    times, seed = _budget(spec)
    rule = Rule(id=rule_id, matcher=parse_matcher(spec.get("match"), apis), times=times,
                probability=number(spec, "probability", 1.0, 0.0, 1.0), seed=seed, scenario=scenario)
    if has_fault:
        rule.fault = faults.parse(spec["fault"])
    else:
        rule.outcome, rule.replies = parse_scripted_result(spec["outcome"])
    # A rule's own seed alone fixes its firing pattern; otherwise the server seed and the rule id do.
    if seed is not None:
        rule.seed_draws(f"rule-seed:{seed}")
    elif default_seed is not None:
        rule.seed_draws(f"{default_seed}:{rule_id}")
    return rule
