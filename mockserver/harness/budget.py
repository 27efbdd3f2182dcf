"""The example budget for schemathesis' coverage phase, which has none of its own.

schemathesis 4 derives coverage cases deterministically from the schema (boundaries, missing and wrong-typed
values, unexpected methods, for every parameter of every operation) and sends all of them whatever
``generation.max-examples`` says: about 900 per GateAI operation, ~22,500 in all. This ``filter_case`` hook
keeps at most ``limit`` of them per operation, preferring variety: a case is kept only when its scenario,
location and parameter differ from every case kept so far for that operation.
"""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Iterator
from typing import Any

from schemathesis.generation.meta import TestPhase
from schemathesis.hooks import GLOBAL_HOOK_DISPATCHER, HookContext


def _kind(case: Any) -> tuple[str, str | None, str | None]:
    data = case.meta.phase.data
    return (str(getattr(data, "scenario", "")), getattr(data, "location", None), getattr(data, "parameter", None))


class CoverageBudget:
    """At most ``limit`` coverage cases per operation of ``schema``, each of a different kind."""

    def __init__(self, schema: Any, limit: int) -> None:
        self.schema, self.limit = schema, limit
        self.kept: dict[str, set[tuple[str, str | None, str | None]]] = {}
        self.dropped = 0
        self._lock = threading.Lock()

    def keep(self, context: HookContext, case: Any) -> bool:
        """The ``filter_case`` hook: False drops the case before it is sent."""
        meta = getattr(case, "meta", None)
        if meta is None or meta.phase.name != TestPhase.COVERAGE:
            return True
        if case.operation.schema.raw_schema is not self.schema.raw_schema:
            return True
        kind = _kind(case)
        with self._lock:
            kinds = self.kept.setdefault(case.operation.label, set())
            if len(kinds) >= self.limit or kind in kinds:
                self.dropped += 1
                return False
            kinds.add(kind)
            return True

    @contextlib.contextmanager
    def installed(self) -> Iterator[CoverageBudget]:
        handle = GLOBAL_HOOK_DISPATCHER.register_hook_with_name(self.keep, "filter_case")
        try:
            yield self
        finally:
            GLOBAL_HOOK_DISPATCHER.unregister(handle)
