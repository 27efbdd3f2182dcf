"""Skytells HTTP layer: thin handlers over the catalog and the predictions domain."""

from __future__ import annotations

import functools
import json
import re
from collections.abc import AsyncIterator
from datetime import UTC, date, datetime, time
from typing import Any

from sse_starlette import EventSourceResponse
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route
from starlette.types import Scope

from mockserver.core import jobs
from mockserver.core.accounts import Account
from mockserver.core.asgi import public_base_at
from mockserver.core.bodies import parse_json
from mockserver.core.errors import ApiError
from mockserver.core.files import file_route
from mockserver.core.http import (
    EncodedJSON,
    JSONResponse,
    accepts_event_stream,
    api_key_from,
    json_array_bytes,
    json_body_refusal,
    json_bytes,
    json_object_bytes,
    read_json_object,
)
from mockserver.core.jobs import JobNotFound
from mockserver.core.pipeline import express_item, rules_may_apply
from mockserver.core.request_facts import header_index, key_of
from mockserver.core.rules.select import scripted_result
from mockserver.core.runtime import Runtime
from mockserver.skytells import ratelimit
from mockserver.skytells.catalog import OPTIONAL_FIELDS, Catalog
from mockserver.skytells.prediction_body import parse_create
from mockserver.skytells.prediction_errors import answers_domain_errors
from mockserver.skytells.prediction_views import Links
from mockserver.skytells.predictions import PER_PAGE_DEFAULT, PER_PAGE_MAX, STATUSES, Predictions
from mockserver.spec import sse

#: The last event of a status stream cut short by a server shutdown.
SHUTDOWN_MESSAGE = "The server is shutting down; GET the prediction again once it is back"
_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
#: The route of one prediction, and the path prefix of every request it serves.
PREDICTION_ROUTE = "/v1/predictions/{id}"
_PREDICTION_PATH = PREDICTION_ROUTE.removesuffix("{id}")
#: Where predictions are created.
CREATE_PATH = "/v1/predictions"


@functools.lru_cache(maxsize=256)
def links_for(api_base: str) -> Links:
    """The links a view prints for a client that reached the API at ``api_base`` (``<base>/v1``)."""
    return Links(api=api_base, files=api_base.rsplit("/v1", 1)[0] + "/files/")


@functools.lru_cache(maxsize=256)
def _links_at(public_url: str | None, scheme: str, host: bytes | None, server: tuple[str, int] | None,
              root_path: str) -> Links:
    """The links for a client that reached the API this way (or the public URL, when set)."""
    base = public_url or public_base_at(scheme, host, server, root_path)
    return links_for(base.rstrip("/") + "/v1")


def positive_int(raw: Any, name: str, default: int) -> int:
    """A ``page``/``per_page`` query parameter (missing or empty: ``default``)."""
    if raw is None or raw == "":
        return default
    try:
        value = int(str(raw))
    except ValueError:
        raise ApiError(400, "INVALID_PARAMETER", f"{name} must be a positive integer", param=name) from None
    if value < 1:
        raise ApiError(400, "INVALID_PARAMETER", f"{name} must be a positive integer", param=name)
    return value


def day(raw: str | None, name: str) -> date | None:
    """A ``from``/``to`` query parameter as a calendar date (YYYY-MM-DD)."""
    if raw is None or raw == "":
        return None
    if not _DATE.match(raw):
        raise ApiError(400, "INVALID_DATE_FORMAT", f"'{name}' must be a date as YYYY-MM-DD", param=name)
    try:
        return date.fromisoformat(raw)
    except ValueError:
        raise ApiError(400, "INVALID_DATE_FORMAT", f"'{name}' is not a valid calendar date", param=name) from None


def model_fields(raw: str | None) -> list[str]:
    """``?fields=input_schema,output_schema`` -> the list; unknown names are a 400."""
    if not raw:
        return []
    names = [part.strip() for part in raw.split(",") if part.strip()]
    unknown = [name for name in names if name not in OPTIONAL_FIELDS]
    if unknown:
        raise ApiError(400, "INVALID_PARAMETER",
                       f"Unknown field(s) {', '.join(unknown)}; allowed: {', '.join(OPTIONAL_FIELDS)}",
                       param="fields")
    return names


def list_filters(query: Any) -> dict[str, Any]:
    """``GET /v1/predictions``' query as :meth:`Predictions.list` arguments (400 for a bad one)."""
    page = positive_int(query.get("page"), "page", 1)
    size = positive_int(query.get("per_page"), "per_page", PER_PAGE_DEFAULT)
    if size > PER_PAGE_MAX:
        raise ApiError(400, "INVALID_PARAMETER", f"per_page must be at most {PER_PAGE_MAX}", param="per_page")
    status = query.get("status")
    if status is not None and status not in STATUSES:
        raise ApiError(400, "INVALID_PARAMETER", f"status must be one of {', '.join(STATUSES)}", param="status")
    start = day(query.get("from") or query.get("since"), "from")
    end = day(query.get("to") or query.get("until"), "to")
    if start is not None and end is not None and start > end:
        raise ApiError(400, "INVALID_DATE_RANGE", "'from' must be on or before 'to'", param="from")
    return {
        "page": page, "per_page": size, "model": query.get("model"), "status": status,
        "created_from": None if start is None else datetime.combine(start, time.min, UTC).timestamp(),
        "created_to": None if end is None else datetime.combine(end, time.max, UTC).timestamp(),
    }


class SkytellsAPI:
    """Handlers bound to one runtime."""

    def __init__(self, runtime: Runtime, catalog: Catalog, predictions: Predictions) -> None:
        self.runtime = runtime
        self.catalog = catalog
        self.predictions = predictions
        # Status streams writing their events at once: the rest wait their turn (off the loop's ready queue),
        # so a request on either port waits behind at most this many bursts, not behind every woken stream.

    # -- helpers -------------------------------------------------------------------------

    def authenticate(self, request: Request) -> Account:
        key = api_key_from(request)
        if not key:
            raise ApiError(401, "UNAUTHORIZED", "Missing API key: send it in the x-api-key header")
        account = self.runtime.accounts.get(key)
        if account is None:
            raise ApiError(401, "UNAUTHORIZED", "Invalid API key")
        if account.suspended:
            raise ApiError(401, "ACCOUNT_SUSPENDED", "This account is suspended; contact support")
        ratelimit.enforce(self.runtime, account)
        return account

    def links(self, request: Request) -> Links:
        """Where this client reaches the API and its files."""
        return self.links_at(request.scope)

    def links_at(self, scope: Scope) -> Links:
        """:meth:`links` of a request's scope: ``<scheme>://<host>[/<mount>]/v1`` as the client reached us (or the
        public URL), worked out once per combination."""
        server, host = scope.get("server"), header_index(scope).get(b"host")
        return _links_at(self.runtime.settings.public_url, scope.get("scheme", "http"), host,
                         tuple(server) if server is not None else None, scope.get("root_path", ""))

    def prediction_response(self, request: Request, record: dict[str, Any], status: int = 200,
                            links: Links | None = None) -> Response:
        links = self.links(request) if links is None else links
        return EncodedJSON(self.predictions.views.encoded(record, links), status_code=status)

    # -- Models API ----------------------------------------------------------------------

    async def list_models(self, request: Request) -> Response:
        self.authenticate(request)
        fields = model_fields(request.query_params.get("fields"))
        return JSONResponse([model.view(fields) for model in self.catalog])

    async def get_model(self, request: Request) -> Response:
        self.authenticate(request)
        fields = model_fields(request.query_params.get("fields"))
        return JSONResponse(self.catalog.get(request.path_params["slug"]).view(fields))

    # -- Predictions API -----------------------------------------------------------------

    async def create_prediction(self, request: Request) -> Response:
        account = self.authenticate(request)
        body = await read_json_object(request, self.runtime.settings.max_body_bytes)
        create = parse_create(body, self.catalog)
        links = self.links(request)
        record = self.predictions.create(account.key, create, scripted_result(request), links)
        if create.wait:  # the settings may have changed meanwhile: the links are read again
            record = await self.predictions.wait_terminal(record, self.runtime.settings.await_timeout)
            return self.prediction_response(request, record, status=201)
        return self.prediction_response(request, record, status=201, links=links)

    async def get_prediction(self, request: Request) -> Response:
        account = self.authenticate(request)
        return self.prediction_response(request, self.predictions.get(account.key, request.path_params["id"]))

    def express(self, scope: Scope, path: str) -> bytes | None:
        """``GET /v1/predictions/{id}`` answered as :meth:`get_prediction` answers it, without the router's layers
        (:data:`mockserver.core.front.Express`): the prediction's JSON when no rule could apply, the key's account
        is active and has no rate limit, and the prediction is the key's; None for any other request."""
        runtime = self.runtime
        pid = express_item(runtime, scope, path, _PREDICTION_PATH)
        if pid is None:
            return None
        account = runtime.accounts.get(key_of(scope))
        if account is None or account.suspended or ratelimit.limit_of(runtime, account):
            return None
        try:
            record = self.predictions.get(account.key, pid)
        except JobNotFound:
            return None
        return self.predictions.views.encoded(record, self.links_at(scope))

    def express_create(self, scope: Scope, body: bytes) -> tuple[int, bytes] | None:
        """``POST /v1/predictions`` answered as :meth:`create_prediction` answers it, from the body the server read
        whole (:class:`mockserver.core.front.ExpressWrite`): 201 and the prediction's JSON when no rule could apply,
        the key's account is active with no rate limit, the body is a valid create that does not wait, and the
        prediction cannot fail to be made (:meth:`Predictions.create_if_sure`); None, with nothing changed, for any
        other request (the router's way then answers it, errors included)."""
        runtime = self.runtime
        if rules_may_apply(runtime, scope):
            return None
        account = runtime.accounts.get(key_of(scope))
        if account is None or account.suspended or ratelimit.limit_of(runtime, account):
            return None
        settings = runtime.settings
        if json_body_refusal(header_index(scope).get(b"content-type"), body, settings.max_body_bytes) is not None:
            return None
        try:
            data = parse_json(body, settings.max_json_depth)
            create = parse_create(data, self.catalog) if isinstance(data, dict) else None
        except Exception:  # refused input (or a fault): the router's way answers it, in the API's format
            return None
        record = None if create is None or create.wait else self.predictions.create_if_sure(account, create)
        return None if record is None else (201, self.predictions.views.encoded(record, self.links_at(scope)))

    async def list_predictions(self, request: Request) -> Response:
        account = self.authenticate(request)
        records, pagination = self.predictions.list(account.key, **list_filters(request.query_params))
        links, views = self.links(request), self.predictions.views
        data = json_array_bytes(views.encoded(record, links) for record in records)  # the kept views' bytes
        return EncodedJSON(json_object_bytes({"data": data, "pagination": json_bytes(pagination)}))

    async def cancel_prediction(self, request: Request) -> Response:
        account = self.authenticate(request)
        record = self.predictions.cancel(account.key, request.path_params["id"])
        return self.prediction_response(request, record)

    async def delete_prediction(self, request: Request) -> Response:
        account = self.authenticate(request)
        record = self.predictions.delete(account.key, request.path_params["id"])
        return self.prediction_response(request, record)

    async def stream_prediction(self, request: Request) -> Response:
        """SSE status updates until terminal for event-stream clients; the object as JSON otherwise."""
        account = self.authenticate(request)
        record = self.predictions.get(account.key, request.path_params["id"])
        if not accepts_event_stream(request):
            return self.prediction_response(request, record)
        return EventSourceResponse(self._status_events(record, self.links(request)), ping=15,
                                   shutdown_grace_period=self.runtime.settings.shutdown_grace)

    async def _status_events(self, record: dict[str, Any], links: Links) -> AsyncIterator[bytes]:
        """One ``prediction`` event per lifecycle transition (even across clock jumps), then ``done``.

        Framed by the shared SSE writer, with sse-starlette's CRLF line ends (which its pings use too).
        """
        views = self.predictions.views
        async for step in jobs.progress(self.predictions.engine, record):
            if step.interrupted is not None:  # the server is shutting down: say so instead of being cut
                yield _status_event("error", {"id": record["id"], "status": step.interrupted,
                                              "error": SHUTDOWN_MESSAGE})
                return
            for at in step.reached:
                yield _status_event("prediction", views.view(step.record, links, now=at))
            if step.final is not None:
                done = json.dumps({"id": record["id"], "status": step.final})  # spaced, as it always was
                yield sse.encode(done, event="done", newline="\r\n")

    def routes(self) -> list[BaseRoute]:
        mapped = answers_domain_errors  # the Predictions and Models APIs' domain errors, answered as documented
        return [
            file_route(self.runtime.files, self.runtime.renders, self.runtime.files_cache_control),
            Route("/v1/models", mapped(self.list_models), methods=["GET"]),
            Route("/v1/models/{slug}", mapped(self.get_model), methods=["GET"]),
            Route("/v1/model/{slug}", mapped(self.get_model), methods=["GET"]),
            Route(CREATE_PATH, mapped(self.create_prediction), methods=["POST"]),
            Route("/v1/predict", mapped(self.create_prediction), methods=["POST"]),
            Route("/v1/predictions", mapped(self.list_predictions), methods=["GET"]),
            Route(PREDICTION_ROUTE, mapped(self.get_prediction), methods=["GET"]),
            Route("/v1/predictions/{id}", mapped(self.delete_prediction), methods=["DELETE"]),
            Route("/v1/predictions/{id}/delete", mapped(self.delete_prediction), methods=["DELETE", "POST"]),
            Route("/v1/predictions/{id}/cancel", mapped(self.cancel_prediction), methods=["POST"]),
            Route("/v1/predictions/{id}/stream", mapped(self.stream_prediction), methods=["GET"]),
        ]


def _status_event(name: str, payload: dict[str, Any]) -> bytes:
    return sse.encode(json.dumps(payload, separators=(",", ":")), event=name, newline="\r\n")
