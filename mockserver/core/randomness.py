"""Seeded randomness: ids, durations and generated content repeat exactly for a given seed.

Every random decision is drawn from a :class:`random.Random` derived from the server seed and a
*purpose string* (for example ``"prediction-id:7"`` or ``"timing:<prediction id>"``), so the
result depends only on the seed and on what is being decided -- not on the order in which
unrelated requests arrive.
"""

from __future__ import annotations

import hashlib
import itertools
import random
import secrets
import threading
import uuid
from collections.abc import Callable


class Randomness:
    """Factory of deterministic random streams keyed by purpose."""

    def __init__(self, seed: int | None = None, counter: Callable[[str], int] | None = None) -> None:
        self.seed = seed
        self._shared_counter = counter  # a shared store's sequences: processes sharing it never repeat an id
        self._session = secrets.token_hex(8) if seed is None else str(seed)
        self._counters: dict[str, itertools.count[int]] = {}
        self._lock = threading.Lock()

    def rng(self, purpose: str) -> random.Random:
        """A fresh random stream for ``purpose``; same seed + purpose gives the same stream."""
        digest = hashlib.sha256(f"{self._session}|{purpose}".encode()).digest()
        return random.Random(int.from_bytes(digest[:16], "big"))

    def next_index(self, kind: str, shared: bool = True) -> int:
        """A per-kind sequence number (0, 1, 2, ...), reset with the randomness (or with the shared store).

        ``shared=False``: this process's own sequence even on a shared store, for values nothing stores (request
        ids), so drawing one never needs the store.
        """
        if shared and self._shared_counter is not None:
            return self._shared_counter(kind)
        with self._lock:
            counter = self._counters.setdefault(kind, itertools.count())
            return next(counter)

    def uuid4(self, kind: str) -> str:
        """The next UUID (version 4 layout) in the ``kind`` sequence."""
        rng = self.rng(f"id:{kind}:{self.next_index(kind)}")
        return str(uuid.UUID(int=rng.getrandbits(128), version=4))

    def token(self, kind: str, length: int = 24, alphabet: str | None = None, shared: bool = True) -> str:
        """The next opaque token (letters and digits) in the ``kind`` sequence (``shared``: see :meth:`next_index`)."""
        chars = alphabet or "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"
        rng = self.rng(f"token:{kind}:{self.next_index(kind, shared)}")
        return "".join(rng.choice(chars) for _ in range(length))

    def reset(self) -> None:
        """Restart every sequence, as on a fresh server start.

        Unseeded, a fresh start means a fresh session: ids drawn after a reset never repeat earlier ones
        (output file URLs are served as immutable). Seeded, the sequences repeat exactly.
        """
        with self._lock:
            self._counters.clear()
            if self.seed is None:
                self._session = secrets.token_hex(8)
