"""``POST /v1/predictions`` bodies checked at the HTTP boundary: the contract's shape, a model served here,
valid input (with the schema's defaults applied) and the webhook subscription."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import orjson

from mockserver.core.errors import ApiError
from mockserver.core.recent import Recent
from mockserver.skytells.catalog import Catalog, Model
from mockserver.skytells.inputs import prepare_input
from mockserver.skytells.predictions import DEFAULT_WEBHOOK_EVENTS
from mockserver.spec.requests import body_problem


@dataclass(frozen=True)
class CreateRequest:
    """A validated ``POST /v1/predictions`` body."""

    model: Model
    input: dict[str, Any]
    params: dict[str, Any]
    wait: bool
    stream: bool
    webhook: dict[str, Any]
    #: what planning derives from this request alone, worked out once for it (see :mod:`.predictions`)
    derived: dict[Any, Any] = field(default_factory=dict, compare=False, repr=False)


#: How many create bodies parsed lately are kept, by catalog and JSON text. A client that repeats a body (a load
#: test, a retry) gets the same :class:`CreateRequest` without a second validation; nothing changes one in place,
#: so sharing it is safe.
PARSED_BODIES = 256
_PARSED: Recent[tuple[Catalog, bytes], CreateRequest] = Recent(PARSED_BODIES)


def _bool(body: dict[str, Any], name: str) -> bool:
    return body.get(name) is True  # the contract allows a boolean or null


def parse_webhook(raw: Any) -> dict[str, Any]:
    """``webhook`` (checked against the contract's ``WebhookRequest``) as ``{url, events}``.

    A plain URL string, or an object without ``events``, subscribes to the terminal events;
    ``null``, ``{}`` and ``{url: null, events: []}`` mean no webhook.
    """
    if raw is None:
        return {"url": None, "events": []}
    if isinstance(raw, str):
        return {"url": raw, "events": list(DEFAULT_WEBHOOK_EVENTS)}
    if raw.get("url") is None:
        return {"url": None, "events": []}
    return {"url": raw["url"], "events": list(raw.get("events", DEFAULT_WEBHOOK_EVENTS))}


def parse_create(body: dict[str, Any], catalog: Catalog) -> CreateRequest:
    """Validate a create body: known model served here, valid input (defaults applied); an equal body parsed lately
    gives the same request (orjson's text tells ``1`` from ``1.0`` and ``true``, as JSON does)."""
    try:
        key = (catalog, orjson.dumps(body))
    except TypeError:  # not JSON orjson writes (e.g. an integer beyond 64 bits): parsed each time
        return _parse(body, catalog)
    parsed = _PARSED.get(key)
    return parsed if parsed is not None else _PARSED.put(key, _parse(body, catalog))


def _parse(body: dict[str, Any], catalog: Catalog) -> CreateRequest:
    model_name = body.get("model")
    if not isinstance(model_name, str) or not model_name:
        raise ApiError(400, "INVALID_PARAMETER", "model is required (a model namespace from GET /v1/models)",
                       param="model")
    model = catalog.get(model_name)
    if not model.serves_predictions:
        endpoints = " or ".join(f"POST {e}" for e in model.endpoints)
        raise ApiError(400, "INVALID_PARAMETER",
                       f"Model '{model.namespace}' is a {model.type} model served by the Inference API; "
                       f"use {endpoints} instead of the Predictions API", param="model")
    if "input" not in body:
        raise ApiError(400, "INVALID_INPUT", "input is required (the model's input_schema describes it)",
                       param="input")
    problem = body_problem("skytells", "CreatePredictionBody", body)  # the contract's top-level shape
    if problem is not None:
        on_input = problem.field == "input" or problem.field.startswith(("input.", "input["))
        raise ApiError(400, "INVALID_INPUT" if on_input else "INVALID_PARAMETER", problem.message,
                       param=problem.field or None)
    return CreateRequest(
        model=model,
        input=body["input"],
        params=prepare_input(model, body["input"]),
        wait=_bool(body, "await") or _bool(body, "wait"),
        stream=_bool(body, "stream"),
        webhook=parse_webhook(body.get("webhook")),
    )
