"""Skytells HTTP layer: thin handlers over the catalog and the predictions domain."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from typing import Any

from sse_starlette import EventSourceResponse
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from mockserver.core.accounts import Account
from mockserver.core.asgi import public_base
from mockserver.core.errors import ApiError
from mockserver.core.files import file_route
from mockserver.core.http import JSONResponse, accepts_event_stream, api_key_from, read_json_object
from mockserver.core.rules.select import scripted_result
from mockserver.core.runtime import Runtime
from mockserver.skytells import ratelimit
from mockserver.skytells.catalog import Catalog, parse_fields
from mockserver.skytells.predictions import Predictions, parse_create

#: Status streams that may write their pending events at the same time.
EMITTING_STREAMS = 4
#: The last event of a status stream cut short by a server shutdown.
SHUTDOWN_MESSAGE = "The server is shutting down; GET the prediction again once it is back"


class SkytellsAPI:
    """Handlers bound to one runtime."""

    def __init__(self, runtime: Runtime, catalog: Catalog, predictions: Predictions) -> None:
        self.runtime = runtime
        self.catalog = catalog
        self.predictions = predictions
        # Status streams writing their events at once: the rest wait their turn (off the loop's ready queue),
        # so a request on either port waits behind at most this many bursts, not behind every woken stream.
        self._emitting = asyncio.Semaphore(EMITTING_STREAMS)

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

    def api_base(self, request: Request) -> str:
        """``<scheme>://<host>[/<mount>]/v1`` as the client reached us (or the public URL)."""
        base = self.runtime.settings.public_url or public_base(request)
        return base.rstrip("/") + "/v1"

    def prediction_response(self, request: Request, record: dict[str, Any], status: int = 200) -> Response:
        return JSONResponse(self.predictions.view(record, self.api_base(request)), status_code=status)

    # -- Models API ----------------------------------------------------------------------

    async def list_models(self, request: Request) -> Response:
        self.authenticate(request)
        fields = parse_fields(request.query_params.get("fields"))
        return JSONResponse([model.view(fields) for model in self.catalog])

    async def get_model(self, request: Request) -> Response:
        self.authenticate(request)
        fields = parse_fields(request.query_params.get("fields"))
        return JSONResponse(self.catalog.get(request.path_params["slug"]).view(fields))

    # -- Predictions API -----------------------------------------------------------------

    async def create_prediction(self, request: Request) -> Response:
        account = self.authenticate(request)
        body = await read_json_object(request, self.runtime.settings.max_body_bytes)
        create = parse_create(body, self.catalog)
        record = self.predictions.create(account.key, create, scripted_result(request), self.api_base(request))
        if create.wait:
            record = await self.predictions.wait_terminal(record, self.runtime.settings.await_timeout)
        return self.prediction_response(request, record, status=201)

    async def get_prediction(self, request: Request) -> Response:
        account = self.authenticate(request)
        return self.prediction_response(request, self.predictions.get(account.key, request.path_params["id"]))

    async def list_predictions(self, request: Request) -> Response:
        account = self.authenticate(request)
        query = request.query_params
        records, pagination = self.predictions.list(
            account.key,
            page=query.get("page"),
            per_page=query.get("per_page"),
            model=query.get("model"),
            status=query.get("status"),
            date_from=query.get("from") or query.get("since"),
            date_to=query.get("to") or query.get("until"),
        )
        base = self.api_base(request)
        return JSONResponse({"data": [self.predictions.view(r, base) for r in records], "pagination": pagination})

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
        base = self.api_base(request)
        return EventSourceResponse(self._status_events(record, base), ping=15,
                                   shutdown_grace_period=self.runtime.settings.shutdown_grace)

    async def _status_events(self, record: dict[str, Any], base: str) -> AsyncIterator[dict[str, str]]:
        """One ``prediction`` event per lifecycle transition (even across clock jumps), then ``done``."""
        predictions, clock = self.predictions, self.runtime.clock
        emitted = 0
        current = record
        while True:
            line = predictions.timeline(current)
            now = clock.now()
            reached = [(status, at) for status, at in line if at <= now] or line[:1]
            async with self._emitting:  # a clock jump that wakes hundreds of streams leaves room for others
                for _status, at in reached[emitted:]:
                    view = predictions.view(current, base, now=at)
                    yield {"event": "prediction", "data": json.dumps(view, separators=(",", ":"))}
                emitted = max(emitted, len(reached))
                if predictions.state(current, now).terminal:
                    yield {"event": "done", "data": json.dumps({"id": current["id"], "status": reached[-1][0]})}
                    return
            upcoming = [at for _, at in line if at > now]
            await clock.sleep_until(upcoming[0], max_real=30.0, client=True)
            if clock.draining:  # the server is shutting down: say so instead of being cut
                status = predictions.state(current).status
                yield {"event": "error", "data": json.dumps({"id": current["id"], "status": status,
                                                             "error": SHUTDOWN_MESSAGE}, separators=(",", ":"))}
                return
            current = self.runtime.store.get("prediction", record["id"]) or current

    def routes(self) -> list[BaseRoute]:
        return [
            file_route(self.runtime.files, self.runtime.renders, self.runtime.files_cache_control),
            Route("/v1/models", self.list_models, methods=["GET"]),
            Route("/v1/models/{slug}", self.get_model, methods=["GET"]),
            Route("/v1/model/{slug}", self.get_model, methods=["GET"]),
            Route("/v1/predictions", self.create_prediction, methods=["POST"]),
            Route("/v1/predict", self.create_prediction, methods=["POST"]),
            Route("/v1/predictions", self.list_predictions, methods=["GET"]),
            Route("/v1/predictions/{id}", self.get_prediction, methods=["GET"]),
            Route("/v1/predictions/{id}", self.delete_prediction, methods=["DELETE"]),
            Route("/v1/predictions/{id}/delete", self.delete_prediction, methods=["DELETE", "POST"]),
            Route("/v1/predictions/{id}/cancel", self.cancel_prediction, methods=["POST"]),
            Route("/v1/predictions/{id}/stream", self.stream_prediction, methods=["GET"]),
        ]
