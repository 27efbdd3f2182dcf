"""A request leaves no reference cycle behind: everything it made is freed by reference counting as it ends.

Cyclic garbage is freed only by the collector, whose collections then walk and free whole requests' scopes; with
a cycle per request they came every few dozen requests and held the event loop for milliseconds (the p99 of a
GET under load). :func:`mockserver.server.settle_heap` relies on this.
"""

from __future__ import annotations

import asyncio
import gc
import json
from collections.abc import Iterator
from typing import Any

import pytest
from starlette.types import Message

from mockserver.app import MockServer, build
from tests.conftest import KEY, make_settings


def scope(method: str, path: str, headers: list[tuple[bytes, bytes]]) -> dict[str, Any]:
    return {"type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1", "method": method, "scheme": "http",
            "path": path, "raw_path": path.encode(), "query_string": b"", "root_path": "",
            "headers": [(b"host", b"127.0.0.1:8000"), *headers], "client": ("127.0.0.1", 5000),
            "server": ("127.0.0.1", 8000)}


Headers = list[tuple[bytes, bytes]]


async def call(app: Any, method: str, path: str, headers: Headers, body: bytes = b"") -> list[Message]:
    sent: list[Message] = []
    messages = [{"type": "http.request", "body": body, "more_body": False}]

    async def receive() -> Message:
        return messages.pop() if messages else {"type": "http.disconnect"}

    async def send(message: Message) -> None:
        sent.append(message)

    await app(scope(method, path, headers), receive, send)
    return sent


@pytest.fixture
def saved_garbage() -> Iterator[list[Any]]:
    """``gc.garbage`` collecting what the collector finds unreachable while the test runs."""
    gc.collect()
    gc.set_debug(gc.DEBUG_SAVEALL)
    try:
        yield gc.garbage
    finally:
        gc.set_debug(0)
        gc.garbage.clear()


def stored(mock: MockServer) -> tuple[str, str]:
    """A prediction and a GateAI task of ``KEY``."""
    auth = [(b"x-api-key", KEY.encode()), (b"content-type", b"application/json")]
    body = json.dumps({"model": "truefusion-pro", "input": {"prompt": "a fox"}}).encode()
    created = asyncio.run(call(mock.apps["skytells"], "POST", "/v1/predictions", auth, body))
    generation = json.dumps({"model": "gpt-image-2", "type": "image", "params": {"prompt": "a fox"}}).encode()
    task = asyncio.run(call(mock.apps["gateai"], "POST", "/api/generate", auth, generation))
    return json.loads(created[-1]["body"])["id"], json.loads(task[-1]["body"])["task_id"]


def test_gets_leave_no_cycles(saved_garbage: list[Any]) -> None:
    mock = build(make_settings())
    prediction, task = stored(mock)
    auth = [(b"x-api-key", KEY.encode())]

    async def requests() -> list[int]:
        statuses = []
        for _ in range(3):
            for app, path in ((mock.apps["skytells"], f"/v1/predictions/{prediction}"),
                              (mock.apps["gateai"], f"/get/{task}")):
                sent = await call(app, "GET", path, auth)
                statuses.append(sent[0]["status"])
        return statuses

    gc.collect()
    saved_garbage.clear()
    statuses = asyncio.run(requests())
    gc.collect()
    assert statuses == [200] * 6
    assert [type(item).__name__ for item in saved_garbage if isinstance(item, dict) and "headers" in item] == []


def test_the_hot_routes_and_refusals_leave_no_cycles(saved_garbage: list[Any]) -> None:
    """No garbage at all, whatever its type: a serving process collects only when idle (``core/heap.py``), so a
    cycle per request would pile up under sustained traffic."""
    mock = build(make_settings())
    sky, gate = mock.apps["skytells"], mock.apps["gateai"]
    auth = [(b"x-api-key", KEY.encode()), (b"content-type", b"application/json")]
    create = json.dumps({"model": "truefusion-pro", "input": {"prompt": "a fox"}}).encode()
    chat = json.dumps({"model": "gpt-5", "messages": [{"role": "user", "content": "hi"}], "max_tokens": 8}).encode()
    embed = json.dumps({"model": "deepbrain-router", "input": "a fox"}).encode()
    generate = json.dumps({"model": "gpt-image-2", "type": "image", "params": {"prompt": "a fox"}}).encode()
    requests = [
        (sky, "POST", "/v1/predictions", auth, create, 201),
        (sky, "GET", "/v1/predictions", auth, b"", 200),
        (sky, "POST", "/v1/chat/completions", auth, chat, 200),
        (sky, "POST", "/v1/embeddings", auth, embed, 200),
        (gate, "POST", "/api/generate", auth, generate, 200),
        (sky, "POST", "/v1/predictions", [(b"content-type", b"application/json")], create, 401),
        (sky, "POST", "/v1/predictions", auth, b'{"model": NaN}', 400),
        (sky, "GET", "/v1/predictions/nope", auth, b"", 404),
        (sky, "GET", "/v1/no-such-route", auth, b"", 404),
    ]

    async def run_all() -> list[int]:
        for app, method, path, headers, body, _ in requests:  # first calls fill caches
            await call(app, method, path, headers, body)
        gc.collect()
        saved_garbage.clear()
        statuses = [(await call(app, method, path, headers, body))[0]["status"]
                    for _ in range(3) for app, method, path, headers, body, _ in requests]
        gc.collect()
        return statuses

    statuses = asyncio.run(run_all())
    assert statuses == [status for _ in range(3) for *_, status in requests]
    assert [type(item).__name__ for item in saved_garbage] == []


def test_scripted_faults_leave_no_cycles(saved_garbage: list[Any], monkeypatch: pytest.MonkeyPatch) -> None:
    """An error fault, and a stream cut by ``sse_cut`` (in-process the cut surfaces as ``ConnectionDropped`` from the
    app: the journal's frame, held by its traceback, held the exception)."""
    import logging

    from mockserver.core.wire import ConnectionDropped

    # the app logs the dropped stream with its traceback; pytest's log capture would keep the exception reachable
    monkeypatch.setattr(logging.getLogger("mockserver"), "disabled", True)

    mock = build(make_settings())
    sky = mock.apps["skytells"]
    auth = [(b"x-api-key", KEY.encode()), (b"content-type", b"application/json")]
    plain = json.dumps({"model": "truefusion-pro", "input": {"prompt": "a fox"}}).encode()
    streamed = json.dumps({"model": "gpt-5", "messages": [{"role": "user", "content": "hi"}], "max_tokens": 8,
                           "stream": True}).encode()
    faults = [({"type": "error", "status": 503, "match": {"route": "POST /v1/predictions"}}, "/v1/predictions", plain),
              ({"type": "sse_cut", "after_events": 2}, "/v1/chat/completions", streamed)]

    async def outcome(path: str, body: bytes) -> str:
        try:
            return str((await call(sky, "POST", path, auth, body))[0]["status"])
        except ConnectionDropped:
            return "dropped"

    async def run_all() -> list[str]:
        for fault, path, body in faults:
            added = await call(sky, "POST", "/_mock/faults", [(b"content-type", b"application/json")],
                               json.dumps(fault).encode())
            assert added[0]["status"] == 201
            await outcome(path, body)  # first calls fill caches
        gc.collect()
        saved_garbage.clear()
        outcomes = [await outcome(path, body) for _ in range(3) for _, path, body in faults]
        gc.collect()
        return outcomes

    assert asyncio.run(run_all()) == ["503", "dropped"] * 3
    assert [type(item).__name__ for item in saved_garbage] == []
