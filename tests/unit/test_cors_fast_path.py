"""The gateway's CORS answers are exactly Starlette's: with ``Origin`` its middleware's, without it ``Vary: Origin``
merged in as Starlette's would (the request id the layer adds aside)."""

from __future__ import annotations

import asyncio
from types import SimpleNamespace
from typing import Any

import pytest
from starlette.middleware.cors import CORSMiddleware
from starlette.types import Message, Receive, Scope, Send

from mockserver.core.clock import Clock
from mockserver.core.conventions import EXPOSED_HEADERS, vary_origin
from mockserver.core.exchange import stamp, with_request_id
from mockserver.core.front import Gateway
from mockserver.core.journal import Journal
from mockserver.core.randomness import Randomness
from mockserver.settings import Settings


def answering(headers: list[tuple[bytes, bytes]]) -> Any:
    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        await send({"type": "http.response.start", "status": 200, "headers": list(headers)})
        await send({"type": "http.response.body", "body": b"ok"})

    return app


def run(app: Any, request_headers: list[tuple[bytes, bytes]]) -> list[Message]:
    sent: list[Message] = []

    async def send(message: Message) -> None:
        sent.append(message)

    async def receive() -> Message:
        return {"type": "http.request", "body": b"", "more_body": False}

    scope = {"type": "http", "method": "GET", "path": "/v1/models", "root_path": "", "headers": request_headers}
    asyncio.run(app(scope, receive, send))
    return sent


async def crash(request: Any, exc: Exception) -> Any:
    raise AssertionError("no crash expected") from exc


def no_render(error: Any, path: str, request_id: str) -> dict[str, Any]:
    raise AssertionError("no error expected")


def without_request_id(sent: list[Message]) -> list[Message]:
    for message in sent:
        if message["type"] == "http.response.start":
            message["headers"] = [(name, value) for name, value in message["headers"] if name != b"x-request-id"]
    return sent


@pytest.mark.parametrize("response_headers", [
    [], [(b"content-type", b"application/json")], [(b"vary", b"Accept")],
    [(b"vary", b"Accept"), (b"x", b"1"), (b"vary", b"Cookie")], [(b"Vary", b"Accept")],
])
@pytest.mark.parametrize("request_headers", [[], [(b"host", b"h")], [(b"origin", b"https://a.example")]])
def test_answers_as_starlettes_cors(response_headers: list[tuple[bytes, bytes]],
                                    request_headers: list[tuple[bytes, bytes]]) -> None:
    settings = Settings()
    inner = answering(response_headers)
    runtime = SimpleNamespace(settings=settings, rng=Randomness(1), journal=Journal(), clock=Clock(mode="manual"))
    gateway = Gateway(inner, runtime, "skytells", {}, crash, no_render, no_render)  # type: ignore[arg-type]
    ours = without_request_id(run(gateway, request_headers))
    theirs = run(CORSMiddleware(inner, allow_origins=list(settings.cors_origins), allow_methods=["*"],
                                allow_headers=["*"], expose_headers=EXPOSED_HEADERS, max_age=600), request_headers)
    assert ours == theirs


@pytest.mark.parametrize("response_headers", [
    [], [(b"content-type", b"application/json")], [(b"x-request-id", b"req_app")], [(b"X-Request-Id", b"req_app")],
    [(b"vary", b"Accept")], [(b"x-request-id", b"req_app"), (b"Vary", b"Accept"), (b"vary", b"Cookie")],
])
@pytest.mark.parametrize("vary", [False, True])
def test_one_pass_stamps_as_the_id_then_vary(response_headers: list[tuple[bytes, bytes]], vary: bool) -> None:
    ours: Message = {"type": "http.response.start", "status": 200, "headers": list(response_headers)}
    theirs: Message = {"type": "http.response.start", "status": 200, "headers": list(response_headers)}
    stamp(ours, b"req_1", vary)
    with_request_id(theirs, b"req_1")
    if vary:
        vary_origin(theirs)
    assert ours == theirs
