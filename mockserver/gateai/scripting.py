"""What the GateAI API lets scripted rules shape, and where it takes the API key (handed to the core as values)."""

from __future__ import annotations

#: The requests a scripted result shapes: creating a task.
SCRIPTED_REQUESTS = frozenset({("POST", "/api/generate")})
#: Paths that also take the API key as ``?key=``.
KEY_IN_QUERY = frozenset({"/api/me"})


def takes_query_key(path: str) -> bool:
    """True where a request may carry its API key as ``?key=``."""
    return path in KEY_IN_QUERY
