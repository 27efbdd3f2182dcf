"""The vendors this package installs, in the order they are listed everywhere (ports, help, rules' ``api``).

Declared as the ``mockserver.vendors`` entry point in ``pyproject.toml``; :data:`mockserver.core.vendor.REGISTRY`
loads every entry point of that group, so another distribution can add an API without editing this file.
"""

from __future__ import annotations

from mockserver.core.vendor import REGISTRY, Vendor
from mockserver.gateai.vendor import VENDOR as GATEAI
from mockserver.skytells.vendor import VENDOR as SKYTELLS

INSTALLED: tuple[Vendor, ...] = (SKYTELLS, GATEAI)

__all__ = ["INSTALLED", "REGISTRY"]
