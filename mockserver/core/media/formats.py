"""The media formats served: canonical names and aliases, kinds, content types, MP3 sample rates."""

from __future__ import annotations

#: Canonical format -> (kind, content type).
FORMAT_TABLE: dict[str, tuple[str, str]] = {
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
FORMATS: frozenset[str] = frozenset(FORMAT_TABLE) | frozenset(_ALIASES)

_MP3_RATES = (8000, 11025, 12000, 16000, 22050, 24000, 32000, 44100, 48000)


def normalise_format(fmt: str) -> str:
    """The canonical name of ``fmt`` (case-insensitive, ``jpeg`` -> ``jpg``); ValueError if unknown."""
    if type(fmt) is str and fmt in FORMAT_TABLE:  # a canonical name stands as it is (every create asks thrice)
        return fmt
    key = str(fmt).strip().lower().lstrip(".")
    key = _ALIASES.get(key, key)
    if key not in FORMAT_TABLE:
        raise ValueError(f"unsupported media format {fmt!r}; expected one of {sorted(FORMATS)}")
    return key


def kind(fmt: str) -> str:
    """``"image"``, ``"audio"``, ``"video"`` or ``"model"``."""
    return FORMAT_TABLE[normalise_format(fmt)][0]


def content_type(fmt: str) -> str:
    """The MIME type served for ``fmt`` (``pcm`` is ``audio/pcm``: raw s16le mono)."""
    return FORMAT_TABLE[normalise_format(fmt)][1]


def extension(fmt: str) -> str:
    """The file extension (without dot) for ``fmt``: ``jpeg`` -> ``jpg``, others unchanged."""
    return normalise_format(fmt)


def mp3_sample_rate(sample_rate: int) -> int:
    """The MPEG-audio sample rate closest to ``sample_rate`` (the rate an mp3 is encoded at)."""
    return min(_MP3_RATES, key=lambda rate: (abs(rate - sample_rate), rate))
