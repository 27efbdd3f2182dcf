"""A deterministic tokenizer: every token count the Inference API reports is made with it.

Tokens are GPT-style pieces: a word with its leading space (``" learning"``), a run of up to
three digits, one punctuation mark with its leading space, or a run of whitespace. Joining the
tokens gives back the text exactly, and tokenization is *prefix-stable*: the tokens of
``"".join(tokenize(text)[:n])`` are ``tokenize(text)[:n]`` (the pattern has no look-ahead), so a
completion cut at a token boundary reports exactly the number of tokens it was cut to.

Token ids (:func:`encode` / :func:`decode`, used for token-id embedding input): ids 0..255 are
byte-fallback ids, one per UTF-8 byte; ids from 256 on are the fixed vocabulary in
``fixtures/skytells/vocabulary.json`` (written by ``scripts/build_vocabulary.py``), pieces exactly
as :func:`tokenize` cuts them (``" learning"``, ``","``, ``"\\n\\n"``). A piece found in the
vocabulary is one id; any other piece is its UTF-8 bytes, one id each. ``decode(encode(t)) == t``
for every ``str``: a lone surrogate (which has no UTF-8 form) is written as its three-byte
surrogate encoding, as WTF-8 and Python's ``surrogatepass`` do, and decoded back. Encoding is not
the token count: :func:`count_tokens` (every usage figure) counts pieces, not ids.

:func:`decode` accepts any non-negative ids: byte ids that are not valid UTF-8 decode to U+FFFD,
and an id past the vocabulary (e.g. from another tokenizer) decodes to a placeholder word, a space
and ``tok`` followed by the id's digits written as letters ``a``-``j`` (100257 -> ``" tokbaacfh"``).
"""

from __future__ import annotations

import codecs
import re
from collections.abc import Iterable, Sequence
from functools import cache

from mockserver.spec import data as fixtures

_TOKEN = re.compile(r" ?[A-Za-z]+| ?[0-9]{1,3}| ?[^\sA-Za-z0-9]|\s+")
BYTE_IDS = 256
VOCABULARY_FILE = ("skytells", "vocabulary.json")
_DIGIT_LETTERS = str.maketrans("0123456789", "abcdefghij")
_SURROGATEPASS = codecs.lookup_error("surrogatepass")


def tokenize(text: str) -> list[str]:
    """The tokens of ``text``; ``"".join(tokenize(text)) == text``."""
    return _TOKEN.findall(text)


def count_tokens(text: str) -> int:
    return len(tokenize(text))


def truncate(text: str, limit: int) -> str:
    """The first ``limit`` tokens of ``text``."""
    return "".join(tokenize(text)[:max(limit, 0)])


def count_all(texts: Iterable[str]) -> int:
    """Tokens of several texts counted separately (as messages are) and summed."""
    return sum(count_tokens(text) for text in texts)


def prefix_before(text: str, position: int) -> str:
    """The longest run of whole tokens of ``text`` that ends at or before character ``position``."""
    kept: list[str] = []
    used = 0
    for token in tokenize(text):
        if used + len(token) > position:
            break
        kept.append(token)
        used += len(token)
    return "".join(kept)


def _decode_error(error: UnicodeError) -> tuple[str, int]:
    """Bytes that are not UTF-8: an encoded lone surrogate comes back as itself, anything else as U+FFFD."""
    try:
        return _SURROGATEPASS(error)
    except UnicodeDecodeError:
        return codecs.replace_errors(error)


codecs.register_error("mockserver.tokens", _decode_error)


@cache
def vocabulary() -> tuple[tuple[str, ...], dict[str, int]]:
    """The vocabulary's tokens in id order (id ``256 + k`` is ``tokens[k]``) and each token's id."""
    pieces = tuple(fixtures.load_json(*VOCABULARY_FILE)["tokens"])
    return pieces, {piece: BYTE_IDS + index for index, piece in enumerate(pieces)}


def vocabulary_size() -> int:
    """Ids below this are the mock tokenizer's own (bytes and vocabulary)."""
    return BYTE_IDS + len(vocabulary()[0])


def encode(text: str) -> list[int]:
    """The token ids of ``text``: a vocabulary id per known piece, else the piece's UTF-8 bytes."""
    ids_of = vocabulary()[1]
    ids: list[int] = []
    for piece in tokenize(text):
        known = ids_of.get(piece)
        if known is None:
            ids.extend(piece.encode("utf-8", "surrogatepass"))
        else:
            ids.append(known)
    return ids


def placeholder(token_id: int) -> str:
    """The word an id past the vocabulary decodes to: 100257 -> ``" tokbaacfh"``."""
    return " tok" + str(token_id).translate(_DIGIT_LETTERS)


def decode(ids: Sequence[int]) -> str:
    """The text of ``ids`` (non-negative); ``decode(encode(text)) == text``."""
    pieces = vocabulary()[0]
    parts: list[str] = []
    pending = bytearray()
    for token_id in ids:
        if token_id < 0:
            raise ValueError(f"token ids are non-negative, got {token_id}")
        if token_id < BYTE_IDS:
            pending.append(token_id)
            continue
        if pending:
            parts.append(pending.decode("utf-8", "mockserver.tokens"))
            pending.clear()
        index = token_id - BYTE_IDS
        parts.append(pieces[index] if index < len(pieces) else placeholder(token_id))
    parts.append(pending.decode("utf-8", "mockserver.tokens"))
    return "".join(parts)
