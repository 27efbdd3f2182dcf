"""The rendering cache: finished files by recipe, least recently used dropped first, bounded by bytes."""

from __future__ import annotations

import threading
from collections import OrderedDict

from mockserver.core.media.spec import MediaSpec

_CACHE_BYTES = 256 * 1024 * 1024


class ByteLRU:
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


#: The process' cache (each render worker process has its own).
CACHE = ByteLRU(_CACHE_BYTES)


def cached(spec: MediaSpec) -> bytes | None:
    """The cached file for ``spec``, or None (never renders)."""
    return CACHE.get(spec)


def remember(spec: MediaSpec, data: bytes) -> None:
    """Cache ``data`` as the file for ``spec`` (rendered elsewhere, e.g. by a worker process)."""
    CACHE.put(spec, data)


def clear_cache() -> None:
    """Forget every cached rendering."""
    CACHE.clear()


def set_cache_budget(max_bytes: int) -> None:
    """Bound the rendering cache to ``max_bytes`` (least recently used files are dropped first)."""
    CACHE.budget = max(0, int(max_bytes))
    CACHE.trim()
