"""Locate the data both the server and the harness read: the catalogs in ``fixtures/`` and the contract
documents in ``contracts/`` of a source checkout, or their copies ``mockserver/_fixtures`` and
``mockserver/_contracts`` in an installed wheel."""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path
from typing import Any

_PACKAGE = Path(__file__).resolve().parent.parent  # the ``mockserver`` package folder


@cache
def data_root(name: str) -> Path:
    """The folder ``name`` (``"fixtures"`` or ``"contracts"``): the packaged copy first, else the source tree's."""
    for candidate in (_PACKAGE / f"_{name}", _PACKAGE.parent / name):
        if candidate.is_dir():
            return candidate
    raise FileNotFoundError(f"mockserver {name} not found (neither packaged nor in the source tree)")


def fixtures_root() -> Path:
    """The fixtures folder (the catalogs, timings and vocabulary)."""
    return data_root("fixtures")


def fixture_path(*parts: str) -> Path:
    return fixtures_root().joinpath(*parts)


def load_json(*parts: str) -> Any:
    """Parse one JSON fixture, e.g. ``load_json("skytells", "models.json")``."""
    with fixture_path(*parts).open(encoding="utf-8") as handle:
        return json.load(handle)


def contract_text(api: str) -> str:
    """The hand-written contract source of ``api`` (``contracts/<api>.yaml``) as text."""
    return data_root("contracts").joinpath(f"{api}.yaml").read_text(encoding="utf-8")
