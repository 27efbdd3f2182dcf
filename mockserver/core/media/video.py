"""H.264 MP4 video (PyAV/x264): the seeded colour field panned across frames, a progress bar, the label."""

from __future__ import annotations

import io
import math
from fractions import Fraction

import av
import numpy as np
from PIL import Image

from mockserver.core.media import image, mp4, seeded
from mockserver.core.media.dimensions import video_dimensions
from mockserver.core.media.spec import MediaSpec


def _label_overlay(label: str, width: int, height: int) -> tuple[np.ndarray, np.ndarray] | None:
    """``(mask, rgb)`` arrays of the label drawn on a frame-sized canvas, or None."""
    if not label:
        return None
    canvas = Image.new("RGB", (width, height), (128, 0, 128))
    image.draw_label(canvas, label)
    rgb = np.asarray(canvas)
    mask = np.any(rgb != np.array([128, 0, 128], dtype=np.uint8), axis=2)
    return mask, rgb


def render_video(spec: MediaSpec, effort: int = 0) -> bytes:
    width, height = video_dimensions(spec.width, spec.height)
    frames = max(1, round(spec.seconds * spec.fps))
    pad = 0.35
    texture = np.asarray(image.pattern(spec.seed, round(width * (1 + pad)), round(height * (1 + pad))))
    span_x, span_y = texture.shape[1] - width, texture.shape[0] - height
    rng = seeded.rng(spec.seed, "video")
    wx, wy, px, py = rng.uniform(0.5, 1.5), rng.uniform(0.5, 1.5), *rng.uniform(0, 2 * np.pi, 2)
    overlay = _label_overlay(spec.label, width, height)
    bar_h = max(2, height // 60)
    bar_colour = np.array([255, 255, 255], dtype=np.uint8)

    out = io.BytesIO()
    options = {"fflags": "+bitexact"}
    with av.open(out, "w", format="mp4", options=options) as container:
        stream = container.add_stream("libx264", rate=spec.fps)
        stream.width, stream.height, stream.pix_fmt = width, height, "yuv420p"
        stream.codec_context.time_base = Fraction(1, spec.fps)
        stream.codec_context.options = {
            "preset": "ultrafast",
            "crf": str(min(51, 28 + 8 * effort)),
            "tune": "zerolatency",
            "flags": "+bitexact",
        }
        for i in range(frames):
            phase = i / max(frames, 2)
            x = round(span_x * (0.5 + 0.5 * math.sin(2 * math.pi * wx * phase + px)))
            y = round(span_y * (0.5 + 0.5 * math.sin(2 * math.pi * wy * phase + py)))
            rgb = texture[y : y + height, x : x + width].copy()
            rgb[height - bar_h :, : round(width * (i + 1) / frames)] = bar_colour
            if overlay is not None:
                mask, colours = overlay
                rgb[mask] = colours[mask]
            frame = av.VideoFrame.from_ndarray(rgb, format="rgb24")
            frame.pts = i
            container.mux(stream.encode(frame))
        container.mux(stream.encode(None))
    return mp4.faststart(out.getvalue())
