"""A deterministic tokenizer: every token count the Inference API reports is made with it.

Tokens are GPT-style pieces: a word with its leading space (``" learning"``), a run of up to
three digits, one punctuation mark with its leading space, or a run of whitespace. Joining the
tokens gives back the text exactly, and tokenization is *prefix-stable*: the tokens of
``"".join(tokenize(text)[:n])`` are ``tokenize(text)[:n]`` (the pattern has no look-ahead), so a
completion cut at a token boundary reports exactly the number of tokens it was cut to.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

_TOKEN = re.compile(r" ?[A-Za-z]+| ?[0-9]{1,3}| ?[^\sA-Za-z0-9]|\s+")


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
