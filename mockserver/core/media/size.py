"""A file's size known from its recipe alone, and format-legal padding that makes the bytes that size.

Encoded sizes (JPEG, PNG, WebP, H.264, MP3) depend on the content, so they cannot be computed
without encoding. Instead every recipe *declares* a size (:func:`declared_size`, a cheap formula
of the recipe that is an upper bound of what the encoder produces, calibrated with a margin), and
the rendered file is padded up to exactly that size with bytes every decoder skips:

* JPEG: ``COM`` (comment) segments right after ``SOI``;
* PNG: private ancillary ``paDd`` chunks before ``IEND``;
* WebP: a ``VP8X`` header (extended format) and an unknown ``PADD`` chunk at the end;
* MP4: a ``free`` box at the end;
* MP3: zero padding inside the leading ID3v2 tag (ID3v2.4 allows it).

WAV, PCM and GLB sizes are exact formulas or cheap to compute, so they are never padded. A
listing, a prediction GET or a create can therefore report ``size`` without rendering anything,
and the bytes downloaded later have exactly that length. Should an encoding ever exceed its bound,
the renderer retries with a smaller encoding (lower quality, palette, higher CRF) -- see
:mod:`mockserver.core.media.rendering`.
"""

from __future__ import annotations

import io
import math
import struct
import zlib

from mockserver.core.media.dimensions import video_dimensions
from mockserver.core.media.formats import mp3_sample_rate
from mockserver.core.media.spec import MediaSpec

#: Smallest padding each format can express (0 is always possible: no padding).
MIN_PAD = {"jpg": 4, "png": 12, "webp": 26, "mp4": 8, "mp3": 0, "wav": 0, "pcm": 0, "glb": 0}
_JPEG_SEGMENT = 65537  # FF FE + 2-byte length (<= 65535, counting itself)
_PNG_CHUNK = 1 << 24


def audio_samples(spec: MediaSpec, sample_rate: int) -> int:
    """How many samples an audio recipe has at ``sample_rate``."""
    return max(1, round(spec.seconds * sample_rate))


def _image_bound(spec: MediaSpec) -> int:
    pixels = spec.width * spec.height
    if spec.format == "png":
        return 8192 + math.ceil(pixels * 6.0 / 8) + 6 * spec.height
    q = spec.quality / 100
    bits = (0.4 + 3.6 * q**4) if spec.format == "jpg" else (0.3 + 1.6 * q**4)
    size = 4096 + math.ceil(pixels * bits / 8)
    return size + size % 2  # a RIFF (WebP) file is always of even length


def _video_bound(spec: MediaSpec) -> int:
    width, height = video_dimensions(spec.width, spec.height)
    frames = max(1, round(spec.seconds * spec.fps))
    return 8192 + frames * (math.ceil(width * height * 0.2 / 8) + 1024)


def _mp3_bound(spec: MediaSpec) -> int:
    rate = mp3_sample_rate(spec.sample_rate)
    per_frame = 1152 if rate >= 32000 else 576
    frame_bytes = per_frame // 8 * spec.bitrate // rate + 1
    return 1536 + math.ceil(spec.seconds * spec.bitrate / 8) + 6 * frame_bytes


def declared_size(spec: MediaSpec) -> int:
    """The exact length of ``render(spec)``, computed without rendering."""
    fmt = spec.format
    if fmt == "pcm":
        return 2 * audio_samples(spec, spec.sample_rate)
    if fmt == "wav":
        return 44 + 2 * audio_samples(spec, spec.sample_rate)
    if fmt == "mp3":
        return _mp3_bound(spec)
    if fmt == "mp4":
        return _video_bound(spec)
    if fmt == "glb":
        from mockserver.core.media import rendering

        return len(rendering.encode(spec))  # a few kilobytes of struct packing: cheaper than any bound
    return _image_bound(spec)


def fits(fmt: str, actual: int, size: int) -> bool:
    """Whether an encoding of ``actual`` bytes can be padded to exactly ``size``."""
    pad = size - actual
    return pad == 0 or pad >= MIN_PAD[fmt]


def pad(fmt: str, data: bytes, size: int) -> bytes:
    """``data`` padded to exactly ``size`` bytes in a way ``fmt``'s decoders ignore."""
    extra = size - len(data)
    if extra == 0:
        return data
    if not fits(fmt, len(data), size):
        raise ValueError(f"cannot pad {len(data)} bytes of {fmt} to {size}")
    return {"jpg": _pad_jpeg, "png": _pad_png, "webp": _pad_webp, "mp4": _pad_mp4, "mp3": _pad_mp3}[fmt](data, extra)


def _pad_jpeg(data: bytes, extra: int) -> bytes:
    sizes = [_JPEG_SEGMENT] * (extra // _JPEG_SEGMENT)
    rest = extra % _JPEG_SEGMENT
    if rest:
        if rest < 4:  # borrow from a full segment so that every segment is at least 4 bytes
            sizes[-1] -= 4 - rest
            rest = 4
        sizes.append(rest)
    segments = b"".join(b"\xff\xfe" + struct.pack(">H", n - 2) + b"\0" * (n - 4) for n in sizes)
    return data[:2] + segments + data[2:]


def _png_chunk(kind: bytes, payload: bytes) -> bytes:
    return struct.pack(">I", len(payload)) + kind + payload + struct.pack(">I", zlib.crc32(kind + payload))


def _pad_png(data: bytes, extra: int) -> bytes:
    chunks = []
    while extra:
        n = min(extra, _PNG_CHUNK + 12)
        if 0 < extra - n < 12:
            n = extra - 12
        chunks.append(_png_chunk(b"paDd", bytes(n - 12)))
        extra -= n
    return data[:-12] + b"".join(chunks) + data[-12:]  # IEND is the last 12 bytes


def _pad_webp(data: bytes, extra: int) -> bytes:
    body = data[12:]
    if body[:4] != b"VP8X":
        from PIL import Image

        width, height = Image.open(io.BytesIO(data)).size
        vp8x = b"VP8X" + struct.pack("<I", 10) + bytes(4) + (width - 1).to_bytes(3, "little")
        vp8x += (height - 1).to_bytes(3, "little")
        body = vp8x + body
        extra -= len(vp8x)
    body += b"PADD" + struct.pack("<I", extra - 8) + bytes(extra - 8)
    return b"RIFF" + struct.pack("<I", len(body) + 4) + b"WEBP" + body


def _pad_mp4(data: bytes, extra: int) -> bytes:
    return data + struct.pack(">I", extra) + b"free" + bytes(extra - 8)


def _syncsafe(value: int) -> bytes:
    return bytes((value >> shift) & 0x7F for shift in (21, 14, 7, 0))


def _pad_mp3(data: bytes, extra: int) -> bytes:
    if data[:3] == b"ID3" and not data[5] & 0x10:  # an ID3v2 tag without footer: grow its padding
        size = sum(b << shift for b, shift in zip(data[6:10], (21, 14, 7, 0), strict=True))
        end = 10 + size
        return data[:6] + _syncsafe(size + extra) + data[10:end] + bytes(extra) + data[end:]
    if extra < 10:
        raise ValueError("an mp3 without an ID3v2 tag needs at least 10 bytes of padding")
    return b"ID3\x04\x00\x00" + _syncsafe(extra - 10) + bytes(extra - 10) + data
