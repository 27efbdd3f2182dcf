"""The Skytells model catalog, loaded from ``fixtures/skytells/models.json``."""

from __future__ import annotations

import copy
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from functools import cached_property
from typing import Any
from urllib.parse import urlsplit

from jsonschema import Draft202012Validator, FormatChecker

from mockserver.core.errors import NotFound
from mockserver.spec.compiled import CheckedValidator, checked, compile_schema
from mockserver.spec.data import load_json

PREDICTIONS_ENDPOINT = "/v1/predictions"

#: Formats checked in prediction inputs. ``uri``: an absolute http(s) URL or a ``data:`` URI --
#: what a model can actually fetch (jsonschema's default checker needs extra packages for it).
INPUT_FORMATS = FormatChecker(formats=())


@INPUT_FORMATS.checks("uri", raises=ValueError)
def _is_fetchable_uri(value: object) -> bool:
    if not isinstance(value, str):
        return True
    parts = urlsplit(value)
    if parts.scheme in ("http", "https"):
        return bool(parts.hostname)
    if parts.scheme == "data":
        return "," in value
    return False
#: Fields the Models API adds on request (``?fields=input_schema,output_schema``).
OPTIONAL_FIELDS = ("input_schema", "output_schema")
#: What every model view carries (the npm SDK's ``Model`` type plus the catalog's properties).
_PUBLIC_KEYS = ("name", "namespace", "description", "type", "vendor", "capabilities", "status",
                "billable", "pricing", "flags", "endpoints")


@dataclass(frozen=True)
class Model:
    """One catalog entry; ``data`` is the fixture object as written."""

    data: dict[str, Any]

    @property
    def namespace(self) -> str:
        return self.data["namespace"]

    @property
    def type(self) -> str:
        return self.data["type"]

    @property
    def endpoints(self) -> list[str]:
        return self.data["endpoints"]

    @property
    def pricing(self) -> dict[str, Any]:
        return self.data["pricing"]

    @property
    def speed(self) -> str:
        return self.data.get("speed", "standard")

    @property
    def input_schema(self) -> dict[str, Any]:
        return self.data["input_schema"]

    @property
    def output_schema(self) -> dict[str, Any]:
        return self.data["output_schema"]

    @property
    def is_text(self) -> bool:
        return self.type == "text"

    @property
    def serves_predictions(self) -> bool:
        return PREDICTIONS_ENDPOINT in self.endpoints

    @property
    def returns_array(self) -> bool:
        return self.output_schema.get("type") == "array"

    @cached_property
    def validator(self) -> CheckedValidator:
        """A compiled validator for ``input_schema`` (formats checked; a fast yes for conforming input)."""
        slow = Draft202012Validator(self.input_schema, format_checker=INPUT_FORMATS)
        return checked(slow, lambda: compile_schema(self.input_schema, INPUT_FORMATS))

    def view(self, fields: Iterable[str] = ()) -> dict[str, Any]:
        """The Models API representation, with the optional schema fields requested."""
        body = {key: self.data[key] for key in _PUBLIC_KEYS if key in self.data}
        body["billable"] = True
        for name in fields:
            if name in OPTIONAL_FIELDS:
                body[name] = copy.deepcopy(self.data[name])
        return body


class Catalog:
    """All models by namespace, in catalog order."""

    def __init__(self, models: Iterable[dict[str, Any]]) -> None:
        self._models = {entry["namespace"]: Model(entry) for entry in models}
        self._lower = {name.lower(): model for name, model in self._models.items()}

    @classmethod
    def load(cls) -> Catalog:
        return cls(load_json("skytells", "models.json"))

    def __iter__(self) -> Iterator[Model]:
        return iter(self._models.values())

    def __len__(self) -> int:
        return len(self._models)

    def find(self, namespace: str) -> Model | None:
        """Exact namespace first, then case-insensitively (``flux-1.1-pro``)."""
        return self._models.get(namespace) or self._lower.get(namespace.lower())

    def get(self, namespace: str) -> Model:
        """The model, or :class:`NotFound` (kind ``"model"``) with up to three close namespaces."""
        model = self.find(namespace) if isinstance(namespace, str) else None
        if model is None:
            raise NotFound("model", namespace, field="model", suggestions=self.suggestions(namespace))
        return model

    def suggestions(self, namespace: Any) -> list[str]:
        """Up to three namespaces close to ``namespace``."""
        import difflib

        return difflib.get_close_matches(str(namespace), list(self._models), n=3, cutoff=0.5)
