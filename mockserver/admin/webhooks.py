"""Control-plane routes for webhook delivery: the delivery journal, signing secrets, settling.

* ``GET /_mock/webhooks`` -- ``{"data": [event, ...], "total": n}``, oldest event first; filters
  ``prediction_id`` (or ``subject``), ``key`` (the raw API key), ``status`` (pending / delivered /
  failed), ``payload=false`` to leave out the delivered bodies;
* ``GET /_mock/webhooks/secret?key=…`` -- ``{"key": masked, "secret": "whsec_…"}`` (404 for an unknown key);
* ``POST /_mock/webhooks/settle`` -- waits until nothing is due now nor in flight:
  ``{"settled": bool, "pending": n, "in_flight": n}``;
* ``DELETE /_mock/webhooks`` -- forgets finished events (optionally one ``key``'s): ``{"cleared": n}``.
  Pending events are live state, not history: they stay (``POST /_mock/reset`` drops them).
"""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from mockserver.admin.errors import bad_request, not_found
from mockserver.core.accounts import mask_key
from mockserver.core.http import JSONResponse
from mockserver.core.runtime import Runtime
from mockserver.core.webhooks import EVENT_STATES


def _optional(request: Request, *names: str) -> str | None:
    """The first non-empty query parameter among ``names``."""
    for name in names:
        value = request.query_params.get(name)
        if value:
            return value
    return None


def routes(runtime: Runtime) -> list[BaseRoute]:
    webhooks = runtime.webhooks

    async def journal(request: Request) -> Response:
        state = _optional(request, "status", "state")
        if state is not None and state not in EVENT_STATES:
            raise bad_request(f"status must be one of {', '.join(EVENT_STATES)}", param="status")
        payload = request.query_params.get("payload", "true").lower()
        if payload not in ("true", "false", "1", "0"):
            raise bad_request("payload must be true or false", param="payload")
        events = webhooks.events(subject=_optional(request, "prediction_id", "subject"),
                                 owner=_optional(request, "key"), state=state,
                                 with_payload=payload in ("true", "1"))
        return JSONResponse({"data": events, "total": len(events)})

    async def secret(request: Request) -> Response:
        key = request.query_params.get("key")
        if not key:
            raise bad_request("key is required (an API key of this server)", param="key")
        if runtime.accounts.get(key) is None:
            raise not_found(f"No API key {mask_key(key)} on this server")
        return JSONResponse({"key": mask_key(key), "secret": webhooks.secret_for(key)})

    async def settle(request: Request) -> Response:
        settled = await webhooks.settle()
        pending = webhooks.events(state="pending", with_payload=False)
        return JSONResponse({"settled": settled, "pending": len(pending),
                             "in_flight": sum(event["in_flight"] for event in pending)})

    async def clear(request: Request) -> Response:
        return JSONResponse({"cleared": webhooks.clear_journal(_optional(request, "key"))})

    return [
        Route("/webhooks", journal, methods=["GET"]),
        Route("/webhooks", clear, methods=["DELETE"]),
        Route("/webhooks/secret", secret, methods=["GET"]),
        Route("/webhooks/settle", settle, methods=["POST"]),
    ]
