"""Choosing what applies to one request: at most one fault and one scripted result, from candidate rules."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from mockserver.core.request_facts import RequestFacts, known_facts
from mockserver.core.rules.faults import Fault
from mockserver.core.rules.model import Rule, ScriptedResult
from mockserver.core.rules.targets import RuleTargets

#: The request header naming a scenario (or carrying rules inline as JSON).
SCENARIO_HEADER = "x-mock-scenario"


@dataclass(frozen=True)
class Selection:
    """What applies to one request: at most one fault and one scripted result, and the rules that fired."""

    fault: Fault | None = None
    outcome: ScriptedResult | None = None
    rule_ids: tuple[str, ...] = ()
    scenario: str | None = None


NOTHING = Selection()


def takes_outcome(facts: RequestFacts, targets: RuleTargets) -> bool:
    """True if a scripted result means something for this request (creating a job, or a model turn). Other
    requests (a poll, a list, a file download) never spend an outcome rule's ``times``."""
    return (facts.api, facts.method.upper(), facts.path.rstrip("/") or "/") in targets.outcome_requests()


def choose(candidates: Iterable[Rule], facts: RequestFacts, shapes_result: bool, scenario: str | None) -> Selection:
    """The first firing fault and the first firing scripted result; spends their budgets (call under a lock).

    ``shapes_result``: whether a scripted result means something for this request.
    """
    fault: Fault | None = None
    outcome: ScriptedResult | None = None
    fired: list[str] = []
    for rule in candidates:
        if rule.fault is not None and fault is not None:
            continue
        if rule.fault is None and (outcome is not None or not shapes_result):
            continue
        if not rule.fire(facts):
            continue
        fired.append(rule.id)
        if rule.fault is not None:
            fault = rule.fault
        else:
            outcome = rule.scripted()
        if fault is not None and outcome is not None:
            break
    if not fired:
        return NOTHING if scenario is None else Selection(scenario=scenario)
    return Selection(fault=fault, outcome=outcome, rule_ids=tuple(fired), scenario=scenario)


def selection_of(scope: Mapping[str, Any]) -> Selection:
    """The selection the rule pipeline made for this request (nothing if none)."""
    facts = known_facts(scope)  # type: ignore[arg-type]
    return facts.selection if facts is not None and facts.selection is not None else NOTHING


def scripted_result(request: Any) -> ScriptedResult | None:
    """The scripted result for a Starlette request (or ASGI scope), if a rule chose one."""
    scope = getattr(request, "scope", request)
    return selection_of(scope).outcome
