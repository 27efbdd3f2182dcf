"""Every cost the GateAI doc states, reproduced by ``pricing.cost`` at the doc's precision."""

from __future__ import annotations

from typing import Any

import pytest

from mockserver.core.errors import NotFound
from mockserver.gateai import catalog
from mockserver.gateai.pricing import cost
from tests.domain_answers import gateai_answer

P720 = {"width": 1280, "height": 720}
P1080 = {"width": 1920, "height": 1080}
ONE_IMAGE = {"width": 1024, "height": 1024, "quantity": 1}

# (model, params, documented cost, decimals the doc shows)
COST_TABLE: list[tuple[str, dict[str, Any], float, int]] = [
    ("gpt-image-2", {**ONE_IMAGE, "quality": "LOW"}, 0.003, 3),
    ("gpt-image-2", {**ONE_IMAGE, "quality": "HIGH"}, 0.11, 2),
    ("ideogram-v3.0", {"mode": "TURBO"}, 0.01, 2),
    ("seedance-2.0", {**P720, "duration": 4}, 0.49, 2),
    ("seedance-2.0", {**P720, "duration": 15}, 1.85, 2),
    ("seedance-2.0", {**P1080, "duration": 12}, 3.33, 2),
    ("seedance-2.0", {**P1080, "duration": 15}, 11.25, 2),
    # "Hailuo (720p, 6s)": the model's resolutions are 768p/1080p; 768p is the lower one.
    ("hailuo-2_3", {"resolution": "768p", "durationSeconds": 6}, 0.04, 2),
]

# The same Seedance rows written with the doc's own `mode` presets.
MODE_TABLE: list[tuple[str, dict[str, Any], float, int]] = [
    ("seedance-2.0", {"mode": "RESOLUTION_720", "duration": 4}, 0.49, 2),
    ("seedance-2.0", {"mode": "RESOLUTION_720", "duration": 15}, 1.85, 2),
    ("seedance-2.0", {"mode": "RESOLUTION_1080", "duration": 12}, 3.33, 2),
    ("seedance-2.0", {"mode": "RESOLUTION_1080", "duration": 15}, 11.25, 2),
]

# Each model's cost summary: "per generation" at the defaults, "per 1024x1024 image" for one such
# image, "pixel x duration based" at both stated points.
SUMMARIES: list[tuple[str, dict[str, Any], float, int]] = [
    ("auto-image", {}, 0.02, 2),
    ("flux-dev", ONE_IMAGE, 0.00, 2),
    ("flux-kontext-max", {}, 0.04, 2),
    ("flux-kontext-pro", {}, 0.02, 2),
    ("flux-pro-2.0", ONE_IMAGE, 0.01, 2),
    ("flux-schnell", ONE_IMAGE, 0.00, 2),
    ("gemini-2.5-flash-image", {}, 0.02, 2),
    ("gemini-image-2", {}, 0.06, 2),
    ("gpt-image-1", ONE_IMAGE, 0.01, 2),
    ("gpt-image-1.5", ONE_IMAGE, 0.01, 2),
    ("gpt-image-2", ONE_IMAGE, 0.00, 2),
    ("ideogram-v3.0", {}, 0.01, 2),
    ("kino-xl", {}, 0.00, 2),
    ("cortex_1.0", {}, 0.01, 2),
    ("nano-banana-2", {}, 0.03, 2),
    ("recraft-v4", {}, 0.02, 2),
    ("recraft-v4-pro", {}, 0.10, 2),
    ("seedream-4.0", {}, 0.01, 2),
    ("seedream-4.5", {}, 0.01, 2),
    ("auto-video", {}, 0.13, 2),
    ("hailuo-2_3", {}, 0.04, 2),
    ("hailuo-2_3-fast", {}, 0.03, 2),
    ("happy-horse", {}, 0.06, 2),
    ("kling-2.1-pro", {}, 0.04, 2),
    ("kling-2.5", {}, 0.03, 2),
    ("kling-2.5-turbo-standard", {}, 0.02, 2),
    ("kling-2.6", {}, 0.06, 2),
    ("kling-3.0", {}, 0.03, 2),
    ("kling-video-o-1", {}, 0.04, 2),
    ("kling-video-o-3", {}, 0.07, 2),
    ("ltxv-2.0-fast", {}, 0.02, 2),
    ("ltxv-2.0-pro", {}, 0.02, 2),
    ("ltxv-2.0-ultra", {}, 0.02, 2),
    ("ltxv-2.3-fast", {}, 0.02, 2),
    ("ltxv-2.3-pro", {}, 0.02, 2),
    ("lucid-origin", ONE_IMAGE, 0.00, 2),
    ("lucid-realism", ONE_IMAGE, 0.00, 2),
    ("cortex_2.0", {}, 0.08, 2),
    ("cortex_2.0-fast", {}, 0.03, 2),
    ("cortex-v0.9", ONE_IMAGE, 0.00, 2),
    ("cortex-v1.0", ONE_IMAGE, 0.00, 2),
    ("seedance-1.0-pro", {**P720, "duration": 4}, 0.09, 2),
    ("seedance-1.0-pro", {**P720, "duration": 15}, 0.33, 2),
    ("seedance-1.0-pro-fast", {**P720, "duration": 4}, 0.04, 2),
    ("seedance-1.0-pro-fast", {**P720, "duration": 15}, 0.13, 2),
    ("seedance-2.0", {**P720, "duration": 4}, 0.49, 2),
    ("seedance-2.0", {**P720, "duration": 15}, 1.85, 2),
    ("seedance-2.0-fast", {**P720, "duration": 4}, 0.40, 2),
    ("seedance-2.0-fast", {**P720, "duration": 15}, 1.48, 2),
    ("sora-2", {}, 0.04, 2),
    ("sora-2-pro", {}, 0.12, 2),
    ("veo-3.0-fast-generate-001", {}, 0.06, 2),
    ("veo-3.0-generate-001", {}, 0.13, 2),
    ("veo-3.1-fast-generate-001", {}, 0.04, 2),
    ("veo-3.1-generate-001", {}, 0.08, 2),
    ("veo-3.1-lite", {}, 0.02, 2),
    ("rodin-v2", {}, 0.16, 2),
]

# Costs shown in the endpoint examples: /v1/models ("~$0.003/image (LOW)", "~$0.49/720p 4s"),
# GET /get/{id} (gpt-image-2 at 0.11 = HIGH) and /api/me (2 seedance-2.0 requests = 3.70).
ENDPOINT_EXAMPLES: list[tuple[str, dict[str, Any], float, int]] = [
    ("gpt-image-2", {"quality": "low", "quantity": 1}, 0.003, 3),
    ("seedance-2.0", {**P720, "duration": 4}, 0.49, 2),
    ("gpt-image-2", {"quality": "high"}, 0.11, 2),
]


def _row_id(row: tuple[str, dict[str, Any], float, int]) -> str:
    model, params, expected, _ = row
    return f"{model}-{'-'.join(f'{k}={v}' for k, v in params.items()) or 'defaults'}-{expected}"


@pytest.mark.parametrize("row", COST_TABLE + MODE_TABLE + SUMMARIES + ENDPOINT_EXAMPLES, ids=_row_id)
def test_documented_cost(row: tuple[str, dict[str, Any], float, int]) -> None:
    model, params, expected, decimals = row
    assert round(cost(model, params), decimals) == pytest.approx(expected)


def test_every_model_summary_is_covered() -> None:
    assert {row[0] for row in SUMMARIES} == {m.id for m in catalog.all()}


def test_two_seedance_720p_15s_requests_match_the_dashboard_example() -> None:
    assert round(2 * cost("seedance-2.0", {**P720, "duration": 15}), 2) == pytest.approx(3.70)


def test_quantity_multiplies_per_image_prices_only() -> None:
    one = cost("gpt-image-2", {**ONE_IMAGE, "quality": "high"})
    assert cost("gpt-image-2", {**ONE_IMAGE, "quality": "high", "quantity": 4}) == pytest.approx(4 * one)
    assert cost("flux-kontext-max", {"quantity": 1}) == cost("flux-kontext-max", {"quantity": 8})


def test_per_image_price_scales_with_pixels() -> None:
    base = cost("gpt-image-2", {**ONE_IMAGE, "quality": "high"})
    assert cost("gpt-image-2", {"width": 2048, "height": 2048, "quality": "high"}) == pytest.approx(4 * base)


def test_pixel_seconds_orientation_and_defaults() -> None:
    landscape = cost("seedance-2.0", {**P720, "duration": 6})
    assert cost("seedance-2.0", {"width": 720, "height": 1280, "duration": 6}) == landscape
    assert cost("seedance-2.0") == cost("seedance-2.0", {**P720, "duration": 8})
    assert cost("seedance-2.0", {**P720, "duration": 8}) > cost("seedance-2.0", {**P720, "duration": 7})


def test_flat_price_ignores_size_and_duration() -> None:
    assert cost("veo-3.1-generate-001", {"mode": "RESOLUTION_2160", "duration": 4}) == 0.08


def test_unknown_model() -> None:
    with pytest.raises(NotFound) as caught:
        cost("seedance")
    assert gateai_answer(caught.value).error_id == "MODEL_NOT_FOUND"
