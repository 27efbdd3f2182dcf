"""Control-plane routes for API keys: create, inspect, change and delete accounts.

* ``GET /_mock/keys`` -- ``{"data": [key view, …], "count": n}``, every account (keys in full: this
  is the admin plane; ``masked`` is how logs and the journal show it).
* ``POST /_mock/keys`` -- ``{key?, credits?, daily_budget?, suspended?, limits?}``; without ``key`` a
  seeded ``sk-mock-…`` key is made. 201 + the view; 409 ``KEY_EXISTS`` if the key has an account.
* ``GET /_mock/keys/{key}`` -- the view; 404 if there is no such account.
* ``PATCH /_mock/keys/{key}`` -- any of ``credits`` (set), ``add_credits`` (add; negative takes away,
  never below zero), ``daily_budget``, ``suspended``, ``limits`` (merged into the key's limits; a
  ``null`` value drops that limit).
* ``DELETE /_mock/keys/{key}`` -- forget the account and its stored objects (its journal stays).

A key view: ``{key, masked, credits, daily_budget {daily_limit, used, remaining, resets_at},
suspended, limits, effective_limits, created_with, configured, webhook_secret}``.

``POST /_mock/reset {"key": …}`` puts a key back to what it was *created* with (``created_with``).
"""

from __future__ import annotations

import math
import re
from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from mockserver.admin.bodies import optional_json
from mockserver.admin.errors import bad_request, not_found
from mockserver.core.accounts import Account, InsufficientFunds, mask_key, round_money
from mockserver.core.errors import ApiError
from mockserver.core.http import JSONResponse
from mockserver.core.runtime import Runtime
from mockserver.core.vendor import REGISTRY, LimitSpec

KEY_PATTERN = re.compile(r"^[A-Za-z0-9_\-.~+=:@]{1,256}$")
GENERATED_PREFIX = "sk-mock-"
CREATE_FIELDS = ("key", "credits", "daily_budget", "suspended", "limits")
PATCH_FIELDS = ("credits", "add_credits", "daily_budget", "suspended", "limits")
#: The largest balance or budget a key may hold (sums of prices stay exact and finite).
MAX_MONEY = 1e12




def limits() -> dict[str, tuple[str, LimitSpec]]:
    """Every per-key limit the installed vendors take: ``{name: (vendor name, spec)}``."""
    return {name: (vendor.name, spec) for vendor in REGISTRY.all() for name, spec in vendor.limits.items()}


# -- validation ------------------------------------------------------------------------------------


def _number(body: dict[str, Any], name: str, minimum: float | None = 0.0) -> float | None:
    """A money field: a finite number, at least ``minimum``, at most :data:`MAX_MONEY` in size."""
    value = body.get(name)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        raise bad_request(f"{name} must be a number", param=name)
    if minimum is not None and value < minimum:
        raise bad_request(f"{name} must be >= {minimum:g}", param=name)
    if abs(value) > MAX_MONEY:
        raise bad_request(f"{name} must be at most {MAX_MONEY:g} in size", param=name)
    return float(value)


def _flag(body: dict[str, Any], name: str) -> bool | None:
    value = body.get(name)
    if value is not None and not isinstance(value, bool):
        raise bad_request(f"{name} must be true or false", param=name)
    return value


def _unknown(body: dict[str, Any], allowed: tuple[str, ...]) -> None:
    unknown = sorted(set(body) - set(allowed))
    if unknown:
        raise bad_request(f"unknown field(s): {', '.join(unknown)}; allowed: {', '.join(allowed)}", param=unknown[0])


def parse_limits(value: Any) -> dict[str, Any]:
    """Validated limits (``{name: number or None}``); unknown names and bad values are a 400."""
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise bad_request("limits must be an object such as {\"concurrency\": 2}", param="limits")
    known_limits = limits()
    unknown = sorted(set(value) - set(known_limits))
    if unknown:
        known = "; ".join(f"{name} ({api}: {spec.meaning})" for name, (api, spec) in known_limits.items())
        raise bad_request(f"unknown limit(s): {', '.join(unknown)}. Known limits: {known}",
                          param=f"limits.{unknown[0]}")
    parsed: dict[str, Any] = {}
    for name, raw in value.items():
        spec = known_limits[name][1]
        param = f"limits.{name}"
        if raw is None:
            parsed[name] = None
            continue
        if isinstance(raw, bool) or not isinstance(raw, int | float) or not math.isfinite(raw):
            raise bad_request(f"{param} must be a number (or null to drop it)", param=param)
        if spec.integer and not float(raw).is_integer():
            raise bad_request(f"{param} must be a whole number", param=param)
        if not spec.minimum <= raw <= spec.maximum:
            raise bad_request(f"{param} must be between {spec.minimum:g} and {spec.maximum:g}", param=param)
        parsed[name] = int(raw) if spec.integer else float(raw)
    return parsed


def parse_key(value: Any) -> str:
    if not isinstance(value, str) or not KEY_PATTERN.match(value):
        raise bad_request("key must be 1-256 characters: letters, digits and _ - . ~ + = : @", param="key")
    return value


# -- behaviour -------------------------------------------------------------------------------------


def effective_limits(runtime: Runtime, account: Account) -> dict[str, Any]:
    """Every limit in force for the key: its own, else the server's or the documented default (per vendor)."""
    return {name: value for vendor in REGISTRY.all() if vendor.effective_limits is not None
            for name, value in vendor.effective_limits(runtime, account).items()}


def view(runtime: Runtime, account: Account) -> dict[str, Any]:
    """A key as the control plane shows it; each vendor adds its balance fields (credits, daily budget)."""
    balances = {name: value for vendor in REGISTRY.all() if vendor.account_view is not None
                for name, value in vendor.account_view(runtime, account).items()}
    return {
        "key": account.key,
        "masked": mask_key(account.key),
        **balances,
        "suspended": account.suspended,
        "limits": account.limits,
        "effective_limits": effective_limits(runtime, account),
        "created_with": account.initial,
        "configured": account.key in runtime.settings.api_keys,
        "webhook_secret": runtime.webhooks.secret_for(account.key),
    }


def _generated_key(runtime: Runtime) -> str:
    while True:
        key = GENERATED_PREFIX + runtime.rng.token("control-plane-key", 24, "0123456789abcdefghijklmnopqrstuvwxyz")
        if runtime.accounts.find(key) is None:
            return key


def create_key(runtime: Runtime, body: dict[str, Any]) -> Account:
    """A new account from a ``POST /_mock/keys`` body; 409 if the key already has one."""
    _unknown(body, CREATE_FIELDS)
    key = parse_key(body["key"]) if body.get("key") is not None else _generated_key(runtime)
    credits, budget = _number(body, "credits"), _number(body, "daily_budget")
    suspended = _flag(body, "suspended")
    limits = {name: value for name, value in parse_limits(body.get("limits")).items() if value is not None}
    if runtime.accounts.find(key) is not None:
        raise ApiError(409, "KEY_EXISTS", f"Key {mask_key(key)} already has an account; PATCH /_mock/keys/{{key}} "
                                          "changes it", param="key")
    return runtime.accounts.create(key, credits=credits, daily_budget=budget, suspended=bool(suspended),
                                   limits=limits)


def change_key(runtime: Runtime, key: str, body: dict[str, Any]) -> Account:
    """Apply a ``PATCH /_mock/keys/{key}`` body (all validated before anything changes)."""
    account = runtime.accounts.find(key)
    if account is None:
        raise not_found(f"No account for key {mask_key(key)}")
    _unknown(body, PATCH_FIELDS)
    credits, added = _number(body, "credits"), _number(body, "add_credits", minimum=None)
    if credits is not None and added is not None:
        raise bad_request("give credits (the new balance) or add_credits (a change), not both", param="add_credits")
    budget, suspended = _number(body, "daily_budget"), _flag(body, "suspended")
    limits = None
    if "limits" in body:
        merged = {**account.limits, **parse_limits(body["limits"])}
        limits = {name: value for name, value in merged.items() if value is not None}
    if added is not None and account.credits + added > MAX_MONEY:
        raise bad_request(f"add_credits would take the balance above {MAX_MONEY:g}", param="add_credits")
    if added is not None and account.credits + added < 0:
        raise bad_request(f"add_credits {added:g} would take the balance ({account.credits:g}) below zero",
                          param="add_credits")
    changes = {"credits": None if credits is None else round_money(credits), "daily_budget": budget,
               "suspended": suspended, "limits": limits}
    runtime.accounts.change(key, **changes)
    if added is not None and added != 0:
        try:
            if added > 0:
                runtime.accounts.credit(key, added)
            else:
                runtime.accounts.debit(key, -added)
        except InsufficientFunds as exc:  # spent concurrently since the check above
            raise bad_request(f"add_credits would take the balance ({exc.balance:g}) below zero",
                              param="add_credits") from None
    updated = runtime.accounts.find(key)
    if updated is None:
        raise not_found(f"No account for key {mask_key(key)}")
    return updated


def delete_key(runtime: Runtime, key: str) -> None:
    """Forget the account and everything stored under it (journal entries stay, as history)."""
    if runtime.accounts.find(key) is None:
        raise not_found(f"No account for key {mask_key(key)}")
    runtime.store.clear(owner=key)
    runtime.webhooks.reset(key)
    runtime.accounts.delete(key)


# -- routes ----------------------------------------------------------------------------------------


def routes(runtime: Runtime) -> list[BaseRoute]:
    def found(key: str) -> Account:
        account = runtime.accounts.find(key)
        if account is None:
            raise not_found(f"No account for key {mask_key(key)}")
        return account

    async def list_keys(request: Request) -> Response:
        accounts = runtime.accounts.all()
        return JSONResponse({"data": [view(runtime, account) for account in accounts], "count": len(accounts)})

    async def post_key(request: Request) -> Response:
        account = create_key(runtime, await optional_json(request))
        return JSONResponse(view(runtime, account), status_code=201)

    async def get_key(request: Request) -> Response:
        return JSONResponse(view(runtime, found(request.path_params["key"])))

    async def patch_key(request: Request) -> Response:
        account = change_key(runtime, request.path_params["key"], await optional_json(request))
        return JSONResponse(view(runtime, account))

    async def remove_key(request: Request) -> Response:
        key = request.path_params["key"]
        delete_key(runtime, key)
        return JSONResponse({"key": key, "deleted": True})

    return [
        Route("/keys", list_keys, methods=["GET"]),
        Route("/keys", post_key, methods=["POST"]),
        Route("/keys/{key}", get_key, methods=["GET"]),
        Route("/keys/{key}", patch_key, methods=["PATCH"]),
        Route("/keys/{key}", remove_key, methods=["DELETE"]),
    ]
