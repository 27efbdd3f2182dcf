"""Control-plane routes for scripted rules: faults and outcomes, global or in named scenarios.

A rule is ``{"match"?, "fault" | "outcome", "times"?, "probability"?, "seed"?, "scenario"?, "id"?}``
(see :mod:`mockserver.core.rules`); a rule that cannot be understood is a 400 saying why.

* ``GET /_mock/rules`` -- ``{"data": [rule, …], "count": n}``: global rules, then scenarios' rules,
  each with ``fired`` and ``remaining``;
* ``POST /_mock/rules`` -- one rule (201: the rule), or ``{"rules": [...]}`` / a bare array (201:
  ``{"data", "count"}``; all or none);
* ``GET`` / ``DELETE /_mock/rules/{id}``; ``DELETE /_mock/rules`` -- every rule and scenario;
* ``POST /_mock/faults`` / ``POST /_mock/outcomes`` -- the fault (outcome) fields at the top level
  beside the optional ``match``, ``times``, ``probability``, ``seed``, ``scenario``, ``id``;
* ``GET /_mock/scenarios`` -- ``{"data": [{"name", "rules"}], "count"}``; ``PUT /_mock/scenarios/{name}``
  (an array of rules or ``{"rules": [...]}``; 201 created, 200 replaced); ``GET`` / ``DELETE`` one.
"""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from mockserver.admin.bodies import json_body
from mockserver.admin.errors import bad_request, not_found
from mockserver.core.http import JSONResponse
from mockserver.core.rules.fields import RuleError
from mockserver.core.rules.model import Rule
from mockserver.core.rules.registry import Rules
from mockserver.core.runtime import Runtime

#: Fields of a rule that are not part of its fault or outcome (for ``/faults`` and ``/outcomes``).
RULE_FIELDS = ("match", "times", "probability", "seed", "scenario", "id")


def rule_specs(body: Any) -> list[Any] | None:
    """``{"rules": [...]}`` or a bare list -> the list; a single rule -> None."""
    if isinstance(body, list):
        return body
    if isinstance(body, dict) and set(body) == {"rules"}:
        if not isinstance(body["rules"], list):
            raise bad_request("rules must be an array of rules", param="rules")
        return body["rules"]
    return None


def add_all(rules: Rules, specs: list[Any]) -> list[Rule]:
    """Add every rule or none: a bad one removes those added before it."""
    added: list[Rule] = []
    for index, spec in enumerate(specs):
        try:
            added.append(rules.add(spec))
        except RuleError as exc:
            for rule in added:
                rules.remove(rule.id)
            raise bad_request(f"rules[{index}]: {exc}") from None
    return added


def split_action(body: Any, action: str) -> dict[str, Any]:
    """A ``/faults`` or ``/outcomes`` body -> a rule spec (``{"type": "error", "times": 2}`` ->
    ``{"fault": {"type": "error"}, "times": 2}``)."""
    if not isinstance(body, dict):
        raise bad_request(f"body must be a JSON object: the {action} fields plus optional {', '.join(RULE_FIELDS)}")
    spec = {key: value for key, value in body.items() if key in RULE_FIELDS}
    spec[action] = {key: value for key, value in body.items() if key not in RULE_FIELDS}
    return spec


def listing(items: list[dict[str, Any]]) -> dict[str, Any]:
    """The control plane's list shape: ``{"data": [...], "count": n}``."""
    return {"data": items, "count": len(items)}


def scenario_json(name: str, rules: list[Rule]) -> dict[str, Any]:
    return {"name": name, "rules": [rule.as_json() for rule in rules]}


class RuleHandlers:
    """The control-plane handlers for rules and scenarios, on one rule set."""

    def __init__(self, rules: Rules) -> None:
        self.rules = rules

    def _add_one(self, spec: Any) -> Response:
        try:
            rule = self.rules.add(spec)
        except RuleError as exc:
            raise bad_request(str(exc)) from None
        return JSONResponse(rule.as_json(), status_code=201)

    def _find(self, rule_id: str) -> Rule:
        rule = self.rules.get(rule_id)
        if rule is None:
            raise not_found(f"No rule {rule_id!r}; GET /_mock/rules lists them")
        return rule

    def _find_scenario(self, name: str) -> list[Rule]:
        found = self.rules.scenario(name)
        if found is None:
            raise not_found(f"No scenario {name!r}; GET /_mock/scenarios lists them")
        return found

    async def list_rules(self, request: Request) -> Response:
        return JSONResponse(listing([rule.as_json() for rule in self.rules.list()]))

    async def create_rules(self, request: Request) -> Response:
        body = await json_body(request)
        specs = rule_specs(body)
        if specs is None:
            return self._add_one(body)
        return JSONResponse(listing([rule.as_json() for rule in add_all(self.rules, specs)]), status_code=201)

    async def clear_rules(self, request: Request) -> Response:
        count, scenarios = len(self.rules.list()), len(self.rules.scenario_names())
        self.rules.clear()
        return JSONResponse({"deleted": count, "scenarios_deleted": scenarios})

    async def get_rule(self, request: Request) -> Response:
        return JSONResponse(self._find(request.path_params["id"]).as_json())

    async def delete_rule(self, request: Request) -> Response:
        rule = self._find(request.path_params["id"])
        self.rules.remove(rule.id)
        return JSONResponse({"id": rule.id, "deleted": True})

    async def create_fault(self, request: Request) -> Response:
        return self._add_one(split_action(await json_body(request), "fault"))

    async def create_outcome(self, request: Request) -> Response:
        return self._add_one(split_action(await json_body(request), "outcome"))

    async def list_scenarios(self, request: Request) -> Response:
        names = self.rules.scenario_names()
        return JSONResponse(listing([scenario_json(name, self.rules.scenario(name) or []) for name in names]))

    async def get_scenario(self, request: Request) -> Response:
        name = request.path_params["name"]
        return JSONResponse(scenario_json(name, self._find_scenario(name)))

    async def put_scenario(self, request: Request) -> Response:
        name = request.path_params["name"]
        specs = rule_specs(await json_body(request))
        if specs is None:
            raise bad_request('body must be an array of rules or {"rules": [...]}')
        existed = self.rules.scenario(name) is not None
        try:
            created = self.rules.set_scenario(name, specs)
        except RuleError as exc:
            raise bad_request(str(exc)) from None
        return JSONResponse(scenario_json(name, created), status_code=200 if existed else 201)

    async def delete_scenario(self, request: Request) -> Response:
        name = request.path_params["name"]
        self._find_scenario(name)
        self.rules.remove_scenario(name)
        return JSONResponse({"name": name, "deleted": True})


def routes(runtime: Runtime) -> list[BaseRoute]:
    """The rule and scenario routes of the control plane."""
    handlers = RuleHandlers(runtime.rules)
    return [
        Route("/rules", handlers.list_rules, methods=["GET"]),
        Route("/rules", handlers.create_rules, methods=["POST"]),
        Route("/rules", handlers.clear_rules, methods=["DELETE"]),
        Route("/rules/{id}", handlers.get_rule, methods=["GET"]),
        Route("/rules/{id}", handlers.delete_rule, methods=["DELETE"]),
        Route("/faults", handlers.create_fault, methods=["POST"]),
        Route("/outcomes", handlers.create_outcome, methods=["POST"]),
        Route("/scenarios", handlers.list_scenarios, methods=["GET"]),
        Route("/scenarios/{name}", handlers.get_scenario, methods=["GET"]),
        Route("/scenarios/{name}", handlers.put_scenario, methods=["PUT"]),
        Route("/scenarios/{name}", handlers.delete_scenario, methods=["DELETE"]),
    ]
