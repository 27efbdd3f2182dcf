"""The gateway's express answer (:data:`mockserver.core.front.Express`): asked for API requests only, given the path
below the mount; a decline goes to the router; what it sends gets the gateway's request id and journal entry; what it
raises is answered by the app's handlers, as the router's exceptions are."""

from __future__ import annotations

import asyncio
from types import SimpleNamespace
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.types import Message, Receive, Scope, Send

from mockserver.core.clock import Clock
from mockserver.core.front import AT_ONCE_BODY_BYTES, ExpressWrite, Gateway
from mockserver.core.journal import Journal
from mockserver.core.randomness import Randomness
from mockserver.settings import Settings


class Boom(Exception):
    pass


class Router:
    """Stands in for the router: answers 200 ``router``."""

    def __init__(self) -> None:
        self.paths: list[str] = []

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        self.paths.append(scope["path"])
        await send({"type": "http.response.start", "status": 200, "headers": []})
        await send({"type": "http.response.body", "body": b"router"})


class Express:
    """Answers ``/fast`` (the JSON ``{"express":true}``), raises on ``/boom``, declines the rest; notes the paths it
    is given."""

    def __init__(self) -> None:
        self.paths: list[str] = []

    def __call__(self, scope: Scope, path: str) -> bytes | None:
        self.paths.append(path)
        if path == "/boom":
            raise Boom("express failed")
        return b'{"express":true}' if path == "/fast" else None


async def on_boom(request: Request, exc: Exception) -> Response:
    return JSONResponse({"error": str(exc)}, status_code=503)


async def crash(request: Any, exc: Exception) -> Any:
    raise AssertionError("no crash expected") from exc


def no_render(error: Any, path: str, request_id: str) -> dict[str, Any]:
    raise AssertionError("no error expected")


class Writer:
    """An express write on ``/make``: answers 201 ``{"made":N}`` to the body ``{"ok":true}``, declines the rest;
    notes the bodies it is given."""

    def __init__(self) -> None:
        self.bodies: list[bytes] = []

    def __call__(self, scope: Scope, body: bytes) -> tuple[int, bytes] | None:
        self.bodies.append(body)
        return (201, b'{"made":%d}' % len(self.bodies)) if body == b'{"ok":true}' else None


def gateway(writer: Writer | None = None) -> tuple[Gateway, Router, Express, Journal]:
    router, express, journal = Router(), Express(), Journal()
    runtime = SimpleNamespace(settings=Settings(), rng=Randomness(1), journal=journal, clock=Clock(mode="manual"))
    made = Gateway(router, runtime, "skytells", {Boom: on_boom}, crash, no_render, no_render,  # type: ignore[arg-type]
                   express=express, express_write=None if writer is None else ExpressWrite("/make", writer))
    return made, router, express, journal


def scope_of(path: str, root_path: str = "", headers: list[tuple[bytes, bytes]] | None = None) -> dict[str, Any]:
    return {"type": "http", "method": "GET", "path": root_path + path, "root_path": root_path,
            "headers": [(b"x-api-key", b"sk-test-0001")] if headers is None else headers}


def call(app: Gateway, path: str, root_path: str = "") -> list[Message]:
    sent: list[Message] = []

    async def send(message: Message) -> None:
        sent.append(message)

    async def receive() -> Message:
        return {"type": "http.request", "body": b"", "more_body": False}

    asyncio.run(app(scope_of(path, root_path), receive, send))
    return sent


def test_an_express_answer_is_sent_with_the_request_id_and_journaled_and_the_router_is_not_called() -> None:
    app, router, express, journal = gateway()
    start, body = call(app, "/fast", root_path="/skytells")
    assert express.paths == ["/fast"] and router.paths == []  # the path below the mount
    assert start["status"] == 200 and body["body"] == b'{"express":true}'
    assert dict(start["headers"])[b"content-type"] == b"application/json"
    rid = dict(start["headers"])[b"x-request-id"].decode()
    (entry,) = journal.find()
    assert (entry.path, entry.status, entry.request_id, entry.response_body.head) == \
        ("/fast", 200, rid, b'{"express":true}')


def test_a_declined_request_goes_to_the_router_and_the_mocks_own_paths_never_reach_the_express_answer() -> None:
    app, router, express, journal = gateway()
    assert call(app, "/slow")[1]["body"] == b"router"
    assert call(app, "/_mock/health")[1]["body"] == b"router"
    assert express.paths == ["/slow"] and router.paths == ["/slow", "/_mock/health"]
    assert [entry.path for entry in journal.find()] == ["/slow"]


def test_what_the_express_answer_raises_is_answered_by_the_apps_handlers() -> None:
    app, router, _, journal = gateway()
    start, body = call(app, "/boom")
    assert start["status"] == 503 and body["body"] == b'{"error":"express failed"}' and router.paths == []
    assert journal.find()[0].status == 503


def test_an_answer_at_once_is_what_the_asgi_way_sends_and_records() -> None:
    by_asgi, _, _, asgi_journal = gateway()
    at_once, router, _, journal = gateway()
    start, body = call(by_asgi, "/fast", root_path="/skytells")
    scope = scope_of("/fast", "/skytells")
    status, headers, answered = at_once.answer_at_once(scope) or (0, [], b"")
    assert (status, headers, answered) == (200, start["headers"], body["body"]) and router.paths == []
    assert scope["state"]["request_id"] == dict(headers)[b"x-request-id"].decode()
    (entry,), (asgi_entry,) = journal.find(), asgi_journal.find()
    shown, asgi_shown = entry.as_json(), asgi_entry.as_json()
    for volatile in ("latency_ms", "epoch", "time"):  # two clocks, started apart
        shown.pop(volatile), asgi_shown.pop(volatile)
    assert shown == asgi_shown and shown["status"] == 200


def test_answers_at_once_are_declined_with_nothing_done_for_what_the_asgi_way_must_see() -> None:
    app, _, express, journal = gateway()
    key = (b"x-api-key", b"sk-test-0001")
    declined = [scope_of("/slow"), scope_of("/_mock/health"), scope_of("/fast", headers=[key, (b"origin", b"x")]),
                scope_of("/fast", headers=[key, (b"content-length", b"0")]),
                scope_of("/fast", headers=[key, (b"transfer-encoding", b"chunked")]),
                scope_of("/fast", headers=[key, (b"x-big", b"x" * 70_000)])]
    for scope in declined:
        assert app.answer_at_once(scope) is None
        assert "request_id" not in scope.get("state", {})
    assert express.paths == ["/slow"] and journal.find() == [] and app.runtime.rng.token("request-id") == \
        gateway()[0].runtime.rng.token("request-id")  # no request id drawn by a decline


def test_an_answer_at_once_is_declined_with_a_journal_written_by_a_coroutine() -> None:
    app, _, express, journal = gateway()
    journal.batched = True  # type: ignore[misc]
    assert app.answer_at_once(scope_of("/fast")) is None and express.paths == []


def post_scope(path: str = "/make", body: bytes = b'{"ok":true}', *extra: tuple[bytes, bytes]) -> dict[str, Any]:
    return {**scope_of(path, "/skytells", [(b"x-api-key", b"sk-test-0001"), (b"content-type", b"application/json"),
                                             (b"content-length", str(len(body)).encode()), *extra]), "method": "POST"}


def test_a_post_on_the_express_writes_path_with_a_small_declared_body_is_held_and_nothing_else_is() -> None:
    app = gateway(Writer())[0]
    assert app.holds_body(post_scope())
    too_long = {**post_scope(), "headers": [(b"content-length", str(AT_ONCE_BODY_BYTES + 1).encode())]}
    unheld = [post_scope("/other"), too_long, {**post_scope(), "headers": []},
              post_scope("/make", b"{}", (b"transfer-encoding", b"chunked")),
              post_scope("/make", b"{}", (b"origin", b"http://localhost:3000")),
              post_scope("/make", b"{}", (b"x-big", b"x" * 70_000))]
    assert not any(app.holds_body(scope) for scope in unheld)
    assert not gateway()[0].holds_body(post_scope())  # no express write
    batched, _, _, journal = gateway(Writer())
    journal.batched = True  # type: ignore[misc]
    assert not batched.holds_body(post_scope())


def test_a_write_answered_at_once_is_journaled_with_its_request_body_and_a_declined_one_leaves_nothing() -> None:
    writer = Writer()
    app, router, _, journal = gateway(writer)
    declined = post_scope(body=b'{"ok":false}')
    assert app.answer_at_once(declined, b'{"ok":false}') is None
    assert "request_id" not in declined.get("state", {}) and journal.find() == []
    scope = post_scope()
    status, headers, answered = app.answer_at_once(scope, b'{"ok":true}') or (0, [], b"")
    assert (status, answered, router.paths) == (201, b'{"made":2}', [])
    assert dict(headers)[b"content-type"] == b"application/json"
    assert dict(headers)[b"x-request-id"].decode() == scope["state"]["request_id"]
    (entry,) = journal.find()
    assert (entry.method, entry.path, entry.status, entry.request_body.head, entry.response_body.head) == \
        ("POST", "/make", 201, b'{"ok":true}', b'{"made":2}')
    # the decline drew no request id: the answer has the first one
    assert scope["state"]["request_id"] == "req_" + gateway()[0].runtime.rng.token("request-id", 24, shared=False)
