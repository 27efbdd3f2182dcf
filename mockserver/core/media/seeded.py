"""Seeded numpy randomness and colours shared by the encoders (each depends only on the seed and a purpose)."""

from __future__ import annotations

import numpy as np


def rng(seed: int, purpose: str) -> np.random.Generator:
    """A numpy generator depending only on ``seed`` and ``purpose``."""
    salt = int.from_bytes(purpose.encode()[:8].ljust(8, b"\0"), "little")
    return np.random.default_rng([seed % 2**64, seed // 2**64 % 2**64, salt])


def palette(rng: np.random.Generator, count: int) -> np.ndarray:
    """``count`` harmonious RGB colours (float32 0..1) around a random hue."""
    base = rng.random()
    hues = (base + np.arange(count) * rng.uniform(0.08, 0.3)) % 1.0
    sats = rng.uniform(0.45, 0.85, count)
    vals = rng.uniform(0.55, 0.95, count)
    # Vectorised HSV -> RGB.
    k = (np.array([5.0, 3.0, 1.0])[None, :] + hues[:, None] * 6.0) % 6.0
    weight = np.clip(np.minimum(k, 4.0 - k), 0.0, 1.0)
    return (vals[:, None] * (1.0 - sats[:, None] * weight)).astype(np.float32)
