"""Seeded reply text: a pure function of the server seed, the model and the whole conversation.

The words are Faker's ``en_US`` lorem list, drawn as Faker's ``paragraph`` draws them (see :func:`reply`) from a
stream seeded from a hash of (model, every message in order), so the same conversation always gets the same reply
and changing any earlier turn changes it. Sampling parameters (temperature, top_p, penalties) are validated by the
routes but do not change the text: the mock is deterministic at every temperature.
"""

from __future__ import annotations

import functools
import hashlib
import json
import random
from collections.abc import Iterable, Sequence
from typing import NamedTuple

import orjson

from mockserver.core.randomness import Randomness
from mockserver.core.recent import Recent

ROLES = ("system", "user", "assistant", "tool")


class ToolCall(NamedTuple):
    """A function call an assistant turn makes: ``arguments`` is JSON text."""

    id: str
    name: str
    arguments: str


class Message(NamedTuple):
    """One conversation turn (``developer`` messages are normalised to ``system``).

    An assistant turn may carry ``tool_calls``; a ``tool`` turn answers the call ``tool_call_id``.
    ``image_tokens`` are what the turn's image parts count for (images are never fetched).
    """

    role: str
    content: str
    tool_calls: tuple[ToolCall, ...] = ()
    tool_call_id: str | None = None
    image_tokens: int = 0

    def as_json(self) -> dict[str, object]:
        """The stored form: ``{role, content}`` plus whichever of the other fields are set."""
        out: dict[str, object] = {"role": self.role, "content": self.content}
        if self.tool_calls:
            out["tool_calls"] = [list(call) for call in self.tool_calls]
        if self.tool_call_id is not None:
            out["tool_call_id"] = self.tool_call_id
        if self.image_tokens:
            out["image_tokens"] = self.image_tokens
        return out

    @classmethod
    def from_json(cls, data: dict) -> Message:
        calls = tuple(ToolCall(*call) for call in data.get("tool_calls") or ())
        return cls(data["role"], data["content"], calls, data.get("tool_call_id"), data.get("image_tokens", 0))

    @property
    def text_for_counting(self) -> str:
        """Everything of the turn that counts as prompt text: content plus each call's name and arguments."""
        if not self.tool_calls:
            return self.content
        return self.content + "".join(f" {call.name} {call.arguments}" for call in self.tool_calls)


@functools.cache
def _words() -> tuple[str, ...]:
    """Faker's ``en_US`` lorem words (loaded with the first reply, not when the server starts)."""
    from faker.providers.lorem.en_US import Provider

    return tuple(Provider.word_list)


#: The last conversation tuple digested (model, the tuple, its digest): a turn asks for the digest of its one
#: conversation tuple several times (the turn key, the reply, the tools). Kept here, the tuple cannot be freed, so
#: no other object can be the one found by identity; its messages are immutable, so neither can its digest change.
_last_digest: tuple[str, tuple[Message, ...], str] | None = None


def conversation_digest(model: str, conversation: Iterable[Message]) -> str:
    """The SHA-256 of the model and the conversation's roles, contents and tool calls as canonical JSON."""
    global _last_digest
    last = _last_digest
    if last is not None and last[1] is conversation and last[0] == model:
        return last[2]
    digest = _conversation_digest(model, conversation)
    if isinstance(conversation, tuple):
        _last_digest = (model, conversation, digest)
    return digest


def _conversation_digest(model: str, conversation: Iterable[Message]) -> str:
    turns = [[m.role, m.content] + ([[list(c) for c in m.tool_calls], m.tool_call_id] if m.tool_calls or
                                    m.tool_call_id else []) for m in conversation]
    try:  # orjson writes json.dumps(ensure_ascii=False, separators=(",", ":"))'s bytes for lists of strings
        canonical = orjson.dumps([model, turns])
    except orjson.JSONEncodeError:  # a lone surrogate: as before
        canonical = json.dumps([model, turns], ensure_ascii=False, separators=(",", ":")).encode()
    return hashlib.sha256(canonical).hexdigest()


def _sentence(stream: random.Random, vocabulary: tuple[str, ...]) -> list[str]:
    """One lorem sentence's words, drawn exactly as Faker's ``sentence()`` draws them.

    Faker's own call costs ~30 µs a sentence in provider look-ups around the same few draws; the words are
    identical (Faker: ``randomize_nb_elements(6, min=1)`` words, ``random.choices`` for several and
    ``random.choice`` for one). The sentence is the words ``" "``-joined, the first ``str.title``-d, plus ``"."``.
    """
    count = max(int(6 * stream.randint(60, 140) / 100), 1)
    return stream.choices(vocabulary, k=count) if count > 1 else [stream.choice(vocabulary)]


#: Replies kept by (seed-derived digest of the conversation, ``enough``): a load test repeating one conversation
#: draws its words once. A reply is ~0.1-2 KB.
CACHED_REPLIES = 1024
_replies: Recent[tuple[bytes, int | None], str] = Recent(CACHED_REPLIES)


def reply(rng: Randomness, model: str, conversation: Sequence[Message], variant: int = 0,
          enough: int | None = None) -> str:
    """The assistant's full (uncut) reply to ``conversation``: one to three paragraphs (Faker ``en_US`` lorem
    paragraphs, as Faker's ``paragraph(nb_sentences=n, variable_nb_sentences=False)`` writes them).

    ``variant`` (a choice index of ``n``) gives another, equally deterministic reply; 0 is the usual one.
    ``enough``: stop after the first sentence that takes the reply past that many tokens -- the reply is then
    a prefix of the full one, and every token up to that count is the full reply's (lorem words are ASCII
    letters, so a sentence of ``k`` words is ``k + 1`` tokens and a paragraph break one more).

    The text is a pure function of the seed and the purpose string, so the last :data:`CACHED_REPLIES` replies
    are kept under the digest the randomness gives that purpose (which an unseeded reset changes).
    """
    salt = f":{variant}" if variant else ""
    purpose = f"text:{model}:{conversation_digest(model, conversation)}{salt}"
    key = (rng.digest(purpose, 16), enough)
    known = _replies.get(key)
    if known is not None:
        return known
    return _replies.put(key, _paragraphs(rng.rng(purpose), enough))


def _paragraphs(stream: random.Random, enough: int | None) -> str:
    """The reply drawn from its seeded ``stream`` (see :func:`reply`)."""
    paragraphs = stream.choice((1, 1, 2, 2, 3))
    sizes = [stream.randint(3, 6) for _ in range(paragraphs)]
    words, vocabulary = random.Random(stream.getrandbits(64)), _words()
    written: list[str] = []
    used = -1  # the first paragraph has no break before it
    for size in sizes:
        sentences = []
        used += 1
        for _ in range(size):
            drawn = _sentence(words, vocabulary)
            drawn[0] = drawn[0].title()
            sentences.append(" ".join(drawn) + ".")
            used += len(drawn) + 1
            if enough is not None and used > enough:
                break
        written.append(" ".join(sentences))
        if enough is not None and used > enough:
            break
    return "\n\n".join(written)


def apply_stop(text: str, stops: Iterable[str]) -> tuple[str, bool]:
    """``text`` up to (not including) the earliest stop sequence; True when one was found."""
    hits = [index for index in (text.find(stop) for stop in stops if stop) if index >= 0]
    if not hits:
        return text, False
    return text[:min(hits)], True
