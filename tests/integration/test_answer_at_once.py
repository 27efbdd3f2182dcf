"""Express answers written by the server's protocol itself (:mod:`mockserver.core.answer_at_once`), on real sockets.

Two servers built alike (same seed, same manual clock, same requests) differ only in that one never answers at
once: every exchange -- kept-alive, pipelined, with the headers that must take the ASGI way, ended by
``Connection: close`` or HTTP/1.0 -- gets the same bytes from both (but the ``date`` header), and leaves the same
journal. A third check makes sure the answers at once were really taken.
"""

from __future__ import annotations

import json
import socket
from collections.abc import Iterator
from typing import Any
from urllib.parse import urlsplit

import httpx
import pytest

from mockserver import server as server_module
from mockserver.server import ServerThread
from tests.conftest import KEY, OTHER_KEY, make_settings

pytestmark = pytest.mark.uvicorn_only  # granian's protocol is granian's own

PROMPT = b'{"model": "truefusion-pro", "input": {"prompt": "a fox in the snow"}}'


def request(target: str, key: str | None = KEY, method: str = "GET", extra: str = "", version: str = "1.1",
            body: bytes = b"") -> bytes:
    head = f"{method} {target} HTTP/{version}\r\nHost: 127.0.0.1\r\n"
    head += f"x-api-key: {key}\r\n" if key else ""
    head += f"content-type: application/json\r\ncontent-length: {len(body)}\r\n" if body else ""
    return (head + extra + "\r\n").encode() + body


def read_response(reader: Any, method: str) -> tuple[bytes, bytes]:
    """One response's head (without ``date``) and body from a buffered socket reader."""
    lines = []
    while (line := reader.readline()) not in (b"\r\n", b""):
        lines.append(line)
    length = next((int(line.split(b":", 1)[1]) for line in lines if line.lower().startswith(b"content-length:")), 0)
    body = reader.read(length) if method != "HEAD" else b""
    return b"".join(line for line in lines if not line.lower().startswith(b"date:")), body


def converse(base: str, batches: list[list[tuple[str, bytes]]]) -> list[tuple[bytes, bytes]]:
    """Each batch's requests written at once (pipelined) on one connection, then their responses read in order."""
    parts = urlsplit(base)
    answers = []
    with socket.create_connection((parts.hostname, parts.port), timeout=10) as conn:
        reader = conn.makefile("rb")
        for batch in batches:
            conn.sendall(b"".join(raw for _, raw in batch))
            answers += [read_response(reader, method) for method, _ in batch]
    return answers


def journal(base: str) -> list[dict[str, Any]]:
    """The journal, newest first, without latencies and with the server's port (httpx's requests name it) blanked."""
    text = httpx.get(base + "/_mock/requests", params={"limit": 100}).text.replace(urlsplit(base).netloc, "HOST")
    entries: list[dict[str, Any]] = json.loads(text)["data"]
    for entry in entries:
        entry.pop("latency_ms")
    return entries


class Counting:
    """A gateway's ``answer_at_once`` that counts the answers it made."""

    def __init__(self, answer: Any) -> None:
        self.answer, self.made = answer, 0

    def __call__(self, scope: Any) -> Any:
        answered = self.answer(scope)
        self.made += answered is not None
        return answered


@pytest.fixture()
def servers(monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[ServerThread, ServerThread, list[Counting]]]:
    made: list[Counting] = []
    real = server_module.answer_at_once_of

    def counted(app: object) -> Any:
        answer = real(app)
        if answer is not None:
            made.append(Counting(answer))
            return made[-1]
        return None

    monkeypatch.setattr(server_module, "answer_at_once_of", counted)
    with ServerThread(make_settings()) as at_once:
        monkeypatch.setattr(server_module, "answer_at_once_of", lambda app: None)
        with ServerThread(make_settings()) as asgi_only:
            yield at_once, asgi_only, made


def script(pid: str) -> list[list[tuple[str, bytes]]]:
    """The exchanges both servers get (``pid``: a prediction of KEY's)."""
    own = f"/v1/predictions/{pid}"
    return [
        [("GET", request(own)), ("GET", request(own))],
        [("GET", request(own, OTHER_KEY)), ("GET", request("/v1/predictions/pred_none")), ("GET", request(own, None))],
        [("GET", request(own, extra="Origin: http://localhost:3000\r\n"))],
        [("GET", request(own, extra="X-Forwarded-Proto: https\r\nX-Forwarded-For: 10.0.0.1\r\n"))],
        [("GET", request(own + "?verbose=1")), ("GET", request(own.replace("-", "%2D", 1)))],
        [("HEAD", request(own, method="HEAD")), ("GET", request(own, extra="Expect: 100-continue\r\n"))],
        [("POST", request("/v1/predictions", body=PROMPT)), ("GET", request(own)), ("GET", request(own))],
        [("GET", request(own, extra="x-mock-scenario: slow\r\n")), ("GET", request(own))],
        [("GET", request(own))],
        [("GET", request(own, extra="Connection: close\r\n"))],
    ]


def test_answers_at_once_are_the_asgi_ways_answers_byte_for_byte(
        servers: tuple[ServerThread, ServerThread, list[Counting]]) -> None:
    at_once, asgi_only, made = servers
    results = []
    for running in (at_once, asgi_only):
        base = running.urls["skytells"].removesuffix("/v1")
        pid = httpx.post(base + "/v1/predictions", content=PROMPT, headers={"x-api-key": KEY}).json()["id"]
        answers = converse(base, script(pid))
        answers += converse(base, [[("GET", request(f"/v1/predictions/{pid}", version="1.0"))]])
        results.append((answers, journal(base)))
    (answers, entries), (asgi_answers, asgi_entries) = results
    assert [head.split(b"\r\n", 1)[0] for head, _ in answers].count(b"HTTP/1.1 200 OK") >= 8
    assert answers == asgi_answers
    assert entries == asgi_entries and len(entries) == 20
    # answered at once: the first two GETs, the one with a query, the lone one after the pipelined batches; the
    # GETs pipelined behind a request that took the ASGI way wait for it, and take that way too
    assert made and made[0].made == 4


def test_a_connection_answered_at_once_stays_usable_for_the_asgi_way(
        servers: tuple[ServerThread, ServerThread, list[Counting]]) -> None:
    at_once, _, made = servers
    base = at_once.urls["skytells"].removesuffix("/v1")
    with httpx.Client(base_url=base, headers={"x-api-key": KEY}) as client:
        pid = client.post("/v1/predictions", content=PROMPT).json()["id"]
        for _ in range(3):
            assert client.get(f"/v1/predictions/{pid}").json()["id"] == pid
            assert client.get("/v1/models").status_code == 200
            assert client.post("/v1/predictions", content=PROMPT).status_code in (200, 201)
    assert made[0].made == 3
