"""Control-plane routes for the request journal (:mod:`mockserver.core.journal`).

* ``GET /_mock/requests`` -- ``{"data": [entry, …], "count": n, "total": m}``, newest first; filters as
  query parameters: ``api``, ``method``, ``path`` (glob), ``status`` (``404`` or ``4xx``), ``key`` (the
  raw key), ``since`` / ``until`` (virtual time: epoch seconds or ISO 8601), ``rule`` (a rule id),
  ``limit`` (default 100), ``order`` (``desc`` | ``asc``). ``count`` is the entries returned, ``total``
  all that match.
* ``GET /_mock/requests/count`` -- ``{"count": n}`` with the same filters.
* ``GET /_mock/requests/{id}`` -- one entry, by journal id (``jr_…``) or request id (``req_…``).
* ``DELETE /_mock/requests`` -- forget every entry, or one key's (``?key=``): ``{"deleted": n}``.

A server started with ``journal_size`` 0 keeps no journal: its reads answer 409 ``JOURNAL_OFF`` and a delete deletes
nothing.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from mockserver.admin.errors import bad_request, journal_off, not_found
from mockserver.admin.state import parse_time
from mockserver.core.http import JSONResponse
from mockserver.core.journal import KeyMasker, Query, parse_status
from mockserver.core.runtime import Runtime
from mockserver.core.vendor import REGISTRY

DEFAULT_LIMIT = 100
FILTERS = ("api", "method", "path", "status", "key", "since", "until", "rule", "limit", "order")


def parse_query(params: Mapping[str, str]) -> Query:
    """The journal filters from query parameters; a clear 400 for anything it cannot use."""
    unknown = sorted(set(params) - set(FILTERS))
    if unknown:
        raise bad_request(f"unknown filter(s): {', '.join(unknown)}; known: {', '.join(FILTERS)}", param=unknown[0])
    api = params.get("api")
    if api is not None and api not in REGISTRY.names():
        raise bad_request(f"api must be one of {', '.join(REGISTRY.names())}", param="api")
    status = None
    if params.get("status") is not None:
        try:
            status = parse_status(params["status"])
        except ValueError as exc:
            raise bad_request(str(exc), param="status") from None
    limit = DEFAULT_LIMIT
    if params.get("limit") is not None:
        raw = params["limit"].strip()
        if not raw.isdigit() or int(raw) < 1:
            raise bad_request("limit must be a positive integer", param="limit")
        limit = int(raw)
    order = params.get("order", "desc").lower()
    if order not in ("desc", "asc"):
        raise bad_request("order must be desc (newest first) or asc", param="order")
    times = {}
    for name in ("since", "until"):
        raw = params.get(name)
        if raw is not None:
            times[name] = parse_time(float(raw) if _is_number(raw) else raw, name)
    return Query(api=api, method=params.get("method"), path=params.get("path"), status=status,
                 key=params.get("key"), since=times.get("since"), until=times.get("until"),
                 rule=params.get("rule"), limit=limit, newest_first=order == "desc")


def _is_number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


def key_masker(runtime: Runtime) -> KeyMasker:
    """Masks every key the server knows -- accounts, configured keys, keys that made journaled requests --
    wherever it appears in a journaled body (a key pasted into another key's prompt included)."""
    keys = [account.key for account in runtime.accounts.all()]
    return KeyMasker([*keys, *runtime.settings.api_keys, *runtime.journal.owners()])


def require_journal(runtime: Runtime) -> None:
    """Refuse a read of the journal when the server keeps none (WireMock's ``--no-request-journal`` alike): an
    empty answer would pass for "no such request"."""
    if runtime.settings.journal_size == 0:
        raise journal_off()


def routes(runtime: Runtime) -> list[BaseRoute]:
    async def list_requests(request: Request) -> Response:
        require_journal(runtime)
        query = parse_query(request.query_params)
        entries = runtime.journal.find(query)
        total = runtime.journal.count(replace(query, limit=None))
        masker = key_masker(runtime)
        return JSONResponse({"data": [entry.as_json(masker) for entry in entries], "count": len(entries),
                             "total": total})

    async def count_requests(request: Request) -> Response:
        require_journal(runtime)
        query = parse_query({k: v for k, v in request.query_params.items() if k not in ("limit", "order")})
        return JSONResponse({"count": runtime.journal.count(query)})

    async def get_request(request: Request) -> Response:
        require_journal(runtime)
        entry_id = request.path_params["entry_id"]
        entry = runtime.journal.get(entry_id)
        if entry is None:
            raise not_found(f"No journaled request {entry_id!r} (it may have been cleared or dropped from the "
                            f"journal's last {runtime.journal.size})")
        return JSONResponse(entry.as_json(key_masker(runtime)))

    async def clear_requests(request: Request) -> Response:
        unknown = sorted(set(request.query_params) - {"key"})
        if unknown:
            raise bad_request(f"unknown parameter(s): {', '.join(unknown)}; only key is accepted", param=unknown[0])
        key = request.query_params.get("key")
        if key is not None and not key:
            raise bad_request("key must be an API key", param="key")
        return JSONResponse({"deleted": runtime.journal.clear(key)})

    return [
        Route("/requests", list_requests, methods=["GET"]),
        Route("/requests", clear_requests, methods=["DELETE"]),
        Route("/requests/count", count_requests, methods=["GET"]),
        Route("/requests/{entry_id}", get_request, methods=["GET"]),
    ]
