"""The rule error and the field checks every part of a rule (matcher, fault, result) uses."""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any


class RuleError(ValueError):
    """A rule (or scenario header) that cannot be understood; the message says why."""


def number(spec: Mapping[str, Any], name: str, default: float, low: float, high: float | None = None) -> float:
    """``spec[name]`` (or ``default``) as a finite number within ``[low, high]``."""
    value = spec.get(name, default)
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        raise RuleError(f"{name} must be a number")
    if value < low or (high is not None and value > high):
        bound = f"between {low:g} and {high:g}" if high is not None else f">= {low:g}"
        raise RuleError(f"{name} must be {bound}")
    return float(value)


def text(spec: Mapping[str, Any], name: str) -> str | None:
    """``spec[name]`` if it is a string (or absent)."""
    value = spec.get(name)
    if value is not None and not isinstance(value, str):
        raise RuleError(f"{name} must be a string")
    return value


def integer(spec: Mapping[str, Any], name: str, default: int, low: int, message: str) -> int:
    """``spec[name]`` (or ``default``) as an integer ``>= low``; ``message`` otherwise."""
    value = spec.get(name, default)
    if not isinstance(value, int) or isinstance(value, bool) or value < low:
        raise RuleError(message)
    return value
