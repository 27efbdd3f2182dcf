"""Credits per catalog pricing unit."""

from __future__ import annotations

import pytest

from mockserver.skytells.catalog import Catalog
from mockserver.skytells.inputs import prepare_input
from mockserver.spec.pricing import credits_for

CATALOG = Catalog.load()


@pytest.mark.parametrize(
    ("model", "given", "compute", "expected"),
    [
        ("truefusion", {"prompt": "x"}, 0, 0.03),  # per image, default count
        ("truefusion", {"prompt": "x", "number_of_images": 4}, 0, 0.12),
        ("truefusion-pro", {"prompt": "x", "num_outputs": 3}, 0, 0.15),
        ("truefusion-2", {"prompt": "x"}, 0, 0.10),  # 1080p default tier
        ("truefusion-2", {"prompt": "x", "resolution": "720p"}, 0, 0.07),
        ("FLUX.2-pro", {"prompt": "x", "resolution": "0.5 MP"}, 0, 0.01),
        ("FLUX.2-pro", {"prompt": "x", "resolution": "2 MP"}, 0, 0.04),
        ("truefusion-video-pro", {"prompt": "x"}, 0, 0.98),  # 5 s x $0.196
        ("truefusion-video", {"prompt": "x", "duration": 10}, 0, 1.12),
        ("veo-3.1-fast", {"prompt": "x", "duration": 8}, 0, 1.36),  # audio on by default
        ("veo-3.1-fast", {"prompt": "x", "duration": 8, "generate_audio": False}, 0, 1.04),
        ("wan-2.5-i2v", {"prompt": "x", "image": "https://e.com/a.png", "resolution": "480p"}, 0, 0.30),
        ("mera", {"prompt": "x"}, 0, 3.42),  # per prediction
        ("sora-2", {"prompt": "x", "openai_api_key": "sk-o"}, 0, 0.002),  # per video
        ("truefusion-pano", {"prompt": "x"}, 12.5, 0.25),  # per GPU second
        ("truefusion-2-optima", {"prompt": "x"}, 10, 0.08),  # per computing second
        ("video-upscale", {"video": "https://e.com/v.mp4"}, 0, 0.10),  # per 5 s chunk, 5 s assumed
        ("lipfusion", {"video_url": "https://e.com/v.mp4"}, 0, 0.20),  # 5 s assumed x $0.04
        ("beatfusion-2.0", {"lyrics": "la"}, 0, 0.75),
    ],
)
def test_credits(model: str, given: dict, compute: float, expected: float) -> None:
    entry = CATALOG.get(model)
    assert credits_for(entry, prepare_input(entry, given), compute_seconds=compute) == pytest.approx(expected)


def test_text_models_have_no_prediction_price() -> None:
    with pytest.raises(ValueError):
        credits_for(CATALOG.get("gpt-5"), {})
