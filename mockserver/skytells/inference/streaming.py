"""Server-sent events as the OpenAI SDKs read them: ``[event: <type>\\n]data: <json>\\n\\n``.

Chat Completions sends bare ``data:`` frames and ends with ``data: [DONE]``; Responses names
each frame with ``event:`` (its ``type``) and ends when the ``response.completed`` (or
``.incomplete``) frame is sent, as OpenAI's API does. The frames are written by :mod:`mockserver.spec.sse`.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Sequence
from typing import Any

from starlette.responses import StreamingResponse
from starlette.types import Receive, Scope, Send

from mockserver.skytells.inference.pacing import Pacer
from mockserver.spec.sse import DONE, json_event

#: One event to send (its data, or its whole frame already written) and the index of the token it carries
#: (None: not a token, send at once).
Item = tuple[dict[str, Any] | bytes, int | None]
#: Frames written in one ASGI message when nothing holds them apart (a stream on an instant clock).
BATCH_FRAMES = 64


async def paced_frames(items: Sequence[Item], pacer: Pacer, named: bool, done: bool) -> AsyncIterator[bytes]:
    """The frames of ``items``, each token frame held until the pacer says it is ready.

    Frames that are ready together go out together, up to :data:`BATCH_FRAMES` in one piece of the body: the
    bytes are the same, a client parses the same events, and the ASGI stack carries one message instead of
    many. Before a wait, what is ready is sent, so a paced stream delivers each token when it is ready. Between
    pieces the event loop always gets a turn, even when pacing is instant: other requests are served meanwhile,
    and a client that went away is noticed (the stream is cancelled) instead of being written to until the end.
    """
    instant = getattr(pacer, "instant", False)
    batch: list[bytes] = []
    for data, token_index in items:
        if token_index is not None and not instant:
            if batch:
                yield b"".join(batch)
                batch.clear()
                await asyncio.sleep(0)
            await pacer.token(token_index)
        batch.append(data if isinstance(data, bytes) else json_event(data, data.get("type") if named else None))
        if len(batch) >= BATCH_FRAMES:
            yield b"".join(batch)
            batch.clear()
            await asyncio.sleep(0)
    if done:
        batch.append(DONE)
    if batch:
        yield b"".join(batch)


class SSEResponse(StreamingResponse):
    """A ``text/event-stream`` response.

    ``listen`` (the default) watches for the client going away while the stream waits for its clock, and
    cancels it. A stream whose frames are all ready at once (an instant clock) is written straight through
    instead: watching costs a task group per request, and there is no wait to cut short.
    """

    media_type = "text/event-stream"

    def __init__(self, frames: AsyncIterator[bytes], status_code: int = 200, listen: bool = True) -> None:
        super().__init__(frames, status_code=status_code,
                         headers={"cache-control": "no-cache", "x-accel-buffering": "no"})
        self.listen = listen

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if self.listen:
            await super().__call__(scope, receive, send)
        else:
            await self._write_through(send)

    async def _write_through(self, send: Send) -> None:
        """The body as :meth:`stream_response` writes it, but the last piece ends the body itself (one ASGI
        message and one write fewer than a separate empty end): each piece is held until the next is made."""
        await send({"type": "http.response.start", "status": self.status_code, "headers": self.raw_headers})
        held: bytes | None = None
        async for piece in self.body_iterator:
            if held is not None:
                await send({"type": "http.response.body", "body": held, "more_body": True})
            held = piece
        await send({"type": "http.response.body", "body": held or b"", "more_body": False})
