"""``serve --server granian``: the same apps on granian's embedded server, used through real clients.

What holds on granian as on uvicorn: the APIs through the ``openai`` SDK and httpx (plain, streamed, media bytes),
the limits' answers in the API's error format, ``sse_cut``, the journal, a clean stop. What differs: fault types
that drop a connection (``reset``, ``empty``) are refused with a message naming the server to use.
"""

from __future__ import annotations

import json
import socket
from collections.abc import Iterator

import httpx
import openai
import pytest
from openai import OpenAI

from mockserver.core.rules.fields import RuleError
from mockserver.core.rules.registry import Rules
from mockserver.server import ServerThread
from mockserver.settings import GRANIAN_REFUSED_FAULTS, Settings
from tests.conftest import KEY, make_settings
from tests.hostile.conftest import address_of, error_of, raw_exchange, split_answer

MESSAGES = [{"role": "user", "content": "Tell me about red foxes"}]


@pytest.fixture(scope="module")
def granian() -> Iterator[ServerThread]:
    with ServerThread(make_settings(server="granian", time_mode="instant")) as server:
        yield server


@pytest.fixture
def admin(granian: ServerThread) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=granian.urls["skytells"].removesuffix("/v1") + "/_mock", timeout=10) as client:
        client.post("/reset")
        yield client


@pytest.fixture
def sky(granian: ServerThread) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=granian.urls["skytells"], headers={"x-api-key": KEY}, timeout=10) as client:
        yield client


def test_granian_answers_the_openai_sdk_plain_streamed_and_embeddings(granian: ServerThread, admin) -> None:
    client = OpenAI(api_key=KEY, base_url=granian.urls["skytells"], max_retries=0)
    plain = client.chat.completions.create(model="gpt-5", messages=MESSAGES, max_tokens=16)
    assert plain.choices[0].message.content and plain.usage.completion_tokens <= 16
    chunks = list(client.chat.completions.create(model="gpt-5", messages=MESSAGES, stream=True))
    assert chunks[0].choices[0].delta.role == "assistant" and chunks[-1].choices[0].finish_reason == "stop"
    vectors = client.embeddings.create(model="deepbrain-router", input=["a", "b"])
    assert len(vectors.data) == 2 and len(vectors.data[0].embedding) > 0


def test_granian_serves_a_prediction_and_its_file_bytes(sky: httpx.Client, admin) -> None:
    created = sky.post("/predictions", json={"model": "truefusion-pro", "input": {"prompt": "A fox"}})
    assert created.status_code in (200, 201), created.text
    got = sky.get(f"/predictions/{created.json()['id']}")
    assert got.headers["server"] == "granian"  # served by granian, not uvicorn
    prediction = got.json()
    assert prediction["status"] == "succeeded" and prediction["id"] == created.json()["id"]
    image = httpx.get(prediction["output"][0], timeout=30)
    assert image.status_code == 200 and image.content[:4] == b"RIFF" and image.content[8:12] == b"WEBP"
    entry = admin.get("/requests", params={"limit": 1, "path": "/v1/predictions/*"}).json()["data"][0]
    assert entry["path"].endswith(created.json()["id"]) and entry["status"] == 200
    assert entry["response"]["headers"]["x-request-id"] == entry["request_id"]


@pytest.mark.parametrize("kind", GRANIAN_REFUSED_FAULTS)
def test_a_fault_granian_cannot_drop_is_refused_naming_uvicorn(admin: httpx.Client, kind: str) -> None:
    response = admin.post("/faults", json={"type": kind})
    assert response.status_code == 400, response.text
    assert "--server uvicorn" in json.dumps(response.json())
    assert admin.get("/rules").json()["data"] == []


def test_sse_cut_cuts_a_stream_on_granian(granian: ServerThread, admin: httpx.Client,
                                          caplog: pytest.LogCaptureFixture) -> None:
    assert admin.post("/faults", json={"type": "sse_cut", "after_events": 2, "times": 1}).status_code == 201
    client = OpenAI(api_key=KEY, base_url=granian.urls["skytells"], max_retries=0)
    received = []
    with pytest.raises(openai.APIConnectionError):
        for chunk in client.chat.completions.create(model="gpt-5", messages=MESSAGES, stream=True):
            received.append(chunk)
    assert len(received) == 2
    assert len(list(client.chat.completions.create(model="gpt-5", messages=MESSAGES, stream=True))) > 2
    assert not [record for record in caplog.records if record.name.startswith("_granian")]  # a scripted cut: quiet


def test_limits_answer_in_the_api_error_format_on_granian(granian: ServerThread) -> None:
    address, key = address_of(granian, "skytells"), f"x-api-key: {KEY}\r\n".encode()
    big_head = b"GET /v1/predictions HTTP/1.1\r\nhost: x\r\n" + key + b"x-big: " + b"a" * 100_000 + b"\r\n\r\n"
    status, _, body = split_answer(raw_exchange(address, big_head)[0])
    assert status == 431 and error_of("prediction", body)[0] == "REQUEST_HEADERS_TOO_LARGE"
    huge = b"POST /v1/predictions HTTP/1.1\r\nhost: x\r\n" + key + b"content-type: application/json\r\n" \
           b"content-length: 104857600\r\n\r\n"
    status, _, body = split_answer(raw_exchange(address, huge, filler=100 << 20)[0])
    assert status == 413 and error_of("prediction", body)[0] == "PAYLOAD_TOO_LARGE"
    nan = b'{"model": "gpt-5", "messages": [{"role": "user", "content": "hi"}], "temperature": NaN}'
    request = b"POST /v1/chat/completions HTTP/1.1\r\nhost: x\r\n" + key + b"content-type: application/json\r\n" \
              b"connection: close\r\ncontent-length: %d\r\n\r\n" % len(nan) + nan
    status, _, body = split_answer(raw_exchange(address, request)[0])
    assert status == 400 and error_of("inference", body)[0]


def test_the_control_plane_sees_the_caller_a_local_proxy_names_as_under_uvicorn(granian: ServerThread) -> None:
    control = granian.urls["skytells"].removesuffix("/v1") + "/_mock/clock"
    assert httpx.get(control, timeout=10).status_code == 200
    proxied = httpx.get(control, headers={"x-forwarded-for": "203.0.113.7"}, timeout=10)
    assert proxied.status_code == 403 and "203.0.113.7" in proxied.text


def test_granian_connections_inherit_nodelay_from_the_listener(granian: ServerThread) -> None:
    # granian sets no TCP_NODELAY on a socket it did not bind: without it on the listener (whose accepted
    # connections inherit it), a streamed answer's last chunk waited ~40 ms for the client's delayed ACK
    for listener in granian.plan.listeners:
        assert listener.sock.getsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY) == 1


def test_granian_stops_and_frees_its_port() -> None:
    server = ServerThread(make_settings(server="granian")).start()
    url = server.urls["skytells"]
    assert httpx.get(url.removesuffix("/v1") + "/_mock/health", timeout=10).status_code == 200
    server.stop()
    assert not server._thread.is_alive()
    with pytest.raises(httpx.ConnectError):
        httpx.get(url.removesuffix("/v1") + "/_mock/health", timeout=2)


def test_granian_missing_is_a_settings_error_naming_the_package(monkeypatch: pytest.MonkeyPatch) -> None:
    import importlib.util

    real = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec", lambda name, *a: None if name == "granian" else real(name, *a))
    with pytest.raises(ValueError, match="pip install granian"):
        Settings(server="granian")
    assert Settings().server == "uvicorn"  # the default needs no granian


def test_the_server_setting_and_the_faults_it_refuses() -> None:
    assert Settings().server == "uvicorn" and Settings().refused_faults == {}
    with pytest.raises(ValueError, match="server must be one of uvicorn, granian"):
        Settings(server="hypercorn")
    refused = Settings(server="granian").refused_faults
    assert sorted(refused) == sorted(GRANIAN_REFUSED_FAULTS)
    rules = Rules(refused_faults=refused)
    with pytest.raises(RuleError, match="--server uvicorn"):
        rules.add({"fault": "reset"})
    assert rules.add({"fault": {"type": "sse_cut", "after_events": 1}}).fault is not None
    assert rules.list()[0].fault.type == "sse_cut"
