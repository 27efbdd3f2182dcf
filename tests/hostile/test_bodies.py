"""Hostile request bodies against every body-taking endpoint of both APIs and the control plane.

Each is a documented 4xx in that endpoint's error format, naming the field where one is at fault; nothing
is charged; every read afterwards still answers 200.
"""

from __future__ import annotations

import httpx
import pytest

from tests.hostile.conftest import API_ENDPOINTS, CONTROL_ENDPOINTS, Endpoint, Hostile, error_of

DEEP = b"[" * 10_000 + b"]" * 10_000
#: (body, expected param): each breaks strict JSON at ``param``.
NON_STRICT = {
    "nan": (b'{"model": "m", "input": {"prompt": "p", "guidance": NaN}}', "input.guidance"),
    "infinity": (b'{"model": "m", "temperature": Infinity}', "temperature"),
    "minus-infinity": (b'{"model": "m", "x": [1, -Infinity]}', "x[1]"),
    "overflow": (b'{"model": "m", "input": {"seed": 1e400}}', "input.seed"),
    "escaped-surrogate": (b'{"model": "m", "prompt": "a\\ud800b"}', "prompt"),
    "raw-surrogate": (b'{"model": "m", "messages": [{"content": "\xed\xa0\x80"}]}', None),
    "deep-10k": (DEEP, None),
    "deep-65": (b'{"model": "m", "a": ' + b"[" * 65 + b"]" * 65 + b"}", "a" + "[0]" * 63),
}
ALL = API_ENDPOINTS + CONTROL_ENDPOINTS[:10]  # the control plane on one port (both share one runtime)


def refused(hostile: Hostile, endpoint: Endpoint, body: bytes) -> tuple[int, str, str | None]:
    response = hostile.send(endpoint, body)
    code, param = error_of(endpoint.format, response.json())
    return response.status_code, code, param


@pytest.mark.parametrize("endpoint", ALL, ids=lambda e: f"{e.method} {e.path}")
@pytest.mark.parametrize("case", NON_STRICT)
def test_non_strict_json_is_a_400_naming_the_field_and_costs_nothing(hostile: Hostile, endpoint: Endpoint,
                                                                      case: str) -> None:
    before = hostile.balances()
    body, param = NON_STRICT[case]
    status, code, named = refused(hostile, endpoint, body)
    assert status == 400, (status, code)
    assert code in ("INVALID_INPUT", "INVALID_REQUEST")
    if param is not None:
        assert named == param
    assert hostile.balances() == before
    hostile.reads_work()


@pytest.mark.parametrize("endpoint", ALL, ids=lambda e: f"{e.method} {e.path}")
def test_an_oversized_body_is_a_413_before_it_is_read(hostile: Hostile, endpoint: Endpoint) -> None:
    sent = 0

    def chunks():  # chunked: no Content-Length, so only the streaming count can stop it
        nonlocal sent
        for _ in range(100):
            sent += 1 << 20
            yield b" " * (1 << 20)

    try:
        response = hostile.clients[endpoint.api].request(endpoint.method, endpoint.path, content=chunks(),
                                                         headers={"content-type": "application/json"})
    except httpx.TransportError:  # the server answered and closed while the client was still sending
        response = None
    if response is not None:
        assert response.status_code == 413
        assert error_of(endpoint.format, response.json())[0] == "PAYLOAD_TOO_LARGE"
        assert response.headers["connection"] == "close"
    # refused after ~the limit, not after all 100 MB (what the client counts includes the sockets' buffers)
    assert sent <= 40 << 20, sent
    hostile.reads_work()


@pytest.mark.parametrize("endpoint", ALL, ids=lambda e: f"{e.method} {e.path}")
def test_a_declared_oversized_body_is_refused_without_reading_it(hostile: Hostile, endpoint: Endpoint) -> None:
    limit = hostile.server.mock.settings.max_control_body_bytes if endpoint.control \
        else hostile.server.mock.settings.max_body_bytes
    response = hostile.send(endpoint, b"{" + b" " * limit + b"}")
    assert response.status_code == 413
    assert error_of(endpoint.format, response.json())[0] == "PAYLOAD_TOO_LARGE"
    hostile.reads_work()


def test_a_chunked_upload_is_cut_off_at_the_limit(hostile: Hostile) -> None:
    sent = 0

    def chunks():
        nonlocal sent
        yield b'--b\r\ncontent-disposition: form-data; name="file"; filename="x.png"\r\ncontent-type: image/png\r\n\r\n'
        for _ in range(100):
            sent += 1 << 20
            yield b"\0" * (1 << 20)

    try:
        response = hostile.clients["gateai"].post("/api/upload", content=chunks(),
                                                  headers={"content-type": "multipart/form-data; boundary=b"})
    except httpx.TransportError:
        response = None
    if response is not None:
        assert response.status_code == 413
        assert error_of("gateai", response.json())[0] == "PAYLOAD_TOO_LARGE"
    assert sent <= 40 << 20, sent
    hostile.reads_work()


@pytest.mark.parametrize("endpoint", API_ENDPOINTS[:1] + API_ENDPOINTS[2:3] + API_ENDPOINTS[5:6],
                         ids=lambda e: e.format)
@pytest.mark.parametrize("size", [100_000, pytest.param(1_000_000, marks=pytest.mark.uvicorn_only)])
def test_huge_headers_get_a_431_in_the_api_format(hostile: Hostile, endpoint: Endpoint, size: int) -> None:
    # past the middleware's limit, and past uvicorn's HTTP parser's (granian answers that one itself)
    response = hostile.send(endpoint, b"{}", **{"x-filler": "a" * size})
    assert response.status_code == 431, (size, response.text[:200])
    assert error_of(endpoint.format, response.json())[0] == "REQUEST_HEADERS_TOO_LARGE"
    hostile.reads_work()


def test_a_crash_closes_the_keep_alive_connection(hostile: Hostile, monkeypatch: pytest.MonkeyPatch) -> None:
    """A 500 says ``Connection: close``, so a client reusing its connection never meets a reset."""
    api = hostile.server.mock.apps["skytells"].state.api

    def crash(*args, **kwargs):
        raise ZeroDivisionError("boom")

    monkeypatch.setattr(api.catalog, "get", crash)
    client = hostile.clients["skytells"]
    response = client.get("/v1/models/truefusion")
    assert response.status_code == 500
    assert response.headers["connection"] == "close"
    assert error_of("prediction", response.json())[0] == "INTERNAL_ERROR"
    monkeypatch.undo()
    assert client.get("/v1/models").status_code == 200  # the same client: a fresh connection, no reset


def test_a_recursion_error_anywhere_is_a_400(hostile: Hostile, monkeypatch: pytest.MonkeyPatch) -> None:
    api = hostile.server.mock.apps["skytells"].state.api

    def recurse(*args, **kwargs):
        raise RecursionError("maximum recursion depth exceeded")

    monkeypatch.setattr(api.catalog, "get", recurse)
    response = hostile.clients["skytells"].get("/v1/models/truefusion")
    assert response.status_code == 400
    assert error_of("prediction", response.json())[0] == "INVALID_INPUT"
