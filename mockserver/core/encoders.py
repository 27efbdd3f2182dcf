"""The encoders behind :func:`mockserver.core.media.render`: PNG/JPEG/WebP via Pillow, WAV/PCM/MP3 and H.264
MP4 via numpy and PyAV, glTF binary by hand.

Kept apart from :mod:`mockserver.core.media` (specs, formats, sizes, the cache) so that the heavy libraries load
only when a file is first rendered, never when the server starts.
"""

from __future__ import annotations

import functools
import io
import json
import math
import struct
import wave
from fractions import Fraction

import av
import numpy as np
from PIL import Image, ImageDraw, ImageFont

from mockserver.core import media_size
from mockserver.core.media import MediaSpec, mp3_sample_rate, video_dimensions

# The pattern is computed at most this many pixels on its longer side, then upscaled.
_PATTERN_SIDE = 128


def encode(spec: MediaSpec, effort: int = 0) -> bytes:
    """The unpadded encoding of ``spec``; a higher ``effort`` trades quality for a smaller file."""
    kind = spec.kind
    if kind == "image":
        return _render_image(spec, effort)
    if kind == "audio":
        return _render_audio(spec)
    if kind == "video":
        return _render_video(spec, effort)
    return _render_glb(spec)


# --------------------------------------------------------------------------- randomness


def _rng(seed: int, purpose: str) -> np.random.Generator:
    """A numpy generator depending only on ``seed`` and ``purpose``."""
    salt = int.from_bytes(purpose.encode()[:8].ljust(8, b"\0"), "little")
    return np.random.default_rng([seed % 2**64, seed // 2**64 % 2**64, salt])


def _palette(rng: np.random.Generator, count: int) -> np.ndarray:
    """``count`` harmonious RGB colours (float32 0..1) around a random hue."""
    base = rng.random()
    hues = (base + np.arange(count) * rng.uniform(0.08, 0.3)) % 1.0
    sats = rng.uniform(0.45, 0.85, count)
    vals = rng.uniform(0.55, 0.95, count)
    # Vectorised HSV -> RGB.
    k = (np.array([5.0, 3.0, 1.0])[None, :] + hues[:, None] * 6.0) % 6.0
    weight = np.clip(np.minimum(k, 4.0 - k), 0.0, 1.0)
    return (vals[:, None] * (1.0 - sats[:, None] * weight)).astype(np.float32)


# --------------------------------------------------------------------------- images


def _pattern(seed: int, width: int, height: int) -> Image.Image:
    """A smooth seeded colour field, computed small and upscaled to ``width`` x ``height``."""
    rng = _rng(seed, "pattern")
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
    colours = _palette(rng, 4)
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


def _draw_label(image: Image.Image, label: str) -> None:
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


def _render_image(spec: MediaSpec, effort: int = 0) -> bytes:
    image = _pattern(spec.seed, spec.width, spec.height)
    if spec.label:
        _draw_label(image, spec.label)
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


# --------------------------------------------------------------------------- audio

_PROGRESSIONS = ((0, 7, 9, 5), (0, 9, 5, 7), (9, 5, 0, 7), (0, 5, 7, 5), (0, 4, 5, 7))
# Semitones of the third above each scale degree used (major on I, IV, V; minor on iii, vi).
_THIRDS = {0: 4, 4: 3, 5: 4, 7: 4, 9: 3}


def _samples(spec: MediaSpec, sample_rate: int) -> np.ndarray:
    """A seeded chord sequence as int16 mono samples at ``sample_rate``."""
    rng = _rng(spec.seed, "audio")
    root = 48 + int(rng.integers(0, 12))
    progression = _PROGRESSIONS[int(rng.integers(0, len(_PROGRESSIONS)))]
    chord_len = float(rng.uniform(0.9, 1.6))
    # Notes per chord: bass an octave down, then a triad (major or minor) on the degree.
    midi = []
    for degree in progression:
        base = root + degree
        midi.append([base - 12, base, base + _THIRDS[degree], base + 7])
    freqs = (440.0 * 2.0 ** ((np.array(midi, dtype=np.float32) - 69.0) / 12.0)).astype(np.float32)
    gains = np.array([0.35, 0.3, 0.22, 0.22], dtype=np.float32)

    n = media_size.audio_samples(spec, sample_rate)
    t = np.arange(n, dtype=np.float64) / sample_rate
    segment = (t // chord_len).astype(np.int64)
    local = (t - segment * chord_len).astype(np.float32)
    chord = freqs[segment % len(progression)]  # (n, 4)
    signal = np.zeros(n, dtype=np.float32)
    for k in range(freqs.shape[1]):
        phase = (2.0 * np.pi) * chord[:, k] * local
        signal += gains[k] * (np.sin(phase) + 0.25 * np.sin(2.0 * phase))
    attack, release = 0.02, 0.08
    envelope = np.minimum(local / attack, 1.0) * np.clip((chord_len - local) / release, 0.0, 1.0) * np.exp(-1.2 * local)
    end_fade = np.clip((spec.seconds - t) / 0.05, 0.0, 1.0).astype(np.float32)
    signal *= envelope * end_fade
    peak = max(float(np.abs(signal).max()), 1e-6)
    return np.round(signal * (0.6 * 32767.0 / peak)).astype("<i2")


def _render_audio(spec: MediaSpec) -> bytes:
    if spec.format == "pcm":
        return _samples(spec, spec.sample_rate).tobytes()
    if spec.format == "wav":
        out = io.BytesIO()
        with wave.open(out, "wb") as wav:
            wav.setnchannels(1)
            wav.setsampwidth(2)
            wav.setframerate(spec.sample_rate)
            wav.writeframes(_samples(spec, spec.sample_rate).tobytes())
        return out.getvalue()
    return _encode_mp3(spec)


def _encode_mp3(spec: MediaSpec) -> bytes:
    rate = mp3_sample_rate(spec.sample_rate)
    samples = _samples(spec, rate)
    out = io.BytesIO()
    with av.open(out, "w", format="mp3", options={"fflags": "+bitexact"}) as container:
        stream = container.add_stream("libmp3lame", rate=rate, layout="mono")
        stream.codec_context.bit_rate = spec.bitrate
        stream.codec_context.options = {"flags": "+bitexact"}
        chunk = 1152 * 64
        for start in range(0, len(samples), chunk):
            frame = av.AudioFrame.from_ndarray(samples[None, start : start + chunk], format="s16", layout="mono")
            frame.sample_rate = rate
            frame.pts = start
            container.mux(stream.encode(frame))
        container.mux(stream.encode(None))
    return out.getvalue()


# --------------------------------------------------------------------------- video


def _label_overlay(label: str, width: int, height: int) -> tuple[np.ndarray, np.ndarray] | None:
    """``(mask, rgb)`` arrays of the label drawn on a frame-sized canvas, or None."""
    if not label:
        return None
    canvas = Image.new("RGB", (width, height), (128, 0, 128))
    _draw_label(canvas, label)
    rgb = np.asarray(canvas)
    mask = np.any(rgb != np.array([128, 0, 128], dtype=np.uint8), axis=2)
    return mask, rgb


def _render_video(spec: MediaSpec, effort: int = 0) -> bytes:
    width, height = video_dimensions(spec.width, spec.height)
    frames = max(1, round(spec.seconds * spec.fps))
    pad = 0.35
    texture = np.asarray(_pattern(spec.seed, round(width * (1 + pad)), round(height * (1 + pad))))
    span_x, span_y = texture.shape[1] - width, texture.shape[0] - height
    rng = _rng(spec.seed, "video")
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
    return _faststart(out.getvalue())


_MP4_CONTAINERS = {b"moov", b"trak", b"mdia", b"minf", b"stbl"}


def _mp4_boxes(data: bytes | memoryview, start: int, end: int) -> list[tuple[bytes, int, int, int]]:
    """``(type, box start, payload start, box end)`` for each box in ``data[start:end]``."""
    boxes = []
    while start + 8 <= end:
        size, kind = struct.unpack_from(">I4s", data, start)
        header = 8
        if size == 1:
            (size,) = struct.unpack_from(">Q", data, start + 8)
            header = 16
        elif size == 0:
            size = end - start
        if size < header or start + size > end:
            raise ValueError("malformed mp4 box")
        boxes.append((kind, start, start + header, start + size))
        start += size
    return boxes


def _shift_chunk_offsets(moov: bytearray, start: int, end: int, shift: int) -> None:
    """Add ``shift`` to every stco/co64 chunk offset inside ``moov[start:end]``."""
    for kind, _, payload, box_end in _mp4_boxes(moov, start, end):
        if kind in _MP4_CONTAINERS:
            _shift_chunk_offsets(moov, payload, box_end, shift)
        elif kind in (b"stco", b"co64"):
            (count,) = struct.unpack_from(">I", moov, payload + 4)
            fmt = ">I" if kind == b"stco" else ">Q"
            step = struct.calcsize(fmt)
            for pos in range(payload + 8, payload + 8 + count * step, step):
                (offset,) = struct.unpack_from(fmt, moov, pos)
                struct.pack_into(fmt, moov, pos, offset + shift)


def _faststart(data: bytes) -> bytes:
    """Move the ``moov`` box in front of the media data (what ``-movflags +faststart`` does).

    FFmpeg's own faststart re-opens the output file by name, which an in-memory buffer cannot.
    """
    boxes = _mp4_boxes(data, 0, len(data))
    kinds = [kind for kind, *_ in boxes]
    if b"moov" not in kinds or b"mdat" not in kinds or kinds.index(b"moov") < kinds.index(b"mdat"):
        return data
    moov_box = next(box for box in boxes if box[0] == b"moov")
    moov = bytearray(data[moov_box[1] : moov_box[3]])
    if len(data) + len(moov) >= 2**32:
        return data  # 32-bit stco offsets could overflow; keep the original layout
    _shift_chunk_offsets(moov, 8, len(moov), len(moov))
    ftyp_end = boxes[0][3] if kinds[0] == b"ftyp" else 0
    rest = b"".join(data[start:end] for kind, start, _, end in boxes if kind != b"moov" and start >= ftyp_end)
    return data[:ftyp_end] + bytes(moov) + rest


# --------------------------------------------------------------------------- 3D


def _render_glb(spec: MediaSpec) -> bytes:
    """A unit cube (24 vertices with flat normals, 36 indices) with one seeded material."""
    rng = _rng(spec.seed, "glb")
    faces = (  # normal, and two in-plane axes u, v with u x v == normal
        ((1, 0, 0), (0, 1, 0), (0, 0, 1)),
        ((-1, 0, 0), (0, 0, 1), (0, 1, 0)),
        ((0, 1, 0), (0, 0, 1), (1, 0, 0)),
        ((0, -1, 0), (1, 0, 0), (0, 0, 1)),
        ((0, 0, 1), (1, 0, 0), (0, 1, 0)),
        ((0, 0, -1), (0, 1, 0), (1, 0, 0)),
    )
    positions: list[float] = []
    normals: list[float] = []
    indices: list[int] = []
    for face, (n, u, v) in enumerate(faces):
        for su, sv in ((-1, -1), (1, -1), (1, 1), (-1, 1)):
            positions += [0.5 * (n[a] + su * u[a] + sv * v[a]) for a in range(3)]
            normals += n
        b = face * 4
        indices += [b, b + 1, b + 2, b, b + 2, b + 3]
    pos_bytes = struct.pack(f"<{len(positions)}f", *positions)
    nrm_bytes = struct.pack(f"<{len(normals)}f", *normals)
    idx_bytes = struct.pack(f"<{len(indices)}H", *indices)
    idx_bytes += b"\0" * (-len(idx_bytes) % 4)
    binary = pos_bytes + nrm_bytes + idx_bytes
    colour = [round(float(c), 4) for c in _palette(rng, 1)[0]] + [1.0]
    gltf = {
        "asset": {"version": "2.0", "generator": "mockserver.core.media"},
        "scene": 0,
        "scenes": [{"nodes": [0]}],
        "nodes": [{"mesh": 0, "name": spec.label or "cube"}],
        "meshes": [
            {
                "name": "cube",
                "primitives": [{"attributes": {"POSITION": 0, "NORMAL": 1}, "indices": 2, "material": 0}],
            }
        ],
        "materials": [
            {
                "name": "seeded",
                "pbrMetallicRoughness": {
                    "baseColorFactor": colour,
                    "metallicFactor": round(float(rng.uniform(0.0, 0.5)), 4),
                    "roughnessFactor": round(float(rng.uniform(0.3, 0.9)), 4),
                },
            }
        ],
        "buffers": [{"byteLength": len(binary)}],
        "bufferViews": [
            {"buffer": 0, "byteOffset": 0, "byteLength": len(pos_bytes), "target": 34962},
            {"buffer": 0, "byteOffset": len(pos_bytes), "byteLength": len(nrm_bytes), "target": 34962},
            {
                "buffer": 0,
                "byteOffset": len(pos_bytes) + len(nrm_bytes),
                "byteLength": 2 * len(indices),
                "target": 34963,
            },
        ],
        "accessors": [
            {
                "bufferView": 0,
                "componentType": 5126,
                "count": 24,
                "type": "VEC3",
                "min": [-0.5, -0.5, -0.5],
                "max": [0.5, 0.5, 0.5],
            },
            {"bufferView": 1, "componentType": 5126, "count": 24, "type": "VEC3"},
            {"bufferView": 2, "componentType": 5123, "count": len(indices), "type": "SCALAR"},
        ],
    }
    json_bytes = json.dumps(gltf, separators=(",", ":"), ensure_ascii=False).encode()
    json_bytes += b" " * (-len(json_bytes) % 4)
    total = 12 + 8 + len(json_bytes) + 8 + len(binary)
    return b"".join(
        (
            struct.pack("<4sII", b"glTF", 2, total),
            struct.pack("<I4s", len(json_bytes), b"JSON"),
            json_bytes,
            struct.pack("<I4s", len(binary), b"BIN\0"),
            binary,
        )
    )
