"""Control-plane routes for scripted rules: faults and outcomes, global or in named scenarios.

A rule is ``{"match"?, "fault" | "outcome", "times"?, "probability"?, "seed"?, "scenario"?, "id"?}``
(see :mod:`mockserver.core.scenarios`); a rule that cannot be understood is a 400 saying why.

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
from mockserver.core.runtime import Runtime
from mockserver.core.scenarios import Rule, RuleError, Rules

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


def routes(runtime: Runtime) -> list[BaseRoute]:
    rules = runtime.rules

    def add_one(spec: Any) -> Response:
        try:
            rule = rules.add(spec)
        except RuleError as exc:
            raise bad_request(str(exc)) from None
        return JSONResponse(rule.as_json(), status_code=201)

    async def list_rules(request: Request) -> Response:
        return JSONResponse(listing([rule.as_json() for rule in rules.list()]))

    async def create_rules(request: Request) -> Response:
        body = await json_body(request)
        specs = rule_specs(body)
        if specs is None:
            return add_one(body)
        return JSONResponse(listing([rule.as_json() for rule in add_all(rules, specs)]), status_code=201)

    async def clear_rules(request: Request) -> Response:
        count, scenarios = len(rules.list()), len(rules.scenario_names())
        rules.clear()
        return JSONResponse({"deleted": count, "scenarios_deleted": scenarios})

    def find(rule_id: str) -> Rule:
        rule = rules.get(rule_id)
        if rule is None:
            raise not_found(f"No rule {rule_id!r}; GET /_mock/rules lists them")
        return rule

    async def get_rule(request: Request) -> Response:
        return JSONResponse(find(request.path_params["id"]).as_json())

    async def delete_rule(request: Request) -> Response:
        rule = find(request.path_params["id"])
        rules.remove(rule.id)
        return JSONResponse({"id": rule.id, "deleted": True})

    async def create_fault(request: Request) -> Response:
        return add_one(split_action(await json_body(request), "fault"))

    async def create_outcome(request: Request) -> Response:
        return add_one(split_action(await json_body(request), "outcome"))

    async def list_scenarios(request: Request) -> Response:
        names = rules.scenario_names()
        return JSONResponse(listing([scenario_json(name, rules.scenario(name) or []) for name in names]))

    def find_scenario(name: str) -> list[Rule]:
        found = rules.scenario(name)
        if found is None:
            raise not_found(f"No scenario {name!r}; GET /_mock/scenarios lists them")
        return found

    async def get_scenario(request: Request) -> Response:
        name = request.path_params["name"]
        return JSONResponse(scenario_json(name, find_scenario(name)))

    async def put_scenario(request: Request) -> Response:
        name = request.path_params["name"]
        body = await json_body(request)
        specs = rule_specs(body)
        if specs is None:
            raise bad_request('body must be an array of rules or {"rules": [...]}')
        existed = rules.scenario(name) is not None
        try:
            created = rules.set_scenario(name, specs)
        except RuleError as exc:
            raise bad_request(str(exc)) from None
        return JSONResponse(scenario_json(name, created), status_code=200 if existed else 201)

    async def delete_scenario(request: Request) -> Response:
        name = request.path_params["name"]
        find_scenario(name)
        rules.remove_scenario(name)
        return JSONResponse({"name": name, "deleted": True})

    return [
        Route("/rules", list_rules, methods=["GET"]),
        Route("/rules", create_rules, methods=["POST"]),
        Route("/rules", clear_rules, methods=["DELETE"]),
        Route("/rules/{id}", get_rule, methods=["GET"]),
        Route("/rules/{id}", delete_rule, methods=["DELETE"]),
        Route("/faults", create_fault, methods=["POST"]),
        Route("/outcomes", create_outcome, methods=["POST"]),
        Route("/scenarios", list_scenarios, methods=["GET"]),
        Route("/scenarios/{name}", get_scenario, methods=["GET"]),
        Route("/scenarios/{name}", put_scenario, methods=["PUT"]),
        Route("/scenarios/{name}", delete_scenario, methods=["DELETE"]),
    ]
