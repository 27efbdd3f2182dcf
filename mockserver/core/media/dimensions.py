"""Picture sizes: from an aspect ratio and a pixel count, and the (smaller) size a video is encoded at."""

from __future__ import annotations

import math
from functools import lru_cache

#: Longest side of an encoded video; larger requests are scaled down proportionally.
MAX_VIDEO_SIDE = 640


def video_dimensions(width: int, height: int) -> tuple[int, int]:
    """The size a ``width`` x ``height`` video is encoded at: even, longest side <= MAX_VIDEO_SIDE."""
    scale = min(1.0, MAX_VIDEO_SIDE / max(width, height))
    return max(2, round(width * scale / 2) * 2), max(2, round(height * scale / 2) * 2)


def _parse_ratio(aspect_ratio: str) -> float:
    text = str(aspect_ratio).strip()
    try:
        for sep in (":", "/", "x"):
            if sep in text:
                num, den = (float(part) for part in text.split(sep, 1))
                break
        else:
            num, den = float(text), 1.0
    except ValueError:
        raise ValueError(f"invalid aspect ratio {aspect_ratio!r}; expected e.g. '16:9'") from None
    if not (num > 0 and den > 0 and math.isfinite(num / den)):
        raise ValueError(f"invalid aspect ratio {aspect_ratio!r}; both sides must be positive")
    return num / den


@lru_cache(maxsize=4096)  # a pure function of few distinct inputs, called on every image create
def dimensions_for_aspect(aspect_ratio: str, megapixels: float = 1.0, multiple: int = 16) -> tuple[int, int]:
    """``(width, height)`` with ratio ``aspect_ratio`` (``"16:9"``), area ~ ``megapixels`` MiPx.

    Both sides are multiples of ``multiple``. Among sizes whose area is within 10 % of
    ``megapixels * 1_048_576`` the one minimising ``ratio error + area error / 4`` (relative,
    log scale) wins, so the ratio counts four times as much as the pixel count.
    """
    if not megapixels > 0 or not math.isfinite(megapixels):
        raise ValueError("megapixels must be positive")
    if multiple < 1:
        raise ValueError("multiple must be >= 1")
    ratio = _parse_ratio(aspect_ratio)
    target = megapixels * 1_048_576
    ideal_w = math.sqrt(target * ratio)
    lo = max(1, math.floor(ideal_w * 0.85 / multiple))
    hi = max(lo, math.ceil(ideal_w * 1.15 / multiple))
    best: tuple[tuple[bool, float, float], tuple[int, int]] | None = None
    for wk in range(lo, hi + 1):
        width = wk * multiple
        exact_hk = width / ratio / multiple
        for hk in {max(1, math.floor(exact_hk)), max(1, math.ceil(exact_hk))}:
            height = hk * multiple
            area_err = abs(math.log(width * height / target))
            ratio_err = abs(math.log(width / height / ratio))
            score = (area_err > math.log(1.1), ratio_err + area_err / 4, area_err)
            if best is None or score < best[0]:
                best = (score, (width, height))
    assert best is not None
    return best[1]
