"""The APIs the harness can check, one :class:`HarnessAPI` each: the only place the harness tells them apart.

Each entry says how the API's base URL relates to its root, how a key is sent (plain requests, and for every
security scheme of its contract), how its prices are read, and which behaviour machines check it. The names
are the contract documents' (:data:`mockserver.spec.APIS`); the harness reaches an API over HTTP only.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import httpx

from mockserver.harness.spend import GateAIPrices, Prices, SkytellsPrices

if TYPE_CHECKING:
    from mockserver.harness.behaviour.common import HarnessMachine


@dataclass(frozen=True)
class HarnessAPI:
    """What the harness needs to know of one API."""

    name: str
    base_path: str  # what the SDKs' base URL adds to the API's root ("/v1")
    auth_headers: Callable[[str], dict[str, str]]  # the documented way to send a key
    auth_schemes: Callable[[str], dict[str, Any]]  # credentials per security scheme of the contract
    prices: Callable[[httpx.Client], Prices]  # read from free requests only
    machines: Callable[[], tuple[type[HarnessMachine], ...]]

    def root(self, base_url: str) -> str:
        """The root of the API's port (the base URL without the base path)."""
        root = base_url.rstrip("/")
        return root[: -len(self.base_path)] if self.base_path and root.endswith(self.base_path) else root


def _skytells_machines() -> tuple[type[HarnessMachine], ...]:
    from mockserver.harness.behaviour import skytells, skytells_agents

    return (*skytells.MACHINES, *skytells_agents.MACHINES)


def _gateai_machines() -> tuple[type[HarnessMachine], ...]:
    from mockserver.harness.behaviour import gateai

    return gateai.MACHINES


HARNESS_APIS: dict[str, HarnessAPI] = {api.name: api for api in (
    HarnessAPI("skytells", "/v1", lambda key: {"x-api-key": key},
               lambda key: {"ApiKeyHeader": {"api_key": key}, "BearerAuth": {"bearer": key}},
               SkytellsPrices.fetch, _skytells_machines),
    HarnessAPI("gateai", "", lambda key: {"authorization": f"Bearer {key}"},
               lambda key: {"BearerAuth": {"bearer": key}, "KeyQuery": {"api_key": key}},
               GateAIPrices.fetch, _gateai_machines),
)}


def harness_api(name: str) -> HarnessAPI:
    """The entry for ``name`` (a ValueError naming the known APIs otherwise)."""
    try:
        return HARNESS_APIS[name]
    except KeyError:
        raise ValueError(f"unknown API {name!r}; expected one of {', '.join(HARNESS_APIS)}") from None
