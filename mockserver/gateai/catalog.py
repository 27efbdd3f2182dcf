"""The GateAI model catalog (``fixtures/gateai/models.json``) as typed objects, plus the discovery views."""

from __future__ import annotations

import difflib
import re
from collections.abc import Mapping
from dataclasses import dataclass
from functools import cache
from types import MappingProxyType
from typing import Any

from mockserver.core.errors import NotFound
from mockserver.spec.data import load_json

# Keys of a parameter's schema, in the order the views print them (fixture key == view key).
_SCHEMA_KEYS = ("type", "required", "enum", "min", "max", "step", "minLen", "maxLen", "default", "description")


def _freeze(value: Any) -> Any:
    if isinstance(value, Mapping):
        return MappingProxyType({key: _freeze(item) for key, item in value.items()})
    if isinstance(value, list | tuple):
        return tuple(_freeze(item) for item in value)
    return value


def to_plain(value: Any) -> Any:
    """A fresh, mutable JSON-ready copy of catalog data (mappings -> dict, tuples -> list)."""
    if isinstance(value, Mapping):
        return {key: to_plain(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [to_plain(item) for item in value]
    return value


@dataclass(frozen=True)
class Param:
    """One documented request parameter of a model."""

    name: str
    type: str
    required: bool = False
    has_default: bool = False
    default: Any = None
    enum: tuple[Any, ...] | None = None
    min: float | None = None
    max: float | None = None
    step: int | None = None
    min_len: int | None = None
    max_len: int | None = None
    description: str | None = None

    @classmethod
    def from_json(cls, raw: Mapping[str, Any]) -> Param:
        return cls(
            name=raw["name"],
            type=raw["type"],
            required=bool(raw.get("required", False)),
            has_default="default" in raw,
            default=_freeze(raw.get("default")),
            enum=tuple(raw["enum"]) if "enum" in raw else None,
            min=raw.get("min"),
            max=raw.get("max"),
            step=raw.get("step"),
            min_len=raw.get("minLen"),
            max_len=raw.get("maxLen"),
            description=raw.get("description"),
        )

    def schema(self) -> dict[str, Any]:
        """The parameter as ``/v1/models/:id`` shows it: absent fields and ``required: false`` left out."""
        values = {
            "type": self.type,
            "required": True if self.required else None,
            "enum": list(self.enum) if self.enum is not None else None,
            "min": self.min,
            "max": self.max,
            "step": self.step,
            "minLen": self.min_len,
            "maxLen": self.max_len,
            "default": to_plain(self.default) if self.has_default else None,
            "description": self.description,
        }
        return {key: values[key] for key in _SCHEMA_KEYS if values[key] is not None}


@dataclass(frozen=True)
class Resolution:
    """One row (or tier cell) of a model's Supported Resolutions table."""

    label: str
    width: int
    height: int
    tier: str | None = None

    def as_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {"label": self.label}
        if self.tier is not None:
            out["tier"] = self.tier
        out.update(width=self.width, height=self.height)
        return out


@dataclass(frozen=True)
class Model:
    """A GateAI model: documented schema, sizing rule, pricing rule and the notes on doc gaps."""

    id: str
    name: str
    type: str
    cost: str
    params: tuple[Param, ...]
    resolutions: tuple[Resolution, ...]
    dimension_range: Mapping[str, Mapping[str, int]] | None
    mode_sizes: Mapping[str, tuple[int, int]]
    sizing: Mapping[str, Any] | None
    pricing: Mapping[str, Any]
    example: Mapping[str, Any]
    notes: tuple[str, ...]

    @classmethod
    def from_json(cls, raw: Mapping[str, Any]) -> Model:
        return cls(
            id=raw["id"],
            name=raw["name"],
            type=raw["type"],
            cost=raw["cost"],
            params=tuple(Param.from_json(item) for item in raw.get("params", ())),
            resolutions=tuple(Resolution(**item) for item in raw.get("resolutions", ())),
            dimension_range=_freeze(raw.get("dimension_range")),
            mode_sizes=MappingProxyType({k: (v[0], v[1]) for k, v in raw.get("mode_sizes", {}).items()}),
            sizing=_freeze(raw.get("sizing")),
            pricing=_freeze(raw["pricing"]),
            example=_freeze(raw.get("example", {})),
            notes=tuple(raw.get("notes", ())),
        )

    def param(self, name: str) -> Param | None:
        return next((p for p in self.params if p.name == name), None)

    @property
    def listed_params(self) -> list[Param]:
        """Parameters with ``prompt`` first (as ``/v1/models`` lists them), then in table order."""
        return sorted(self.params, key=lambda p: p.name != "prompt")

    @property
    def param_names(self) -> list[str]:
        return [p.name for p in self.listed_params]


@dataclass(frozen=True)
class Limits:
    """Request limits that apply to every model."""

    prompt_max_chars: int
    quantity_max: int


@dataclass(frozen=True)
class _Catalog:
    models: Mapping[str, Model]
    limits: Limits
    reference_fields: Mapping[str, str]


@cache
def _catalog() -> _Catalog:
    raw = load_json("gateai", "models.json")
    models = {item["id"]: Model.from_json(item) for item in raw["models"]}
    return _Catalog(
        models=MappingProxyType(models),
        limits=Limits(**raw["limits"]),
        reference_fields=MappingProxyType(dict(raw["reference_fields"])),
    )


def all() -> tuple[Model, ...]:
    """Every model, in documentation order (shadows the builtin inside this module only)."""
    return tuple(_catalog().models.values())


def find(model_id: str) -> Model | None:
    return _catalog().models.get(model_id)


def get(model_id: str) -> Model:
    """The model, or :class:`NotFound` (kind ``"model"``) carrying close matches."""
    model = find(model_id)
    if model is None:
        raise NotFound("model", model_id, field="model", suggestions=suggestions(model_id))
    return model


def limits() -> Limits:
    return _catalog().limits


def reference_fields() -> Mapping[str, str]:
    """Inline reference fields -> media kind (``image``, ``video``, ``audio``; ``[]`` suffix = array)."""
    return _catalog().reference_fields


def _squash(text: str) -> str:
    return re.sub(r"[^a-z0-9]", "", text.lower())


def _score(query: str, model: Model) -> float:
    q, key, name = query.lower().strip(), model.id.lower(), model.name.lower()
    sq, skey, sname = _squash(q), _squash(key), _squash(name)
    score = max(
        difflib.SequenceMatcher(None, q, key).ratio(),
        difflib.SequenceMatcher(None, sq, skey).ratio(),
        difflib.SequenceMatcher(None, q, name).ratio(),
    )
    if sq and skey.startswith(sq):
        score = max(score, 1.0 + len(sq) / len(skey))
    elif sq and (sq in skey or sq in sname):
        score = max(score, 0.8 + 0.2 * len(sq) / len(skey))
    return score


def suggestions(query: str, n: int = 5, cutoff: float = 0.5) -> list[str]:
    """Up to ``n`` model ids close to ``query``: prefix matches first, then substrings, then difflib."""
    if not query.strip():
        return []
    scored = [(_score(query, model), model.id) for model in all()]
    ranked = sorted((item for item in scored if item[0] >= cutoff), key=lambda item: (-item[0], item[1]))
    return [model_id for _, model_id in ranked[:n]]


# --- discovery views -------------------------------------------------------------------------------


def list_view() -> list[dict[str, Any]]:
    """``GET /v1/models``: ``[{id, type, cost, params: [names]}]``."""
    return [{"id": m.id, "type": m.type, "cost": m.cost, "params": m.param_names} for m in all()]


def _schema(model: Model) -> dict[str, Any]:
    out: dict[str, Any] = {
        "id": model.id,
        "type": model.type,
        "cost": model.cost,
        "params": {p.name: p.schema() for p in model.listed_params},
    }
    if model.resolutions:
        out["resolutions"] = [r.as_json() for r in model.resolutions]
    return out


def schema_view() -> list[dict[str, Any]]:
    """``GET /v1/models/schema``: every model's full schema (the single-model view without ``example``)."""
    return [_schema(model) for model in all()]


def example_body(model: Model) -> dict[str, Any]:
    """A ready-to-send ``/api/generate`` body for the model (its documented example)."""
    return {"model": model.id, "params": to_plain(model.example)}


def model_view(model_id: str) -> dict[str, Any]:
    """``GET /v1/models/:id``: ``{id, type, cost, params: {name: schema}, example}``; 404 with suggestions."""
    model = get(model_id)
    return {**_schema(model), "example": example_body(model)}
