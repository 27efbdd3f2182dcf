"""Seeded randomness: ids, durations and generated content repeat exactly for a given seed.

Every random decision is drawn from a :class:`random.Random` derived from the server seed and a
*purpose string* (for example ``"prediction-id:7"`` or ``"timing:<prediction id>"``), so the
result depends only on the seed and on what is being decided -- not on the order in which
unrelated requests arrive.

Tokens (request ids are drawn on every request) skip the Mersenne Twister: the ``n``-th token of a kind is
the BLAKE2b (SHAKE-256 beyond 64 bytes) digest of the session, the kind and ``n`` (one C call), mapped onto
the alphabet by a byte translation table. So do the few numbers every created job draws (its UUID, its
durations, its media seed: :meth:`Randomness.uuid4`, :meth:`Randomness.units`, :meth:`Randomness.bits`): one
digest each, ~1 us, where seeding a :class:`random.Random` costs ~8 us.
"""

from __future__ import annotations

import hashlib
import itertools
import random
import secrets
import struct
import threading
from collections.abc import Callable
from functools import lru_cache

#: The default alphabet of :meth:`Randomness.token` (letters and digits).
ALPHANUMERIC = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"


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
        counter = self._counters.get(kind)  # next() on an itertools.count is atomic: no lock once it exists
        if counter is None:
            with self._lock:
                counter = self._counters.setdefault(kind, itertools.count())
        return next(counter)

    def digest(self, purpose: str, size: int) -> bytes:
        """``size`` pseudo-random bytes for ``purpose``; same seed + purpose gives the same bytes."""
        data = f"{self._session}|{purpose}".encode()
        if size <= 64:  # BLAKE2b's longest digest; half the cost of SHAKE-256
            return hashlib.blake2b(data, digest_size=size).digest()
        return hashlib.shake_256(data).digest(size)

    def units(self, purpose: str, count: int) -> list[float]:
        """``count`` (1..8) floats in [0, 1) for ``purpose``, as :meth:`random.Random.random` draws them (53 bits
        each), from one digest; same seed + purpose gives the same floats."""
        raw = self.digest(f"units:{purpose}", 8 * count)
        return [(value >> 11) * _TWO_TO_MINUS_53 for value in _UNPACK[count](raw)]

    def bits(self, purpose: str, width: int) -> int:
        """A ``width``-bit (1..512) non-negative integer for ``purpose`` (``bits(p, 31)`` is a seed below 2**31)."""
        raw = self.digest(f"bits:{purpose}", (width + 7) // 8)
        return int.from_bytes(raw, "big") >> (-width % 8)

    def uuid4(self, kind: str) -> str:
        """The next UUID (version 4 layout) in the ``kind`` sequence: 16 digest bytes with the version and variant
        bits set, as :class:`uuid.UUID` sets them."""
        value = int.from_bytes(self.digest(f"id:{kind}:{self.next_index(kind)}", 16), "big")
        text = "%032x" % (value & _UUID_CLEAR | _UUID_SET)
        return f"{text[:8]}-{text[8:12]}-{text[12:16]}-{text[16:20]}-{text[20:]}"

    def token(self, kind: str, length: int = 24, alphabet: str | None = None, shared: bool = True) -> str:
        """The next opaque token (letters and digits unless ``alphabet``) in the ``kind`` sequence (``shared``: see
        :meth:`next_index`)."""
        table = _translation(alphabet) if alphabet else _DEFAULT_TABLE
        counter = None if shared and self._shared_counter is not None else self._counters.get(kind)
        if counter is None or length > 64:
            raw = self.digest(f"token:{kind}:{self.next_index(kind, shared)}", length)
        else:  # what the two calls above do, written out for this process's own sequences: one per request
            raw = hashlib.blake2b(f"{self._session}|token:{kind}:{next(counter)}".encode(), digest_size=length).digest()
        return raw.translate(table).decode("ascii")

    def reset(self) -> None:
        """Restart every sequence, as on a fresh server start.

        Unseeded, a fresh start means a fresh session: ids drawn after a reset never repeat earlier ones
        (output file URLs are served as immutable). Seeded, the sequences repeat exactly.
        """
        with self._lock:
            self._counters.clear()
            if self.seed is None:
                self._session = secrets.token_hex(8)


@lru_cache(maxsize=64)
def _translation(alphabet: str) -> bytes:
    """A ``bytes.translate`` table sending each byte value to a character of ``alphabet`` (ASCII, 1..256 long).

    Byte ``b`` maps to ``alphabet[b % len(alphabet)]``: for 62 characters the first eight are drawn 5/256 of the
    time instead of 4/256 -- immaterial for opaque ids, and one C call instead of a draw per character.
    """
    if not alphabet or len(alphabet) > 256 or not alphabet.isascii():
        raise ValueError("a token alphabet is 1 to 256 ASCII characters")
    return bytes(ord(alphabet[value % len(alphabet)]) for value in range(256))


_DEFAULT_TABLE = _translation(ALPHANUMERIC)
_TWO_TO_MINUS_53 = 2.0 ** -53
#: Big-endian 64-bit words of a digest, by how many of them it holds.
_UNPACK = {count: struct.Struct(f">{count}Q").unpack for count in range(1, 9)}
#: The version (4) and variant (RFC 4122) bits of a UUID, as ``uuid.UUID(int=..., version=4)`` sets them.
_UUID_CLEAR = ~((0xF000 << 64) | (0xC000 << 48))
_UUID_SET = (4 << 76) | (0x8000 << 48)
