"""What the installed vendors let rules name: their API names, and the requests a scripted result shapes.

The rules never name a vendor; they are handed a :class:`RuleTargets` -- by default the vendor registry
(:data:`mockserver.core.vendor.REGISTRY`), read at each use, so a vendor installed later is known too.
"""

from __future__ import annotations

from typing import Protocol


class RuleTargets(Protocol):
    """The vocabulary rules are checked and selected against."""

    def names(self) -> tuple[str, ...]:
        """The API names a ``match.api`` may give, in order."""
        ...

    def outcome_requests(self) -> frozenset[tuple[str, str, str]]:
        """``(api, METHOD, path)`` of every request a scripted result means something for."""
        ...
