"""Assemble the mock: one runtime shared by the Skytells and GateAI apps.

By default each API gets its own port so every documented path (both APIs have ``/v1/models``)
is served as documented. In single-port mode the APIs are mounted under ``/skytells`` and
``/gateai``.
"""

from __future__ import annotations

from dataclasses import dataclass

from starlette.applications import Starlette
from starlette.routing import Mount

from mockserver.admin import mappings
from mockserver.core.rules.targets import StaticTargets
from mockserver.core.runtime import Runtime
from mockserver.gateai import scripting as gateai_scripting
from mockserver.gateai.app import build_app as build_gateai
from mockserver.settings import Settings
from mockserver.skytells import scripting as skytells_scripting
from mockserver.skytells.app import build_app as build_skytells

#: Mount prefixes in single-port mode.
PREFIXES = {"skytells": "/skytells", "gateai": "/gateai"}
#: What each API lets scripted rules name and shape.
RULE_TARGETS = StaticTargets({"skytells": skytells_scripting.SCRIPTED_REQUESTS,
                              "gateai": gateai_scripting.SCRIPTED_REQUESTS})


@dataclass
class MockServer:
    """The runtime and one ASGI app per API."""

    runtime: Runtime
    apps: dict[str, Starlette]

    @property
    def settings(self) -> Settings:
        return self.runtime.settings

    def combined(self) -> Starlette:
        """Both APIs on one app, each under its prefix (single-port mode)."""
        return Starlette(routes=[Mount(PREFIXES[name], app=app) for name, app in self.apps.items()])


def build(settings: Settings | None = None) -> MockServer:
    """Both apps on one runtime (raises ``MappingError`` for start-up files that do not validate)."""
    runtime = Runtime.from_settings(settings or Settings(), RULE_TARGETS)
    mappings.install(runtime)
    apps: dict[str, Starlette] = {"skytells": build_skytells(runtime), "gateai": build_gateai(runtime)}
    return MockServer(runtime=runtime, apps=apps)
