"""Seeded reply text and one generation turn: determinism, stop sequences, max_tokens."""

from __future__ import annotations

from dataclasses import replace

import pytest

from mockserver.core.http import json_bytes
from mockserver.core.randomness import Randomness
from mockserver.core.runtime import Runtime
from mockserver.skytells.catalog import Catalog
from mockserver.skytells.inference import chat, text, tokens
from mockserver.skytells.inference.generation import generate
from mockserver.skytells.inference.text import Message
from tests.conftest import make_settings

CONVERSATION = [Message("system", "You are helpful."), Message("user", "What is machine learning?")]


@pytest.fixture
def runtime() -> Runtime:
    return Runtime.from_settings(make_settings())


def test_reply_is_a_pure_function_of_seed_model_and_conversation() -> None:
    first = text.reply(Randomness(7), "gpt-5", CONVERSATION)
    assert first == text.reply(Randomness(7), "gpt-5", list(CONVERSATION))
    assert len(first.split()) >= 6
    assert first != text.reply(Randomness(8), "gpt-5", CONVERSATION)
    assert first != text.reply(Randomness(7), "gpt-5.4", CONVERSATION)
    changed_earlier_turn = [Message("system", "You are terse."), CONVERSATION[1]]
    assert first != text.reply(Randomness(7), "gpt-5", changed_earlier_turn)
    assert first != text.reply(Randomness(7), "gpt-5", [*CONVERSATION, Message("user", "More?")])


def test_reply_does_not_depend_on_other_requests() -> None:
    rng = Randomness(7)
    expected = text.reply(Randomness(7), "gpt-5", CONVERSATION)
    rng.token("chatcmpl", 29)
    text.reply(rng, "gpt-5", [Message("user", "something else")])
    assert text.reply(rng, "gpt-5", CONVERSATION) == expected


def test_apply_stop_cuts_at_the_earliest_sequence() -> None:
    assert text.apply_stop("one two three two", ["three", "two"]) == ("one ", True)
    assert text.apply_stop("one two", ["four"]) == ("one two", False)
    assert text.apply_stop("one two", []) == ("one two", False)


def test_generation_counts_match_the_text(runtime: Runtime) -> None:
    turn = generate(runtime, "gpt-5", CONVERSATION, max_tokens=8192)
    assert turn.finish_reason == "stop"
    assert turn.completion_tokens == tokens.count_tokens(turn.text) > 0
    assert turn.prompt_tokens == tokens.count_tokens("You are helpful.") + tokens.count_tokens(CONVERSATION[1].content)
    assert turn.total_tokens == turn.prompt_tokens + turn.completion_tokens
    assert "".join(turn.deltas) == turn.text


def test_stop_sequences_are_honoured(runtime: Runtime) -> None:
    full = generate(runtime, "gpt-5", CONVERSATION, max_tokens=8192).text
    word = full.split()[3]
    stopped = generate(runtime, "gpt-5", CONVERSATION, max_tokens=8192, stop=[word])
    assert stopped.finish_reason == "stop"
    assert stopped.text == full[:full.index(word)]
    assert word not in stopped.text
    assert stopped.completion_tokens == tokens.count_tokens(stopped.text)


def test_max_tokens_truncates_with_finish_reason_length(runtime: Runtime) -> None:
    full = generate(runtime, "gpt-5", CONVERSATION, max_tokens=8192)
    cut = generate(runtime, "gpt-5", CONVERSATION, max_tokens=5)
    assert cut.finish_reason == "length"
    assert cut.completion_tokens == 5
    assert full.text.startswith(cut.text)
    exact = generate(runtime, "gpt-5", CONVERSATION, max_tokens=full.completion_tokens)
    assert exact.finish_reason == "stop" and exact.text == full.text


def test_a_stop_before_the_limit_wins_over_length(runtime: Runtime) -> None:
    full = generate(runtime, "gpt-5", CONVERSATION, max_tokens=8192).text
    word = full.split()[1]
    turn = generate(runtime, "gpt-5", CONVERSATION, max_tokens=50, stop=[word])
    assert turn.finish_reason == "stop" and turn.completion_tokens < 50


@pytest.mark.parametrize("seed", [0, 7, 20260101])
def test_reply_writes_what_fakers_paragraphs_write_from_the_same_stream(seed: int) -> None:
    """The reply is Faker's ``en_US`` lorem: the same draws through Faker itself give the same text."""
    from faker import Faker

    conversation = [Message("user", f"question {seed}")]
    stream = Randomness(seed).rng(f"text:gpt-5:{text.conversation_digest('gpt-5', conversation)}")
    sizes = [stream.randint(3, 6) for _ in range(stream.choice((1, 1, 2, 2, 3)))]
    faker = Faker("en_US")
    faker.seed_instance(stream.getrandbits(64))
    expected = "\n\n".join(faker.paragraph(nb_sentences=size, variable_nb_sentences=False) for size in sizes)
    assert text.reply(Randomness(seed), "gpt-5", conversation) == expected


@pytest.mark.parametrize("enough", [0, 1, 5, 16, 60, 10_000])
def test_a_reply_drawn_until_enough_tokens_is_a_prefix_with_the_same_first_tokens(enough: int) -> None:
    for seed in range(30):
        full = text.reply(Randomness(seed), "gpt-5", CONVERSATION)
        short = text.reply(Randomness(seed), "gpt-5", CONVERSATION, enough=enough)
        assert full.startswith(short)
        if tokens.count_tokens(full) > enough:
            assert tokens.count_tokens(short) > enough
            assert tokens.truncate(short, enough) == tokens.truncate(full, enough)
        else:
            assert short == full


CHAT = {"model": "gpt-5", "messages": [{"role": "user", "content": "What is machine learning?"}], "max_tokens": 12}


def fresh_turns(body: dict, **settings: object) -> list:
    """The turns a fresh server (nothing kept yet) generates, with its own ``seed``, ``safety_terms`` ..."""
    runtime = Runtime.from_settings(make_settings(seed=7, **settings))
    chat._turns.clear()
    text._replies.clear()
    return chat.run(runtime, chat.parse(body, Catalog.load()))


def test_kept_chat_turns_are_what_generating_again_gives() -> None:
    runtime = Runtime.from_settings(make_settings(seed=7))
    catalog = Catalog.load()
    variants = [CHAT, {**CHAT, "max_tokens": 3}, {**CHAT, "stop": ["e"]}, {**CHAT, "n": 2},
                {**CHAT, "messages": [{"role": "user", "content": "What is machine learning!"}]}]
    for body in variants:
        first = chat.run(runtime, chat.parse(body, catalog))
        assert chat.run(runtime, chat.parse(body, catalog)) == first == fresh_turns(body)
    replies = {tuple(g.text for g in chat.run(runtime, chat.parse(body, catalog))) for body in variants}
    assert len(replies) == len(variants)
    filtered = chat.run(replace_terms(runtime, ("machine",)), chat.parse(CHAT, catalog))
    assert filtered == fresh_turns(CHAT, safety_terms=("machine",)) and filtered[0].finish_reason == "content_filter"
    assert chat.run(Runtime.from_settings(make_settings(seed=8)), chat.parse(CHAT, catalog)) != fresh_turns(CHAT)


def replace_terms(runtime: Runtime, terms: tuple[str, ...]) -> Runtime:
    runtime.settings = runtime.settings.replace(safety_terms=terms)
    return runtime


def test_kept_frames_and_completions_are_the_bytes_of_the_chunks_and_completion() -> None:
    runtime, catalog = Runtime.from_settings(make_settings(seed=7)), Catalog.load()
    bodies = [{**CHAT, "stream": True}, {**CHAT, "stream": True, "n": 2, "stream_options": {"include_usage": True}},
              {**CHAT, "stream": True, "logprobs": True}]
    for body in bodies:
        request = chat.parse(body, catalog)
        generations = chat.run(runtime, request)
        for completion_id, created in [("chatcmpl-a", 1), ("chatcmpl-bb", 1700000000), ("chatcmpl-a", 1)]:
            expected = chat.chunks(request, generations, completion_id, created, encoded=True)
            assert chat.encoded_chunks(request, generations, completion_id, created) == expected
            body = json_bytes(chat.completion(request, generations, completion_id, created))
            assert chat.encoded_completion(request, generations, completion_id, created) == body


def test_one_parsed_request_kept_across_seeds_and_terms_runs_as_a_fresh_one() -> None:
    """The server keeps a parsed request by its body's bytes: what it keeps (the conversation's digest, the key's
    request part) must not carry the seed or the safety terms of the first run."""
    catalog = Catalog.load()
    kept = chat.parse(CHAT, catalog)
    assert kept.conversation_digest == text.conversation_digest("gpt-5", kept.messages)
    assert chat.run(Runtime.from_settings(make_settings(seed=7)), kept) == fresh_turns(CHAT)
    eight = chat.run(Runtime.from_settings(make_settings(seed=8)), kept)
    chat._turns.clear()
    text._replies.clear()
    anew = chat.run(Runtime.from_settings(make_settings(seed=8)), chat.parse(CHAT, catalog))
    assert eight == anew != fresh_turns(CHAT)
    filtered = chat.run(Runtime.from_settings(make_settings(seed=7, safety_terms=("machine",))), kept)
    assert filtered == fresh_turns(CHAT, safety_terms=("machine",)) and filtered[0].finish_reason == "content_filter"


def test_a_generation_hashes_as_an_equal_one_made_anew() -> None:
    first, again = fresh_turns(CHAT)[0], fresh_turns(CHAT)[0]
    assert first is not again and first == again
    assert hash(first) == hash(first) == hash(again)
    assert {first: 1}[again] == 1
    assert hash(replace(first, text=first.text + "!")) != hash(first)


def test_a_conversation_digested_again_by_identity_gives_its_own_digest() -> None:
    conversation = tuple(CONVERSATION)
    first = text.conversation_digest("gpt-5", conversation)
    assert text.conversation_digest("gpt-5", conversation) == first == text.conversation_digest("gpt-5", CONVERSATION)
    assert text.conversation_digest("gpt-5.4", conversation) != first  # same tuple, other model
    other = (*conversation[:1], Message("user", "What is deep learning?"))
    assert text.conversation_digest("gpt-5", other) != first
    assert text.conversation_digest("gpt-5", conversation) == first
