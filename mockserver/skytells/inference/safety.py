"""Skytells safety fields for the Inference API, from the configured trigger terms.

A term of ``Settings.safety_terms`` found (case-insensitively) in the prompt filters the prompt:
``prompt_filter_results[0].content_filter_results.<category> = {filtered: true, severity: "high"}``
and the model generates nothing (``finish_reason: "content_filter"``). A term in the generated
text filters the completion at that point: the text stops before the token that contains it and
the choice's ``content_filter_results`` show the category. A term of ``Settings.jailbreak_terms``
in the prompt is a prompt-injection attempt: the request is refused (:class:`PolicyViolation`, a 403
SECURITY_VIOLATION).

Each term belongs to one category (``hate``, ``self_harm``, ``sexual``, ``violence``): a few
common terms are mapped by name; any other term gets a category derived from its hash, so the
same term is always reported under the same category.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

from mockserver.core.errors import PolicyViolation
from mockserver.core.safety import flagged_terms
from mockserver.skytells.inference import tokens

CATEGORIES = ("hate", "self_harm", "sexual", "violence")
KNOWN_TERMS = {
    "nsfw": "sexual", "nude": "sexual", "porn": "sexual", "explicit": "sexual",
    "gore": "violence", "kill": "violence", "blood": "violence", "weapon": "violence",
    "suicide": "self_harm", "self-harm": "self_harm", "self harm": "self_harm",
    "hate": "hate", "slur": "hate", "racist": "hate",
}
FILTERED_SEVERITY = "high"


class Terms(Protocol):
    """The settings the checks read (the Skytells section of :class:`mockserver.settings.Settings`)."""

    safety_terms: tuple[str, ...]
    jailbreak_terms: tuple[str, ...]


def category_of(term: str) -> str:
    term = term.lower()
    if term in KNOWN_TERMS:
        return KNOWN_TERMS[term]
    return CATEGORIES[hashlib.sha256(term.encode()).digest()[0] % len(CATEGORIES)]


@dataclass(frozen=True)
class Verdict:
    """What the safety layer found in one piece of content."""

    terms: tuple[str, ...] = ()
    jailbreak: bool = False

    @property
    def filtered(self) -> bool:
        return bool(self.terms)

    def categories(self) -> set[str]:
        return {category_of(term) for term in self.terms}


SAFE = Verdict()


def _severity(verdict: Verdict) -> dict[str, dict[str, Any]]:
    if not verdict.terms:  # most answers: nothing found
        return {name: {"filtered": False, "severity": "safe"} for name in CATEGORIES}
    hit = verdict.categories()
    return {
        name: {"filtered": True, "severity": FILTERED_SEVERITY} if name in hit
        else {"filtered": False, "severity": "safe"}
        for name in CATEGORIES
    }


def check_prompt(texts: Sequence[str], settings: Terms) -> Verdict:
    """The prompt's verdict; raises :class:`PolicyViolation` for a jailbreak attempt."""
    lowered = [text.lower() for text in texts]
    if not any(term and term.lower() in text for term in (*settings.safety_terms, *settings.jailbreak_terms)
               for text in lowered):
        return SAFE  # no term anywhere (most prompts): what the full check below finds, without its walk
    found = tuple(flagged_terms(list(texts), settings.safety_terms))
    jailbreak = flagged_terms(list(texts), settings.jailbreak_terms)
    if jailbreak:
        verdict = Verdict(found, jailbreak=True)
        raise PolicyViolation(None, "The prompt was blocked by the Skytells safety layer: a jailbreak attempt was "
                                    "detected", details={"prompt_filter_results": prompt_filter_results(verdict)})
    return Verdict(found)


def check_completion(text: str, terms: Iterable[str]) -> tuple[str, Verdict]:
    """``text`` cut before the first trigger term (at a token boundary), and its verdict."""
    lowered = text.lower()
    positions = {term: lowered.find(term.lower()) for term in terms if term}
    positions = {term: at for term, at in positions.items() if at >= 0}
    if not positions:
        return text, SAFE
    first = min(positions.values())
    hit = tuple(term.lower() for term, at in positions.items() if at == first)
    return tokens.prefix_before(text, first), Verdict(hit)


def content_filter_results(verdict: Verdict) -> dict[str, Any]:
    """A choice's ``content_filter_results`` (the completion's analysis)."""
    return {
        **_severity(verdict),
        "protected_material_code": {"filtered": False, "detected": False},
        "protected_material_text": {"filtered": False, "detected": False},
    }


def prompt_content_filter_results(verdict: Verdict) -> dict[str, Any]:
    return {**_severity(verdict), "jailbreak": {"filtered": verdict.jailbreak, "detected": verdict.jailbreak}}


def prompt_filter_results(verdict: Verdict) -> list[dict[str, Any]]:
    """Chat Completions' ``prompt_filter_results`` (one entry: the prompt as a whole)."""
    return [{"prompt_index": 0, "content_filter_results": prompt_content_filter_results(verdict)}]


def content_filters(prompt: Verdict, completion: Verdict, prompt_chars: int, completion_chars: int) -> list[dict]:
    """The Responses API's Skytells ``content_filters[]``: one entry for the prompt, one for the completion.

    The docs name the array but not its items; they follow the Azure-style shape the Chat
    Completions fields come from: ``blocked``, ``source_type`` (``prompt`` / ``completion``),
    ``content_filter_results`` and the character range checked.
    """
    return [
        {"blocked": prompt.filtered, "source_type": "prompt",
         "content_filter_results": prompt_content_filter_results(prompt),
         "content_filter_offsets": {"start_offset": 0, "end_offset": prompt_chars, "check_offset": 0}},
        {"blocked": completion.filtered, "source_type": "completion",
         "content_filter_results": content_filter_results(completion),
         "content_filter_offsets": {"start_offset": 0, "end_offset": completion_chars, "check_offset": 0}},
    ]
