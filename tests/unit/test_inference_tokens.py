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


# -- token ids (encode / decode) ---------------------------------------------------------


ROUND_TRIP = ["", "What is machine learning? It's 12345 steps,\n\n  done.", "héllo wörld ñ", "🙂 emoji! 👨‍👩‍👧",
              "\x00\x01\x1f\x7f\u200b\ufeff", "a\tb\r\nc", "日本語のテキスト", "\ud800", "x\udfffy",
              "\ud83d\ude00", "  leading and trailing  ", "\uffff\U0010ffff"]


@pytest.mark.parametrize("text", ROUND_TRIP)
def test_decode_of_encode_is_the_text(text: str) -> None:
    ids = tokens.encode(text)
    assert tokens.decode(ids) == text
    assert all(0 <= i < tokens.vocabulary_size() for i in ids)


def test_vocabulary_pieces_are_one_id_and_others_fall_back_to_utf8_bytes() -> None:
    ids = tokens.encode("What is machine learning?")
    assert len(ids) == 5 and all(i >= tokens.BYTE_IDS for i in ids)
    assert [tokens.decode([i]) for i in ids] == tokens.tokenize("What is machine learning?")
    assert tokens.encode(" zyxw") == list(b" zyxw")
    assert tokens.encode("é") == [0xC3, 0xA9]
    assert tokens.encode("\ud800") == [0xED, 0xA0, 0x80]  # a lone surrogate: its WTF-8 bytes


def test_the_vocabulary_is_tokenizer_pieces_without_repeats_and_loads_once() -> None:
    pieces, ids = tokens.vocabulary()
    assert tokens.vocabulary() is tokens.vocabulary()
    assert len(set(pieces)) == len(pieces) == len(ids) == tokens.vocabulary_size() - 256
    assert all(tokens.tokenize(piece) == [piece] for piece in pieces)
    assert {" learning", " the", ",", "\n\n", " 123", "Ability", " Tv"} <= set(ids)


def test_replies_of_the_mock_encode_one_id_per_token() -> None:
    from mockserver.core.randomness import Randomness
    from mockserver.skytells.inference.text import Message, reply

    for seed in range(20):
        text = reply(Randomness(seed), "gpt-5", [Message("user", f"question {seed}")])
        ids = tokens.encode(text)
        assert len(ids) == tokens.count_tokens(text) and min(ids) >= tokens.BYTE_IDS


def test_foreign_ids_decode_to_placeholders_and_bad_bytes_to_replacement_chars() -> None:
    size = tokens.vocabulary_size()
    assert tokens.decode([100257]) == " tokbaacfh" == tokens.placeholder(100257)
    assert tokens.decode([size, size + 1]) == tokens.placeholder(size) + tokens.placeholder(size + 1)
    assert tokens.count_tokens(tokens.decode([size, 100257, 2**31 - 1])) == 3
    assert tokens.decode([0xFF, 0x41, 0xE2, 0x82]) == "\ufffdA\ufffd"
    with pytest.raises(ValueError, match="non-negative"):
        tokens.decode([1, -1])


def test_the_vocabulary_fixture_is_what_the_build_script_writes() -> None:
    import subprocess
    import sys
    from pathlib import Path

    script = Path(__file__).resolve().parents[2] / "scripts" / "build_vocabulary.py"
    result = subprocess.run([sys.executable, str(script), "--check"], capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
