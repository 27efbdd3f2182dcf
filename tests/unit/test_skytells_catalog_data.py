"""Sanity checks for ``fixtures/skytells/models.json`` (the Skytells model catalog as data)."""

from __future__ import annotations

import copy
import json
from collections import Counter
from pathlib import Path
from typing import Any

import pytest
from jsonschema import Draft202012Validator

MODELS_PATH = Path(__file__).resolve().parents[2] / "fixtures" / "skytells" / "models.json"

TYPES = {"text", "image", "video", "audio"}
UNITS = {
    "image",
    "second",
    "prediction",
    "video",
    "gpu",
    "computing_second",
    "image_megapixel",
    "5 seconds",
    "token",
}
SPEEDS = {"fast", "standard", "slow"}
TOP_KEYS = {
    "namespace",
    "name",
    "description",
    "vendor",
    "type",
    "capabilities",
    "status",
    "flags",
    "endpoints",
    "pricing",
    "speed",
    "input_schema",
    "output_schema",
    "notes",
}
SINGLE_URI = {"type": "string", "format": "uri"}
ARRAY_URIS = {"type": "array", "items": {"type": "string", "format": "uri"}}
CHAT_ENDPOINTS = ["/v1/chat/completions", "/v1/responses", "/v1/embeddings"]


def _load() -> list[dict[str, Any]]:
    with MODELS_PATH.open(encoding="utf-8") as handle:
        return json.load(handle)


MODELS = _load()
BY_NS = {m["namespace"]: m for m in MODELS}


def _ids(models: list[dict[str, Any]]) -> list[str]:
    return [m["namespace"] for m in models]


def _sample_value(prop: dict[str, Any]) -> Any:
    """A value that satisfies ``prop`` (used for required fields without a default)."""
    if "default" in prop:
        return copy.deepcopy(prop["default"])
    if "enum" in prop:
        return prop["enum"][0]
    if "anyOf" in prop:
        return _sample_value(prop["anyOf"][0])
    kind = prop.get("type")
    if kind == "string":
        if prop.get("format") == "uri":
            return "https://example.com/input.png"
        return "x" * max(prop.get("minLength", 1), 1)
    if kind == "integer":
        return int(prop.get("minimum", 1))
    if kind == "number":
        return prop.get("minimum", 1)
    if kind == "boolean":
        return False
    if kind == "array":
        items = prop.get("items", {})
        if items.get("type") == "object":
            return [{name: _sample_value(items["properties"][name]) for name in items.get("required", [])}]
        return [_sample_value(items) for _ in range(prop.get("minItems", 0))]
    raise AssertionError(f"no sample value for {prop!r}")


# --------------------------------------------------------------------------- catalog shape


def test_exactly_39_models_with_unique_namespaces() -> None:
    assert len(MODELS) == 39
    namespaces = [m["namespace"] for m in MODELS]
    assert len(set(namespaces)) == 39


def test_counts_by_type() -> None:
    assert Counter(m["type"] for m in MODELS) == {"text": 4, "image": 21, "video": 12, "audio": 2}


def test_catalog_order_is_grouped_by_type() -> None:
    order = [m["type"] for m in MODELS]
    assert order == ["text"] * 4 + ["image"] * 21 + ["video"] * 12 + ["audio"] * 2
    assert _ids(MODELS)[:3] == ["gpt-5", "gpt-5.4", "gpt-5.3-codex"]
    assert _ids(MODELS)[-1] == "beatfusion-1.0"


@pytest.mark.parametrize("m", MODELS, ids=_ids(MODELS))
def test_model_shape(m: dict[str, Any]) -> None:
    assert set(m) == TOP_KEYS
    assert isinstance(m["name"], str) and m["name"]
    assert isinstance(m["description"], str)
    assert set(m["vendor"]) == {"name", "verified"}
    assert isinstance(m["vendor"]["verified"], bool)
    assert m["type"] in TYPES
    assert m["capabilities"] and all(isinstance(c, str) and c == c.strip() for c in m["capabilities"])
    assert m["status"] == "operational"
    assert set(m["flags"]) == {"openai_compatible", "edge_compatible", "partner_served", "cold_boot"}
    assert m["flags"]["cold_boot"] in (True, False, None)
    assert m["speed"] in SPEEDS
    assert isinstance(m["notes"], list) and all(isinstance(n, str) and n for n in m["notes"])


@pytest.mark.parametrize("m", MODELS, ids=_ids(MODELS))
def test_endpoints_and_output_schema(m: dict[str, Any]) -> None:
    if m["type"] == "text":
        assert m["output_schema"] == {"type": "string"}
        assert m["endpoints"] in (CHAT_ENDPOINTS, ["/v1/responses"])
        assert m["speed"] == "standard"
    else:
        assert m["endpoints"] == ["/v1/predictions"]
        assert m["output_schema"] in (SINGLE_URI, ARRAY_URIS)
        if m["type"] in ("video", "audio"):
            assert m["speed"] == "slow"


# --------------------------------------------------------------------------- input schemas


@pytest.mark.parametrize("m", MODELS, ids=_ids(MODELS))
def test_input_schema_is_valid_json_schema(m: dict[str, Any]) -> None:
    schema = m["input_schema"]
    Draft202012Validator.check_schema(schema)
    Draft202012Validator.check_schema(m["output_schema"])
    assert schema["type"] == "object"
    assert schema["title"] == "Input"
    assert set(schema["required"]) <= set(schema["properties"])
    orders = [prop["x-order"] for prop in schema["properties"].values()]
    assert orders == list(range(len(orders)))
    for name, prop in schema["properties"].items():
        assert prop.get("description"), name
        assert "type" in prop or "anyOf" in prop, name


@pytest.mark.parametrize("m", MODELS, ids=_ids(MODELS))
def test_defaults_validate_against_their_property(m: dict[str, Any]) -> None:
    for name, prop in m["input_schema"]["properties"].items():
        if "default" not in prop:
            continue
        errors = list(Draft202012Validator(prop).iter_errors(prop["default"]))
        assert not errors, f"{name}: {errors[0].message}"
        if "enum" in prop:
            assert prop["default"] in prop["enum"], name


@pytest.mark.parametrize("m", MODELS, ids=_ids(MODELS))
def test_enum_values_match_declared_type(m: dict[str, Any]) -> None:
    for name, prop in m["input_schema"]["properties"].items():
        if "enum" not in prop:
            continue
        assert len(prop["enum"]) == len(set(map(json.dumps, prop["enum"]))), name
        validator = Draft202012Validator({k: v for k, v in prop.items() if k != "enum"})
        for value in prop["enum"]:
            assert validator.is_valid(value), (name, value)


@pytest.mark.parametrize("m", MODELS, ids=_ids(MODELS))
def test_defaults_plus_required_instance_validates(m: dict[str, Any]) -> None:
    schema = m["input_schema"]
    props = schema["properties"]
    instance = {name: copy.deepcopy(p["default"]) for name, p in props.items() if "default" in p}
    for name in schema["required"]:
        instance.setdefault(name, _sample_value(props[name]))
    errors = list(Draft202012Validator(schema).iter_errors(instance))
    assert not errors, errors[0].message
    # and the required fields really are required
    for name in schema["required"]:
        partial = {k: v for k, v in instance.items() if k != name}
        assert not Draft202012Validator(schema).is_valid(partial), name


def test_prompt_is_required_wherever_a_media_model_has_it() -> None:
    for m in MODELS:
        if m["type"] in ("image", "video") and "prompt" in m["input_schema"]["properties"]:
            optional_prompt = {"truefusion-variant", "lumo"}  # invented schemas: prompt only steers
            assert ("prompt" in m["input_schema"]["required"]) != (m["namespace"] in optional_prompt)


# --------------------------------------------------------------------------- pricing


@pytest.mark.parametrize("m", MODELS, ids=_ids(MODELS))
def test_pricing_shape(m: dict[str, Any]) -> None:
    p = m["pricing"]
    assert p["unit"] in UNITS
    assert p["currency"] == "USD"
    assert isinstance(p["amount"], (int, float)) and p["amount"] > 0
    assert p["display"].startswith("$")
    props = m["input_schema"]["properties"]
    if "quantity_field" in p:
        assert p["unit"] == "image"
        assert p["quantity_field"] in ("num_outputs", "number_of_images", "n")
        assert p["quantity_field"] in props
    if "duration_field" in p:
        assert p["unit"] in ("second", "5 seconds")
        assert p["duration_field"] in props
    for rule in p.get("criteria", []):
        assert set(rule) == {"field", "operator", "value", "amount"}
        assert rule["operator"] == "=="
        assert rule["field"] in props
        assert Draft202012Validator(props[rule["field"]]).is_valid(rule["value"])
    if m["type"] == "text":
        assert p["unit"] == "token"
        assert set(p["tokens"]) == {"input", "cached_input", "output", "per"}
        assert p["tokens"]["per"] == 1_000_000
        assert p["amount"] == p["tokens"]["input"]
    else:
        assert "tokens" not in p


def test_every_media_model_with_seconds_pricing_knows_its_length() -> None:
    for m in MODELS:
        p = m["pricing"]
        if p["unit"] in ("second", "5 seconds"):
            assert ("duration_field" in p) != ("assumed_seconds" in p), m["namespace"]
    assert BY_NS["lipfusion"]["pricing"]["assumed_seconds"] == 5
    assert BY_NS["video-upscale"]["pricing"]["assumed_seconds"] == 5


# --------------------------------------------------------------------------- spot checks


def test_spot_truefusion_pro() -> None:
    m = BY_NS["truefusion-pro"]
    props = m["input_schema"]["properties"]
    assert props["output_format"]["default"] == "webp"
    assert props["output_format"]["enum"] == ["webp", "jpg", "png"]
    assert props["num_outputs"] == {
        "type": "integer",
        "description": "Number of outputs (1\u20134)",
        "default": 1,
        "minimum": 1,
        "maximum": 4,
        "x-order": 4,
    }
    assert props["image"]["format"] == "uri"
    assert m["pricing"] == {
        "amount": 0.05,
        "currency": "USD",
        "unit": "image",
        "display": "$0.05 / image",
        "quantity_field": "num_outputs",
    }
    assert m["output_schema"] == ARRAY_URIS
    assert m["vendor"] == {"name": "Skytells", "verified": False}


def test_spot_beatfusion_2() -> None:
    props = BY_NS["beatfusion-2.0"]["input_schema"]["properties"]
    assert props["sample_rate"]["enum"] == [16000, 24000, 32000, 44100]
    assert props["sample_rate"]["default"] == 44100
    assert props["sample_rate"]["type"] == "integer"
    assert props["bitrate"]["enum"] == [32000, 64000, 128000, 256000]
    assert (props["lyrics"]["minLength"], props["lyrics"]["maxLength"]) == (1, 3500)
    assert BY_NS["beatfusion-2.0"]["input_schema"]["required"] == ["lyrics"]
    assert sorted(BY_NS["beatfusion-1.0"]["input_schema"]["required"]) == ["lyrics", "prompt"]


def test_spot_veo_31_fast_criteria() -> None:
    p = BY_NS["veo-3.1-fast"]["pricing"]
    assert p["amount"] == 0.17
    assert p["unit"] == "second"
    assert p["duration_field"] == "duration"
    assert p["criteria"] == [
        {"field": "generate_audio", "operator": "==", "value": True, "amount": 0.17},
        {"field": "generate_audio", "operator": "==", "value": False, "amount": 0.13},
    ]


def test_spot_flux2_pro_megapixel_prices() -> None:
    for ns in ("FLUX.2-pro", "flux-2-pro-legacy"):
        p = BY_NS[ns]["pricing"]
        assert p["unit"] == "image_megapixel"
        assert p["amount"] == 0.02
        prices = {c["value"]: c["amount"] for c in p["criteria"] if c["field"] == "resolution"}
        assert prices == {"0.5 MP": 0.01, "1 MP": 0.02, "2 MP": 0.04, "4 MP": 0.08}
    assert BY_NS["flux-2-pro-legacy"]["input_schema"] == BY_NS["FLUX.2-pro"]["input_schema"]


def test_spot_mera() -> None:
    m = BY_NS["mera"]
    assert m["pricing"]["amount"] == 3.42
    assert m["pricing"]["unit"] == "prediction"
    assert m["pricing"]["display"] == "$3.42 / prediction"
    assert m["input_schema"]["properties"]["seconds"]["enum"] == [4, 6, 8, 12]
    assert m["input_schema"]["properties"]["seconds"]["default"] == 8


def test_spot_text_models() -> None:
    for ns in ("gpt-5", "gpt-5.4", "deepbrain-router"):
        m = BY_NS[ns]
        assert m["endpoints"] == CHAT_ENDPOINTS
        props = m["input_schema"]["properties"]
        assert props["max_tokens"]["default"] == 8192
        assert props["temperature"]["maximum"] == 2
        assert props["stop"]["anyOf"][1]["maxItems"] == 4
        assert m["pricing"]["tokens"] == {
            "input": 0.5,
            "cached_input": None,
            "output": 1.25,
            "per": 1_000_000,
        }
    codex = BY_NS["gpt-5.3-codex"]
    assert codex["endpoints"] == ["/v1/responses"]
    assert codex["pricing"]["tokens"] == {
        "input": 1.75,
        "cached_input": 0.175,
        "output": 14,
        "per": 1_000_000,
    }
    assert "input" in codex["input_schema"]["required"]
    router = BY_NS["deepbrain-router"]
    assert router["vendor"] == {"name": "Skytells", "verified": True}
    assert router["flags"] == {
        "openai_compatible": True,
        "edge_compatible": True,
        "partner_served": False,
        "cold_boot": False,
    }


def test_spot_flags_and_partner_models() -> None:
    assert BY_NS["truefusion-2-optima"]["flags"]["cold_boot"] is True
    partner = {m["namespace"] for m in MODELS if m["flags"]["partner_served"]}
    assert partner == {"gpt-image-1", "sora-2", "sora-2-pro"}
    for ns in partner:
        schema = BY_NS[ns]["input_schema"]
        assert "openai_api_key" in schema["required"]
        key = schema["properties"]["openai_api_key"]
        assert key["format"] == "password" and key["writeOnly"] is True
    verified = {m["namespace"] for m in MODELS if m["vendor"]["verified"]}
    assert verified == {"deepbrain-router"}


def test_spot_same_schema_as_models() -> None:
    veo = BY_NS["veo-3.1"]["input_schema"]
    preview = BY_NS["veo-3.1-preview"]["input_schema"]
    person = preview["properties"]["person_generation"]
    assert person["enum"] == ["allow_adult", "dont_allow"] and person["default"] == "allow_adult"
    assert {k: v for k, v in preview["properties"].items() if k != "person_generation"} == veo["properties"]
    sora = BY_NS["sora-2"]["input_schema"]
    pro = BY_NS["sora-2-pro"]["input_schema"]
    res = pro["properties"]["resolution"]
    assert res["enum"] == ["standard", "high"] and res["default"] == "standard"
    assert {k: v for k, v in pro["properties"].items() if k != "resolution"} == sora["properties"]


def test_spot_elided_enums_filled() -> None:
    ratios_11 = ["1:1", "16:9", "21:9", "3:2", "2:3", "4:5", "5:4", "3:4", "4:3", "9:16", "9:21"]
    for ns in ("truefusion-pro", "truefusion-max", "truefusion-edge", "truefusion-standard", "flux-fast"):
        assert BY_NS[ns]["input_schema"]["properties"]["aspect_ratio"]["enum"] == ratios_11
    ultra = BY_NS["truefusion-ultra"]["input_schema"]["properties"]
    assert ultra["aspect_ratio"]["enum"] == [*ratios_11, "1:3", "3:1", "1:2", "2:1"]
    assert ultra["seed"]["maximum"] == 2_147_483_647
    assert {"None", "1024x1024", "1536x640"} <= set(ultra["resolution"]["enum"])
    lip = BY_NS["lipfusion"]["input_schema"]["properties"]["voice_id"]
    assert lip["default"] == "en_AOT" and len(lip["enum"]) >= 45
    speed_mode = BY_NS["flux-fast"]["input_schema"]["properties"]["speed_mode"]
    assert speed_mode["default"].startswith("Extra Juiced 🔥")
    for ns in ("truefusion-x", "FLUX-1.1-pro"):
        sizes = BY_NS[ns]["input_schema"]["properties"]["size"]["enum"]
        assert {"1024x1024", "768x1152", "1152x768", "1792x1024"} <= set(sizes)
