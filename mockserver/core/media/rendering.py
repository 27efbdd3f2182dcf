"""Rendering a recipe to the served file: encode, then pad to exactly the size declared from the recipe."""

from __future__ import annotations

from mockserver.core.media import size as media_size
from mockserver.core.media.cache import CACHE
from mockserver.core.media.spec import MediaSpec

# Steps of smaller encodings tried when a file would exceed its declared size (never seen in practice).
_MAX_EFFORT = 3


def declared_size(spec: MediaSpec) -> int:
    """The exact length of ``render(spec)``, known without rendering (see :mod:`mockserver.core.media.size`)."""
    return media_size.declared_size(spec)


def render(spec: MediaSpec) -> bytes:
    """The served file for ``spec``: exactly ``declared_size(spec)`` bytes, identical for equal specs.

    CPU-heavy (up to seconds for a large image or a long video): call it from a worker, e.g.
    :mod:`mockserver.core.render_pool`, never on the event loop. Results are kept in an LRU
    cache bounded by bytes (:func:`~mockserver.core.media.set_cache_budget`).
    """
    cached = CACHE.get(spec)
    if cached is not None:
        return cached
    size = declared_size(spec)
    for effort in range(_MAX_EFFORT + 1):
        data = encode(spec, effort)
        if media_size.fits(spec.format, len(data), size):
            data = media_size.pad(spec.format, data, size)
            CACHE.put(spec, data)
            return data
    raise RuntimeError(f"{spec.format} encoding of {len(data)} bytes exceeds its declared {size} bytes")


def encode(spec: MediaSpec, effort: int = 0) -> bytes:
    """The unpadded encoding of ``spec``; a higher ``effort`` trades quality for a smaller file."""
    from mockserver.core.media import encoders  # numpy, PyAV and Pillow load with the first file rendered

    return encoders.encode(spec, effort)
