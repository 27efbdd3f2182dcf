"""Which files a prediction produces: format, size, duration and count from the model's input."""

from __future__ import annotations

import re
from typing import Any

from mockserver.core import media
from mockserver.skytells.catalog import Model
from mockserver.spec.pricing import megapixels, quantity

_SIZE = re.compile(r"^\s*(\d{2,5})\s*[x\u00d7*]\s*(\d{2,5})\s*$")
_PROGRESSIVE = {"480p": 480, "720p": 720, "1080p": 1080, "1440p": 1440, "4k": 2160, "2160p": 2160}
_NAMED_ASPECT = {"portrait": "9:16", "landscape": "16:9", "square": "1:1"}
_RATIO = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*:\s*(\d+(?:\.\d+)?)\s*$")


def _explicit_size(params: dict[str, Any]) -> tuple[int, int] | None:
    width, height = params.get("width"), params.get("height")
    if isinstance(width, int) and isinstance(height, int) and width > 0 and height > 0:
        return width, height
    for key in ("size", "resolution"):
        match = _SIZE.match(str(params[key])) if key in params else None  # an absent key matches nothing
        if match:
            return int(match.group(1)), int(match.group(2))
    return None


def _aspect(params: dict[str, Any], default: str) -> str:
    raw = str(params.get("aspect_ratio") or default)
    raw = _NAMED_ASPECT.get(raw, raw)
    return raw if _RATIO.match(raw) else default


def image_size(params: dict[str, Any]) -> tuple[int, int]:
    """Pixel size of an output image."""
    explicit = _explicit_size(params)
    if explicit:
        return explicit
    mp = megapixels(params) if "resolution" in params else float(params.get("megapixels", 1) or 1)
    progressive = _PROGRESSIVE.get(str(params.get("resolution", "")).lower())
    aspect = _aspect(params, "1:1")
    if progressive:
        w, h = (float(x) for x in _RATIO.match(aspect).groups())  # type: ignore[union-attr]
        short = progressive
        return (round(short * w / h / 16) * 16, short) if w >= h else (short, round(short * h / w / 16) * 16)
    return media.dimensions_for_aspect(aspect, megapixels=max(mp, 0.05))


def video_size(params: dict[str, Any]) -> tuple[int, int]:
    """Pixel size of an output video (the renderer scales it down to stay fast)."""
    explicit = _explicit_size(params)
    if explicit:
        return explicit
    short = _PROGRESSIVE.get(str(params.get("resolution", "")).lower(), 720)
    if params.get("resolution") in ("standard",):
        short = 720
    if params.get("resolution") in ("high",):
        short = 1024
    w, h = (float(x) for x in _RATIO.match(_aspect(params, "16:9")).groups())  # type: ignore[union-attr]
    if w >= h:
        return round(short * w / h / 2) * 2, short
    return short, round(short * h / w / 2) * 2


def _image_format(params: dict[str, Any]) -> str:
    fmt = params.get("output_format")
    try:
        return media.normalise_format(str(fmt)) if fmt else "jpg"
    except ValueError:
        return "jpg"


def _seconds(params: dict[str, Any], default: float) -> float:
    for key in ("duration", "seconds"):
        value = params.get(key)
        if isinstance(value, int | float) and not isinstance(value, bool) and value > 0:
            return float(value)
        if isinstance(value, str) and value.isdigit():
            return float(value)
    return default


def plan_templates(model: Model, params: dict[str, Any]) -> list[media.MediaSpec]:
    """The media recipes of a successful prediction with seeds relative to the prediction's (0, 1, ... for the
    images of one prediction): all the planning a prediction's seed does not change. ValueError for output the
    mock cannot produce."""
    label = str(params.get("prompt") or params.get("lyrics") or model.namespace)[:60]
    if model.type == "image":
        width, height = image_size(params)
        quality = params.get("output_quality")
        quality = quality if isinstance(quality, int) and 1 <= quality <= 100 else 80
        count = quantity(model, params) if model.returns_array else 1
        first = media.MediaSpec(format=_image_format(params), width=width, height=height, quality=quality, seed=0,
                                label=label)
        return [first] + [first.reseeded(index) for index in range(1, count)]
    if model.type == "video":
        width, height = video_size(params)
        return [media.MediaSpec(format="mp4", width=width, height=height,
                                seconds=_seconds(params, 5.0), fps=8, seed=0, label=label)]
    if model.type == "audio":
        fmt = str(params.get("audio_format") or "mp3")
        sample_rate = params.get("sample_rate") if isinstance(params.get("sample_rate"), int) else 44100
        bitrate = params.get("bitrate") if isinstance(params.get("bitrate"), int) else 128000
        lyrics = str(params.get("lyrics") or "")
        seconds = float(min(30, 10 + len(lyrics) // 40))
        return [media.MediaSpec(format=fmt, seconds=seconds, sample_rate=sample_rate,
                                bitrate=bitrate, seed=0, label=label)]
    raise ValueError(f"{model.namespace}: {model.type} models produce no files")


def seeded(templates: list[media.MediaSpec], seed: int) -> list[media.MediaSpec]:
    """:func:`plan_templates`' recipes for the prediction whose media seed is ``seed``."""
    return [template.reseeded(seed + template.seed) for template in templates]


def plan_files(model: Model, params: dict[str, Any], seed: int) -> list[media.MediaSpec]:
    """The media recipes for a successful prediction, one per output file."""
    return seeded(plan_templates(model, params), seed)
