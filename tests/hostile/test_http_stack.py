"""The HTTP stack under the apps: httptools + uvloop by default, h11 as the fallback, the same answers on both.

* a head that never ends is refused with a 431 in the API's error format long before it is all sent, and the
  server buffers at most about ``max_header_bytes`` of it;
* a malformed request gets a 400 in the API's error format, not the server's plain text;
* the fault rules that drop connections reach the connection's transport (uvloop's too).
"""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest
from uvicorn.protocols.http.h11_impl import H11Protocol
from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

from mockserver import server as server_module
from mockserver.server import ServerThread, event_loop_factory, http_protocol
from tests.conftest import KEY, make_settings
from tests.hostile.conftest import address_of, error_of, raw_exchange, split_answer

pytestmark = pytest.mark.uvicorn_only  # uvicorn's two parsers and the transport it exposes

PROTOCOLS = {"httptools": HttpToolsProtocol, "h11": H11Protocol}


@pytest.fixture(scope="module", params=sorted(PROTOCOLS))
def stack(request: pytest.FixtureRequest) -> Iterator[ServerThread]:
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(server_module, "AutoHTTPProtocol", PROTOCOLS[request.param])
        with ServerThread(make_settings()) as server:
            yield server


@pytest.mark.parametrize(("api", "path", "fmt"), [("skytells", "/v1/predictions", "prediction"),
                                                  ("skytells", "/v1/chat/completions", "inference"),
                                                  ("gateai", "/api/generate", "gateai")])
def test_an_endless_head_gets_a_431_before_it_is_sent(stack: ServerThread, api: str, path: str, fmt: str) -> None:
    head = f"POST {path} HTTP/1.1\r\nhost: x\r\nx-api-key: {KEY}\r\nx-filler: ".encode()
    answer, sent = raw_exchange(address_of(stack, api), head, filler=64 << 20)
    status, headers, body = split_answer(answer)
    assert status == 431 and headers["connection"] == "close"
    assert error_of(fmt, body)[0] == "REQUEST_HEADERS_TOO_LARGE"
    assert sent < 32 << 20, sent  # refused while the client was still sending


@pytest.mark.parametrize(("api", "path", "fmt"), [("skytells", "/v1/predictions", "prediction"),
                                                  ("gateai", "/api/generate", "gateai")])
def test_a_malformed_request_gets_a_400_in_the_api_format(stack: ServerThread, api: str, path: str, fmt: str) -> None:
    answer, _ = raw_exchange(address_of(stack, api), f"POST {path} HTTP/1.1\r\nbad header line\r\n\r\n".encode())
    status, headers, body = split_answer(answer)
    assert status == 400 and headers["connection"] == "close"
    assert headers["content-type"] == "application/json"
    error_of(fmt, body)


def test_a_reset_fault_reaches_the_transport(stack: ServerThread) -> None:
    admin = httpx.Client(base_url=stack.urls["gateai"], timeout=30)
    assert admin.post("/_mock/faults", json={"type": "reset", "times": 1}).status_code == 201
    with pytest.raises(httpx.TransportError):
        httpx.get(stack.urls["gateai"] + "/credits", headers={"authorization": f"Bearer {KEY}"}, timeout=30)
    admin.close()


def test_the_default_stack_is_httptools_on_uvloop() -> None:
    uvloop = pytest.importorskip("uvloop")
    assert issubclass(http_protocol(lambda head, status: b"", 1024), HttpToolsProtocol)
    loop = event_loop_factory()()
    try:
        assert isinstance(loop, uvloop.Loop)
    finally:
        loop.close()
