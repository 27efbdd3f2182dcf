"""SSE framing of the Inference API streams, and their manners on the event loop."""

from __future__ import annotations

import asyncio
import itertools
from collections.abc import AsyncIterator
from typing import Any

from mockserver.skytells.inference.streaming import BATCH_FRAMES, SSEResponse, paced_frames
from mockserver.spec import sse
from mockserver.spec.sse import DONE, json_event


class InstantPacer:
    """Every token ready at once, but not known to be (each frame is awaited, as on a paced clock)."""

    async def token(self, index: int) -> None:
        return None


class CollapsedPacer(InstantPacer):
    """An instant clock: nothing holds frames apart."""

    instant = True


def test_frames_are_sse_and_end_with_done_when_asked() -> None:
    assert json_event({"a": "é"}) == 'data: {"a":"é"}\n\n'.encode()
    assert json_event({"type": "response.completed"}, "response.completed").startswith(b"event: response.completed\n")

    async def collect() -> list[bytes]:
        items = [({"type": "x", "n": i}, i) for i in range(3)]
        return [chunk async for chunk in paced_frames(items, InstantPacer(), named=True, done=True)]  # type: ignore[arg-type]

    frames = asyncio.run(collect())
    # each token frame on its own (it is awaited); the terminator goes with the last one
    assert len(frames) == 3 and frames[-1].endswith(b"\n\n" + DONE) and frames[0].startswith(b"event: x\n")


def interleaved(items: list[tuple[dict[str, Any], int]], pacer: Any) -> list[str]:
    """What ran, in order, while a stream of ``items`` was read: ``"piece"`` per chunk the stream gave, and
    ``"other"`` per turn of a task that yields to the event loop in a loop meanwhile."""

    async def run() -> list[str]:
        seen: list[str] = []
        stop = asyncio.Event()

        async def other_work() -> None:
            while not stop.is_set():
                seen.append("other")
                await asyncio.sleep(0)

        other = asyncio.create_task(other_work())
        await asyncio.sleep(0)
        async for _ in paced_frames(items, pacer, named=False, done=False):
            seen.append("piece")
        stop.set()
        await other
        return seen

    return asyncio.run(run())


def turns_between_pieces(seen: list[str]) -> tuple[int, bool]:
    """How many pieces, and whether other work ran between every two of them."""
    at = [i for i, item in enumerate(seen) if item == "piece"]
    return len(at), all(later - earlier > 1 for earlier, later in itertools.pairwise(at))


def test_an_instant_stream_gives_the_event_loop_a_turn_between_frames() -> None:
    """Other requests are served during a long stream, and a gone client is noticed before the end."""
    seen = interleaved([({"n": i}, i) for i in range(5)], InstantPacer())
    assert turns_between_pieces(seen) == (5, True), seen


def test_frames_ready_together_go_out_together_with_the_same_bytes() -> None:
    items = [({"n": i}, i) for i in range(2 * BATCH_FRAMES + 3)]

    async def collect(pacer: Any) -> list[bytes]:
        return [chunk async for chunk in paced_frames(items, pacer, named=False, done=True)]

    one_by_one, batched = asyncio.run(collect(InstantPacer())), asyncio.run(collect(CollapsedPacer()))
    assert len(one_by_one) == len(items)
    assert [len(sse.parse(piece.decode())[0]) for piece in batched] == [BATCH_FRAMES, BATCH_FRAMES, 4]  # 3 + [DONE]
    assert b"".join(batched) == b"".join(one_by_one)


def test_a_batched_stream_still_gives_the_event_loop_a_turn_between_pieces() -> None:
    seen = interleaved([({"n": i}, i) for i in range(3 * BATCH_FRAMES)], CollapsedPacer())
    assert turns_between_pieces(seen) == (3, True), seen


def test_a_stream_written_through_ends_its_body_with_the_last_piece() -> None:
    async def pieces() -> AsyncIterator[bytes]:
        for piece in (b"data: 1\n\n", b"data: 2\n\n", DONE):
            yield piece

    async def collect(listen: bool) -> list[dict[str, Any]]:
        sent: list[dict[str, Any]] = []

        async def receive() -> dict[str, Any]:
            await asyncio.Event().wait()  # the client never goes away
            return {}

        async def send(message: Any) -> None:
            sent.append(message)

        await SSEResponse(pieces(), listen=listen)({"type": "http", "asgi": {"spec_version": "2.3"}}, receive, send)
        return sent

    through, watched = asyncio.run(collect(False)), asyncio.run(collect(True))
    bodies = [m for m in through if m["type"] == "http.response.body"]
    assert [m["more_body"] for m in bodies] == [True, True, False] and bodies[-1]["body"] == DONE
    assert through[0] == watched[0] and through[0]["type"] == "http.response.start"
    assert b"".join(m["body"] for m in bodies) == b"".join(m.get("body", b"") for m in watched[1:])
    assert len(watched) == len(through) + 1  # the watched stream ends with an empty message
