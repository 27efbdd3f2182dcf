"""What to render: a validated, hashable recipe of one media file."""

from __future__ import annotations

from dataclasses import dataclass

from mockserver.core.media import formats

_MAX_IMAGE_SIDE = 8192
_MAX_SECONDS = 600.0


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
        object.__setattr__(self, "format", formats.normalise_format(self.format))
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
        return formats.FORMAT_TABLE[self.format][0]

    @property
    def content_type(self) -> str:
        """The MIME type, with rate/channel parameters for raw ``pcm``."""
        if self.format == "pcm":
            return f"audio/pcm;rate={self.sample_rate};channels=1"
        return formats.content_type(self.format)
