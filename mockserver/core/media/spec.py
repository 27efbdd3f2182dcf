"""What to render: a validated, hashable recipe of one media file."""

from __future__ import annotations

from dataclasses import dataclass

from mockserver.core.media import formats

_MAX_IMAGE_SIDE = 8192
_MAX_SECONDS = 600.0
_INTEGER_FIELDS = ("width", "height", "sample_rate", "bitrate", "fps", "quality", "seed")
#: Plain ints inside this bound are taken as they are; others go through float() as ever (which refuses the huge).
_FLOAT_SAFE = 2**1000


def _integer(name: str, value: object) -> int:
    """``value`` as an int: an integral number (not a bool); ValueError otherwise."""
    if isinstance(value, bool) or not float(value).is_integer():  # type: ignore[arg-type]
        raise ValueError(f"{name} must be an integer")
    return int(value)  # type: ignore[call-overload]


@dataclass(frozen=True, init=False)
class MediaSpec:
    """What to render. ``format`` is normalised (``"JPEG"`` -> ``"jpg"``) and fields validated.

    Only the fields relevant to the format's kind affect the output bytes, but all take part in
    equality (and so in caching). Its ``__init__`` is written out (the same parameters and defaults as the
    fields) to set the fields in one step: a frozen dataclass's own sets them one ``object.__setattr__`` at a time
    (~3 us of the ~7 us a recipe cost; a created prediction plans one per output file).
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

    def __init__(self, format: str, width: int = 1024, height: int = 1024, seconds: float = 5.0,
                 sample_rate: int = 44100, bitrate: int = 128000, fps: int = 8, quality: int = 80, seed: int = 0,
                 label: str = "") -> None:
        object.__setattr__(self, "__dict__", {
            "format": format, "width": width, "height": height, "seconds": seconds, "sample_rate": sample_rate,
            "bitrate": bitrate, "fps": fps, "quality": quality, "seed": seed, "label": label})
        self._validate()

    def _validate(self) -> None:
        fields = self.__dict__  # set once, here, before anyone sees the recipe
        fmt = fields["format"]
        if type(fmt) is not str or fmt not in formats.FORMAT_TABLE:  # a canonical name stands as it is
            fields["format"] = formats.normalise_format(fmt)
        for name in _INTEGER_FIELDS:
            value = fields[name]
            if type(value) is not int or not -_FLOAT_SAFE < value < _FLOAT_SAFE:  # a plain int stands as it is
                fields[name] = _integer(name, value)
        if type(fields["seconds"]) is not float:
            fields["seconds"] = float(fields["seconds"])
        if type(fields["label"]) is not str:
            fields["label"] = str(fields["label"])
        if not (1 <= self.width <= _MAX_IMAGE_SIDE and 1 <= self.height <= _MAX_IMAGE_SIDE
                and 0 < self.seconds <= _MAX_SECONDS and 4000 <= self.sample_rate <= 192000
                and 8000 <= self.bitrate <= 320000 and 1 <= self.fps <= 60 and 1 <= self.quality <= 100):
            self._refuse()

    def _refuse(self) -> None:
        """Raise ValueError naming the first field out of its range."""
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

    def reseeded(self, seed: int) -> MediaSpec:
        """This recipe with another ``seed``, equal to ``MediaSpec(**fields, seed=seed)`` (only the seed is checked:
        the other fields were validated once)."""
        if type(seed) is not int or not -_FLOAT_SAFE < seed < _FLOAT_SAFE:
            return MediaSpec(**{**self.__dict__, "seed": seed})
        copy = object.__new__(MediaSpec)
        object.__setattr__(copy, "__dict__", {**self.__dict__, "seed": seed})
        return copy

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
