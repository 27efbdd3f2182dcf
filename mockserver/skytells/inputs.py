"""Validate a prediction's ``input`` against the model's ``input_schema`` and apply defaults."""

from __future__ import annotations

import copy
import ipaddress
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from jsonschema.exceptions import ValidationError

from mockserver.core.errors import InvalidInput, PolicyViolation
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


@dataclass(frozen=True)
class _InputPlan:
    """What preparing an input reads from its schema, read once per schema: the URI fields (name, whether a URI,
    whether an array of URIs) and the defaults (name, value, whether the value is mutable and so copied for each
    input)."""

    uris: tuple[tuple[str, bool, bool], ...]
    defaults: tuple[tuple[str, Any, bool], ...]


#: id(input_schema) -> (that schema, its plan); the schema is kept so an id is never mistaken for another's.
_PLANS: dict[int, tuple[dict[str, Any], _InputPlan]] = {}


def _plan(schema: dict[str, Any]) -> _InputPlan:
    cached = _PLANS.get(id(schema))
    if cached is not None and cached[0] is schema:
        return cached[1]
    properties = schema.get("properties", {})
    marked = ((name, prop.get("format") == "uri", prop.get("items", {}).get("format") == "uri")
              for name, prop in properties.items())
    uris = tuple(entry for entry in marked if entry[1] or entry[2])
    defaults = tuple((name, prop["default"], isinstance(prop["default"], dict | list))
                     for name, prop in properties.items() if isinstance(prop, dict) and "default" in prop)
    plan = _InputPlan(uris, defaults)
    _PLANS[id(schema)] = (schema, plan)
    return plan


def _uri_fields(schema: dict[str, Any], value: dict[str, Any]) -> list[tuple[str, str]]:
    """``(field, uri)`` for every input value the schema declares as a URI (or array of URIs)."""
    found = []
    for name, single, array in _plan(schema).uris:
        item = value.get(name)
        if single and isinstance(item, str):
            found.append((name, item))
        elif array and isinstance(item, list):
            found.extend((f"{name}.{i}", v) for i, v in enumerate(item) if isinstance(v, str))
    return found


def _internal_host(host: str) -> bool:
    if host in ("localhost", "localhost.localdomain") or host.endswith(".localhost"):
        return True
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        return False
    return address.is_private or address.is_loopback or address.is_link_local or address.is_reserved


def check_uri_policy(model: Model, value: dict[str, Any]) -> None:
    """Input URLs may not reach into private networks (:class:`PolicyViolation` naming the field).

    The mock's own output files (``/files/...`` on a loopback host) stay allowed, so one
    prediction's output can feed the next.
    """
    for name, uri in _uri_fields(model.input_schema, value):
        parts = urlsplit(uri)
        if parts.scheme in ("http", "https") and _internal_host(parts.hostname or ""):
            if parts.path.startswith("/files/"):
                continue
            raise PolicyViolation(f"input.{name}",
                                  f"input.{name} points at a private or loopback address; only public URLs are fetched")


def prepare_input(model: Model, raw: Any) -> dict[str, Any]:
    """The input with defaults filled in, or :class:`InvalidInput` naming the first bad field (``details``: the
    first ten problems)."""
    if not isinstance(raw, dict):
        raise InvalidInput("input", "input must be a JSON object")
    errors = sorted(model.validator.iter_errors(raw), key=lambda e: (list(e.absolute_path), e.validator))
    if errors:
        first = errors[0]
        field = _field_of(first)
        raise InvalidInput(f"input.{field}" if field else "input", _describe(first, field),
                           details=[_describe(e, _field_of(e)) for e in errors[:10]])
    check_uri_policy(model, raw)
    prepared = dict(raw)
    for name, default, mutable in _plan(model.input_schema).defaults:
        if name not in prepared:
            prepared[name] = copy.deepcopy(default) if mutable else default
    return prepared
