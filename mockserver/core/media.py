"""Deterministic media rendering: real image, audio, video and 3D files from a small spec.

:func:`render` turns a :class:`MediaSpec` into the bytes of a genuine file of the requested
format -- PNG/JPEG/WebP via Pillow, WAV/PCM/MP3 and H.264 MP4 via numpy and PyAV, glTF binary
by hand, in :mod:`mockserver.core.encoders` (which loads those libraries on the first render, not at
start-up) -- whose content (a smooth seeded pattern, a seeded chord sequence, a coloured cube)
depends only on the spec. The same spec always yields identical bytes, and results are kept in
an LRU cache bounded by bytes, so serving the same output file again costs nothing. A file's
length is known from its spec without rendering (:func:`declared_size`; see
:mod:`mockserver.core.media_size`), and rendering belongs in a worker
(:mod:`mockserver.core.render_pool`), never on the event loop.

Videos are scaled down so that neither side exceeds :data:`MAX_VIDEO_SIDE` pixels (keeping
the aspect ratio, even dimensions) to keep the mock fast; use :func:`video_dimensions` to
learn the size actually encoded. MP3 sample rates are snapped to the nearest rate MPEG audio
supports (:func:`mp3_sample_rate`).
"""

from __future__ import annotations

import math
import threading
from collections import OrderedDict
from dataclasses import dataclass

from mockserver.core import media_size

__all__ = [
    "FORMATS",
    "MAX_VIDEO_SIDE",
    "MediaSpec",
    "cached",
    "clear_cache",
    "content_type",
    "declared_size",
    "dimensions_for_aspect",
    "encode",
    "extension",
    "mp3_sample_rate",
    "normalise_format",
    "remember",
    "render",
    "set_cache_budget",
    "video_dimensions",
]

#: Canonical format -> (kind, content type).
_FORMATS: dict[str, tuple[str, str]] = {
    "png": ("image", "image/png"),
    "jpg": ("image", "image/jpeg"),
    "webp": ("image", "image/webp"),
    "mp3": ("audio", "audio/mpeg"),
    "wav": ("audio", "audio/wav"),
    "pcm": ("audio", "audio/pcm"),
    "mp4": ("video", "video/mp4"),
    "glb": ("model", "model/gltf-binary"),
}
_ALIASES = {"jpeg": "jpg"}

#: Every accepted format name (canonical names plus aliases).
FORMATS: frozenset[str] = frozenset(_FORMATS) | frozenset(_ALIASES)

#: Longest side of an encoded video; larger requests are scaled down proportionally.
MAX_VIDEO_SIDE = 640

_MAX_IMAGE_SIDE = 8192
_MAX_SECONDS = 600.0
_MP3_RATES = (8000, 11025, 12000, 16000, 22050, 24000, 32000, 44100, 48000)
_CACHE_BYTES = 256 * 1024 * 1024


def normalise_format(fmt: str) -> str:
    """The canonical name of ``fmt`` (case-insensitive, ``jpeg`` -> ``jpg``); ValueError if unknown."""
    key = str(fmt).strip().lower().lstrip(".")
    key = _ALIASES.get(key, key)
    if key not in _FORMATS:
        raise ValueError(f"unsupported media format {fmt!r}; expected one of {sorted(FORMATS)}")
    return key


def content_type(fmt: str) -> str:
    """The MIME type served for ``fmt`` (``pcm`` is ``audio/pcm``: raw s16le mono)."""
    return _FORMATS[normalise_format(fmt)][1]


def extension(fmt: str) -> str:
    """The file extension (without dot) for ``fmt``: ``jpeg`` -> ``jpg``, others unchanged."""
    return normalise_format(fmt)


def mp3_sample_rate(sample_rate: int) -> int:
    """The MPEG-audio sample rate closest to ``sample_rate`` (the rate an mp3 is encoded at)."""
    return min(_MP3_RATES, key=lambda rate: (abs(rate - sample_rate), rate))


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


@dataclass(frozen=True)
class MediaSpec:
    """What to render. ``format`` is normalised (``"JPEG"`` -> ``"jpg"``) and fields validated.

    Only the fields relevant to the format's kind affect the output bytes, but all take part in
    equality (and so in caching).
    """

    format: str
    width: int = 1024
    height: int = 1024
    seconds: float = 5.0
    sample_rate: int = 44100
    bitrate: int = 128000
    fps: int = 8
    quality: int = 80
    seed: int = 0
    label: str = ""

    def __post_init__(self) -> None:
        object.__setattr__(self, "format", normalise_format(self.format))
        for name in ("width", "height", "sample_rate", "bitrate", "fps", "quality", "seed"):
            value = getattr(self, name)
            if isinstance(value, bool) or not float(value).is_integer():
                raise ValueError(f"{name} must be an integer")
            object.__setattr__(self, name, int(value))
        object.__setattr__(self, "seconds", float(self.seconds))
        object.__setattr__(self, "label", str(self.label))
        checks = (
            (1 <= self.width <= _MAX_IMAGE_SIDE, f"width must be 1..{_MAX_IMAGE_SIDE}"),
            (1 <= self.height <= _MAX_IMAGE_SIDE, f"height must be 1..{_MAX_IMAGE_SIDE}"),
            (0 < self.seconds <= _MAX_SECONDS, f"seconds must be in (0, {_MAX_SECONDS:g}]"),
            (4000 <= self.sample_rate <= 192000, "sample_rate must be 4000..192000"),
            (8000 <= self.bitrate <= 320000, "bitrate must be 8000..320000"),
            (1 <= self.fps <= 60, "fps must be 1..60"),
            (1 <= self.quality <= 100, "quality must be 1..100"),
        )
        for ok, message in checks:
            if not ok:
                raise ValueError(message)

    @property
    def kind(self) -> str:
        """``"image"``, ``"audio"``, ``"video"`` or ``"model"``."""
        return _FORMATS[self.format][0]

    @property
    def content_type(self) -> str:
        """The MIME type, with rate/channel parameters for raw ``pcm``."""
        if self.format == "pcm":
            return f"audio/pcm;rate={self.sample_rate};channels=1"
        return content_type(self.format)


def declared_size(spec: MediaSpec) -> int:
    """The exact length of ``render(spec)``, known without rendering (see :mod:`mockserver.core.media_size`)."""
    return media_size.declared_size(spec)


def render(spec: MediaSpec) -> bytes:
    """The served file for ``spec``: exactly ``declared_size(spec)`` bytes, identical for equal specs.

    CPU-heavy (up to seconds for a large image or a long video): call it from a worker, e.g.
    :mod:`mockserver.core.render_pool`, never on the event loop. Results are kept in an LRU
    cache bounded by bytes (:func:`set_cache_budget`).
    """
    cached = _CACHE.get(spec)
    if cached is not None:
        return cached
    size = declared_size(spec)
    for effort in range(_MAX_EFFORT + 1):
        data = encode(spec, effort)
        if media_size.fits(spec.format, len(data), size):
            data = media_size.pad(spec.format, data, size)
            _CACHE.put(spec, data)
            return data
    raise RuntimeError(f"{spec.format} encoding of {len(data)} bytes exceeds its declared {size} bytes")


def encode(spec: MediaSpec, effort: int = 0) -> bytes:
    """The unpadded encoding of ``spec``; a higher ``effort`` trades quality for a smaller file."""
    from mockserver.core import encoders  # numpy, PyAV and Pillow load with the first file rendered

    return encoders.encode(spec, effort)


def cached(spec: MediaSpec) -> bytes | None:
    """The cached file for ``spec``, or None (never renders)."""
    return _CACHE.get(spec)


def remember(spec: MediaSpec, data: bytes) -> None:
    """Cache ``data`` as the file for ``spec`` (rendered elsewhere, e.g. by a worker process)."""
    _CACHE.put(spec, data)


def clear_cache() -> None:
    """Forget every cached rendering."""
    _CACHE.clear()


def set_cache_budget(max_bytes: int) -> None:
    """Bound the rendering cache to ``max_bytes`` (least recently used files are dropped first)."""
    _CACHE.budget = max(0, int(max_bytes))
    _CACHE.trim()


class _ByteLRU:
    """A thread-safe LRU mapping bounded by the total length of its byte values."""

    def __init__(self, budget: int) -> None:
        self.budget = budget
        self._items: OrderedDict[MediaSpec, bytes] = OrderedDict()
        self._bytes = 0
        self._lock = threading.Lock()

    def get(self, spec: MediaSpec) -> bytes | None:
        with self._lock:
            data = self._items.get(spec)
            if data is not None:
                self._items.move_to_end(spec)
            return data

    def put(self, spec: MediaSpec, data: bytes) -> None:
        with self._lock:
            if spec not in self._items and len(data) <= self.budget:
                self._items[spec] = data
                self._bytes += len(data)
            self._trim()

    def trim(self) -> None:
        with self._lock:
            self._trim()

    def _trim(self) -> None:
        while self._bytes > self.budget and self._items:
            _, data = self._items.popitem(last=False)
            self._bytes -= len(data)

    def clear(self) -> None:
        with self._lock:
            self._items.clear()
            self._bytes = 0


_CACHE = _ByteLRU(_CACHE_BYTES)
# Steps of smaller encodings tried when a file would exceed its declared size (never seen in practice).
_MAX_EFFORT = 3
