"""PNG, JPEG and WebP images (Pillow): a smooth seeded colour field, with the recipe's label drawn on it."""

from __future__ import annotations

import functools
import io

import numpy as np
from PIL import Image, ImageDraw, ImageFont

from mockserver.core.media import seeded
from mockserver.core.media.spec import MediaSpec

# The pattern is computed at most this many pixels on its longer side, then upscaled.
_PATTERN_SIDE = 128


def pattern(seed: int, width: int, height: int) -> Image.Image:
    """A smooth seeded colour field, computed small and upscaled to ``width`` x ``height``."""
    rng = seeded.rng(seed, "pattern")
    scale = _PATTERN_SIDE / max(width, height)
    sw, sh = max(2, round(width * scale)), max(2, round(height * scale))
    aspect = width / height
    u = np.linspace(0.0, aspect, sw, dtype=np.float32)[None, :]
    v = np.linspace(0.0, 1.0, sh, dtype=np.float32)[:, None]
    field = np.zeros((sh, sw), dtype=np.float32)
    for _ in range(3):
        fu, fv = rng.uniform(-4.0, 4.0, 2)
        field += np.sin(2 * np.pi * (fu * u + fv * v) + rng.uniform(0, 2 * np.pi))
    cx, cy, freq = rng.uniform(0.0, aspect), rng.uniform(0.0, 1.0), rng.uniform(3.0, 8.0)
    field += 1.5 * np.cos(freq * np.sqrt((u - cx) ** 2 + (v - cy) ** 2) + rng.uniform(0, 2 * np.pi))
    t = (field - field.min()) / max(float(np.ptp(field)), 1e-6) * 3.0  # 0..3 across 4 stops
    colours = seeded.palette(rng, 4)
    idx = np.minimum(t.astype(np.int32), 2)
    frac = (t - idx)[..., None]
    rgb = colours[idx] * (1.0 - frac) + colours[idx + 1] * frac
    small = Image.fromarray((rgb * 255.0 + 0.5).astype(np.uint8), "RGB")
    return small.resize((width, height), Image.Resampling.BILINEAR)


@functools.lru_cache(maxsize=32)
def _font(size: int) -> ImageFont.FreeTypeFont | ImageFont.ImageFont:
    return ImageFont.load_default(size=size)


def _fit_label(label: str, font: ImageFont.FreeTypeFont | ImageFont.ImageFont, max_width: float) -> str:
    """``label`` on one line, cut with an ellipsis so that it is at most ``max_width`` wide."""
    text = " ".join(label[:500].split())
    if font.getlength(text) <= max_width:
        return text
    keep = max(1, int(len(text) * max_width / font.getlength(text)))
    while keep > 1 and font.getlength(text[:keep].rstrip() + "…") > max_width:
        keep -= 1
    return text[:keep].rstrip() + "…"


def draw_label(image: Image.Image, label: str) -> None:
    """Draw ``label`` (one line, truncated to fit) near the bottom-left corner, white on black."""
    width, height = image.size
    if height < 16 or width < 16:
        return
    size = max(8, min(height // 18, width // 12))
    font = _font(size)
    text = _fit_label(label, font, width - size)
    if not text:
        return
    stroke = max(1, size // 12)
    ImageDraw.Draw(image).text(
        (size // 2, height - size // 2),
        text,
        fill=(255, 255, 255),
        font=font,
        anchor="ls",
        stroke_width=stroke,
        stroke_fill=(0, 0, 0),
    )


def render_image(spec: MediaSpec, effort: int = 0) -> bytes:
    image = pattern(spec.seed, spec.width, spec.height)
    if spec.label:
        draw_label(image, spec.label)
    out = io.BytesIO()
    quality = max(1, spec.quality >> (2 * effort))
    if spec.format == "png" and effort:
        image.quantize(colors=max(2, 256 >> (2 * effort))).save(out, "PNG", compress_level=9)
    elif spec.format == "png":
        image.save(out, "PNG", compress_level=1)
    elif spec.format == "jpg":
        image.save(out, "JPEG", quality=quality)
    else:
        image.save(out, "WEBP", quality=quality, method=0)
    return out.getvalue()
