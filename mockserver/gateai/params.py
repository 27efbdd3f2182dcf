"""Turn a GateAI request's ``params`` into what the mock generates: defaults, validation, size snapping,
inline reference checks, and the budget downgrade (lower resolution first, then duration).

Every client error is an :class:`~mockserver.core.errors.InvalidInput` naming the field: reason ``TOO_LONG``
(the prompt) and ``TOO_MANY`` (the quantity) are the doc's ``PROMPT_TOO_LONG`` and ``QUANTITY_TOO_HIGH``,
anything else ``INVALID_PARAMS`` (:mod:`mockserver.gateai.task_errors` answers them).
Each change made to the request is reported in ``adjustments`` as
``{"param", "from", "to", "reason"}``.
"""

from __future__ import annotations

import base64
import binascii
import math
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from mockserver.core.errors import MISSING, TOO_LONG, TOO_MANY, InvalidInput
from mockserver.core.http import split_url
from mockserver.gateai import catalog, pricing
from mockserver.gateai.catalog import Model, Param
from mockserver.spec.catalogs import HTTPS_REFERENCE

# Two table entries whose aspect ratios differ by less than this (in log space, ~3 %) count as the same
# aspect ratio, so that the pixel count decides between size tiers (gpt-image-2's 16:9 Small/Medium/Large).
ASPECT_TOLERANCE = 0.03
# A step-range model's size shrinks by this factor per resolution downgrade step.
RANGE_DOWNGRADE_FACTOR = 0.75

SNAP_REASON = "snapped to the nearest supported size"
RESOLUTION_REASON = "resolution lowered to fit the remaining budget"
DURATION_REASON = "duration shortened to fit the remaining budget"

Adjustment = dict[str, Any] | str

#: The contract's pattern for an inline https reference (one definition: mockserver.spec.catalogs).
_HTTPS_REFERENCE = re.compile(HTTPS_REFERENCE)


@dataclass(frozen=True)
class Prepared:
    """Params ready to price and generate, plus every change made to what the client sent."""

    params: dict[str, Any]
    adjustments: list[Adjustment] = field(default_factory=list)


def _invalid(param: str, message: str, **details: Any) -> InvalidInput:
    return InvalidInput(param, message, details=details)


def _change(name: str, old: Any, new: Any, reason: str) -> dict[str, Any]:
    return {"param": name, "from": old, "to": new, "reason": reason}


# --- request limits ------------------------------------------------------------------------------


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def _check_limits(params: Mapping[str, Any], max_prompt_length: int | None = None) -> None:
    """The documented prompt and quantity limits; ``max_prompt_length`` overrides the prompt's (a key's limit)."""
    limits = catalog.limits()
    prompt_max = limits.prompt_max_chars if max_prompt_length is None else max_prompt_length
    prompt = params.get("prompt")
    if prompt is not None:
        if not isinstance(prompt, str):
            raise _invalid("prompt", "prompt must be a string")
        if len(prompt) > prompt_max:
            raise InvalidInput("prompt", f"Prompt is {len(prompt)} characters; the maximum is {prompt_max}", TOO_LONG,
                               details={"length": len(prompt), "max": prompt_max})
    quantity = params.get("quantity")
    if quantity is not None:
        if not _is_number(quantity):
            raise _invalid("quantity", "quantity must be a number")
        if quantity > limits.quantity_max:
            raise _quantity_too_high(quantity, limits.quantity_max)


def _quantity_too_high(quantity: Any, maximum: Any) -> InvalidInput:
    return InvalidInput("quantity", f"quantity {quantity} is above the maximum of {maximum} per request", TOO_MANY,
                        details={"quantity": quantity, "max": maximum})


#: Largest integer magnitude accepted anywhere in params (JSON numbers beyond this are not interoperable).
MAX_SAFE_INTEGER = 2**53


def _check_numbers(name: str, value: Any) -> None:
    """Every number inside ``value`` is finite and within +-2^53 (``NaN``, ``Infinity``, 1e400 are refused)."""
    if _is_number(value):
        finite = math.isfinite(value) if isinstance(value, float) else True
        if not finite or abs(value) > MAX_SAFE_INTEGER:
            raise _invalid(name, f"{name} must be a finite number between -2^53 and 2^53")
    elif isinstance(value, Mapping):
        for key, item in value.items():
            _check_numbers(f"{name}.{key}", item)
    elif isinstance(value, list):
        for index, item in enumerate(value):
            _check_numbers(f"{name}[{index}]", item)


# --- per-parameter validation --------------------------------------------------------------------


def _coerce_type(spec: Param, value: Any) -> Any:
    kind = spec.type
    if kind == "integer":
        if isinstance(value, float) and value.is_integer():
            return int(value)
        ok = isinstance(value, int) and not isinstance(value, bool)
    elif kind == "number":
        ok = _is_number(value)
    elif kind == "string":
        ok = isinstance(value, str)
    elif kind == "boolean":
        ok = isinstance(value, bool)
    elif kind == "array":
        ok = isinstance(value, list)
    else:
        ok = True
    if not ok:
        raise _invalid(spec.name, f"{spec.name} must be of type {kind}", expected=kind)
    return value


def _check_enum(spec: Param, value: Any, adjustments: list[Adjustment]) -> Any:
    assert spec.enum is not None
    if value in spec.enum and not isinstance(value, bool):
        return value
    if isinstance(value, str):
        for option in spec.enum:
            if isinstance(option, str) and option.lower() == value.lower():
                adjustments.append(_change(spec.name, value, option, "normalised to the documented spelling"))
                return option
    raise _invalid(spec.name, f"{spec.name} must be one of {list(spec.enum)}", allowed=list(spec.enum))


def _check_bounds(spec: Param, value: Any) -> None:
    if _is_number(value):
        if spec.name == "quantity" and spec.max is not None and value > spec.max:
            raise _quantity_too_high(value, spec.max)
        if spec.min is not None and value < spec.min:
            raise _invalid(spec.name, f"{spec.name} must be at least {spec.min}", min=spec.min)
        if spec.max is not None and value > spec.max:
            raise _invalid(spec.name, f"{spec.name} must be at most {spec.max}", max=spec.max)
    if isinstance(value, str):
        if spec.min_len is not None and len(value) < spec.min_len:
            raise _invalid(spec.name, f"{spec.name} must be at least {spec.min_len} characters")
        if spec.max_len is not None and len(value) > spec.max_len:
            raise _invalid(spec.name, f"{spec.name} must be at most {spec.max_len} characters")


def _validate(model: Model, params: dict[str, Any], adjustments: list[Adjustment]) -> None:
    for spec in model.params:
        if spec.name not in params:
            if spec.required:
                raise InvalidInput(spec.name, f"Missing required parameter: {spec.name}", MISSING)
            continue
        if model.sizing is not None and spec.name in ("width", "height"):
            continue  # sizes are snapped, not rejected
        value = _coerce_type(spec, params[spec.name])
        if spec.enum is not None:
            value = _check_enum(spec, value, adjustments)
        _check_bounds(spec, value)
        params[spec.name] = value


# --- sizes -----------------------------------------------------------------------------------------


#: id(model.resolutions) -> (those resolutions, their (width, height) pairs); the tuple is kept, so an id is never
#: mistaken for another's. Catalog models live as long as the process.
_TABLES: dict[int, tuple[tuple[Any, ...], list[tuple[int, int]]]] = {}


def _table(model: Model) -> list[tuple[int, int]]:
    """The model's documented ``(width, height)`` pairs (read once per model; callers do not change the list)."""
    cached = _TABLES.get(id(model.resolutions))
    if cached is None or cached[0] is not model.resolutions:
        cached = _TABLES[id(model.resolutions)] = (model.resolutions, [(r.width, r.height) for r in model.resolutions])
    return cached[1]


def _nearest_pair(target: tuple[int, int], pairs: list[tuple[int, int]]) -> tuple[int, int]:
    """By aspect ratio first (within :data:`ASPECT_TOLERANCE`), then by pixel count."""
    width, height = max(target[0], 1), max(target[1], 1)
    aspect, pixels = math.log(width / height), math.log(width * height)

    def aspect_gap(pair: tuple[int, int]) -> float:
        return abs(math.log(pair[0] / pair[1]) - aspect)

    best = min(aspect_gap(pair) for pair in pairs)
    close = [pair for pair in pairs if aspect_gap(pair) <= best + ASPECT_TOLERANCE]
    return min(close, key=lambda pair: (abs(math.log(pair[0] * pair[1]) - pixels), aspect_gap(pair), pair))


def _snap_axis(value: int, rule: Mapping[str, int]) -> int:
    step = int(rule.get("step", 1))
    low = math.ceil(rule["min"] / step) * step
    high = math.floor(rule["max"] / step) * step
    return min(max(math.floor(value / step + 0.5) * step, low), high)


def _nearest_value(value: int, options: tuple[int, ...]) -> int:
    return min(options, key=lambda option: (abs(option - value), option))


def snap_size(model: Model, width: int, height: int) -> tuple[int, int]:
    """The valid size nearest to ``width`` x ``height`` under the model's ``sizing`` rule."""
    rule = model.sizing
    if rule is None:
        return width, height
    kind = rule["kind"]
    if kind == "table":
        if rule.get("allow_auto") and width == 0 and height == 0:
            return 0, 0
        pairs = _table(model)
        return (width, height) if (width, height) in pairs else _nearest_pair((width, height), pairs)
    if kind == "range":
        return _snap_axis(width, rule["width"]), _snap_axis(height, rule["height"])
    if kind == "values":
        return _nearest_value(width, rule["widths"]), _nearest_value(height, rule["heights"])
    if kind == "free":
        return max(width, int(rule["min"])), max(height, int(rule["min"]))
    raise ValueError(f"unknown sizing kind {kind!r} for {model.id}")


def _size_value(name: str, value: Any) -> int:
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if not isinstance(value, int) or isinstance(value, bool):
        raise _invalid(name, f"{name} must be an integer")
    return value


def _apply_mode(model: Model, params: dict[str, Any], given: set[str], adjustments: list[Adjustment]) -> None:
    if "mode" not in params or not model.mode_sizes:
        return
    width, height = params.get("width"), params.get("height")
    sized = _is_number(width) and _is_number(height) and width > 0 and height > 0
    size = pricing.mode_size(model, params["mode"], (int(width), int(height)) if sized else None)
    if size is None:
        return
    for name, new in zip(("width", "height"), size, strict=True):
        if name in given and params.get(name) != new:
            adjustments.append(_change(name, params.get(name), new, f"set by mode {params['mode']}"))
        params[name] = new


def _apply_sizing(model: Model, params: dict[str, Any], given: set[str], adjustments: list[Adjustment]) -> None:
    if model.sizing is None or ("width" not in params and "height" not in params):
        return
    width = _size_value("width", params.get("width", params.get("height")))
    height = _size_value("height", params.get("height", width))
    snapped = snap_size(model, width, height)
    for name, old, new in (("width", params.get("width"), snapped[0]), ("height", params.get("height"), snapped[1])):
        if old != new:
            adjustments.append(_change(name, old, new, SNAP_REASON))
        params[name] = new


# --- inline references ---------------------------------------------------------------------------

_BASE64 = re.compile(r"^[A-Za-z0-9+/]*={0,2}$")


def _check_data_uri(name: str, value: str, kind: str) -> None:
    header, comma, payload = value[len("data:") :].partition(",")
    if not comma:
        raise _invalid(name, f"{name}: malformed data URI (no ',' before the payload)")
    parts = header.split(";")
    mime = parts[0].strip().lower()
    if "/" not in mime:
        raise _invalid(name, f"{name}: malformed data URI (missing or invalid MIME type {mime!r})")
    if "base64" not in (part.strip().lower() for part in parts[1:]):
        raise _invalid(name, f"{name}: data URI must be base64-encoded (data:<mime>;base64,<payload>)")
    if mime.split("/", 1)[0] != kind:
        raise _invalid(name, f"{name}: expects a {kind}/* data URI, got {mime}", expected=f"{kind}/*", got=mime)
    if not payload or not _BASE64.match(payload) or len(payload) % 4:
        raise _invalid(name, f"{name}: data URI payload is not valid base64")
    try:
        base64.b64decode(payload, validate=True)
    except (binascii.Error, ValueError):
        raise _invalid(name, f"{name}: data URI payload is not valid base64") from None


def check_reference(name: str, value: Any, kind: str) -> None:
    """``value`` must be an https URL or a ``data:<kind>/*;base64,...`` URI; else invalid input naming ``name``."""
    if not isinstance(value, str):
        raise _invalid(name, f"{name} must be an https URL or a data: URI string")
    if value.startswith("data:"):
        _check_data_uri(name, value, kind)
        return
    if not _HTTPS_REFERENCE.match(value) or split_url(value) is None:
        raise _invalid(name, f"{name} must be an https URL or a data: URI")


def _check_references(params: Mapping[str, Any]) -> None:
    for name, kind in catalog.reference_fields().items():
        if name not in params:
            continue
        value, media = params[name], kind.removesuffix("[]")
        if kind.endswith("[]") and isinstance(value, list):
            for index, item in enumerate(value):
                check_reference(f"{name}[{index}]", item, media)
        else:
            check_reference(name, value, media)


# --- entry points --------------------------------------------------------------------------------


def _model(model: Model | str) -> Model:
    return catalog.get(model) if isinstance(model, str) else model


#: id(model.params) -> (those params, their defaults as (name, value, whether the value is a container)).
_DEFAULTS: dict[int, tuple[tuple[Param, ...], tuple[tuple[str, Any, bool], ...]]] = {}


def _with_defaults(model: Model, params: Mapping[str, Any]) -> dict[str, Any]:
    """:func:`pricing.with_defaults`, with the model's defaults read once: scalar defaults are shared, containers
    copied fresh (:func:`catalog.to_plain`) for every request, as ever."""
    cached = _DEFAULTS.get(id(model.params))
    if cached is None or cached[0] is not model.params:
        defaults = tuple((p.name, p.default, isinstance(p.default, Mapping | list | tuple))
                         for p in model.params if p.has_default)
        cached = _DEFAULTS[id(model.params)] = (model.params, defaults)
    merged = {name: catalog.to_plain(value) if container else value for name, value, container in cached[1]}
    merged.update({key: value for key, value in params.items() if value is not None})
    return merged


def prepare(model: Model | str, params: Mapping[str, Any] | None, max_prompt_length: int | None = None) -> Prepared:
    """Validate ``params`` for ``model``, fill defaults, snap sizes; raise :class:`InvalidInput` on bad input.

    ``max_prompt_length`` replaces the documented prompt limit (a key's own limit, set on the control plane).
    """
    model = _model(model)
    if params is None:
        params = {}
    if not isinstance(params, Mapping):
        raise _invalid("params", "params must be an object")
    for name, value in params.items():
        _check_numbers(name, value)
    _check_limits(params, max_prompt_length)
    given = {key for key, value in params.items() if value is not None}
    merged = _with_defaults(model, params)
    adjustments: list[Adjustment] = []
    _validate(model, merged, adjustments)
    _apply_mode(model, merged, given, adjustments)
    _apply_sizing(model, merged, given, adjustments)
    _check_references(merged)
    return Prepared(merged, adjustments)


def _lower_resolution(model: Model, params: dict[str, Any]) -> dict[str, Any] | None:
    rule = model.sizing
    size = pricing.size_of(model, params)
    if rule is None or size is None or min(size) <= 0:
        return None
    width, height = size
    kind = rule["kind"]
    if kind == "table":
        smaller = [pair for pair in _table(model) if pair[0] * pair[1] < width * height]
        if not smaller:
            return None
        new = _nearest_pair(size, smaller)
    elif kind == "range":
        new = snap_size(model, round(width * RANGE_DOWNGRADE_FACTOR), round(height * RANGE_DOWNGRADE_FACTOR))
    elif kind == "values":
        lower_w = [w for w in rule["widths"] if w < width]
        lower_h = [h for h in rule["heights"] if h < height]
        new = (max(lower_w) if lower_w else width, max(lower_h) if lower_h else height)
    else:
        short = min(size)
        tier = next((t for t in sorted(rule.get("downgrade_short_sides", ()), reverse=True) if t < short), None)
        if tier is None:
            return None
        new = (tier, round(height * tier / short)) if width == short else (round(width * tier / short), tier)
    if new[0] * new[1] >= width * height:
        return None
    out = {**params, "width": new[0], "height": new[1]}
    if "mode" in out and model.mode_sizes:
        mode = next((key for key, value in model.mode_sizes.items() if sorted(value) == sorted(new)), None)
        if mode is None:
            del out["mode"]
        else:
            out["mode"] = mode
    return out


def _shorten_duration(model: Model, params: dict[str, Any]) -> dict[str, Any] | None:
    name = pricing.duration_param(model)
    spec = model.param(name) if name else None
    if spec is None or not _is_number(params.get(name)):
        return None
    current = params[name]
    if spec.enum is not None:
        options = [value for value in spec.enum if _is_number(value) and value < current]
        shorter = max(options) if options else None
    else:
        floor = spec.min if spec.min is not None else 1
        shorter = current - 1 if current - 1 >= floor else None
    return None if shorter is None else {**params, name: shorter}


def _diff(old: Mapping[str, Any], new: Mapping[str, Any], reason: str) -> list[Adjustment]:
    keys = list(dict.fromkeys([*old, *new]))
    return [_change(key, old.get(key), new.get(key), reason) for key in keys if old.get(key) != new.get(key)]


def downgrade(model: Model | str, params: Mapping[str, Any] | None, remaining_budget: float,
              max_prompt_length: int | None = None) -> Prepared | None:
    """Prepared params whose cost fits ``remaining_budget``: resolution lowered first, then duration.

    Returns the params unchanged when they already fit, ``None`` when no downgrade fits.
    """
    model = _model(model)
    prepared = prepare(model, params, max_prompt_length)
    current, adjustments = dict(prepared.params), list(prepared.adjustments)
    steps: tuple[tuple[Callable[[Model, dict[str, Any]], dict[str, Any] | None], str], ...] = (
        (_lower_resolution, RESOLUTION_REASON),
        (_shorten_duration, DURATION_REASON),
    )
    for step, reason in steps:
        before = current
        while pricing.cost(model, current) > remaining_budget:
            lower = step(model, current)
            if lower is None:
                break
            current = lower
        adjustments.extend(_diff(before, current, reason))
    if pricing.cost(model, current) > remaining_budget:
        return None
    return Prepared(current, adjustments)
