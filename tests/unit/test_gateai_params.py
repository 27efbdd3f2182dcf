"""GateAI request params: defaults, validation errors, size snapping, references, budget downgrade."""

from __future__ import annotations

import base64
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from mockserver.core.errors import ApiError, InvalidInput
from mockserver.gateai import catalog
from mockserver.gateai.catalog import Model
from mockserver.gateai.params import Prepared, downgrade, prepare, snap_size
from mockserver.gateai.pricing import cost, duration_param
from tests.domain_answers import gateai_answer

PNG = "data:image/png;base64," + base64.b64encode(b"\x89PNG\r\n\x1a\nfake").decode()
WAV = "data:audio/wav;base64," + base64.b64encode(b"RIFF....WAVE").decode()


def _error(model: str, params: dict[str, Any]) -> ApiError:
    """GateAI's answer to the invalid input ``prepare`` raises."""
    with pytest.raises(InvalidInput) as caught:
        prepare(model, params)
    return gateai_answer(caught.value)


def _base(model: Model) -> dict[str, Any]:
    """The smallest params that satisfy the model's required fields."""
    out: dict[str, Any] = {}
    if model.param("prompt") is not None:
        out["prompt"] = "A cat"
    for spec in model.params:
        if spec.required and not spec.has_default and spec.name not in out:
            out[spec.name] = "https://example.com/cat.jpg"
    return out


def _valid_size(model: Model, width: int, height: int) -> bool:
    """Independent of the module: is width x height allowed by the fixture's documented sizing?"""
    rule = model.sizing
    assert rule is not None
    if rule["kind"] == "table":
        pairs = {(r.width, r.height) for r in model.resolutions}
        return (width, height) in pairs or (bool(rule.get("allow_auto")) and (width, height) == (0, 0))
    if rule["kind"] == "range":
        return all(
            rule[axis]["min"] <= value <= rule[axis]["max"] and value % rule[axis]["step"] == 0
            for axis, value in (("width", width), ("height", height))
        )
    if rule["kind"] == "values":
        return width in rule["widths"] and height in rule["heights"]
    return width >= rule["min"] and height >= rule["min"]


# --- defaults ------------------------------------------------------------------------------------


def test_defaults_are_applied_without_adjustments() -> None:
    prepared = prepare("flux-dev", {"prompt": "A cat"})
    assert prepared.params == {
        "prompt": "A cat",
        "mode": "FAST",
        "width": 1024,
        "height": 1024,
        "quantity": 1,
        "guidance_scale": 3.5,
        "num_inference_steps": 28,
    }
    assert prepared.adjustments == []


def test_array_and_boolean_defaults() -> None:
    prepared = prepare("nano-banana-2", {"prompt": "A cat"})
    assert prepared.params["response_modalities"] == ["IMAGE"]
    assert prepared.params["output_format"] == "png"
    assert "width" not in prepared.params  # no default documented
    assert prepare("seedance-2.0", {"prompt": "x"}).params["generate_audio"] is True


def test_prepare_leaves_the_input_alone_and_drops_nulls() -> None:
    sent = {"prompt": "A cat", "width": 1001, "seed": None}
    prepared = prepare("flux-dev", sent)
    assert sent == {"prompt": "A cat", "width": 1001, "seed": None}
    assert "seed" not in prepared.params


def test_unknown_params_pass_through() -> None:
    assert prepare("kino-xl", {"anything": 1}).params == {"anything": 1}


# --- validation errors -----------------------------------------------------------------------------


def test_prompt_too_long() -> None:
    error = _error("seedance-2.0", {"prompt": "x" * 1501})
    assert (error.status, error.error_id, error.param) == (400, "PROMPT_TOO_LONG", "prompt")
    assert error.details == {"length": 1501, "max": 1500}
    assert prepare("seedance-2.0", {"prompt": "x" * 1500}).params["prompt"] == "x" * 1500


def test_prompt_limit_applies_to_models_without_a_prompt_row() -> None:
    assert _error("kino-xl", {"prompt": "x" * 1501}).error_id == "PROMPT_TOO_LONG"


def test_quantity_too_high() -> None:
    error = _error("gpt-image-2", {"prompt": "x", "quantity": 9})
    assert (error.status, error.error_id, error.param) == (400, "QUANTITY_TOO_HIGH", "quantity")
    assert prepare("gpt-image-2", {"prompt": "x", "quantity": 8}).params["quantity"] == 8


def test_quantity_above_the_model_maximum() -> None:
    error = _error("sora-2", {"prompt": "x", "quantity": 2})
    assert (error.status, error.error_id) == (400, "QUANTITY_TOO_HIGH")
    assert error.details["max"] == 1


@pytest.mark.parametrize(
    ("model", "params", "param"),
    [
        ("gpt-image-2", {}, "prompt"),
        ("hailuo-2_3-fast", {"prompt": "x"}, "start_frame"),
        ("flux-dev", {"prompt": ""}, "prompt"),
        ("flux-dev", {"prompt": 5}, "prompt"),
        ("flux-dev", {"prompt": "x", "width": "big"}, "width"),
        ("flux-dev", {"prompt": "x", "guidance_scale": 11}, "guidance_scale"),
        ("flux-dev", {"prompt": "x", "seed": -1}, "seed"),
        ("flux-dev", {"prompt": "x", "num_inference_steps": 2.5}, "num_inference_steps"),
        ("gpt-image-2", {"prompt": "x", "quality": "ultra"}, "quality"),
        ("gpt-image-2", {"prompt": "x", "quantity": 0}, "quantity"),
        ("gpt-image-2", {"prompt": "x", "quantity": "2"}, "quantity"),
        ("seedance-2.0", {"prompt": "x", "duration": 16}, "duration"),
        ("seedance-2.0", {"prompt": "x", "duration": "8"}, "duration"),
        ("seedance-2.0", {"prompt": "x", "mode": "RESOLUTION_4K"}, "mode"),
        ("seedance-2.0", {"prompt": "x", "generate_audio": "yes"}, "generate_audio"),
        (
            "kling-2.5-turbo-standard",
            {"prompt": "x", "start_frame": PNG, "negative_prompt": "n" * 1001},
            "negative_prompt",
        ),
        ("gemini-image-2", {"prompt": "x", "response_modalities": "IMAGE"}, "response_modalities"),
        ("cortex_2.0", {"prompt": "x", "width": "wide"}, "width"),
    ],
)
def test_invalid_params(model: str, params: dict[str, Any], param: str) -> None:
    error = _error(model, params)
    assert (error.status, error.error_id, error.param) == (400, "INVALID_PARAMS", param)
    assert param in error.message


def test_params_must_be_an_object() -> None:
    assert _error("flux-dev", ["prompt"]).error_id == "INVALID_PARAMS"  # type: ignore[arg-type]


def test_enum_case_is_normalised_and_reported() -> None:
    prepared = prepare("gpt-image-2", {"prompt": "x", "quality": "HIGH"})
    assert prepared.params["quality"] == "high"
    assert prepared.adjustments[0]["param"] == "quality"


# --- snapping --------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("model", "size", "expected"),
    [
        ("flux-dev", (1001, 5000), (1000, 2048)),  # step 8, Dimension Range max
        ("flux-dev", (100, 1028), (480, 1032)),  # Dimension Range min; half-way rounds up
        ("gpt-image-1", (1000, 1600), (1024, 1536)),  # table 1024-1536 step 8
        ("gpt-image-2", (2000, 2000), (2048, 2048)),  # same aspect, nearest tier by pixels
        ("gpt-image-2", (1920, 1080), (2048, 1136)),
        ("gpt-image-2", (3840, 2160), (3584, 2016)),
        ("auto-image", (1000, 500), (1344, 768)),  # widest aspect available
        ("auto-image", (500, 1000), (768, 1344)),
        ("recraft-v4", (1000, 1400), (896, 1280)),  # 10:14
        ("sora-2", (1920, 1080), (1280, 720)),
        ("kling-3.0", (0, 0), (0, 0)),  # auto
        ("kling-3.0", (1440, 1200), (1440, 1440)),
        ("kling-3.0", (1440, 1000), (1920, 1080)),  # ln-aspect 0.36: nearer 16:9 than 1:1
        ("hailuo-2_3", (1000, 1300), (1080, 1376)),  # Valid Widths/Heights
        ("seedance-2.0", (-5, 720), (0, 720)),
        ("lucid-origin", (3840, 3616), (3000, 3000)),
    ],
)
def test_snap_size(model: str, size: tuple[int, int], expected: tuple[int, int]) -> None:
    assert snap_size(catalog.get(model), *size) == expected


def test_snapping_is_reported_per_axis() -> None:
    prepared = prepare("auto-image", {"prompt": "x", "width": 1000, "height": 500})
    assert (prepared.params["width"], prepared.params["height"]) == (1344, 768)
    assert prepared.adjustments == [
        {"param": "width", "from": 1000, "to": 1344, "reason": "snapped to the nearest supported size"},
        {"param": "height", "from": 500, "to": 768, "reason": "snapped to the nearest supported size"},
    ]


def test_valid_size_is_untouched() -> None:
    assert prepare("gpt-image-2", {"prompt": "x", "width": 3808, "height": 1632}).adjustments == []


def test_one_side_only_is_completed_and_snapped() -> None:
    prepared = prepare("gemini-image-2", {"prompt": "x", "width": 2048})
    assert (prepared.params["width"], prepared.params["height"]) == (2048, 2048)


def test_seedance_mode_sets_the_size_keeping_orientation() -> None:
    prepared = prepare("seedance-2.0", {"prompt": "x", "mode": "RESOLUTION_1080", "width": 720, "height": 1280})
    assert (prepared.params["width"], prepared.params["height"]) == (1080, 1920)
    assert [a["param"] for a in prepared.adjustments] == ["width", "height"]
    silent = prepare("seedance-2.0", {"prompt": "x", "mode": "RESOLUTION_1080"})
    assert (silent.params["width"], silent.params["height"]) == (1920, 1080)
    assert silent.adjustments == []


# --- inline references -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("image", "https://example.com/cat.jpg"),
        ("image", PNG),
        ("start_frame", "data:image/jpeg;name=cat.jpg;base64,/9j/4AAQ"),
        ("reference_images", [PNG, "https://example.com/a.png"]),
        ("image_urls", ["https://example.com/a.png"]),
        ("audio_url", WAV),
        ("video_url", "https://cdn.example.com/clip.mp4"),
    ],
)
def test_valid_references(field: str, value: Any) -> None:
    assert prepare("seedance-2.0", {"prompt": "x", field: value}).params[field] == value


@pytest.mark.parametrize(
    ("field", "value", "named", "words"),
    [
        ("image", "data:image/png;base64,not*base64!", "image", "base64"),
        ("image", "data:image/png;base64,abc", "image", "base64"),  # bad padding
        ("image", "data:image/png;base64", "image", "','"),
        ("image", "data:image/png,iVBORw0KGgo=", "image", "base64"),
        ("image", "data:text/plain;base64,aGVsbG8=", "image", "image/*"),
        ("image", "data:;base64,aGVsbG8=", "image", "MIME"),
        ("image", "data:image/png;base64,", "image", "base64"),
        ("start_frame", "data:audio/wav;base64,UklGRg==", "start_frame", "image/*"),
        ("video_url", PNG, "video_url", "video/*"),
        ("reference_images", [PNG, "data:image/png;base64,%%%"], "reference_images[1]", "base64"),
        ("image", "http://example.com/cat.jpg", "image", "https"),
        ("image", "cat.jpg", "image", "https"),
        ("image", 42, "image", "https"),
    ],
)
def test_malformed_references_name_the_field(field: str, value: Any, named: str, words: str) -> None:
    error = _error("seedance-2.0", {"prompt": "x", field: value})
    assert (error.status, error.error_id, error.param) == (400, "INVALID_PARAMS", named)
    assert named in error.message and words in error.message


# --- budget downgrade ----------------------------------------------------------------------------

SEEDANCE_1080_15 = {"prompt": "x", "mode": "RESOLUTION_1080", "duration": 15}


def test_downgrade_keeps_params_that_fit() -> None:
    result = downgrade("seedance-2.0", SEEDANCE_1080_15, 100.0)
    assert result == prepare("seedance-2.0", SEEDANCE_1080_15)


def test_downgrade_lowers_resolution_before_duration() -> None:
    result = downgrade("seedance-2.0", SEEDANCE_1080_15, 5.0)
    assert result is not None
    assert (result.params["width"], result.params["height"], result.params["duration"]) == (1280, 720, 15)
    assert result.params["mode"] == "RESOLUTION_720"
    assert {a["param"] for a in result.adjustments} == {"width", "height", "mode"}


def test_downgrade_then_shortens_duration() -> None:
    result = downgrade("seedance-2.0", SEEDANCE_1080_15, 1.0)
    assert result is not None
    assert (result.params["height"], result.params["duration"]) == (720, 8)
    assert cost("seedance-2.0", result.params) <= 1.0
    reasons = [a["reason"] for a in result.adjustments]
    assert reasons.index("duration shortened to fit the remaining budget") > reasons.index(
        "resolution lowered to fit the remaining budget"
    )
    assert result.adjustments[-1] == {
        "param": "duration",
        "from": 15,
        "to": 8,
        "reason": "duration shortened to fit the remaining budget",
    }


def test_downgrade_image_tiers() -> None:
    result = downgrade("gpt-image-2", {"prompt": "x", "width": 2880, "height": 2880, "quality": "high"}, 0.5)
    assert result is not None
    assert (result.params["width"], result.params["height"]) == (2048, 2048)


def test_nothing_fits() -> None:
    assert downgrade("seedance-2.0", SEEDANCE_1080_15, 0.1) is None
    assert downgrade("rodin-v2", {}, 0.1) is None
    assert downgrade("gpt-image-2", {"prompt": "x"}, 0.0) is None


def test_downgrade_still_validates() -> None:
    with pytest.raises(InvalidInput):
        downgrade("seedance-2.0", {"prompt": "x" * 1501}, 100.0)


# --- properties ----------------------------------------------------------------------------------

SIZED = [m for m in catalog.all() if m.sizing is not None]
PRICED_BY_SIZE = [m for m in catalog.all() if m.pricing["kind"] != "flat"] + [catalog.get("sora-2")]
SIDES = st.integers(min_value=-50_000, max_value=50_000)


@given(model=st.sampled_from(SIZED), width=SIDES, height=SIDES)
@settings(max_examples=400, deadline=None)
def test_snapped_size_is_always_valid(model: Model, width: int, height: int) -> None:
    snapped = snap_size(model, width, height)
    assert _valid_size(model, *snapped), (model.id, width, height, snapped)
    assert snap_size(model, *snapped) == snapped


@given(model=st.sampled_from(SIZED), width=SIDES, height=SIDES)
@settings(max_examples=200, deadline=None)
def test_prepared_size_is_always_valid(model: Model, width: int, height: int) -> None:
    prepared = prepare(model, {**_base(model), "width": width, "height": height})
    assert _valid_size(model, prepared.params["width"], prepared.params["height"])


@st.composite
def _priced_requests(draw: st.DrawFn) -> tuple[Model, dict[str, Any]]:
    model = draw(st.sampled_from(PRICED_BY_SIZE))
    params = _base(model)
    if model.sizing is not None:
        params["width"] = draw(st.integers(min_value=1, max_value=4000))
        params["height"] = draw(st.integers(min_value=1, max_value=4000))
    name = duration_param(model)
    spec = model.param(name) if name else None
    if spec is not None and spec.enum is not None:
        params[name] = draw(st.sampled_from(spec.enum))  # type: ignore[index]
    quantity = model.param("quantity")
    if quantity is not None:
        params["quantity"] = draw(st.integers(min_value=1, max_value=int(quantity.max or 8)))
    return model, params


@given(request=_priced_requests(), budget=st.floats(min_value=0, max_value=15, allow_nan=False))
@settings(max_examples=300, deadline=None)
def test_downgrade_never_exceeds_the_budget(request: tuple[Model, dict[str, Any]], budget: float) -> None:
    model, params = request
    result = downgrade(model, params, budget)
    prepared = prepare(model, params)
    if result is None:
        assert cost(model, prepared.params) > budget
        return
    assert isinstance(result, Prepared)
    assert cost(model, result.params) <= budget
    if cost(model, prepared.params) <= budget:
        assert result == prepared
