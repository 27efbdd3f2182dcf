"""Removals the contract spells without ``DELETE`` on the resource: taught to schemathesis's availability check.

schemathesis's ``ensure_resource_availability`` reports a 404 from an operation on a resource that was just
created, unless a successful earlier request removed it. It counts as removals a ``DELETE`` on the resource
(or above it) and any other unsafe verb on the resource's *own* path only. Skytells documents a prediction's
``urls.delete`` as ``{prediction}/delete`` (POSTed by the SDKs, or sent as ``DELETE``): a removal on a
path *below* the resource, which that rule cannot see. After ``POST /v1/predictions/{id}/delete`` succeeds,
``DELETE /v1/predictions/{id}`` rightly answers 404, and schemathesis called that a defect.

An operation that removes a resource other than its own path says so in the contract with the
``x-removes`` extension: the path template of what it removes, filled from its own path parameters
(``x-removes: /v1/predictions/{id}``). :func:`resource_availability` replaces the built-in check for the
run: it is the same check, except that a 404 after such a successful removal is expected.
"""

from __future__ import annotations

import contextlib
import re
import threading
from collections.abc import Iterator
from typing import Any

from schemathesis.checks import CHECKS
from schemathesis.specs.openapi import checks as openapi_checks

#: The OpenAPI extension naming the resource an operation removes (a path template).
REMOVES = "x-removes"
#: The built-in check this module's check stands in for (disabled in the run's configuration).
BUILTIN = "ensure_resource_availability"
_VARIABLE = re.compile(r"\{([^{}]+)\}")
_runs = 0
_runs_lock = threading.Lock()


def _fill(template: str, values: dict[str, Any]) -> str | None:
    """``template`` with its ``{name}`` variables replaced from ``values``; None if one is missing."""
    try:
        return _VARIABLE.sub(lambda match: str(values[match.group(1)]), template)
    except KeyError:
        return None


def removed_path(case: Any) -> str | None:
    """The concrete path ``case``'s operation removes by its ``x-removes`` extension, if it has one."""
    template = case.operation.definition.raw.get(REMOVES) if case.operation.definition is not None else None
    return _fill(template, case.path_parameters or {}) if isinstance(template, str) else None


def removed_by_extension(recorder: Any, case: Any) -> bool:
    """True when a successful earlier request of the scenario removed ``case``'s resource via ``x-removes``."""
    target = (_fill(case.path, case.path_parameters or {}) or case.path).rstrip("/")
    for prior in recorder.find_all_cases():
        if prior.id == case.id:
            continue
        removed = removed_path(prior)
        if removed is None:
            continue
        response = recorder.find_response(case_id=prior.id)
        if response is None or not 200 <= response.status_code < 300:
            continue
        removed = removed.rstrip("/")
        if target == removed or target.startswith(removed + "/"):
            return True
    return False


def resource_availability(ctx: Any, response: Any, case: Any) -> bool | None:
    """schemathesis's ``ensure_resource_availability``, aware of removals declared with ``x-removes``."""
    if response.status_code != 404:
        return None
    recorder = ctx.internals.recorder
    if recorder is not None and removed_by_extension(recorder, case):
        return None
    return openapi_checks.ensure_resource_availability(ctx, response, case)


@contextlib.contextmanager
def installed() -> Iterator[None]:
    """:func:`resource_availability` registered as a schemathesis check while any run needs it."""
    global _runs
    with _runs_lock:
        _runs += 1
        CHECKS.register(resource_availability)
    try:
        yield
    finally:
        with _runs_lock:
            _runs -= 1
            if not _runs:
                CHECKS.unregister(resource_availability.__name__)
