"""What a GateAI request costs, in USD, from the model's ``pricing`` rule in the catalog.

Rule kinds (see ``fixtures/gateai/models.json``):

- ``flat``: ``usd`` per generation; quantity, size and duration do not matter.
- ``per_image``: ``usd`` per image of ``reference_size`` pixels (optionally ``by`` a parameter's value),
  scaled by ``width*height`` and multiplied by ``quantity``.
- ``pixel_seconds``: ``usd_per_second`` at ``reference_size``, scaled by ``width*height``; ``points`` pin
  documented prices that the rate does not reproduce (``{"resolution": "1080p", "seconds": 15, ...}``).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from mockserver.gateai import catalog
from mockserver.gateai.catalog import Model

DURATION_PARAMS = ("duration", "durationSeconds")


def duration_param(model: Model) -> str | None:
    """The name of the model's duration parameter, if it has one."""
    return next((name for name in DURATION_PARAMS if model.param(name) is not None), None)


def with_defaults(model: Model, params: Mapping[str, Any] | None) -> dict[str, Any]:
    """``params`` (``None`` values dropped) over the model's documented defaults."""
    merged = {p.name: catalog.to_plain(p.default) for p in model.params if p.has_default}
    merged.update({key: value for key, value in (params or {}).items() if value is not None})
    return merged


def _number(value: Any, fallback: float) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return fallback
    return float(value)


def _default_size(model: Model) -> tuple[int, int] | None:
    width, height = model.param("width"), model.param("height")
    if width is not None and height is not None and width.has_default and height.has_default:
        return int(width.default), int(height.default)
    return None


def mode_size(model: Model, mode: Any, orient_like: tuple[int, int] | None) -> tuple[int, int] | None:
    """The size a resolution ``mode`` preset stands for, turned portrait when ``orient_like`` is."""
    size = model.mode_sizes.get(mode) if isinstance(mode, str) else None
    if size is None:
        return None
    if orient_like is not None and orient_like[1] > orient_like[0]:
        return size[1], size[0]
    return size


def size_of(model: Model, params: Mapping[str, Any]) -> tuple[int, int] | None:
    """The output size a request is priced at; ``None`` for models without width/height sizing.

    A ``mode`` preset wins over width/height; 0 (auto) or a missing side means the default size.
    """
    if model.sizing is None:
        return None
    width, height = params.get("width"), params.get("height")
    given = (int(_number(width, 0)), int(_number(height, 0)))
    preset = mode_size(model, params.get("mode"), given if min(given) > 0 else _default_size(model))
    if preset is not None:
        return preset
    if min(given) > 0:
        return given
    return _default_size(model)


def _reference_pixels(rule: Mapping[str, Any]) -> int:
    ref = rule["reference_size"]
    return int(ref[0]) * int(ref[1])


def _per_image(model: Model, rule: Mapping[str, Any], params: Mapping[str, Any]) -> float:
    unit = float(rule["usd"])
    by = rule.get("by")
    if by is not None:
        value = params.get(by["param"])
        unit = float(by["usd"].get(str(value).lower(), unit))
    size = size_of(model, params)
    scale = size[0] * size[1] / _reference_pixels(rule) if size else 1.0
    quantity = max(1.0, _number(params.get("quantity"), 1.0))
    return unit * scale * quantity


def _matches(point: Mapping[str, Any], size: tuple[int, int], seconds: float) -> bool:
    short_side = int(str(point["resolution"]).rstrip("p"))
    return min(size) == short_side and seconds == float(point["seconds"])


def _pixel_seconds(model: Model, rule: Mapping[str, Any], params: Mapping[str, Any]) -> float:
    name = duration_param(model)
    seconds = _number(params.get(name), 0.0) if name else 0.0
    size = size_of(model, params) or tuple(rule["reference_size"])
    for point in rule.get("points", ()):
        if _matches(point, size, seconds):
            return float(point["usd"])
    return float(rule["usd_per_second"]) * seconds * size[0] * size[1] / _reference_pixels(rule)


def cost(model: Model | str, params: Mapping[str, Any] | None = None) -> float:
    """The USD cost of generating with ``params`` (defaults filled in), rounded to 6 decimals."""
    if isinstance(model, str):
        model = catalog.get(model)
    merged = with_defaults(model, params)
    rule = model.pricing
    kind = rule["kind"]
    if kind == "flat":
        usd = float(rule["usd"])
    elif kind == "per_image":
        usd = _per_image(model, rule, merged)
    elif kind == "pixel_seconds":
        usd = _pixel_seconds(model, rule, merged)
    else:  # pragma: no cover - guarded by the catalog tests
        raise ValueError(f"unknown pricing kind {kind!r} for {model.id}")
    return round(usd, 6)
