"""The spec package: what the server and the harness both read, so neither depends on the other.

The OpenAPI 3.1 contracts of the Skytells API v1 and the GateAI Core API and validators for them (``loader``,
``validation``, ``formats``, ``sse``, ``requests``), the catalog schemas injected into them (``catalogs``) and
the data files both sides load (``data``: ``fixtures/`` and ``contracts/``, or their copies in a wheel).

``document(api)`` is the complete document (``"skytells"`` or ``"gateai"``): the hand-written
source ``contracts/<api>.yaml`` with the per-model request schemas injected from the same
``fixtures/`` catalogs the server uses. ``validate_response`` / ``validate_request`` check one
HTTP exchange against it and return the problems found (an empty list: it conforms).

This package imports nothing else of ``mockserver``. Names are imported lazily, so reading a fixture through
:mod:`mockserver.spec.data` does not load the validators.
"""

from __future__ import annotations

from typing import Any

__all__ = ["APIS", "document", "route_error_problems", "validate_request", "validate_response", "validate_schema"]

_LOADER = ("APIS", "document")
_VALIDATION = ("route_error_problems", "validate_request", "validate_response", "validate_schema")


def __getattr__(name: str) -> Any:
    if name in _LOADER:
        from mockserver.spec import loader

        return getattr(loader, name)
    if name in _VALIDATION:
        from mockserver.spec import validation

        return getattr(validation, name)
    raise AttributeError(f"module 'mockserver.spec' has no attribute {name!r}")
