#!/usr/bin/env python3
"""Regenerate ``fixtures/skytells/vocabulary.json``: the mock tokenizer's fixed vocabulary.

Ids 0..255 are byte-fallback ids (one UTF-8 byte each); the vocabulary's tokens take ids 256, 257, ...
in the order written here. Every token is a piece exactly as ``tokens.tokenize`` cuts text, so a
piece found in the vocabulary encodes as one id. The tokens are, in this order:

1. whitespace runs (spaces, newlines, tabs and newline + indentation),
2. punctuation marks, bare and with a leading space (ASCII plus common typographic marks),
3. every run of one to three digits, bare and with a leading space,
4. words, each as ``word``, `` word``, ``Word`` and `` Word`` (``str.title``, as Faker capitalises):
   the Faker ``en_US`` lorem word list (every word the mock's reply generator can write) and the
   common English and API words below.

Output is deterministic (no randomness, sorted word lists). Changing the vocabulary changes token
ids, so regenerate only on purpose. ``--check`` exits 1 when the fixture differs from what this
script would write.

Usage: ``python scripts/build_vocabulary.py [--check]``
"""

from __future__ import annotations

import json
import string
import sys
from pathlib import Path

from faker.providers.lorem.en_US import Provider as LoremProvider

TARGET = Path(__file__).resolve().parent.parent / "fixtures" / "skytells" / "vocabulary.json"
BYTE_FALLBACK_IDS = 256

#: Frequent English words (and API/prompt vocabulary) that Faker's lorem list lacks, plus the
#: pieces contractions split into ("It", "'", "s").
_COMMON_WORDS = """
    a am an are as be been being did does done had has having i is it its me mine my ours was were yours
    further neither unless via whilst s t d m ll re ve don doesn didn isn aren wasn weren won wouldn couldn
    shouldn hasn haven hadn can cannot ok okay hello hi hey thanks thank please yes no
    using used uses user users learning models dataset datasets api apis images video videos audio text texts
    prompt prompts token tokens embedding embeddings vector vectors search query queries documents document
    summarize summary translate code function functions python javascript typescript json yaml http https url
    urls www com org io html css sql tests testing error errors request requests server client clients keys
    credits prices costs generate generated generation photo photos photorealistic mountain mountains lake
    lakes sunrise sunset fox cat cats dogs weather paris london tomorrow yesterday assistant chat completion
    completions streaming stream tool tools call calls calling agent agents schema schemas object objects
    array arrays string strings integer number boolean null true false id ids name names email uri uuid date
    time timestamp seed mock mocks webhook webhooks prediction predictions inference latency ai gpt llm
    neural network networks training trained deep intelligence artificial algorithm algorithms
"""
COMMON_WORDS = _COMMON_WORDS.split()

#: Acronyms kept in capitals only.
ACRONYMS = ["AI", "API", "CSS", "GPT", "HTML", "HTTP", "HTTPS", "ID", "JSON", "LLM", "OK", "SDK", "SQL", "UI", "URL",
            "USA", "UUID", "YAML"]

TYPOGRAPHIC = ["\u2018", "\u2019", "\u201c", "\u201d", "\u2013", "\u2014", "\u2026", "\u00b7", "\u2022", "\u00a9",
               "\u00ae", "\u20ac", "\u00a3", "\u00b0"]


def whitespace() -> list[str]:
    runs = [" " * n for n in range(1, 17)]
    runs += ["\n" + " " * n for n in range(17)] + ["\n\n" + " " * n for n in range(9)]
    runs += ["\t" * n for n in range(1, 5)] + ["\n" + "\t" * n for n in range(1, 5)]
    runs += ["\n\n\n", "\r\n", "\r\n\r\n", " \n", " \n\n"]
    return runs


def punctuation() -> list[str]:
    marks = list(string.punctuation) + TYPOGRAPHIC
    return [piece for mark in marks for piece in (mark, " " + mark)]


def digits() -> list[str]:
    runs = [f"{n:0{width}d}" for width in (1, 2, 3) for n in range(10 ** width)]
    return [piece for run in runs for piece in (run, " " + run)]


def words() -> list[str]:
    base = sorted(set(LoremProvider.word_list) | set(COMMON_WORDS))
    # str.title() is how Faker capitalises a sentence's first word ("TV" -> "Tv").
    forms = [form for word in base for form in (word, " " + word, word.title(), " " + word.title())]
    return forms + [piece for acronym in ACRONYMS for piece in (acronym, " " + acronym)]


def vocabulary() -> list[str]:
    """All tokens in id order (the token at position ``k`` has id ``256 + k``), without repeats."""
    return list(dict.fromkeys([*whitespace(), *punctuation(), *digits(), *words()]))


def render() -> str:
    """The fixture's text: a JSON object whose ``tokens`` array has one token per line."""
    tokens = vocabulary()
    lines = ",\n".join(json.dumps(token) for token in tokens)
    header = json.dumps({
        "description": "Mock tokenizer vocabulary; written by scripts/build_vocabulary.py (do not edit by hand).",
        "byte_fallback_ids": BYTE_FALLBACK_IDS,
        "size": BYTE_FALLBACK_IDS + len(tokens),
    }, indent=2)[:-2]
    return f"{header},\n  \"tokens\": [\n{lines}\n]}}\n"


def main(argv: list[str]) -> int:
    text = render()
    if "--check" in argv:
        current = TARGET.read_text(encoding="utf-8") if TARGET.exists() else ""
        if current != text:
            print(f"{TARGET} is out of date; run scripts/build_vocabulary.py", file=sys.stderr)
            return 1
        return 0
    TARGET.write_text(text, encoding="utf-8")
    print(f"wrote {TARGET} ({len(vocabulary())} tokens, {len(text.encode())} bytes)")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
