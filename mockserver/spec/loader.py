"""Load a contract source (``contracts/<api>.yaml``) and inject the catalog schemas from ``fixtures/``."""

from __future__ import annotations

import copy
from collections.abc import Callable
from functools import cache
from typing import Any

import yaml

from mockserver.spec import catalogs
from mockserver.spec.data import contract_text

APIS = ("skytells", "gateai")

_INJECT: dict[str, Callable[[dict[str, Any]], None]] = {
    "skytells": catalogs.inject_skytells,
    "gateai": catalogs.inject_gateai,
}


def source(api: str) -> dict[str, Any]:
    """The hand-written source of ``api``'s document, as parsed from YAML (nothing injected)."""
    if api not in APIS:
        raise ValueError(f"unknown API {api!r}; expected one of {', '.join(APIS)}")
    text = contract_text(api)
    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)  # the C safe loader when libyaml is there
    return yaml.load(text, Loader=loader)


@cache
def built(api: str) -> dict[str, Any]:
    """The complete document (shared, cached: never mutate it; :func:`document` hands out copies)."""
    doc = source(api)
    _INJECT[api](doc)
    return doc


def document(api: str) -> dict[str, Any]:
    """The OpenAPI 3.1 document of ``api`` (``"skytells"`` or ``"gateai"``), a fresh copy."""
    return copy.deepcopy(built(api))
