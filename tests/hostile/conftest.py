"""Hostile inputs against a private server (not the session one: these requests break contracts on purpose)."""

from __future__ import annotations

import contextlib
import json
import socket
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

import httpx
import pytest

from mockserver.server import ServerThread
from tests.conftest import KEY, OTHER_KEY, make_settings

#: Where each format keeps the error's code and offending field.
FORMATS = ("prediction", "inference", "gateai", "control")


def address_of(server: ServerThread, api: str) -> tuple[str, int]:
    """(host, port) of ``api`` on ``server``, for a raw socket."""
    parts = urlsplit(server.urls[api])
    return parts.hostname or "127.0.0.1", parts.port or 80


def raw_exchange(address: tuple[str, int], head: bytes, filler: int = 0) -> tuple[bytes, int]:
    """Send ``head`` then up to ``filler`` bytes of ``a`` (one header value, or a body) over a raw socket;
    (what came back, filler bytes sent)."""
    sent = 0
    with socket.create_connection(address, timeout=30) as sock:
        sock.sendall(head)
        chunk = b"a" * 65536
        with contextlib.suppress(ConnectionError):
            while sent < filler:
                sock.sendall(chunk)
                sent += len(chunk)
        answer = b""
        with contextlib.suppress(ConnectionError):
            while part := sock.recv(65536):
                answer += part
    return answer, sent


def split_answer(answer: bytes) -> tuple[int, dict[str, str], dict]:
    """(status, lower-cased headers, JSON body) of a raw HTTP/1.1 answer."""
    head, _, body = answer.partition(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    headers = dict(line.lower().split(": ", 1) for line in lines[1:])
    return int(lines[0].split(" ")[1]), headers, json.loads(body)


@dataclass(frozen=True)
class Endpoint:
    """A body-taking endpoint: which server, path, method and error format."""

    api: str  # "skytells" | "gateai"
    method: str
    path: str
    format: str
    control: bool = False


API_ENDPOINTS = (
    Endpoint("skytells", "POST", "/v1/predictions", "prediction"),
    Endpoint("skytells", "POST", "/v1/predict", "prediction"),
    Endpoint("skytells", "POST", "/v1/chat/completions", "inference"),
    Endpoint("skytells", "POST", "/v1/responses", "inference"),
    Endpoint("skytells", "POST", "/v1/embeddings", "inference"),
    Endpoint("gateai", "POST", "/api/generate", "gateai"),
    Endpoint("gateai", "POST", "/api/estimate", "gateai"),
)
CONTROL_ENDPOINTS = tuple(
    Endpoint(api, method, path, "control", control=True)
    for api in ("skytells", "gateai")
    for method, path in (
        ("POST", "/_mock/reset"), ("POST", "/_mock/clock/advance"), ("POST", "/_mock/clock/set"),
        ("POST", "/_mock/clock/mode"), ("POST", "/_mock/keys"), ("PATCH", f"/_mock/keys/{OTHER_KEY}"),
        ("POST", "/_mock/rules"), ("POST", "/_mock/faults"), ("POST", "/_mock/outcomes"),
        ("PUT", "/_mock/scenarios/hostile"),
    )
)


def error_of(fmt: str, body: dict[str, Any]) -> tuple[str, str | None]:
    """(code, param) of an error body in format ``fmt``; AssertionError if it is not that format."""
    if fmt == "prediction":
        assert set(body) >= {"error_id", "message"}, body
        return body["error_id"], body["error"].get("param")
    if fmt == "inference":
        assert isinstance(body.get("error"), dict) and "error_id" not in body, body
        return body["error"]["error_id"], body["error"].get("param")
    if fmt == "gateai":
        assert isinstance(body.get("error"), str) and "code" in body, body
        return body["code"], body.get("param")
    assert isinstance(body.get("error"), dict) and "code" in body["error"], body
    return body["error"]["code"], body["error"].get("param")


class Hostile:
    """The private server plus clients: ``api(name)`` with the owner's key, ``admin`` for the control plane."""

    def __init__(self, server: ServerThread) -> None:
        self.server = server
        self.clients = {
            "skytells": httpx.Client(base_url=server.urls["skytells"].removesuffix("/v1"),
                                     headers={"x-api-key": KEY}, timeout=30),
            "gateai": httpx.Client(base_url=server.urls["gateai"], headers={"authorization": f"Bearer {KEY}"},
                                   timeout=30),
        }

    def send(self, endpoint: Endpoint, content: bytes, **headers: str) -> httpx.Response:
        return self.clients[endpoint.api].request(
            endpoint.method, endpoint.path, content=content,
            headers={"content-type": "application/json", **headers})

    def reads_work(self) -> dict[str, Any]:
        """Every read that a stored value could break: lists, balances, journal, clock, keys, rules."""
        sky, gate = self.clients["skytells"], self.clients["gateai"]
        reads = {
            "predictions": sky.get("/v1/predictions"),
            "credits": gate.get("/credits"),
            "journal": sky.get("/_mock/requests"),
            "clock": sky.get("/_mock/clock"),
            "keys": sky.get("/_mock/keys"),
            "rules": gate.get("/_mock/rules"),
            "scenarios": gate.get("/_mock/scenarios"),
        }
        broken = {name: (r.status_code, r.text[:200]) for name, r in reads.items() if r.status_code != 200}
        assert not broken, broken
        return {name: r.json() for name, r in reads.items()}

    def balances(self) -> tuple[float, float]:
        """(Skytells credits, GateAI budget used) of the owner's key."""
        view = self.clients["skytells"].get(f"/_mock/keys/{KEY}").json()
        return view["credits"], view["daily_budget"]["used"]

    def close(self) -> None:
        for client in self.clients.values():
            client.close()


@pytest.fixture(scope="package")
def hostile_server() -> Iterator[ServerThread]:
    with ServerThread(make_settings()) as server:
        yield server


@pytest.fixture
def hostile(hostile_server: ServerThread) -> Iterator[Hostile]:
    hostile_server.runtime.reset()
    h = Hostile(hostile_server)
    yield h
    h.close()
