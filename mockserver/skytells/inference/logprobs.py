"""Seeded log probabilities (chat ``logprobs`` / ``top_logprobs``).

Each token of the reply gets a log probability drawn from the seed and the token's position; its
``top_logprobs`` list the token itself first, then other tokens with lower log probabilities. The
entries' ``token`` fields concatenate to the content, and ``bytes`` are each token's UTF-8 bytes.
"""

from __future__ import annotations

from typing import Any

from mockserver.core.randomness import Randomness

MAX_TOP = 20
ALTERNATIVES = (" the", " a", " and", " of", " to", " in", " is", " it", " that", " for", ",", ".", " on",
                " with", " as", " this", " was", " be", " at", " by", " or", " an", "\n")


def _entry(token: str, logprob: float) -> dict[str, Any]:
    return {"token": token, "logprob": logprob, "bytes": list(token.encode("utf-8"))}


def token_entry(rng: Randomness, purpose: str, index: int, token: str, top: int) -> dict[str, Any]:
    """The ``logprobs.content`` entry of the ``index``-th token."""
    stream = rng.rng(f"logprobs:{purpose}:{index}")
    logprob = round(-stream.expovariate(4.0), 6)
    alternatives = [t for t in stream.sample(ALTERNATIVES, min(top + 1, len(ALTERNATIVES))) if t != token]
    tops = [_entry(token, logprob)]
    floor = logprob
    for alternative in alternatives[: max(top - 1, 0)]:
        floor = round(floor - stream.uniform(0.1, 3.0), 6)
        tops.append(_entry(alternative, floor))
    return {**_entry(token, logprob), "top_logprobs": tops[:top]}


def content(rng: Randomness, purpose: str, tokens: list[str], top: int) -> list[dict[str, Any]]:
    return [token_entry(rng, purpose, index, token, top) for index, token in enumerate(tokens)]
