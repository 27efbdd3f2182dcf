"""What the installed vendors let rules name: their API names, and the requests a scripted result shapes.

The rules never name a vendor; they are handed a :class:`RuleTargets` (the vendor registry fits it).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Protocol


class RuleTargets(Protocol):
    """The vocabulary rules are checked and selected against."""

    def names(self) -> tuple[str, ...]:
        """The API names a ``match.api`` may give, in order."""
        ...

    def outcome_requests(self) -> frozenset[tuple[str, str, str]]:
        """``(api, METHOD, path)`` of every request a scripted result means something for."""
        ...


class StaticTargets:
    """:class:`RuleTargets` from a mapping: API name -> the ``(METHOD, path)`` requests a scripted result shapes."""

    def __init__(self, scripted: Mapping[str, Iterable[tuple[str, str]]] | None = None) -> None:
        self._names = tuple(scripted or {})
        self._requests = frozenset((api, method.upper(), path) for api, pairs in (scripted or {}).items()
                                   for method, path in pairs)

    def names(self) -> tuple[str, ...]:
        return self._names

    def outcome_requests(self) -> frozenset[tuple[str, str, str]]:
        return self._requests


#: No vendor: every ``match.api`` is refused and no request takes a scripted result.
NO_TARGETS = StaticTargets()
