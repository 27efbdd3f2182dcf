"""Scripted rules and scenarios shared by every process on one Redis (see :mod:`mockserver.core.rules`).

Key layout under the prefix ``P``:

* ``P rules:doc`` -- every rule spec as given (JSON: ``{"rules": [[id, spec], …], "scenarios": {name: [[id, spec],
  …]}}``), changed in optimistic transactions (``WATCH``/``MULTI``);
* ``P rules:v`` -- a fresh random token on every change, announced on the channel of the same name: each process
  keeps the rules it parsed and, before choosing rules for a request, looks whether a change was announced (a
  poll of its own subscription, no round trip); only then it reads the token and parses the document again when
  the token changed. Redis writes the announcement to every subscriber in the turn it answers the change, and the
  process that made it answers its client after one more round trip (``SharedState.settle``), so a rule added on
  one process applies to the very next request on any other;
* ``P rules:fired`` / ``P rules:draws`` -- per rule id: how many times it fired, how many draws it made (Lua
  scripts, so ``times`` and ``replies`` are spent exactly across processes and the n-th draw of a seeded rule is
  the same whichever process makes it); inline header rules count under ``inline:<digest>:<n>``;
* ``P rules:ids`` -- the ``rule_N`` sequence (ids unique across processes).

A full reset drops every key under the prefix (:meth:`~.store.RedisStore.clear`), which empties the token: every
process then parses an empty document.
"""

from __future__ import annotations

import hashlib
import logging
import threading
import uuid
from collections.abc import Callable, Mapping
from typing import Any, TypeVar

import orjson
import redis

from mockserver.core.request_facts import RequestFacts
from mockserver.core.rules.fields import RuleError
from mockserver.core.rules.model import Rule
from mockserver.core.rules.registry import Rules, check_scenario_name
from mockserver.core.rules.select import Selection
from mockserver.core.rules.targets import RuleTargets
from mockserver.core.shared_store.connection import ChangeWatch, translated
from mockserver.core.vendor import REGISTRY

LOG = logging.getLogger("mockserver.store")
T = TypeVar("T")
Doc = dict[str, Any]

#: ``ARGV``: prefix, field, limit ('' for none). The firing's number (1-based), or 0 when the budget is spent.
SPEND = r"""
local fired = ARGV[1] .. 'rules:fired'
local limit = tonumber(ARGV[3])
if limit and tonumber(redis.call('HGET', fired, ARGV[2]) or '0') >= limit then return 0 end
return redis.call('HINCRBY', fired, ARGV[2], 1)
"""

#: ``ARGV``: prefix, field, limit ('' for none). The draw's number (1-based), or 0 when the budget is spent.
DRAW = r"""
local limit = tonumber(ARGV[3])
if limit and tonumber(redis.call('HGET', ARGV[1] .. 'rules:fired', ARGV[2]) or '0') >= limit then return 0 end
return redis.call('HINCRBY', ARGV[1] .. 'rules:draws', ARGV[2], 1)
"""

_UNREAD = b"\0unread"  # the token before the first read (never a stored token)


@translated
class RedisBudget:
    """One rule's budget in Redis, under ``field``: a draw (for ``probability`` < 1), then the spend."""

    def __init__(self, scripts: Mapping[str, Any], prefix: str, field: str) -> None:
        self.scripts, self.prefix, self.field = scripts, prefix, field

    def fire(self, rule: Rule, facts: RequestFacts) -> bool:
        if not rule.matcher.matches(facts):
            return False
        limit = "" if rule.limit is None else str(rule.limit)
        if rule.probability < 1.0:
            drawn = int(self.scripts["DRAW"](args=[self.prefix, self.field, limit]))
            if drawn == 0 or rule.draw(drawn) >= rule.probability:
                return False
        fired = int(self.scripts["SPEND"](args=[self.prefix, self.field, limit]))
        if fired == 0:
            return False
        rule.fired = fired
        return True


def _empty() -> Doc:
    return {"rules": [], "scenarios": {}}


def _doc_ids(doc: Doc) -> set[str]:
    return {rule_id for rule_id, _ in doc["rules"]} | {
        rule_id for pairs in doc["scenarios"].values() for rule_id, _ in pairs}


@translated
class RedisRules(Rules):
    """The rule registry in Redis under ``prefix``; this process keeps the parsed rules until the token changes."""

    def __init__(self, client: redis.Redis, prefix: str = "mockserver:", seed: int | None = None,
                 targets: RuleTargets = REGISTRY, refused_faults: Mapping[str, str] | None = None) -> None:
        super().__init__(seed, targets, refused_faults)
        self.client, self.prefix = client, prefix
        self._doc, self._token = f"{prefix}rules:doc", f"{prefix}rules:v"
        self._fired, self._draws, self._sequence = f"{prefix}rules:fired", f"{prefix}rules:draws", f"{prefix}rules:ids"
        self._scripts = {"SPEND": client.register_script(SPEND), "DRAW": client.register_script(DRAW)}
        self._seen: bytes | None = _UNREAD
        self._changes = ChangeWatch(client, self._token)  # this process's subscription to the token's channel
        self._fresh = False  # no change announced since the token was last read
        self._refreshing = threading.Lock()

    # -- this process's copy -------------------------------------------------------------------

    def refresh(self) -> None:
        """Parse the shared rules again if they changed since this process last read them: nothing but a poll of
        the subscription while no change was announced; then one ``GET`` of the token (and the document if it
        changed)."""
        with self._refreshing:
            if self._fresh and not self._changes.changed():
                return
            self._changes.before_read()
            self._fresh = False
            if self.client.get(self._token) != self._seen:
                token, raw = self.client.mget(self._token, self._doc)
                self._install(token, orjson.loads(raw) if raw else _empty())
            self._fresh = True

    def close(self) -> None:
        """Drop the subscription (the client's connections are the caller's)."""
        with self._refreshing:
            self._fresh = False
            self._changes.drop()

    def _install(self, token: bytes | None, doc: Doc) -> None:
        rules = self._parsed(doc["rules"], None)
        scenarios = {name: self._parsed(pairs, name) for name, pairs in doc["scenarios"].items()}
        with self._lock:
            self._rules, self._scenarios, self._seen = rules, scenarios, token

    def _parsed(self, pairs: list[list[Any]], scenario: str | None) -> list[Rule]:
        """The rules of stored specs, with shared budgets (a spec this process cannot read is left out, logged:
        processes on one store should run the same version with the same vendors)."""
        rules = []
        for rule_id, spec in pairs:
            try:
                rule = self._parse(spec, rule_id, scenario)
            except RuleError as exc:
                LOG.warning("shared rule %s: this process cannot use it: %s", rule_id, exc)
                continue
            rule.budget = RedisBudget(self._scripts, self.prefix, rule_id)
            rules.append(rule)
        return rules

    def _counts(self) -> None:
        """Each kept rule's ``fired`` from the shared counts (for listing)."""
        counts = {name.decode(): int(value) for name, value in self.client.hgetall(self._fired).items()}
        with self._lock:
            for rule in [*self._rules, *(r for rules in self._scenarios.values() for r in rules)]:
                rule.fired = counts.get(rule.id, 0)

    def forget_local(self) -> None:
        """Another process reset the shared state: read the rules again before the next use."""
        with self._lock:
            self._seen, self._fresh = _UNREAD, False
            self._inline.clear()

    # -- changing the shared document ------------------------------------------------------------

    def _next_id(self) -> str:
        return f"rule_{int(self.client.incr(self._sequence))}"

    def _change(self, edit: Callable[[Doc], tuple[T, list[str]]]) -> T:
        """Apply ``edit`` to the shared document atomically (re-run on a concurrent change); ``edit`` returns its
        result and the ids whose budgets start again. Then this process reads the new rules."""
        with self.client.pipeline() as pipe:
            while True:
                try:
                    pipe.watch(self._doc)
                    raw = pipe.get(self._doc)
                    doc = orjson.loads(raw) if raw else _empty()
                    result, spent = edit(doc)
                    pipe.multi()
                    pipe.set(self._doc, orjson.dumps(doc, default=str))
                    pipe.set(self._token, uuid.uuid4().hex)
                    pipe.publish(self._token, b"changed")
                    if spent:
                        pipe.hdel(self._fired, *spent)
                        pipe.hdel(self._draws, *spent)
                    pipe.execute()
                    break
                except redis.WatchError:
                    continue
        self.refresh()
        return result

    def _kept(self, rule_id: str) -> Rule:
        found = next((r for r in super().list() if r.id == rule_id), None)
        if found is None:  # already removed by another process: the rule as it was made
            raise RuleError(f"rule {rule_id!r} was removed by another process meanwhile")
        return found

    def add(self, spec: Any) -> Rule:
        scenario = spec.get("scenario") if isinstance(spec, Mapping) else None
        if scenario is not None:
            check_scenario_name(scenario)

        def edit(doc: Doc) -> tuple[str, list[str]]:
            rule_id = self._rule_id(spec, _doc_ids(doc))
            self._parse(spec, rule_id, scenario)  # a RuleError leaves the document as it was
            (doc["scenarios"].setdefault(scenario, []) if scenario else doc["rules"]).append([rule_id, spec])
            return rule_id, [rule_id]

        return self._kept(self._change(edit))

    def remove(self, rule_id: str) -> bool:
        def edit(doc: Doc) -> tuple[bool, list[str]]:
            found = rule_id in _doc_ids(doc)
            doc["rules"] = [pair for pair in doc["rules"] if pair[0] != rule_id]
            doc["scenarios"] = {name: [pair for pair in pairs if pair[0] != rule_id]
                                for name, pairs in doc["scenarios"].items()}
            return found, [rule_id] if found else []

        return self._change(edit)

    def set_scenario(self, name: str, specs: list[Any]) -> list[Rule]:
        check_scenario_name(name)
        if not isinstance(specs, list):
            raise RuleError("a scenario is a list of rules")

        def edit(doc: Doc) -> tuple[list[str], list[str]]:
            before = [rule_id for rule_id, _ in doc["scenarios"].get(name, [])]
            taken = _doc_ids(doc) - set(before)
            pairs = []
            for index, spec in enumerate(specs):
                try:
                    rule_id = self._rule_id(spec, taken)
                    self._parse(spec, rule_id, name)
                except RuleError as exc:
                    raise RuleError(f"rules[{index}]: {exc}") from None
                taken.add(rule_id)
                pairs.append([rule_id, spec])
            doc["scenarios"][name] = pairs
            made = [rule_id for rule_id, _ in pairs]
            return made, [*before, *made]

        return [self._kept(rule_id) for rule_id in self._change(edit)]

    def remove_scenario(self, name: str) -> bool:
        def edit(doc: Doc) -> tuple[bool, list[str]]:
            pairs = doc["scenarios"].pop(name, None)
            return pairs is not None, [rule_id for rule_id, _ in pairs or []]

        return self._change(edit)

    def clear(self) -> None:
        pipe = self.client.pipeline()
        pipe.delete(self._doc, self._fired, self._draws, self._sequence)
        pipe.set(self._token, uuid.uuid4().hex)
        pipe.publish(self._token, b"changed")
        pipe.execute()
        with self._lock:
            self._inline.clear()
        self.refresh()

    # -- reading ---------------------------------------------------------------------------------

    @property
    def has_global_rules(self) -> bool:
        """True if some rule applies without a scenario header (after reading the shared token)."""
        self.refresh()
        return bool(self._rules)

    def list(self) -> list[Rule]:
        self.refresh()
        self._counts()
        return super().list()

    def scenario(self, name: str) -> list[Rule] | None:
        self.refresh()
        self._counts()
        return super().scenario(name)

    def scenario_names(self) -> list[str]:
        self.refresh()
        return super().scenario_names()

    def inline(self, header: str) -> list[Rule]:
        """Inline rules, their budgets shared by every request with the same header text on any process."""
        rules = super().inline(header)
        if rules and rules[0].budget is None:
            digest = hashlib.sha256(header.encode("utf-8", "surrogatepass")).hexdigest()[:32]
            for index, rule in enumerate(rules):
                rule.budget = RedisBudget(self._scripts, self.prefix, f"inline:{digest}:{index}")
        return rules

    def select(self, facts: RequestFacts, scenario: str | None = None) -> Selection:
        return super().select(facts, scenario)

    def _candidates(self, scenario: str | None) -> tuple[list[Rule], str | None]:
        if scenario is None or not scenario.strip().startswith(("{", "[")):
            self.refresh()
        return super()._candidates(scenario)
