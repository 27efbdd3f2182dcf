"""Money: what a run may cost (the plan, printed before anything is spent) and a guard that stops it.

Prices come from the API itself, never from guesses:

* Skytells: the catalog (``GET /v1/models`` with ``?fields=input_schema``): per image x count, per second x
  duration, per 5-second chunk, per prediction, per megapixel or tier, per compute second (bounded by
  :data:`ASSUMED_COMPUTE_SECONDS`), per token for the Inference API -- computed with the same rules the
  mock bills by (:mod:`mockserver.spec.pricing`).
* GateAI: ``POST /api/estimate`` (free) for one request's cost, and ``GET /credits``: the daily budget caps
  what a key can spend today, so a plan never exceeds what ``/credits`` says remains.

:class:`SpendGuard` is consulted before every paid request (schemathesis' and the behaviour checks'):
a request whose estimated cost would take the run past ``--max-spend`` is not sent, and the run stops.
"""

from __future__ import annotations

import json
import math
import threading
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

import httpx

from mockserver.spec import pricing as billing
from mockserver.spec.pricing import PricedEntry as Model

#: Upper bound of compute seconds for models billed per GPU / computing second.
ASSUMED_COMPUTE_SECONDS = 300.0
#: Output tokens assumed when a request sets no limit and the model's schema gives no default.
ASSUMED_MAX_TOKENS = 8192
#: Chat completions' ``n`` at most: every choice's completion tokens are billed.
MAX_CHOICES = 128
#: How many tokens one byte of request text is taken to be at most (a generous bound; BPE averages ~0.25).
TOKENS_PER_BYTE = 0.5

PREDICTION_PATHS = ("/v1/predictions", "/v1/predict")
INFERENCE_PATHS = ("/v1/chat/completions", "/v1/responses", "/v1/embeddings")
GATEAI_PAID_PATHS = ("/api/generate",)


class SpendLimitReached(Exception):
    """A paid request was not sent: it could take the run past ``--max-spend``."""

    def __init__(self, operation: str, cost: float, spent: float, limit: float) -> None:
        super().__init__(f"spend guard: {operation} was not sent: it may cost ${cost:.4f} and ${spent:.4f} of the "
                         f"${limit:.4f} --max-spend is already committed")
        self.operation = operation
        self.cost = cost


class SpendGuard:
    """Counts what a run commits to spend and refuses requests that would exceed ``limit`` (None: no limit)."""

    def __init__(self, limit: float | None) -> None:
        self.limit = limit
        self.spent = 0.0
        self.refused: SpendLimitReached | None = None
        self._lock = threading.Lock()

    def authorize(self, operation: str, cost: float) -> None:
        """Commit ``cost`` for a request about to be sent, or raise :class:`SpendLimitReached` (sticky)."""
        with self._lock:
            if self.refused is not None and cost > 0:
                raise SpendLimitReached(operation, cost, self.spent, self.limit or 0.0)
            if self.limit is not None and cost > 0 and self.spent + cost > self.limit + 1e-9:
                self.refused = SpendLimitReached(operation, cost, self.spent, self.limit)
                raise self.refused
            self.spent += max(cost, 0.0)

    def settle(self, estimated: float, actual: float | None) -> None:
        """Replace an authorized estimate by what the API says the request cost (when it says)."""
        if actual is None:
            return
        with self._lock:
            self.spent += actual - estimated


def _matches(path: str, candidates: Iterable[str]) -> str | None:
    for candidate in candidates:
        if path == candidate or path.endswith(candidate):
            return candidate
    return None


def _number(value: Any) -> float | None:
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        return None
    return float(value)


def _schema_max(schema: dict[str, Any] | None, fallback: float) -> float:
    """The largest value a numeric property may take (maximum, else the largest enum), else ``fallback``."""
    if not isinstance(schema, dict):
        return fallback
    maximum = _number(schema.get("maximum"))
    if maximum is not None:
        return maximum
    numbers = [n for n in (_number(v) for v in schema.get("enum", ())) if n is not None]
    if numbers:
        return max(numbers)
    default = _number(schema.get("default"))
    return max(default, fallback) if default is not None else fallback


# -- Skytells ------------------------------------------------------------------------------


@dataclass
class SkytellsPrices:
    """Per-request cost bounds from the Skytells catalog."""

    models: dict[str, Model] = field(default_factory=dict)

    @classmethod
    def fetch(cls, client: httpx.Client) -> SkytellsPrices:
        response = client.get("/models", params={"fields": "input_schema"})
        response.raise_for_status()
        entries = response.json()
        return cls({entry["namespace"]: Model(entry) for entry in entries if isinstance(entry, dict)})

    def model(self, name: Any) -> Model | None:
        if not isinstance(name, str):
            return None
        return self.models.get(name) or next(
            (m for n, m in self.models.items() if n.lower() == name.lower()), None)

    @staticmethod
    def _properties(model: Model) -> dict[str, Any]:
        schema = model.data.get("input_schema") or {}
        return schema.get("properties", {}) if isinstance(schema, dict) else {}

    def with_defaults(self, model: Model, given: dict[str, Any]) -> dict[str, Any]:
        params = {name: prop["default"] for name, prop in self._properties(model).items()
                  if isinstance(prop, dict) and "default" in prop}
        params.update(given)
        return params

    def prediction_cost(self, body: Any) -> float:
        """What ``POST /v1/predictions`` with ``body`` costs if it succeeds (0 for bodies it must refuse)."""
        if not isinstance(body, dict):
            return 0.0
        model = self.model(body.get("model"))
        given = body.get("input")
        if model is None or not isinstance(given, dict) or "pricing" not in model.data:
            return 0.0
        try:
            return billing.credits_for(model, self.with_defaults(model, given),
                                       compute_seconds=ASSUMED_COMPUTE_SECONDS)
        except (ValueError, TypeError, KeyError):
            return self.worst_prediction_cost(model)

    def worst_prediction_cost(self, model: Model) -> float:
        """The most one prediction of ``model`` can cost with any valid input."""
        pricing = model.data.get("pricing") or {}
        unit = pricing.get("unit")
        amounts = [_number(pricing.get("amount")) or 0.0]
        amounts += [_number(c.get("amount")) or 0.0 for c in pricing.get("criteria", ()) if isinstance(c, dict)]
        amount = max(amounts)
        props = self._properties(model)
        quantity_field = next((n for n in (pricing.get("quantity_field"), "num_outputs", "number_of_images", "n")
                               if n and n in props), None)
        count = _schema_max(props.get(quantity_field), 1.0) if quantity_field else 1.0
        duration_field = pricing.get("duration_field") or ("duration" if "duration" in props else None)
        seconds = float(pricing.get("assumed_seconds") or
                        (_schema_max(props.get(duration_field), 5.0) if duration_field else 5.0))
        if unit in billing.PER_QUANTITY:
            return amount * count
        if unit in billing.PER_MEGAPIXEL:
            megapixels = _schema_max(props.get("width"), 2048.0) * _schema_max(props.get("height"), 2048.0) / 1e6
            return amount * max(megapixels, 1.0) * count
        if unit in billing.PER_DURATION:
            return amount * seconds
        if unit in billing.PER_CHUNK:
            return amount * math.ceil(seconds / 5.0)
        if unit in billing.PER_COMPUTE_SECOND:
            return amount * ASSUMED_COMPUTE_SECONDS
        if unit == "token":
            return self.token_cost(model, ASSUMED_MAX_TOKENS * 4, ASSUMED_MAX_TOKENS)
        return amount

    @staticmethod
    def token_cost(model: Model, input_tokens: float, output_tokens: float) -> float:
        table = (model.data.get("pricing") or {}).get("tokens") or {}
        per = _number(table.get("per")) or 1_000_000.0
        return ((_number(table.get("input")) or 0.0) * input_tokens
                + (_number(table.get("output")) or 0.0) * output_tokens) / per

    def response_cost(self, path: str, body: dict[str, Any]) -> float | None:
        """What a paid request cost, from its answer: an Inference ``usage`` priced, a prediction's billing."""
        if _matches(path, INFERENCE_PATHS):
            return self.usage_cost(body)
        if _matches(path, PREDICTION_PATHS):
            block = (body.get("metadata") or {}).get("billing") if isinstance(body.get("metadata"), dict) else None
            if isinstance(block, dict) and body.get("status") == "succeeded":
                return _number(block.get("credits_used"))
        return None

    @property
    def budget_cap(self) -> float | None:
        return None

    def inference_cost(self, path: str, body: Any) -> float:
        """A bound on one Inference request: its text as input tokens plus its output-token limit."""
        if not isinstance(body, dict):
            return 0.0
        model = self.model(body.get("model"))
        if model is None:
            return 0.0
        input_tokens = len(json.dumps(body, default=str)) * TOKENS_PER_BYTE
        if path.endswith("/embeddings"):
            return self.token_cost(model, input_tokens, 0)
        limit = next((n for n in (_number(body.get(k)) for k in ("max_tokens", "max_completion_tokens",
                                                                 "max_output_tokens")) if n is not None), None)
        if limit is None:
            limit = _schema_max(self._properties(model).get("max_tokens"), ASSUMED_MAX_TOKENS)
        choices = _number(body.get("n")) if path.endswith("/chat/completions") else None
        return self.token_cost(model, input_tokens, max(limit, 0.0) * max(choices or 1.0, 1.0))

    def worst_cost(self, path: str) -> float:
        """The most any single request to a paid route can cost."""
        served = [m for m in self.models.values() if "pricing" in m.data]
        if _matches(path, PREDICTION_PATHS):
            candidates = [m for m in served if "/v1/predictions" in m.data.get("endpoints", ())]
            return max((self.worst_prediction_cost(m) for m in candidates), default=0.0)
        if _matches(path, INFERENCE_PATHS):
            text = [m for m in served if m.data.get("type") == "text"]
            choices = MAX_CHOICES if path.endswith("/chat/completions") else 1
            return max((self.token_cost(m, ASSUMED_MAX_TOKENS * 4, ASSUMED_MAX_TOKENS * choices) for m in text),
                       default=0.0)
        return 0.0

    def cost(self, method: str, path: str, body: Any) -> float:
        """Estimated cost of one request (0 for free routes); never above the plan's bound for its route, so
        what a run reports as sent stays within what it planned."""
        if method.upper() != "POST":
            return 0.0
        if _matches(path, PREDICTION_PATHS):
            return self.prediction_cost(body)
        if _matches(path, INFERENCE_PATHS):
            return min(self.inference_cost(path, body), self.worst_cost(path))
        return 0.0

    def usage_cost(self, body: Any) -> float | None:
        """What an Inference answer cost, from the ``usage`` it reports (None when it reports none)."""
        if not isinstance(body, dict) or not isinstance(body.get("usage"), dict):
            return None
        model = self.model(body.get("model"))
        if model is None:
            return None
        usage = body["usage"]
        spent_in = _number(usage.get("prompt_tokens", usage.get("input_tokens")))
        spent_out = _number(usage.get("completion_tokens", usage.get("output_tokens")))
        if spent_in is None or spent_out is None:
            return None
        return self.token_cost(model, spent_in, spent_out)

    def paid(self, method: str, path: str) -> bool:
        return method.upper() == "POST" and _matches(path, (*PREDICTION_PATHS, *INFERENCE_PATHS)) is not None


# -- GateAI --------------------------------------------------------------------------------


@dataclass
class GateAIPrices:
    """Per-request costs from ``POST /api/estimate``; the day's budget from ``GET /credits``."""

    client: httpx.Client
    remaining: float | None = None

    @classmethod
    def fetch(cls, client: httpx.Client) -> GateAIPrices:
        prices = cls(client)
        prices.remaining = prices.budget_remaining()
        return prices

    def budget_remaining(self) -> float | None:
        try:
            response = self.client.get("/credits")
            value = response.json()["your_budget"]["remaining"]
        except (httpx.HTTPError, ValueError, KeyError, TypeError):
            return None
        return _number(value)

    def estimate(self, body: Any) -> float:
        """What ``/api/generate`` with ``body`` would cost (0 when the API would refuse the body)."""
        if not isinstance(body, dict):
            return 0.0
        try:
            response = self.client.post("/api/estimate", json=body)
        except httpx.HTTPError:
            return 0.0
        if response.status_code != 200:
            return 0.0
        try:
            data = response.json()
        except ValueError:
            return 0.0
        if not isinstance(data, dict):
            return 0.0
        if data.get("fits_in_budget") is False:
            adjusted = _number(data.get("adjusted_cost"))
            return adjusted if adjusted is not None else 0.0
        return _number(data.get("cost")) or 0.0

    def response_cost(self, path: str, body: dict[str, Any]) -> float | None:
        """What a generation cost: the answer's ``cost``."""
        return _number(body.get("cost"))

    @property
    def budget_cap(self) -> float | None:
        """What ``/credits`` says remains today (nothing can spend more)."""
        return self.remaining

    def worst_cost(self, path: str) -> float:
        """One generation can cost at most what remains of today's budget."""
        if not _matches(path, GATEAI_PAID_PATHS):
            return 0.0
        return self.remaining or 0.0

    def cost(self, method: str, path: str, body: Any) -> float:
        if method.upper() != "POST" or not _matches(path, GATEAI_PAID_PATHS):
            return 0.0
        return self.estimate(body)

    def paid(self, method: str, path: str) -> bool:
        return method.upper() == "POST" and _matches(path, GATEAI_PAID_PATHS) is not None


Prices = SkytellsPrices | GateAIPrices


def actual_cost(path: str, status: int, body: Any, prices: Prices) -> float | None:
    """What a paid request cost, read from its response by the API's ``prices`` (None when it does not say)."""
    if status >= 400:
        return 0.0
    if not isinstance(body, dict):
        return None
    return prices.response_cost(path, body)


# -- the plan ------------------------------------------------------------------------------


@dataclass(frozen=True)
class PlanItem:
    """One part of a run: how many paid requests it may send and what each may cost at most."""

    what: str
    paid_requests: int
    cost_each: float
    note: str = ""

    @property
    def worst_case(self) -> float:
        return self.paid_requests * self.cost_each


@dataclass
class SpendPlan:
    """What a run will do and what it may cost, shown before anything is spent."""

    api: str
    base_url: str
    target_kind: str
    read_only: bool
    max_spend: float | None
    items: list[PlanItem] = field(default_factory=list)
    budget_cap: float | None = None  # GateAI: what /credits says remains today (nothing can spend more)
    lines: list[str] = field(default_factory=list)  # what runs (phases, operations, machines)

    @property
    def worst_case(self) -> float:
        total = sum(item.worst_case for item in self.items)
        return min(total, self.budget_cap) if self.budget_cap is not None else total

    def refusal(self) -> str | None:
        """Why this run must not start (None: it may)."""
        if self.read_only:
            return None
        if self.max_spend is None:
            if self.target_kind == "remote" and self.worst_case > 0:
                return ("refusing to send paid requests to a real endpoint without a limit: pass --max-spend "
                        f"(this plan may cost up to ${self.worst_case:.2f}) or --read-only")
            return None
        if self.worst_case > self.max_spend + 1e-9:
            return (f"the plan may cost up to ${self.worst_case:.2f}, more than --max-spend ${self.max_spend:.2f}; "
                    "lower --max-examples, skip phases, or use --read-only")
        return None

    def render(self) -> str:
        limit = "none" if self.max_spend is None else f"${self.max_spend:.2f}"
        out = [f"Plan: {self.api} at {self.base_url} ({self.target_kind}"
               + (", read-only: GET requests only" if self.read_only else "") + ")"]
        out += [f"  {line}" for line in self.lines]
        if self.items:
            out.append("  paid requests (upper bounds):")
            for item in self.items:
                note = f"  [{item.note}]" if item.note else ""
                out.append(f"    {item.what:<44} {item.paid_requests:>5} x <= ${item.cost_each:<9.4f}"
                           f" = ${item.worst_case:.4f}{note}")
        cap = f" (capped by today's remaining budget ${self.budget_cap:.2f})" if self.budget_cap is not None else ""
        out.append(f"  worst-case spend: ${self.worst_case:.4f}{cap}; --max-spend: {limit}"
                   + ("; the mock's money is not real" if self.target_kind == "mock" else ""))
        return "\n".join(out)
