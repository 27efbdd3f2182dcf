"""Seeded reply text: a pure function of the server seed, the model and the whole conversation.

The words come from Faker, seeded from a hash of (model, every message in order), so the same
conversation always gets the same reply and changing any earlier turn changes it. Sampling
parameters (temperature, top_p, penalties) are validated by the routes but do not change the
text: the mock is deterministic at every temperature.
"""

from __future__ import annotations

import hashlib
import json
import threading
from collections.abc import Iterable, Sequence
from typing import NamedTuple

from faker import Faker

from mockserver.core.randomness import Randomness

ROLES = ("system", "user", "assistant")


class Message(NamedTuple):
    """One conversation turn (``developer`` messages are normalised to ``system``)."""

    role: str
    content: str


_faker = Faker("en_US")
_faker_lock = threading.Lock()


def conversation_digest(model: str, conversation: Iterable[Message]) -> str:
    canonical = json.dumps([model, [[m.role, m.content] for m in conversation]], ensure_ascii=False,
                           separators=(",", ":"))
    return hashlib.sha256(canonical.encode()).hexdigest()


def reply(rng: Randomness, model: str, conversation: Sequence[Message]) -> str:
    """The assistant's full (uncut) reply to ``conversation``: one to three paragraphs."""
    stream = rng.rng(f"text:{model}:{conversation_digest(model, conversation)}")
    paragraphs = stream.choice((1, 1, 2, 2, 3))
    sizes = [stream.randint(3, 6) for _ in range(paragraphs)]
    with _faker_lock:
        _faker.seed_instance(stream.getrandbits(64))
        parts = [_faker.paragraph(nb_sentences=size, variable_nb_sentences=False) for size in sizes]
    return "\n\n".join(parts)


def apply_stop(text: str, stops: Iterable[str]) -> tuple[str, bool]:
    """``text`` up to (not including) the earliest stop sequence; True when one was found."""
    hits = [index for index in (text.find(stop) for stop in stops if stop) if index >= 0]
    if not hits:
        return text, False
    return text[:min(hits)], True
