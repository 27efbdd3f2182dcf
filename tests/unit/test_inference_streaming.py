"""SSE framing of the Inference API streams, and their manners on the event loop."""

from __future__ import annotations

import asyncio
import itertools
from typing import Any

from mockserver.skytells.inference.streaming import paced_frames
from mockserver.spec.sse import DONE, json_event


class InstantPacer:
    async def token(self, index: int) -> None:
        return None


def test_frames_are_sse_and_end_with_done_when_asked() -> None:
    assert json_event({"a": "é"}) == 'data: {"a":"é"}\n\n'.encode()
    assert json_event({"type": "response.completed"}, "response.completed").startswith(b"event: response.completed\n")

    async def collect() -> list[bytes]:
        items = [({"type": "x", "n": i}, i) for i in range(3)]
        return [chunk async for chunk in paced_frames(items, InstantPacer(), named=True, done=True)]  # type: ignore[arg-type]

    frames = asyncio.run(collect())
    assert len(frames) == 4 and frames[-1] == DONE and frames[0].startswith(b"event: x\n")


def test_an_instant_stream_gives_the_event_loop_a_turn_between_frames() -> None:
    """Other requests are served during a long stream, and a gone client is noticed before the end."""

    async def interleaving() -> list[Any]:
        seen: list[Any] = []
        stop = asyncio.Event()

        async def other_work() -> None:
            while not stop.is_set():
                seen.append("other")
                await asyncio.sleep(0)

        other = asyncio.create_task(other_work())
        await asyncio.sleep(0)
        items = [({"n": i}, i) for i in range(5)]
        async for _ in paced_frames(items, InstantPacer(), named=False, done=False):  # type: ignore[arg-type]
            seen.append("frame")
        stop.set()
        await other
        return seen

    seen = asyncio.run(interleaving())
    frames_at = [i for i, item in enumerate(seen) if item == "frame"]
    assert len(frames_at) == 5
    assert all(later - earlier > 1 for earlier, later in itertools.pairwise(frames_at)), seen
