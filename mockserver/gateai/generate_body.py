"""``/api/generate`` and ``/api/estimate`` bodies checked at the HTTP boundary against the contract."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from mockserver.core.errors import ApiError
from mockserver.gateai import catalog
from mockserver.gateai.catalog import Model
from mockserver.spec.requests import body_problem


@dataclass(frozen=True)
class GenerateRequest:
    """A parsed ``/api/generate`` (or ``/api/estimate``) body: the model and the params as sent."""

    model: Model
    params: Any


def parse_request(body: dict[str, Any]) -> GenerateRequest:
    """The model and params of a generate/estimate body checked against the contract's ``GenerateBody``."""
    problem = body_problem("gateai", "GenerateBody", body)
    if problem is not None:
        code = "INVALID_PARAMS" if problem.field.startswith("params") else "INVALID_REQUEST"
        raise ApiError(400, code, problem.message, param=problem.field or None)
    model = catalog.get(body["model"].strip())
    raw = body.get("params")
    return GenerateRequest(model, {} if raw is None else raw)
