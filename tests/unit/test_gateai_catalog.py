"""The GateAI catalog fixture against gateai-core-api.md, suggestions, and the discovery views."""

from __future__ import annotations

from collections import Counter

import pytest

from mockserver.core.errors import NotFound
from mockserver.gateai import catalog, params
from tests.domain_answers import gateai_answer

# Every model section of the doc: id -> (type, cost summary verbatim), in documentation order.
DOCUMENTED = {
    "auto-image": ("image", "~$0.02 per generation"),
    "flux-dev": ("image", "~$0.00 per 1024×1024 image"),
    "flux-kontext-max": ("image", "~$0.04 per generation"),
    "flux-kontext-pro": ("image", "~$0.02 per generation"),
    "flux-pro-2.0": ("image", "~$0.01 per 1024×1024 image"),
    "flux-schnell": ("image", "~$0.00 per 1024×1024 image"),
    "gemini-2.5-flash-image": ("image", "~$0.02 per generation"),
    "gemini-image-2": ("image", "~$0.06 per generation"),
    "gpt-image-1": ("image", "~$0.01 per 1024×1024 image"),
    "gpt-image-1.5": ("image", "~$0.01 per 1024×1024 image"),
    "gpt-image-2": ("image", "~$0.00 per 1024×1024 image"),
    "ideogram-v3.0": ("image", "~$0.01 per generation"),
    "kino-xl": ("image", "~$0.00 per 1024×1024 image"),
    "cortex_1.0": ("image", "~$0.01 per generation"),
    "nano-banana-2": ("image", "~$0.03 per generation"),
    "recraft-v4": ("image", "~$0.02 per generation"),
    "recraft-v4-pro": ("image", "~$0.10 per generation"),
    "seedream-4.0": ("image", "~$0.01 per generation"),
    "seedream-4.5": ("image", "~$0.01 per generation"),
    "auto-video": ("video", "~$0.13 per generation"),
    "hailuo-2_3": ("video", "~$0.04 per generation"),
    "hailuo-2_3-fast": ("video", "~$0.03 per generation"),
    "happy-horse": ("video", "~$0.06 per generation"),
    "kling-2.1-pro": ("video", "~$0.04 per generation"),
    "kling-2.5": ("video", "~$0.03 per generation"),
    "kling-2.5-turbo-standard": ("video", "~$0.02 per generation"),
    "kling-2.6": ("video", "~$0.06 per generation"),
    "kling-3.0": ("video", "~$0.03 per generation"),
    "kling-video-o-1": ("video", "~$0.04 per generation"),
    "kling-video-o-3": ("video", "~$0.07 per generation"),
    "ltxv-2.0-fast": ("video", "~$0.02 per generation"),
    "ltxv-2.0-pro": ("video", "~$0.02 per generation"),
    "ltxv-2.0-ultra": ("video", "~$0.02 per generation"),
    "ltxv-2.3-fast": ("video", "~$0.02 per generation"),
    "ltxv-2.3-pro": ("video", "~$0.02 per generation"),
    "lucid-origin": ("video", "~$0.00 per 1024×1024 image"),
    "lucid-realism": ("video", "~$0.00 per 1024×1024 image"),
    "cortex_2.0": ("video", "~$0.08 per generation"),
    "cortex_2.0-fast": ("video", "~$0.03 per generation"),
    "cortex-v0.9": ("video", "~$0.00 per 1024×1024 image (min $0.00)"),
    "cortex-v1.0": ("video", "~$0.00 per 1024×1024 image (min $0.00)"),
    "seedance-1.0-pro": ("video", "~$0.09/720p 4s, ~$0.33/720p 15s (pixel×duration based)"),
    "seedance-1.0-pro-fast": ("video", "~$0.04/720p 4s, ~$0.13/720p 15s (pixel×duration based)"),
    "seedance-2.0": ("video", "~$0.49/720p 4s, ~$1.85/720p 15s (pixel×duration based)"),
    "seedance-2.0-fast": ("video", "~$0.40/720p 4s, ~$1.48/720p 15s (pixel×duration based)"),
    "sora-2": ("video", "~$0.04 per generation"),
    "sora-2-pro": ("video", "~$0.12 per generation"),
    "veo-3.0-fast-generate-001": ("video", "~$0.06 per generation"),
    "veo-3.0-generate-001": ("video", "~$0.13 per generation"),
    "veo-3.1-fast-generate-001": ("video", "~$0.04 per generation"),
    "veo-3.1-generate-001": ("video", "~$0.08 per generation"),
    "veo-3.1-lite": ("video", "~$0.02 per generation"),
    "rodin-v2": ("3d", "~$0.16 per generation"),
}


def test_53_models_with_unique_ids_in_doc_order() -> None:
    ids = [m.id for m in catalog.all()]
    assert len(ids) == 53
    assert len(set(ids)) == 53
    assert ids == list(DOCUMENTED)


def test_counts_by_type_match_the_doc() -> None:
    assert Counter(m.type for m in catalog.all()) == {"image": 19, "video": 33, "3d": 1}


@pytest.mark.parametrize(("model_id", "documented"), DOCUMENTED.items())
def test_type_and_cost_summary_verbatim(model_id: str, documented: tuple[str, str]) -> None:
    model = catalog.get(model_id)
    assert (model.type, model.cost) == documented


def test_parameter_details_are_kept() -> None:
    flux = catalog.get("flux-dev")
    width = flux.param("width")
    assert width is not None
    assert (width.default, width.min, width.max, width.step) == (1024, 16, 2496, 8)
    prompt = flux.param("prompt")
    assert prompt is not None and prompt.required
    assert (prompt.min_len, prompt.max_len) == (1, 2000)
    guidance = flux.param("guidance_scale")
    assert guidance is not None and guidance.default == 3.5
    quality = catalog.get("gpt-image-2").param("quality")
    assert quality is not None and quality.enum == ("high", "medium", "low") and quality.default == "low"
    duration = catalog.get("seedance-2.0").param("duration")
    assert duration is not None and duration.enum == tuple(range(4, 16)) and duration.default == 8
    start = catalog.get("hailuo-2_3-fast").param("start_frame")
    assert start is not None and start.required


def test_resolution_tables_and_dimension_ranges() -> None:
    gpt2 = catalog.get("gpt-image-2")
    assert len(gpt2.resolutions) == 30
    assert {(r.width, r.height) for r in gpt2.resolutions if r.label == "16:9"} == {
        (1376, 768),
        (2048, 1136),
        (3584, 2016),
    }
    recraft = catalog.get("recraft-v4")
    assert len(recraft.resolutions) == 14
    lucid = catalog.get("lucid-origin")
    assert lucid.dimension_range == {
        "width": {"min": 16, "max": 3840, "step": 8},
        "height": {"min": 16, "max": 3616, "step": 8},
    }


def test_every_model_has_a_known_pricing_rule_and_sizing_when_sized() -> None:
    for model in catalog.all():
        assert model.pricing["kind"] in {"flat", "per_image", "pixel_seconds"}, model.id
        has_size = model.param("width") is not None
        assert (model.sizing is not None) == (has_size or model.id.startswith("hailuo")), model.id
        if model.sizing is not None and model.sizing["kind"] == "table":
            assert model.resolutions, model.id


def test_doc_inconsistencies_are_recorded_as_notes() -> None:
    assert any("11.25" in note for note in catalog.get("seedance-2.0").notes)
    assert any("intersection" in note for note in catalog.get("gpt-image-1").notes)
    assert any("720p" in note for note in catalog.get("hailuo-2_3").notes)


# --- suggestions ---------------------------------------------------------------------------------


def test_seedance_suggests_seedance_2_first() -> None:
    found = catalog.suggestions("seedance")
    assert found[0] == "seedance-2.0"
    assert set(found) >= {"seedance-2.0", "seedance-2.0-fast", "seedance-1.0-pro", "seedance-1.0-pro-fast"}


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("kling", "kling-2.5"),
        ("gpt-image", "gpt-image-1"),
        ("gpt image 2", "gpt-image-2"),
        ("veo-3.1-fast", "veo-3.1-fast-generate-001"),
        ("sora2", "sora-2"),
        ("seedanse-2.0", "seedance-2.0"),
    ],
)
def test_suggestions_rank_prefixes_and_typos(query: str, expected: str) -> None:
    assert expected in catalog.suggestions(query, n=3)


def test_suggestions_substring_of_name_and_limits() -> None:
    assert "nano-banana-2" in catalog.suggestions("banana")
    assert "gemini-2.5-flash-image" in catalog.suggestions("banana")
    assert len(catalog.suggestions("kling", n=2)) == 2
    assert catalog.suggestions("zzzzqqqq") == []
    assert catalog.suggestions("") == []


def test_unknown_model_is_404_with_suggestions() -> None:
    with pytest.raises(NotFound) as caught:
        catalog.get("seedance")
    error = gateai_answer(caught.value)
    assert (error.status, error.error_id, error.message) == (404, "MODEL_NOT_FOUND", "Model not found")
    assert "seedance-2.0" in error.details["suggestions"]


# --- discovery views -------------------------------------------------------------------------------


def test_list_view_shape() -> None:
    view = catalog.list_view()
    assert len(view) == 53
    for entry in view:
        assert set(entry) == {"id", "type", "cost", "params"}
        assert all(isinstance(name, str) for name in entry["params"])
    gpt2 = next(entry for entry in view if entry["id"] == "gpt-image-2")
    assert gpt2["type"] == "image"
    assert gpt2["params"][:5] == ["prompt", "width", "height", "quality", "quantity"]


def test_schema_view_shape() -> None:
    view = catalog.schema_view()
    assert [entry["id"] for entry in view] == list(DOCUMENTED)
    for entry in view:
        assert {"id", "type", "cost", "params"} <= set(entry)
        assert "example" not in entry
        for schema in entry["params"].values():
            assert "type" in schema
            assert schema.get("required", True) is True  # only required: true is shown


def test_single_model_view_mirrors_the_doc_example() -> None:
    view = catalog.model_view("seedance-2.0")
    assert list(view) == ["id", "type", "cost", "params", "example"]
    assert view["id"] == "seedance-2.0" and view["type"] == "video"
    assert view["params"]["prompt"]["type"] == "string"
    assert view["params"]["prompt"]["required"] is True
    assert view["params"]["mode"]["enum"] == ["RESOLUTION_720", "RESOLUTION_1080"]
    assert view["params"]["duration"]["default"] == 8
    assert set(view["example"]) == {"model", "params"}
    assert view["example"]["model"] == "seedance-2.0"


def test_single_model_view_unknown_is_404() -> None:
    with pytest.raises(NotFound) as caught:
        catalog.model_view("sora")
    assert gateai_answer(caught.value).status == 404
    assert "sora-2" in gateai_answer(caught.value).details["suggestions"]


def test_views_are_fresh_copies() -> None:
    view = catalog.model_view("gpt-image-2")
    view["example"]["params"]["prompt"] = "changed"
    view["params"]["quality"]["enum"].append("ultra")
    again = catalog.model_view("gpt-image-2")
    assert again["example"]["params"]["prompt"] == "A beautiful scene"
    assert again["params"]["quality"]["enum"] == ["high", "medium", "low"]


@pytest.mark.parametrize("model_id", DOCUMENTED)
def test_every_example_body_is_ready_to_send(model_id: str) -> None:
    body = catalog.example_body(catalog.get(model_id))
    prepared = params.prepare(body["model"], body["params"])
    assert prepared.adjustments == []
