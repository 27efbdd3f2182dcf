"""Validate a prediction's ``input`` against the model's ``input_schema`` and apply defaults."""

from __future__ import annotations

import copy
from typing import Any

from jsonschema.exceptions import ValidationError

from mockserver.core.errors import ApiError
from mockserver.skytells.catalog import Model


def _field_of(error: ValidationError) -> str:
    path = [str(part) for part in error.absolute_path]
    if error.validator == "required" and isinstance(error.instance, dict):
        missing = [name for name in error.validator_value if name not in error.instance]
        if missing:
            path.append(missing[0])
    return ".".join(path)


def _describe(error: ValidationError, field: str) -> str:
    where = f"input.{field}" if field else "input"
    if error.validator == "required":
        return f"{where} is required"
    if error.validator == "enum":
        allowed = ", ".join(map(repr, error.validator_value))
        return f"{where} must be one of {allowed} (got {error.instance!r})"
    if error.validator in ("minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum"):
        return f"{where} must be {error.validator} {error.validator_value} (got {error.instance!r})"
    if error.validator == "type":
        return f"{where} must be of type {error.validator_value} (got {type(error.instance).__name__})"
    if error.validator == "additionalProperties":
        return f"{where}: {error.message}"
    return f"{where}: {error.message}"


def prepare_input(model: Model, raw: Any) -> dict[str, Any]:
    """The input with defaults filled in, or a 400 ``INVALID_INPUT`` naming the first bad field."""
    if not isinstance(raw, dict):
        raise ApiError(400, "INVALID_INPUT", "input must be a JSON object", param="input")
    errors = sorted(model.validator.iter_errors(raw), key=lambda e: (list(e.absolute_path), e.validator))
    if errors:
        first = errors[0]
        field = _field_of(first)
        raise ApiError(400, "INVALID_INPUT", _describe(first, field),
                       param=f"input.{field}" if field else "input",
                       details=[_describe(e, _field_of(e)) for e in errors[:10]])
    prepared = dict(raw)
    for name, prop in model.input_schema.get("properties", {}).items():
        if name not in prepared and isinstance(prop, dict) and "default" in prop:
            prepared[name] = copy.deepcopy(prop["default"])
    return prepared
