"""The rule model: a matcher, one action (a fault or a scripted result) and a firing budget."""

from __future__ import annotations

import fnmatch
import json
import random
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Protocol

from mockserver.core.patterns import Pattern
from mockserver.core.request_facts import RequestFacts

if TYPE_CHECKING:
    from mockserver.core.rules.faults import Fault


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
class ScriptedResult:
    """What a rule scripts for a request that succeeds at the HTTP level (its JSON name is ``outcome``);
    unset fields keep the mock's normal behaviour."""

    status: str | None = None  # "succeeded" | "failed": how a prediction/task ends
    error: str | None = None  # the failure message when it fails
    duration: float | None = None  # virtual seconds from creation to the end
    output: Any = None  # outputs returned as given (URLs or values), instead of generated files
    reply: str | None = None  # chat/responses: the assistant's text
    tool_calls: tuple[ScriptedCall, ...] | None = None  # chat/responses: the tool calls the turn makes
    json: str | None = None  # chat/responses: the JSON answer (as text)

    @property
    def turn(self) -> Turn | None:
        """The scripted model turn, if this result scripts one."""
        if self.reply is None and self.tool_calls is None and self.json is None:
            return None
        return Turn(self.reply, self.tool_calls, self.json)

    def with_turn(self, turn: Turn) -> ScriptedResult:
        """This result with ``turn`` as its model turn."""
        return ScriptedResult(self.status, self.error, self.duration, self.output, turn.reply, turn.tool_calls,
                              turn.json)

    def as_json(self) -> dict[str, Any]:
        out = {"status": self.status, "error": self.error, "duration": self.duration, "output": self.output}
        turn = self.turn
        if turn is not None:
            shown = turn.as_json()
            out.update({"reply": shown} if isinstance(shown, str) else shown)
        return {k: v for k, v in out.items() if v is not None}


class SharedBudget(Protocol):
    """Where a rule's budget (``fired``, the draw count) lives when several processes share the rules."""

    def fire(self, rule: Rule, facts: RequestFacts) -> bool:
        """True (and the budget spent, ``rule.fired`` set to the shared count) if ``rule`` fires for the request."""
        ...


@dataclass
class Rule:
    """A matcher and one action, with its firing budget (in this process, or shared: :attr:`budget`)."""

    id: str
    matcher: Matcher
    fault: Fault | None = None
    outcome: ScriptedResult | None = None
    replies: tuple[Turn, ...] = ()  # a sequence of scripted turns, one per matching request
    times: int | None = None
    probability: float = 1.0
    seed: int | None = None
    scenario: str | None = None
    fired: int = 0
    _rng: random.Random = field(default_factory=random.Random, repr=False)
    rng_seed: str | None = None  # what seeds ``_rng`` (None: an unseeded draw sequence)
    budget: SharedBudget | None = field(default=None, repr=False)  # a shared budget (None: this process's)
    _drawn: int = field(default=0, repr=False)

    def seed_draws(self, rng_seed: str | None) -> None:
        """Seed this rule's draw sequence (None: unseeded)."""
        self.rng_seed, self._drawn = rng_seed, 0
        self._rng = random.Random(rng_seed) if rng_seed is not None else random.Random()

    def draw(self, number: int) -> float:
        """The ``number``-th (1-based) value of this rule's draw sequence: what the ``number``-th matching request
        draws against ``probability``, whichever process serves it (seeded sequences replay from the start)."""
        if number <= self._drawn and self.rng_seed is not None:
            self.seed_draws(self.rng_seed)
        value = self._rng.random()
        self._drawn += 1
        while self._drawn < number and self.rng_seed is not None:
            value = self._rng.random()
            self._drawn += 1
        return value

    @property
    def limit(self) -> int | None:
        """How many requests the rule may fire for in all (``times`` and the number of ``replies``)."""
        limits = [n for n in (self.times, len(self.replies) if self.replies else None) if n is not None]
        return min(limits) if limits else None

    @property
    def exhausted(self) -> bool:
        if self.replies and self.fired >= len(self.replies):
            return True
        return self.times is not None and self.fired >= self.times

    def fire(self, facts: RequestFacts) -> bool:
        """True (and the budget spent) if this rule fires for the request. Call under the registry's lock."""
        if self.budget is not None:
            return self.budget.fire(self, facts)
        if self.exhausted or not self.matcher.matches(facts):
            return False
        if self.probability < 1.0 and self._rng.random() >= self.probability:
            return False
        self.fired += 1
        return True

    def scripted(self) -> ScriptedResult | None:
        """The scripted result this firing gives: the next of ``replies``, or the fixed one."""
        if not self.replies:
            return self.outcome
        return (self.outcome or ScriptedResult()).with_turn(self.replies[self.fired - 1])

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
        return max((self.limit or 0) - self.fired, 0)
