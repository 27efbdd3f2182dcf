"""Per-model request schemas built from the same ``fixtures/`` catalogs the server uses.

Nothing here is copied into the contract sources: :func:`inject_skytells` and :func:`inject_gateai`
read ``fixtures/skytells/models.json`` and ``fixtures/gateai/models.json`` and fill the components
the YAML sources mark ``x-injected``.
"""

from __future__ import annotations

import copy
from typing import Any

from mockserver.spec.data import load_json

PREDICTIONS = "/v1/predictions"
CHAT = "/v1/chat/completions"
RESPONSES = "/v1/responses"
EMBEDDINGS = "/v1/embeddings"

Schema = dict[str, Any]


def _ref(name: str) -> Schema:
    return {"$ref": f"#/components/schemas/{name}"}


def _injected(schemas: dict[str, Schema], name: str, value: Schema) -> None:
    """Replace the placeholder ``name`` (which must say ``x-injected``) with ``value``."""
    placeholder = schemas.get(name)
    if placeholder is None or "x-injected" not in placeholder:
        raise KeyError(f"contract source has no x-injected placeholder {name!r}")
    description = placeholder.get("description")
    schemas[name] = {**({"description": description} if description else {}), **value}


def _by_model(schemas: dict[str, Schema], prefix: str, names: list[str]) -> Schema:
    """A ``oneOf`` of the per-model branch components, discriminated on ``model``."""
    return {
        "oneOf": [_ref(f"{prefix}.{name}") for name in names],
        "discriminator": {
            "propertyName": "model",
            "mapping": {name: f"#/components/schemas/{prefix}.{name}" for name in names},
        },
    }


# -- Skytells ----------------------------------------------------------------------------------


def inject_skytells(doc: dict[str, Any]) -> None:
    """Model enums per endpoint, and ``CreatePredictionRequest`` as one branch per prediction model."""
    schemas = doc["components"]["schemas"]
    models = load_json("skytells", "models.json")
    served = {endpoint: [m["namespace"] for m in models if endpoint in m["endpoints"]]
              for endpoint in (PREDICTIONS, CHAT, RESPONSES, EMBEDDINGS)}
    for name, endpoint in (("PredictionModelName", PREDICTIONS), ("ChatModelName", CHAT),
                           ("ResponsesModelName", RESPONSES), ("EmbeddingsModelName", EMBEDDINGS)):
        _injected(schemas, name, {"type": "string", "enum": served[endpoint]})
    prediction_models = [m for m in models if PREDICTIONS in m["endpoints"]]
    for model in prediction_models:
        namespace = model["namespace"]
        schemas[f"ModelInput.{namespace}"] = copy.deepcopy(model["input_schema"])
        schemas[f"CreatePrediction.{namespace}"] = {
            "title": f"Create a {namespace} prediction",
            "allOf": [
                _ref("CreatePredictionBody"),
                {"type": "object",
                 "properties": {"model": {"const": namespace}, "input": _ref(f"ModelInput.{namespace}")}},
            ],
        }
    _injected(schemas, "CreatePredictionRequest",
              _by_model(schemas, "CreatePrediction", [m["namespace"] for m in prediction_models]))


# -- GateAI ------------------------------------------------------------------------------------

_JSON_TYPES = {"string": "string", "integer": "integer", "number": "number", "boolean": "boolean",
               "array": "array"}


def _param_schema(param: dict[str, Any], sized: bool, prompt_max: int) -> Schema:
    """One documented parameter as JSON Schema (what the server's ``params.prepare`` enforces)."""
    schema: Schema = {}
    kind = _JSON_TYPES.get(param["type"])
    if kind is not None:
        schema["type"] = kind
    if param["name"] in ("width", "height") and sized:
        # "Invalid width/height combinations are automatically snapped to the nearest valid pair"
        schema = {"type": "integer",
                  "description": "Snapped to the nearest supported size (reported in `adjustments`)."}
        return schema
    if "enum" in param:
        schema["enum"] = list(param["enum"])
    for source, target in (("min", "minimum"), ("max", "maximum"), ("minLen", "minLength"), ("maxLen", "maxLength")):
        if source in param:
            schema[target] = param[source]
    if param["name"] == "prompt":
        # the request limit (PROMPT_TOO_LONG) applies whatever the model's own maxLen says
        schema["type"] = "string"
        schema["maxLength"] = min(schema.get("maxLength", prompt_max), prompt_max)
    if "default" in param:
        schema["default"] = copy.deepcopy(param["default"])
    if param.get("description"):
        schema["description"] = param["description"]
    return schema


def _params_schema(model: dict[str, Any], limits: dict[str, Any]) -> Schema:
    sized = model.get("sizing") is not None
    properties: dict[str, Schema] = {}
    required: list[str] = []
    for param in model.get("params", []):
        schema = _param_schema(param, sized, limits["prompt_max_chars"])
        if param.get("required") and "default" not in param:
            required.append(param["name"])
        else:  # a null value counts as not sent (the default applies)
            schema = {"anyOf": [{"type": "null"}, schema]} if schema else {}
        properties[param["name"]] = schema
    out: Schema = {"type": "object", "properties": properties}
    if required:
        out["required"] = required
    return {"allOf": [_ref("InlineReferences"), out, _ref("FiniteNumbers")]}


_BASE64 = "(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=|[A-Za-z0-9+/]{4})"


#: An https URL as GateAI takes it inline: no whitespace or control characters anywhere. The classes are
#: spelled out (not ``\\S``) so generators and validators agree on what a control character is.
HTTPS_REFERENCE = r"^[hH][tT][tT][pP][sS]://[^\s\x00-\x20\x7f-\x9f/?#\[\]]+(?:[/?#][^\s\x00-\x20\x7f-\x9f]*)?$"


def reference_schema(kind: str) -> Schema:
    """An inline reference: an https URL, or a base64 ``data:`` URI of the right media kind."""
    return {
        "type": "string",
        "anyOf": [
            {"pattern": HTTPS_REFERENCE},
            {"pattern": f"^data:{kind}/[^;,]*(?:;[^;,]*)*;\\s*[bB][aA][sS][eE]64\\s*(?:;[^;,]*)*,{_BASE64}$"},
        ],
    }


def _inline_references(fields: dict[str, str]) -> Schema:
    properties: dict[str, Schema] = {}
    for name, kind in fields.items():
        media = kind.removesuffix("[]")
        one = reference_schema(media)
        properties[name] = {"anyOf": [{"type": "null"}, {"type": "array", "items": one}, one]} \
            if kind.endswith("[]") else {"anyOf": [{"type": "null"}, one]}
    for name, kind in (("images", "image"), ("videos", "video")):
        properties[name] = {"anyOf": [{"type": "null"}, {"type": "array", "items": {"type": "string"}}],
                            "description": f"Ids of {kind} files uploaded with POST /api/upload."}
    return {"type": "object", "properties": properties}


def inject_gateai(doc: dict[str, Any]) -> None:
    """The model id enum, inline references, and ``GenerateRequest`` as one branch per model."""
    schemas = doc["components"]["schemas"]
    raw = load_json("gateai", "models.json")
    models = raw["models"]
    ids = [model["id"] for model in models]
    _injected(schemas, "ModelId", {"type": "string", "enum": ids})
    _injected(schemas, "InlineReferences", _inline_references(raw["reference_fields"]))
    for model in models:
        params = _params_schema(model, raw["limits"])
        schemas[f"Params.{model['id']}"] = params
        needs_params = "required" in params["allOf"][1]
        branch: Schema = {"type": "object",
                          "properties": {"model": {"const": model["id"]},
                                         "params": _ref(f"Params.{model['id']}") if needs_params
                                         else {"anyOf": [{"type": "null"}, _ref(f"Params.{model['id']}")]}}}
        if needs_params:
            branch["required"] = ["params"]
        schemas[f"Generate.{model['id']}"] = {"title": f"Generate with {model['id']}",
                                              "allOf": [_ref("GenerateBody"), branch]}
    _injected(schemas, "GenerateRequest", _by_model(schemas, "Generate", ids))
