"""Express answers written by the server's protocol itself (:mod:`mockserver.core.answer_at_once`), on real sockets.

Two servers built alike (same seed, same manual clock, same requests) differ only in that one never answers at
once: every exchange -- kept-alive, pipelined, with the headers that must take the ASGI way, ended by
``Connection: close`` or HTTP/1.0 -- gets the same bytes from both (but the ``date`` header), and leaves the same
journal. A third check makes sure the answers at once were really taken.
"""

from __future__ import annotations

import json
import socket
import threading
import time
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
POOR_KEY = "sk-test-poor-0003"  # no credits: its creates are refused (402)


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


def journal(base: str, *others: str) -> list[dict[str, Any]]:
    """The journal (of every API), newest first, without latencies and with the server's ports (httpx's requests
    name them: ``base``'s and ``others``') blanked."""
    text = httpx.get(base + "/_mock/requests", params={"limit": 100}).text
    for url in (base, *others):
        text = text.replace(urlsplit(url).netloc, "HOST")
    entries: list[dict[str, Any]] = json.loads(text)["data"]
    for entry in entries:
        entry.pop("latency_ms")
    return entries


class Counting:
    """A gateway that counts the answers it made at once."""

    def __init__(self, gateway: Any) -> None:
        self.gateway, self.made = gateway, 0

    def holds_body(self, scope: Any) -> bool:
        held: bool = self.gateway.holds_body(scope)
        return held

    def answer_at_once(self, scope: Any, body: bytes | None = None) -> Any:
        answered = self.gateway.answer_at_once(scope, body)
        self.made += answered is not None
        return answered


def counted_answers(monkeypatch: pytest.MonkeyPatch, answering: ServerThread) -> list[Counting]:
    """The answers at once of ``answering``'s apps, counted (one :class:`Counting` per app, in the order the server
    builds its protocols); every other server's apps answer nothing at once."""
    made: list[Counting] = []
    real = server_module.answer_at_once_of
    apps = [listener.app for listener in answering.plan.listeners]  # each server builds its own in its thread

    def counted(app: object) -> Any:
        answer = real(app) if any(app is mine for mine in apps) else None
        if answer is not None:
            made.append(Counting(answer))
            return made[-1]
        return None

    monkeypatch.setattr(server_module, "answer_at_once_of", counted)
    return made


@pytest.fixture()
def servers(monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[ServerThread, ServerThread, list[Counting]]]:
    at_once, asgi_only = ServerThread(make_settings()), ServerThread(make_settings())
    made = counted_answers(monkeypatch, at_once)
    with at_once, asgi_only:
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
        creating(b'{"model": "truefusion-pro", "input": {"prompt": "a fox"}, "wait": true}'),
        creating(b'{"model": "truefusion-pro", "input": {"prompt": "a fox"'),  # cut short
        creating(b'{"model": "no-such-model", "input": {"prompt": "a fox"}}'),
        creating(b'{"model": "truefusion-pro", "input": {"prompt": "a fox", "width": 90000, "height": 90000}}'),
        creating(b"[1, 2]") + creating(b"", extra="") + creating(PROMPT, POOR_KEY),
        creating(PROMPT, extra="content-type: text/plain\r\n") + creating(PROMPT, extra="x-mock-scenario: slow\r\n"),
        creating(PROMPT) + creating(PROMPT) + [("GET", request(own))],
        [("GET", request(own, extra="Connection: close\r\n"))],
    ]


def gateai_exchanges(base: str) -> list[tuple[bytes, bytes]]:
    """A GateAI task made, then fetched: kept-alive, by another key, pipelined behind a miss, and alone."""
    bearer = f"Authorization: Bearer {KEY}\r\n"
    made = httpx.post(base + "/api/generate", headers={"authorization": f"Bearer {KEY}"},
                      json={"model": "gpt-image-2", "type": "image", "params": {"prompt": "a fox"}})
    task = f"/get/{made.raise_for_status().json()['task_id']}"
    return converse(base, [
        [("GET", request(task, None, extra=bearer)), ("GET", request(task, None, extra=bearer))],
        [("GET", request(task, None, extra=f"Authorization: Bearer {OTHER_KEY}\r\n")),
         ("GET", request(task, None, extra=bearer))],
        [("GET", request(task, None, extra=bearer))],
    ])


def creating(body: bytes, key: str = KEY, extra: str = "") -> list[tuple[str, bytes]]:
    """A create with ``body`` (and ``extra`` header lines: a ``content-type`` among them replaces JSON's)."""
    head = f"POST /v1/predictions HTTP/1.1\r\nHost: 127.0.0.1\r\nx-api-key: {key}\r\n{extra}"
    if "content-type" not in extra:
        head += "content-type: application/json\r\n"
    return [("POST", f"{head}content-length: {len(body)}\r\n\r\n".encode() + body)]


def test_answers_at_once_are_the_asgi_ways_answers_byte_for_byte(
        servers: tuple[ServerThread, ServerThread, list[Counting]]) -> None:
    at_once, asgi_only, made = servers
    results = []
    for running in (at_once, asgi_only):
        base = running.urls["skytells"].removesuffix("/v1")
        httpx.post(base + "/_mock/keys", json={"key": POOR_KEY, "credits": 0}).raise_for_status()
        pid = httpx.post(base + "/v1/predictions", content=PROMPT, headers={"x-api-key": KEY}).json()["id"]
        answers = converse(base, script(pid))
        answers += converse(base, [[("GET", request(f"/v1/predictions/{pid}", version="1.0"))]])
        answers += gateai_exchanges(running.urls["gateai"])
        results.append((answers, journal(base, running.urls["gateai"])))
    (answers, entries), (asgi_answers, asgi_entries) = results
    assert [head.split(b"\r\n", 1)[0] for head, _ in answers].count(b"HTTP/1.1 200 OK") >= 8
    assert answers == asgi_answers
    assert [head.split(b"\r\n", 1)[0] for head, _ in answers].count(b"HTTP/1.1 201 Created") == 3
    assert entries == asgi_entries and len(entries) == 32 + 6  # and GateAI's create and task GETs
    # answered at once: the first create, the first two GETs, the one with a query, the lone one after the pipelined
    # batches, and the two creates and the GET of the last batch; the requests pipelined behind one that took the
    # ASGI way wait for it, and take that way too
    assert made and made[0].made == 8
    # GateAI's task GETs: the two of the first batch and the one after the pipelined batch
    assert [counting.gateway.api for counting in made] == ["skytells", "gateai"] and made[1].made == 3


def test_a_connection_answered_at_once_stays_usable_for_the_asgi_way(
        servers: tuple[ServerThread, ServerThread, list[Counting]]) -> None:
    at_once, _, made = servers
    base = at_once.urls["skytells"].removesuffix("/v1")
    with httpx.Client(base_url=base, headers={"x-api-key": KEY}) as client:
        pid = client.post("/v1/predictions", content=PROMPT).json()["id"]
        for _ in range(3):
            assert client.get(f"/v1/predictions/{pid}").json()["id"] == pid
            assert client.get("/v1/models").status_code == 200
            assert client.post("/v1/predictions", content=PROMPT).status_code == 201
    assert made[0].made == 7  # the creates and the GETs of a prediction; not the models


def counted_server(monkeypatch: pytest.MonkeyPatch, **changes: Any) -> tuple[ServerThread, list[Counting]]:
    """A server (not started) whose answers at once are counted."""
    running = ServerThread(make_settings(**changes))
    return running, counted_answers(monkeypatch, running)


def connect(running: ServerThread) -> socket.socket:
    parts = urlsplit(running.urls["skytells"])
    return socket.create_connection((parts.hostname, parts.port), timeout=10)


def split_create(body: bytes) -> tuple[bytes, bytes]:
    """A create's head and its body, to be written apart."""
    return creating(body)[0][1].split(b"\r\n\r\n", 1)[0] + b"\r\n\r\n", body


def test_a_create_whose_body_comes_in_later_reads_is_answered_at_once_whatever_the_head_limit(
        monkeypatch: pytest.MonkeyPatch) -> None:
    # the protocol bounds an incomplete head to about max_header_bytes + 1 KB: a held body is not a head
    running, made = counted_server(monkeypatch, max_header_bytes=1024)
    prompt = "a fox in the snow, " * 250  # ~4.8 KB, read in five pieces
    head, body = split_create(json.dumps({"model": "truefusion-pro", "input": {"prompt": prompt}}).encode())
    with running, connect(running) as conn:
        reader = conn.makefile("rb")
        conn.sendall(head)
        for start in range(0, len(body), 1000):
            time.sleep(0.05)
            conn.sendall(body[start:start + 1000])
        status_head, answer = read_response(reader, "POST")
        assert status_head.startswith(b"HTTP/1.1 201 Created") and json.loads(answer)["input"]["prompt"] == prompt
        entry = journal(running.urls["skytells"].removesuffix("/v1"))[0]
        assert (entry["status"], entry["request"]["body"]["input"]["prompt"]) == (201, prompt)
    assert made[0].made == 1


def test_a_create_held_when_the_server_shuts_down_is_answered_and_its_connection_closed(
        monkeypatch: pytest.MonkeyPatch) -> None:
    running, made = counted_server(monkeypatch)
    head, body = split_create(PROMPT)
    running.start()
    with connect(running) as conn:
        reader = conn.makefile("rb")
        conn.sendall(head)
        time.sleep(0.2)  # the head is parsed and its body held
        stopping = threading.Thread(target=running.stop)
        stopping.start()
        time.sleep(0.5)  # the server asked its connections to close
        conn.sendall(body)
        status_head, answer = read_response(reader, "POST")
        assert status_head.startswith(b"HTTP/1.1 201 Created") and b"connection: close" in status_head.lower()
        assert json.loads(answer)["status"] == "pending" and reader.read() == b""  # then the connection ends
        stopping.join(15)
    assert not stopping.is_alive() and made[0].made == 0  # the ASGI way answered it
