"""Locate the data files in ``fixtures/`` (a source checkout) or ``mockserver/_fixtures`` (a wheel)."""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path
from typing import Any

_PACKAGE = Path(__file__).resolve().parent.parent


@cache
def fixtures_root() -> Path:
    """The fixtures folder: packaged copy first, else the source tree's top-level ``fixtures/``."""
    for candidate in (_PACKAGE / "_fixtures", _PACKAGE.parent / "fixtures"):
        if candidate.is_dir():
            return candidate
    raise FileNotFoundError("mockserver fixtures not found (neither packaged nor in the source tree)")


def fixture_path(*parts: str) -> Path:
    return fixtures_root().joinpath(*parts)


def load_json(*parts: str) -> Any:
    """Parse one JSON fixture, e.g. ``load_json("skytells", "models.json")``."""
    with fixture_path(*parts).open(encoding="utf-8") as handle:
        return json.load(handle)
