"""Shared fixtures: one mock server per test session on free loopback ports, reset between tests.

The clock is in ``manual`` mode, so nothing moves unless a test advances it, and nothing sleeps.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from mockserver.core.runtime import Runtime
from mockserver.server import ServerThread
from mockserver.settings import Settings
from tests.contract_capture import Violations, install

KEY = "sk-test-owner-0001"
OTHER_KEY = "sk-test-other-0002"
START = 1_767_225_600.0  # 2026-01-01T00:00:00Z
#: Contract problems of the session server's responses, per test (see tests/contract_capture.py).
CONTRACT_VIOLATIONS = Violations()


def make_settings(**changes: object) -> Settings:
    base = Settings(api_keys=(KEY, OTHER_KEY), seed=20260101, time_mode="manual", start_time=START,
                    credits=100.0, await_timeout=5.0, webhook_hosts=("127.0.0.1", "localhost", "::1"),
                    server=os.environ.get("MOCKSERVER_TEST_SERVER", "uvicorn"))
    return base.replace(**changes)


@pytest.fixture(scope="session")
def server() -> Iterator[ServerThread]:
    with install(ServerThread(make_settings()), CONTRACT_VIOLATIONS) as running:
        yield running


@pytest.fixture(autouse=True)
def _fresh_state(request: pytest.FixtureRequest) -> None:
    """Every test that uses the session server starts from a clean, manual-time server."""
    if "server" in request.fixturenames:
        running: ServerThread = request.getfixturevalue("server")
        running.runtime.reset()  # also restarts the clock at START in manual mode


@pytest.fixture(autouse=True)
def _contract_conformance(request: pytest.FixtureRequest) -> Iterator[None]:
    """A test fails if any response the session server gave it breaks the contracts (``contracts/``)."""
    CONTRACT_VIOLATIONS.begin(request.node.nodeid)
    yield
    problems = CONTRACT_VIOLATIONS.take(request.node.nodeid)
    if problems:
        pytest.fail("responses that break the contract:\n" + "\n".join(problems), pytrace=False)


@pytest.fixture
def runtime(server: ServerThread) -> Runtime:
    return server.runtime


@pytest.fixture
def skytells_url(server: ServerThread) -> str:
    return server.urls["skytells"]


@pytest.fixture
def http(skytells_url: str) -> Iterator[httpx.Client]:
    """An httpx client on the Skytells base URL (``…/v1``) with the owner's key."""
    with httpx.Client(base_url=skytells_url, headers={"x-api-key": KEY}, timeout=30) as client:
        yield client


@pytest.fixture
def gateai_url(server: ServerThread) -> str:
    return server.urls["gateai"]


@pytest.fixture
def gateai(gateai_url: str) -> Iterator[httpx.Client]:
    """An httpx client on the GateAI base URL with the owner's key as ``Authorization: Bearer``."""
    with httpx.Client(base_url=gateai_url, headers={"authorization": f"Bearer {KEY}"}, timeout=30) as client:
        yield client


@pytest.fixture(scope="session")
def redis_url() -> Iterator[str]:
    """One real ``redis-server`` for the session (skipped without one, failed without one in CI)."""
    from tests.redis_server import redis_server

    with redis_server() as url:
        yield url


@pytest.fixture
def redis_store_url(redis_url: str) -> str:
    """The session's Redis, emptied for this test."""
    import redis

    client = redis.Redis.from_url(redis_url)
    client.flushdb()
    client.close()
    return redis_url


@pytest.fixture
def redis_client(redis_store_url: str) -> Iterator[Any]:
    """A client of the session's Redis, emptied for this test (each client stands for one server process)."""
    import redis

    connection = redis.Redis.from_url(redis_store_url)
    yield connection
    connection.close()
