"""The Inference tokenizer: lossless, prefix-stable, and the counts every usage figure relies on."""

from __future__ import annotations

import pytest

from mockserver.skytells.inference import tokens


def test_tokens_are_gpt_style_pieces_and_join_back() -> None:
    text = "What is machine learning? It's 12345 steps,\n\n  done."
    pieces = tokens.tokenize(text)
    assert pieces == ["What", " is", " machine", " learning", "?", " It", "'", "s", " 123", "45", " steps", ",",
                      "\n\n  ", "done", "."]
    assert "".join(pieces) == text
    assert tokens.count_tokens(text) == len(pieces) == 15


@pytest.mark.parametrize("text", ["", " ", "héllo wörld", "a\tb\r\nc", "🙂 emoji!", "x" * 50])
def test_every_character_is_covered(text: str) -> None:
    assert "".join(tokens.tokenize(text)) == text


def test_truncate_keeps_whole_tokens_and_recounts_exactly() -> None:
    text = "Machine learning is a branch of AI, mostly."
    for limit in range(0, tokens.count_tokens(text) + 2):
        cut = tokens.truncate(text, limit)
        assert text.startswith(cut)
        assert tokens.count_tokens(cut) == min(limit, tokens.count_tokens(text))


def test_prefix_before_stops_at_the_token_containing_a_position() -> None:
    text = "Alpha beta gamma"
    assert tokens.prefix_before(text, text.index("gamma")) == "Alpha beta"
    assert tokens.prefix_before(text, text.index("mm")) == "Alpha beta"
    assert tokens.prefix_before(text, 0) == ""
    assert tokens.prefix_before(text, len(text)) == text


def test_count_all_counts_texts_separately() -> None:
    assert tokens.count_all(["ab", "cd"]) == 2
    assert tokens.count_tokens("abcd") == 1
