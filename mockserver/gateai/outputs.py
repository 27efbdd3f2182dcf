"""Which files a finished GateAI generation produces: format, size, duration and count from its params.

* image models: ``quantity`` images in ``output_format`` (jpeg/png/webp; jpg by default) at the
  generated size (longest side capped at :data:`MAX_IMAGE_SIDE` to keep the mock light);
* video models: one H.264 MP4 of the requested duration (the renderer scales the frame down);
* 3D models: a JPG preview in ``result`` and a ``.glb`` at the same name with the extension swapped
  (``…/rodin-v2_-0.jpg`` -> ``…/rodin-v2_-0.glb``), as the doc's 3D output section shows.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from mockserver.core import media
from mockserver.core.files import file_name
from mockserver.gateai import pricing
from mockserver.gateai.catalog import Model

#: Longest side of a rendered image or video frame; larger requested sizes are scaled down proportionally.
MAX_IMAGE_SIDE = 8192
DEFAULT_SIZES = {"image": (1024, 1024), "video": (1280, 720), "3d": (1024, 1024)}
_PROGRESSIVE = re.compile(r"^(\d{3,4})p$", re.IGNORECASE)
_MODE = re.compile(r"^RESOLUTION_(\d{3,4})$")


@dataclass(frozen=True)
class PlannedFile:
    """One output file: its served name and the recipe its bytes are rendered from."""

    name: str
    spec: media.MediaSpec


def _positive_int(value: Any) -> int | None:
    if isinstance(value, int | float) and not isinstance(value, bool) and value >= 1:
        return int(value)
    return None


def _short_side(params: dict[str, Any]) -> int | None:
    for key, pattern in (("resolution", _PROGRESSIVE), ("mode", _MODE)):
        match = pattern.match(str(params.get(key) or ""))
        if match:
            return int(match.group(1))
    return None


def output_size(model: Model, params: dict[str, Any]) -> tuple[int, int]:
    """The pixel size a generation is rendered at."""
    size = pricing.size_of(model, params)
    if size is not None and min(size) > 0:
        return size
    width, height = _positive_int(params.get("width")), _positive_int(params.get("height"))
    if width and height:
        return width, height
    short = _short_side(params)
    if short is not None:
        portrait = str(params.get("aspect_ratio") or "") == "9:16"
        long = round(short * 16 / 9 / 2) * 2
        return (short, long) if portrait else (long, short)
    return DEFAULT_SIZES.get(model.type, (1024, 1024))


def _capped(width: int, height: int) -> tuple[int, int]:
    scale = min(1.0, MAX_IMAGE_SIDE / max(width, height))
    return max(1, round(width * scale)), max(1, round(height * scale))


def _seconds(model: Model, params: dict[str, Any]) -> float:
    name = pricing.duration_param(model)
    value = params.get(name) if name else None
    if isinstance(value, int | float) and not isinstance(value, bool) and value > 0:
        return float(min(value, 600))
    return 5.0


def _image_format(params: dict[str, Any]) -> str:
    try:
        return media.normalise_format(str(params.get("output_format") or "jpg"))
    except ValueError:
        return "jpg"


def _name(task_id: str, model: Model, index: int, fmt: str) -> str:
    return file_name(task_id, index, fmt, tag=f"_{model.id}_")


def plan(task_id: str, model: Model, params: dict[str, Any], seed: int) -> tuple[list[PlannedFile], list[PlannedFile]]:
    """``(result files, glb files)`` for a generation that finishes."""
    label = str(params.get("prompt") or model.id)[:60]
    width, height = _capped(*output_size(model, params))
    if model.type == "video":
        spec = media.MediaSpec(format="mp4", width=width, height=height, seconds=_seconds(model, params),
                               fps=8, seed=seed, label=label)
        return [PlannedFile(_name(task_id, model, 0, "mp4"), spec)], []
    if model.type == "3d":
        preview = media.MediaSpec(format="jpg", width=width, height=height, seed=seed, label=label)
        mesh = media.MediaSpec(format="glb", seed=seed, label=label)
        return [PlannedFile(_name(task_id, model, 0, "jpg"), preview)], [
            PlannedFile(_name(task_id, model, 0, "glb"), mesh)
        ]
    count = _positive_int(params.get("quantity")) or 1
    fmt = _image_format(params)
    files = [
        PlannedFile(_name(task_id, model, index, fmt),
                    media.MediaSpec(format=fmt, width=width, height=height, seed=seed + index, label=label))
        for index in range(count)
    ]
    return files, []
