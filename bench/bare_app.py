"""Baseline for bench/side_by_side.py: a bare Starlette app answering canned bodies, nothing else.

``BENCH_BODIES`` names a JSON file of ``[{method, path, status, content_type, chunks}]`` (captured from the
mock by the bench, so each route answers the same bytes as the mock's); one chunk is a plain response, several
are streamed one by one, as the mock streams server-sent events. Without it every path answers a small JSON
document.
"""

from __future__ import annotations

import json
import os
from collections.abc import AsyncIterator, Awaitable, Callable

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response, StreamingResponse
from starlette.routing import Route

Handler = Callable[[Request], Awaitable[Response]]


def _handler(status: int, content_type: str, chunks: list[bytes]) -> Handler:
    if len(chunks) == 1:
        async def plain(request: Request) -> Response:
            return Response(chunks[0], status_code=status, media_type=content_type)

        return plain

    async def events() -> AsyncIterator[bytes]:
        for chunk in chunks:
            yield chunk

    async def streamed(request: Request) -> Response:
        return StreamingResponse(events(), status_code=status, media_type=content_type)

    return streamed


def _routes(path: str) -> list[Route]:
    with open(path, encoding="utf-8") as file:
        canned = json.load(file)
    return [Route(entry["path"], _handler(entry["status"], entry["content_type"],
                                          [chunk.encode() for chunk in entry["chunks"]]), methods=[entry["method"]])
            for entry in canned]


async def hello(request: Request) -> JSONResponse:
    return JSONResponse({"hello": "world"})


app = Starlette(routes=_routes(os.environ["BENCH_BODIES"]) if os.environ.get("BENCH_BODIES")
                else [Route("/{path:path}", hello)])
