"""The one SSE writer and the one incremental SSE parser (``mockserver.spec.sse``): whatever the writer frames,
split anywhere, parses back to the same events."""

from __future__ import annotations

import itertools
import re

import pytest
from hypothesis import given
from hypothesis import strategies as st

from mockserver.spec import sse

NAMES = st.none() | st.text(alphabet=st.characters(exclude_characters="\r\n", exclude_categories=("Cs",)),
                            min_size=1, max_size=12)
DATA = st.text(alphabet=st.characters(exclude_categories=("Cs",)), max_size=40)
IDS = st.none() | st.text(alphabet=st.characters(exclude_characters="\r\n\x00", exclude_categories=("Cs",)),
                          max_size=8)
PING = b": ping\r\n\r\n"  # a keep-alive comment, as sse-starlette sends them
EVENTS = st.lists(st.tuples(NAMES, DATA, IDS, st.none() | st.integers(0, 10**6)), max_size=8)


def chunked(stream: bytes, cuts: list[int]) -> list[bytes]:
    points = sorted({0, len(stream), *(cut % (len(stream) + 1) for cut in cuts)})
    return [stream[a:b] for a, b in itertools.pairwise(points)]


@given(EVENTS, st.lists(st.integers(0, 10**6), max_size=12), st.sampled_from(["\n", "\r\n"]),
       st.booleans())
def test_framed_events_split_anywhere_parse_back(events: list, cuts: list[int], newline: str, pings: bool) -> None:
    stream = b"".join((PING if pings else b"") + sse.encode(data, name, id, retry, newline=newline)
                      for name, data, id, retry in events)
    parser = sse.Parser()
    parsed = [event for chunk in chunked(stream, cuts) for event in parser.feed(chunk)]
    assert parser.close() is None and not parser.problems
    assert [(e.event, e.text, e.id, e.retry) for e in parsed] == [
        (name, re.sub(r"\r\n|\r", "\n", data), id, None if retry is None else str(retry))
        for name, data, id, retry in events]


def test_the_writer_writes_what_the_sdks_read() -> None:
    assert sse.json_event({"a": "é"}) == 'data: {"a":"é"}\n\n'.encode()
    assert sse.json_event({"type": "x"}, "x") == b'event: x\ndata: {"type":"x"}\n\n'
    assert sse.encode("a\nb\r\nc", "e", id="7", retry=5, newline="\r\n") == (
        b"id: 7\r\nevent: e\r\ndata: a\r\ndata: b\r\ndata: c\r\nretry: 5\r\n\r\n")
    assert sse.encode("[DONE]") == sse.DONE


def test_a_split_crlf_a_split_character_and_a_lone_cr_end_lines_once() -> None:
    stream = "event: é\r\ndata: one\rdata: two\r\n\r\n".encode()
    cut = stream.index(b"\xa9")  # inside the two bytes of é
    parser = sse.Parser()
    first = parser.feed(stream[:cut]) + parser.feed(stream[cut:cut + 14]) + parser.feed(stream[cut + 14:])
    assert [(e.name, e.data) for e in first] == [("é", ["one", "two"])]
    for at in range(1, len(stream)):  # every single split, including between CR and LF
        parser = sse.Parser()
        events = parser.feed(stream[:at]) + parser.feed(stream[at:])
        assert [(e.name, e.data) for e in events] == [("é", ["one", "two"])], at


def test_comments_and_field_rules() -> None:
    events, problems = sse.parse(": ping\n\ndata:x\ndata:  y\nid\nfoo: 1\n\nevent: only\n\n")
    assert [(e.name, e.data) for e in events] == [("message", ["x", " y"])]
    assert problems == ["line without a field name and ':': 'id'", "unknown SSE field 'foo'",
                        "event 'only' has no data line"]


def test_an_unterminated_stream_is_reported_and_its_last_event_not_dispatched() -> None:
    events, problems = sse.parse("data: one\n\ndata: half")
    assert [e.text for e in events] == ["one"]
    assert problems == ["the stream does not end with a line break",
                        "the last event ('message') is not terminated by a blank line"]
    parser = sse.Parser()
    assert [e.text for e in parser.feed(b"data: one\n\ndata: half\n")] == ["one"]
    last = parser.close()
    assert last is not None and last.text == "half"


STREAM = (b"event: prediction\r\ndata: {\"a\": 1}\r\n\r\n"
          b": ping\r\n\r\n"
          b"data: two\n\n"
          b"event: done\r\ndata: {}\r\n\r\n")


@pytest.mark.parametrize("size", [1, 2, 3, 7, 1000])
def test_the_counter_counts_events_across_any_chunking(size: int) -> None:
    counter = sse.EventCounter()
    for i in range(0, len(STREAM), size):
        counter.feed(STREAM[i:i + size])
    assert counter.events == 3  # the ping comment is not an event


@given(EVENTS, st.lists(st.integers(0, 10**6), max_size=12), st.sampled_from(["\n", "\r\n", "\r"]),
       st.booleans(), st.lists(st.sampled_from([b"\r", b"\n", b": c", b"x", b"data: d", b"\xe9"]), max_size=6))
def test_the_counter_counts_what_the_parser_dispatches(events: list, cuts: list[int], newline: str, pings: bool,
                                                      noise: list[bytes]) -> None:
    stream = b"".join((PING if pings else b"") + sse.encode(data, name, id, retry, newline=newline)
                      for name, data, id, retry in events) + b"".join(noise)
    parser, counter = sse.Parser(), sse.EventCounter()
    dispatched = 0
    for chunk in chunked(stream, cuts):
        dispatched += len(parser.feed(chunk))
        counter.feed(chunk)
    assert counter.events == dispatched


def test_the_counter_does_not_count_an_unterminated_event() -> None:
    counter = sse.EventCounter()
    counter.feed(b"data: one\n\ndata: half")
    assert counter.events == 1


@given(DATA, NAMES, IDS)
def test_the_writer_matches_sse_starlette_byte_for_byte(data: str, name: str | None, id: str | None) -> None:
    """The prediction status stream (sent by ``sse_starlette.EventSourceResponse``) may yield the writer's bytes."""
    from sse_starlette import ServerSentEvent

    assert sse.encode(data, name, id, newline="\r\n") == ServerSentEvent(data=data, event=name, id=id).encode()


@given(EVENTS, st.lists(st.integers(0, 10**6), max_size=6), st.sampled_from(["\n", "\r\n"]), st.integers(1, 4))
def test_an_event_end_is_where_a_stream_can_be_cut_after_it(events: list, cuts: list[int], newline: str,
                                                             keep: int) -> None:
    """What ``sse_cut`` needs: sending each chunk up to the ``end`` of the n-th event sends exactly n events."""
    stream = b"".join(sse.encode(data, name, id, retry, newline=newline) for name, data, id, retry in events)
    parser, sent, count = sse.Parser(), b"", 0
    for chunk in chunked(stream, cuts):
        ended = parser.feed(chunk)
        if count + len(ended) >= keep:
            sent += chunk[:ended[keep - count - 1].end]
            break
        count += len(ended)
        sent += chunk
    assert len(sse.parse(sent.decode())[0]) == min(keep, len(events))
    # a CRLF split between its CR and LF ends the event at the CR (the LF goes with the next chunk)
    assert sent == stream[:len(sent)] and (len(events) < keep or sent.endswith((b"\n\n", b"\r\n\r\n", b"\r\n\r")))


@pytest.mark.parametrize("chunks", [
    [b"data: a\n\ndata: b\n\n"], [b"data: a\n\n", b"\n\ndata: b\n\n"], [b"data: a\n\n\n\ndata: b\n\n"],
    [b": ping\n\ndata: a\n\n"], [b"data: a\n\n: ping\n\n"], [b"data: a\n", b"\ndata: b\n\n"],
    [b"event: x\ndata: a\n\nevent: y\ndata: b\n\n", b"data: [DONE]\n\n"], [b"data: a\r\n\r\n", b"data: b\n\n"],
])
def test_the_counter_counts_whole_frames_as_the_parser_does(chunks: list[bytes]) -> None:
    parser, counter = sse.Parser(), sse.EventCounter()
    dispatched = 0
    for chunk in chunks:
        dispatched += len(parser.feed(chunk))
        counter.feed(chunk)
    assert counter.events == dispatched
