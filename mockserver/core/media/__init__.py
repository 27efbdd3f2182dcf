"""Deterministic media rendering: real image, audio, video and 3D files from a small spec.

:func:`render` turns a :class:`MediaSpec` into the bytes of a genuine file of the requested
format -- PNG/JPEG/WebP via Pillow, WAV/PCM/MP3 and H.264 MP4 via numpy and PyAV, glTF binary
by hand, in :mod:`mockserver.core.media.encoders` (which loads those libraries on the first render, not at
start-up) -- whose content (a smooth seeded pattern, a seeded chord sequence, a coloured cube)
depends only on the spec. The same spec always yields identical bytes, and results are kept in
an LRU cache bounded by bytes, so serving the same output file again costs nothing. A file's
length is known from its spec without rendering (:func:`declared_size`; see
:mod:`mockserver.core.media.size`), and rendering belongs in a worker
(:mod:`mockserver.core.render_pool`), never on the event loop.

Videos are scaled down so that neither side exceeds :data:`MAX_VIDEO_SIDE` pixels (keeping
the aspect ratio, even dimensions) to keep the mock fast; use :func:`video_dimensions` to
learn the size actually encoded. MP3 sample rates are snapped to the nearest rate MPEG audio
supports (:func:`mp3_sample_rate`).

One module per concept: :mod:`.formats`, :mod:`.dimensions`, :mod:`.spec` (:class:`MediaSpec`), :mod:`.size`
(declared sizes and padding), :mod:`.cache`, :mod:`.rendering`, and the encoders (:mod:`.image`, :mod:`.audio`,
:mod:`.video`, :mod:`.mp4`, :mod:`.glb`, :mod:`.seeded`), which only :mod:`.rendering` loads, lazily.
"""

from __future__ import annotations

from mockserver.core.media.cache import cached, clear_cache, remember, set_cache_budget
from mockserver.core.media.dimensions import MAX_VIDEO_SIDE, dimensions_for_aspect, video_dimensions
from mockserver.core.media.formats import FORMATS, content_type, extension, mp3_sample_rate, normalise_format
from mockserver.core.media.rendering import declared_size, encode, render
from mockserver.core.media.spec import MediaSpec

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
