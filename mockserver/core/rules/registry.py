"""The rule set of one server: global rules, named scenarios and inline header rules (thread-safe).

Global rules apply to every request; rules registered under a **scenario** name apply only to requests that
carry ``X-Mock-Scenario: <name>``, so tests running in parallel do not interfere. The header may also carry
one rule (or a list) inline as JSON, used alone (no global rules); requests with the same header text share
those rules' budgets (``times``, ``replies``) and random draws. Selection happens once per request
(:meth:`Rules.select`); the result rides on the request's facts and domain code reads it with
:func:`~mockserver.core.rules.select.scripted_result`.
"""

from __future__ import annotations

import re
import threading
from collections import OrderedDict
from collections.abc import Mapping
from typing import Any

from mockserver.core.bodies import BodyError, parse_json
from mockserver.core.request_facts import RequestFacts
from mockserver.core.rules.fields import RuleError
from mockserver.core.rules.model import Rule
from mockserver.core.rules.parse import parse_rule
from mockserver.core.rules.select import Selection, choose, takes_outcome
from mockserver.core.rules.targets import RuleTargets
from mockserver.core.vendor import REGISTRY

#: How many distinct inline ``X-Mock-Scenario`` headers keep their rules' state.
INLINE_CACHE = 256
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


class Rules:
    """The rule registry of one server: global rules and named scenarios (thread-safe).

    ``targets`` are what the vendors let rules name (API names, requests a scripted result shapes): by default
    the installed vendors.
    """

    def __init__(self, seed: int | None = None, targets: RuleTargets = REGISTRY,
                 refused_faults: Mapping[str, str] | None = None) -> None:
        self.seed = seed
        self.targets = targets
        #: fault types this server cannot carry out, with why (a rule naming one is refused)
        self.refused_faults = dict(refused_faults or {})
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

    def _parse(self, spec: Any, rule_id: str, scenario: str | None) -> Rule:
        rule = parse_rule(spec, rule_id, self.targets.names(), scenario, self.seed)
        if rule.fault is not None and rule.fault.type in self.refused_faults:
            raise RuleError(self.refused_faults[rule.fault.type])
        return rule

    # -- managing ------------------------------------------------------------------------

    def add(self, spec: Any) -> Rule:
        """Register a global rule (or, with ``"scenario": name``, add it to that scenario)."""
        scenario = spec.get("scenario") if isinstance(spec, Mapping) else None
        if scenario is not None:
            check_scenario_name(scenario)
        with self._lock:
            rule = self._parse(spec, self._rule_id(spec, self._ids()), scenario)
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
                    rule = self._parse(spec, self._rule_id(spec, taken), name)
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

    def close(self) -> None:
        """Let go of what the registry holds outside this process's memory (nothing, here; the shared one's
        subscription)."""

    def clear(self) -> None:
        with self._lock:
            self._rules.clear()
            self._scenarios.clear()
            self._inline.clear()
            self._counter = 0

    def forget_local(self) -> None:
        """Forget what this process holds after another process reset the shared state: here, everything."""
        self.clear()

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
        rules = [self._parse(spec, f"inline_{i + 1}", "inline") for i, spec in enumerate(specs)]
        with self._lock:
            rules = self._inline.setdefault(header, rules)
            while len(self._inline) > INLINE_CACHE:
                self._inline.popitem(last=False)
        return rules

    def _candidates(self, scenario: str | None) -> tuple[list[Rule], str | None]:
        """The rules a request with this ``X-Mock-Scenario`` header may fire, and the scenario's name."""
        if scenario is not None and scenario.strip().startswith(("{", "[")):
            return self.inline(scenario.strip()), "inline"
        name = scenario.strip() if scenario else None
        with self._lock:
            named = self._scenarios.get(name) if name else []
            if named is None:
                known = ", ".join(sorted(self._scenarios)) or "none defined"
                raise RuleError(f"X-Mock-Scenario names an unknown scenario {name!r} (known: {known})")
            return [*named, *self._rules], name

    def select(self, facts: RequestFacts, scenario: str | None = None) -> Selection:
        """The first matching fault and the first matching scripted result; spends their budgets.

        ``scenario`` is the ``X-Mock-Scenario`` header: a registered name (its rules first, then the
        global ones) or inline JSON (only those rules). An unknown name is a :class:`RuleError`.
        """
        candidates, name = self._candidates(scenario)
        shapes_result = takes_outcome(facts, self.targets)
        with self._lock:
            return choose(candidates, facts, shapes_result, name)
