"""Configurable safety triggers: any configured term found in the content flags it."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import Any


def strings_in(value: Any) -> Iterator[str]:
    """Every string inside a JSON-like value (dict values, list items, the value itself)."""
    if isinstance(value, str):
        yield value
    elif isinstance(value, dict):
        for item in value.values():
            yield from strings_in(item)
    elif isinstance(value, list | tuple):
        for item in value:
            yield from strings_in(item)


def flagged_terms(value: Any, terms: Iterable[str]) -> list[str]:
    """The configured terms (case-insensitive) that occur anywhere in ``value``."""
    wanted = [term.lower() for term in terms if term]
    if not wanted:
        return []
    found: list[str] = []
    for text in strings_in(value):
        lowered = text.lower()
        found.extend(term for term in wanted if term in lowered and term not in found)
    return found
