"""Thin HTTP handlers of the Inference API: authenticate, parse, generate, bill, render.

A scripted outcome's ``reply`` (from a matching rule) replaces the generated assistant text.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from mockserver.core.bodies import depth_limit
from mockserver.core.http import EncodedJSON, JSONResponse, json_bytes, json_object_of, read_json_body, read_json_object
from mockserver.core.recent import Recent
from mockserver.core.rules.model import ScriptedResult, Turn
from mockserver.core.rules.select import scripted_result
from mockserver.skytells.inference import billing, chat, embeddings, params, response_views, responses
from mockserver.skytells.inference.errors import answers_domain_errors
from mockserver.skytells.inference.pacing import Pacer
from mockserver.skytells.inference.streaming import SSEResponse, paced_frames

if TYPE_CHECKING:
    from mockserver.skytells.routes import SkytellsAPI


def scripted_turn(request: Request) -> Turn | None:
    """The model turn (text, tool calls or JSON) a matching rule scripts for this request, if any."""
    outcome: ScriptedResult | None = scripted_result(request)
    return None if outcome is None else outcome.turn


def _query_int(value: str | None, name: str) -> int | None:
    if value is None or value == "":
        return None
    try:
        return int(value)
    except ValueError:
        raise params.invalid(name, f"'{name}' must be an integer") from None


#: Chat bodies up to this many bytes have their validated request kept by their bytes, so a load test repeating
#: one body parses and validates it once: the request is a pure function of the bytes, the catalog and the depth
#: limit (a refused body is not kept). At most ~10 MB for :data:`CACHED_CHAT_REQUESTS` of them.
CACHED_CHAT_BODY = 8192
CACHED_CHAT_REQUESTS = 1024


def page_query(query: Mapping[str, str]) -> response_views.Page:
    """``?limit=&order=&after=&before=`` of ``GET /v1/responses/{id}/input_items`` (a bad value: invalid input)."""
    limit = params.integer({"limit": _query_int(query.get("limit"), "limit")}, "limit", 1,
                           response_views.DEFAULT_PAGE, maximum=response_views.MAX_PAGE)
    order = query.get("order") or "desc"
    if order not in ("asc", "desc"):
        raise params.invalid("order", "'order' must be asc or desc")
    return response_views.Page(limit or response_views.DEFAULT_PAGE, order, query.get("after") or None,
                               query.get("before") or None)


class InferenceAPI:
    """``/v1/chat/completions``, ``/v1/responses[/{id}]`` and ``/v1/embeddings``."""

    def __init__(self, api: SkytellsAPI) -> None:
        self.api = api
        self.runtime = api.runtime
        self.catalog = api.catalog
        self.responses = responses.Responses(api.runtime)
        self._chat_requests: Recent[tuple[bytes, int], chat.ChatRequest] = Recent(CACHED_CHAT_REQUESTS)

    async def _body(self, request: Request) -> dict:
        return await read_json_object(request, self.runtime.settings.max_body_bytes)

    async def _chat_request(self, request: Request) -> chat.ChatRequest:
        """The validated chat request (:func:`chat.parse` of the body); see :data:`CACHED_CHAT_BODY`."""
        raw = await read_json_body(request, self.runtime.settings.max_body_bytes)
        if len(raw) > CACHED_CHAT_BODY:
            return chat.parse(json_object_of(request, raw), self.catalog)
        key = (raw, depth_limit(request.scope))
        known = self._chat_requests.get(key)
        if known is None:
            known = self._chat_requests.put(key, chat.parse(json_object_of(request, raw), self.catalog))
        return known

    async def chat_completions(self, request: Request) -> Response:
        account = self.api.authenticate(request)
        pacer = Pacer(self.runtime)
        parsed = await self._chat_request(request)
        generations = chat.run(self.runtime, parsed, scripted_turn(request))
        billing.charge(self.runtime, account.key, billing.cost(parsed.model, *chat.billed_tokens(generations)))
        completion_id = "chatcmpl-" + self.runtime.rng.token("chatcmpl", 29)
        created = int(pacer.start)
        if parsed.stream:
            items = chat.encoded_chunks(parsed, generations, completion_id, created)
            return SSEResponse(paced_frames(items, pacer, named=False, done=True), listen=not pacer.instant)
        if not pacer.instant:
            await pacer.finished(max(g.completion_tokens for g in generations))
        return EncodedJSON(chat.encoded_completion(parsed, generations, completion_id, created))

    async def create_response(self, request: Request) -> Response:
        account = self.api.authenticate(request)
        pacer = Pacer(self.runtime)
        parsed = responses.parse(await self._body(request), self.catalog)
        record, generation = self.responses.create(account.key, parsed, scripted_turn(request))
        billing.charge(self.runtime, account.key,
                       billing.cost(parsed.model, generation.prompt_tokens, generation.completion_tokens,
                                    generation.cached_tokens))
        # Stored once billed, with its final state: a GET during a paced stream sees the result.
        self.responses.save(record)
        if parsed.stream:
            items = response_views.events(record, generation)
            return SSEResponse(paced_frames(items, pacer, named=True, done=False), listen=not pacer.instant)
        await pacer.finished(generation.completion_tokens)
        return JSONResponse(response_views.view(record))

    async def get_response(self, request: Request) -> Response:
        account = self.api.authenticate(request)
        return JSONResponse(response_views.view(self.responses.get(account.key, request.path_params["id"])))

    async def list_input_items(self, request: Request) -> Response:
        account = self.api.authenticate(request)
        record = self.responses.get(account.key, request.path_params["id"])
        return JSONResponse(response_views.input_items(record, page_query(request.query_params)))

    async def delete_response(self, request: Request) -> Response:
        account = self.api.authenticate(request)
        return JSONResponse(self.responses.delete(account.key, request.path_params["id"]))

    async def create_embeddings(self, request: Request) -> Response:
        account = self.api.authenticate(request)
        parsed = embeddings.parse(await self._body(request), self.catalog)
        body, used = embeddings.create(self.runtime.rng, parsed, serialized=True)
        billing.charge(self.runtime, account.key, billing.cost(parsed.model, used, 0))
        return EncodedJSON(json_bytes(body))

    def routes(self) -> list[BaseRoute]:
        mapped = answers_domain_errors  # the Inference API's domain errors, answered as documented
        return [
            Route("/v1/chat/completions", mapped(self.chat_completions), methods=["POST"]),
            Route("/v1/responses", mapped(self.create_response), methods=["POST"]),
            Route("/v1/responses/{id}", mapped(self.get_response), methods=["GET"]),
            Route("/v1/responses/{id}", mapped(self.delete_response), methods=["DELETE"]),
            Route("/v1/responses/{id}/input_items", mapped(self.list_input_items), methods=["GET"]),
            Route("/v1/embeddings", mapped(self.create_embeddings), methods=["POST"]),
        ]
