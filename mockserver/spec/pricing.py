"""Credits a Skytells prediction costs, from the catalog's pricing rule (credits are US dollars).

A pricing fact both sides use: the server bills by it and the harness bounds a run's spend with it.

Units (``pricing.unit``): ``image`` (x image count), ``image_megapixel`` (x megapixels per image,
or a per-resolution tier), ``second`` (x duration), ``5 seconds`` (x started 5-second chunks),
``prediction`` / ``video`` (flat), ``gpu`` / ``computing_second`` (x compute seconds from metrics).
``criteria`` pick a tier price by an input field (first match wins).
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from typing import Any, Protocol

PER_QUANTITY = {"image"}
PER_DURATION = {"second", "video_second", "audio_second"}
PER_CHUNK = {"5 seconds"}
FLAT = {"prediction", "video"}
PER_COMPUTE_SECOND = {"gpu", "computing_second"}
PER_MEGAPIXEL = {"image_megapixel"}


class Model(Protocol):
    """What pricing reads of a catalog model (the server's ``skytells.catalog.Model``, or :class:`PricedEntry`)."""

    @property
    def namespace(self) -> str: ...

    @property
    def pricing(self) -> dict[str, Any]: ...

    @property
    def returns_array(self) -> bool: ...


@dataclass(frozen=True)
class PricedEntry:
    """A catalog entry as ``GET /v1/models?fields=output_schema`` shows it, for pricing it."""

    data: dict[str, Any]

    @property
    def namespace(self) -> str:
        return self.data["namespace"]

    @property
    def pricing(self) -> dict[str, Any]:
        return self.data["pricing"]

    @property
    def returns_array(self) -> bool:
        return self.data["output_schema"].get("type") == "array"


def round_money(value: float) -> float:
    """Money is kept to 1e-9 so sums of small prices stay exact enough to compare."""
    return round(value, 9)


def _matches(criterion: dict[str, Any], value: Any) -> bool:
    operator = criterion.get("operator", "==")
    if operator in ("==", "equals"):
        return value == criterion["value"] or str(value) == str(criterion["value"])
    raise ValueError(f"unsupported pricing operator {operator!r}")


def unit_amount(pricing: dict[str, Any], params: dict[str, Any]) -> float:
    """The price of one unit for these parameters (tier by ``criteria``, else ``amount``)."""
    for criterion in pricing.get("criteria", ()):
        if criterion["field"] in params and _matches(criterion, params[criterion["field"]]):
            return float(criterion["amount"])
    return float(pricing["amount"])


def quantity(model: Model, params: dict[str, Any]) -> int:
    """How many outputs the parameters ask for and the prediction returns (what is billed).

    1 unless the model has a count field *and* returns an array: a model documented to return a single
    URL (``truefusion-x``, ``FLUX-1.1-pro``: "Returns a single image URL") returns one image whatever
    its ``n``, so one image is billed -- never more outputs billed than returned.
    """
    if not model.returns_array:
        return 1
    field = model.pricing.get("quantity_field")
    for name in (field, "num_outputs", "number_of_images", "n"):
        if name and isinstance(params.get(name), int | float) and not isinstance(params.get(name), bool):
            return max(int(params[name]), 1)
    return 1


def duration_seconds(model: Model, params: dict[str, Any]) -> float:
    """Seconds of media the parameters ask for (or the rule's assumed input length)."""
    if "assumed_seconds" in model.pricing:
        return float(model.pricing["assumed_seconds"])
    for name in (model.pricing.get("duration_field"), "duration", "seconds"):
        if name and name in params:
            try:
                return float(params[name])
            except (TypeError, ValueError):
                continue
    return 5.0


_MP = re.compile(r"^\s*([\d.]+)\s*MP\s*$", re.IGNORECASE)


def megapixels(params: dict[str, Any]) -> float:
    """Output megapixels: explicit width x height, else an ``N MP`` resolution, else 1."""
    width, height = params.get("width"), params.get("height")
    if isinstance(width, int) and isinstance(height, int) and width > 0 and height > 0:
        return width * height / 1_000_000
    match = _MP.match(str(params.get("resolution", "")))
    if match:
        return float(match.group(1))
    return 1.0


def credits_for(model: Model, params: dict[str, Any], compute_seconds: float = 0.0) -> float:
    """Credits a successful prediction with ``params`` costs."""
    pricing = model.pricing
    unit = pricing["unit"]
    amount = unit_amount(pricing, params)
    if unit in PER_QUANTITY:
        total = amount * quantity(model, params)
    elif unit in PER_MEGAPIXEL:
        tiered = any(c["field"] in params and _matches(c, params[c["field"]]) for c in pricing.get("criteria", ()))
        per_image = amount if tiered else amount * megapixels(params)
        total = per_image * quantity(model, params)
    elif unit in PER_DURATION:
        total = amount * duration_seconds(model, params)
    elif unit in PER_CHUNK:
        total = amount * math.ceil(duration_seconds(model, params) / 5.0)
    elif unit in FLAT:
        total = amount
    elif unit in PER_COMPUTE_SECOND:
        total = amount * compute_seconds
    else:
        raise ValueError(f"{model.namespace}: no prediction pricing for unit {unit!r}")
    return round_money(total)
