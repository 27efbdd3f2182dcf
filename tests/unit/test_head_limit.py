"""The httptools protocol's head bound, fed bytes as a socket would deliver them (no server, no socket)."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from uvicorn.config import Config
from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol
from uvicorn.server import ServerState

from mockserver.core.head_limit import head_limited

LIMIT = 300


class Transport:
    """What the protocol writes, and whether it closed the connection."""

    def __init__(self) -> None:
        self.written: list[bytes] = []
        self.closing = False

    def write(self, data: bytes) -> None:
        self.written.append(data)

    def get_extra_info(self, name: str, default: Any = None) -> Any:
        return {"sockname": ("127.0.0.1", 8080), "peername": ("127.0.0.1", 50000)}.get(name, default)

    def is_closing(self) -> bool:
        return self.closing

    def close(self) -> None:
        self.closing = True

    def pause_reading(self) -> None: ...

    def resume_reading(self) -> None: ...

    def set_write_buffer_limits(self, *args: Any, **kwargs: Any) -> None: ...


async def _ok(scope: Any, receive: Any, send: Any) -> None:
    await send({"type": "http.response.start", "status": 200, "headers": []})
    await send({"type": "http.response.body", "body": b"ok"})


def feed(chunks: list[bytes]) -> Transport:
    """``chunks`` read one by one on one connection, each request answered before the next read."""

    async def run() -> Transport:
        config = Config(_ok, access_log=False, lifespan="off", http="httptools")
        config.load()
        protocol_class = head_limited(HttpToolsProtocol, lambda head, status: f"refused {status}".encode(), LIMIT)
        protocol = protocol_class(config=config, server_state=ServerState(), app_state={},
                                  _loop=asyncio.get_running_loop())
        transport = Transport()
        protocol.connection_made(transport)
        for chunk in chunks:
            if transport.closing:
                break
            protocol.data_received(chunk)
            for _ in range(3):
                await asyncio.sleep(0)  # the request's task runs
        return transport

    return asyncio.run(run())


def request(filler: int = 0) -> bytes:
    return b"GET /v1/models HTTP/1.1\r\nhost: x\r\nx-filler: " + b"a" * filler + b"\r\n\r\n"


@pytest.mark.parametrize("pieces", [1, 2, 5])
def test_heads_within_the_limit_pass_however_they_are_cut(pieces: int) -> None:
    one = request(filler=200)
    size = -(-len(one) // pieces)
    chunks = [one[i:i + size] for i in range(0, len(one), size)] * 50  # 50 requests on one connection
    transport = feed(chunks)
    assert not transport.closing
    assert sum(part.startswith(b"HTTP/1.1 200") for part in transport.written) == 50


def test_a_head_dripped_past_the_limit_is_refused_with_a_431() -> None:
    head = b"GET /v1/models HTTP/1.1\r\nhost: x\r\nx-filler: "
    transport = feed([request(), head] + [b"a" * 50] * 20)
    assert transport.closing and transport.written[-1] == b"refused 431"
    assert sum(part.startswith(b"HTTP/1.1 200") for part in transport.written) == 1  # the first was answered


def test_the_chunk_a_head_begins_in_is_not_counted() -> None:
    # 1 KB of a head in its first chunk, then a little more: bounded by what is read after, not the first read
    head = b"GET /v1/models HTTP/1.1\r\nhost: x\r\nx-filler: " + b"a" * 1000
    transport = feed([head, b"a" * 100, b"\r\n\r\n"])
    assert not transport.closing and transport.written[0].startswith(b"HTTP/1.1 200")
