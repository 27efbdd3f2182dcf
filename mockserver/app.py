"""Assemble the mock: one runtime shared by every installed vendor's app (:data:`mockserver.core.vendor.REGISTRY`).

By default each API gets its own port so every documented path (both APIs have ``/v1/models``)
is served as documented. In single-port mode each API is mounted under its prefix (``/skytells``,
``/gateai``).
"""

from __future__ import annotations

from dataclasses import dataclass

from starlette.applications import Starlette
from starlette.routing import Mount

from mockserver.admin import mappings
from mockserver.admin.access import effective_token
from mockserver.assembly import build_api_app
from mockserver.core.runtime import Runtime
from mockserver.core.vendor import Vendor
from mockserver.settings import Settings
from mockserver.spec.validation import contract
from mockserver.vendors import REGISTRY


def prefixes() -> dict[str, str]:
    """Each installed vendor's mount prefix in single-port mode."""
    return {vendor.name: vendor.prefix for vendor in REGISTRY.all()}


@dataclass
class MockServer:
    """The runtime and one ASGI app per vendor."""

    runtime: Runtime
    apps: dict[str, Starlette]

    @property
    def settings(self) -> Settings:
        return self.runtime.settings  # type: ignore[return-value]

    @property
    def vendors(self) -> list[Vendor]:
        return [vendor for vendor in REGISTRY.all() if vendor.name in self.apps]

    def combined(self) -> Starlette:
        """Every API on one app, each under its prefix (single-port mode)."""
        return Starlette(routes=[Mount(vendor.prefix, app=self.apps[vendor.name]) for vendor in self.vendors])


def build(settings: Settings | None = None) -> MockServer:
    """Every vendor's app on one runtime (raises ``MappingError`` for start-up files that do not validate)."""
    settings = settings or Settings()
    runtime = Runtime.from_settings(settings, admin_token=effective_token(settings))
    mappings.install(runtime)
    apps = {vendor.name: build_api_app(vendor, runtime) for vendor in REGISTRY.all()}
    warm_contracts(REGISTRY.all())
    return MockServer(runtime=runtime, apps=apps)


def warm_contracts(vendors: list[Vendor]) -> None:
    """Load each vendor's contract now (once per process): request bodies are checked against it.

    Loaded by the first request instead, it held the event loop -- both ports -- for ~80 ms.
    """
    for vendor in vendors:
        if vendor.contract is not None:
            contract(vendor.contract)
