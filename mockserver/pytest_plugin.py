"""pytest plugin: the mock in-process for the test session, fresh state for every test.

Installed with the package (entry point ``pytest11: mockserver``); nothing starts unless a test
asks for the ``mockserver`` fixture::

    def test_prediction_fails_when_scripted(mockserver):
        mockserver.rules.outcome(status="failed", error="GPU on fire", times=1)
        client = Skytells(api_key=mockserver.api_key, base_url=mockserver.skytells_url)
        ...
        mockserver.advance(60)                       # virtual seconds, no sleeping
        assert mockserver.requests.count(path="/v1/predictions") == 1

Options: ``--mockserver-seed`` (default 0), ``--mockserver-time-mode`` (``manual`` by default, so time
only moves when a test advances it), ``--mockserver-autojump`` (real seconds after which a request waiting on
the manual clock -- ``await: true``, a paced stream -- makes it jump to the moment it waits for; off by
default), ``--mockserver-url`` (use an already running mock -- e.g. the
Docker image -- instead of starting one; ``--mockserver-admin-token`` if it needs one).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import pytest

from mockserver.admin.client import Clock, Keys, MockControl, Requests, Rules, Webhooks
from mockserver.settings import DEFAULT_API_KEY, Settings


@dataclass
class MockServerHandle:
    """What a test gets: base URLs for the SDKs, the default key and the control plane."""

    skytells_url: str  # ``…/v1``: the Skytells SDKs' and the openai SDK's base URL
    gateai_url: str
    api_key: str
    control: MockControl
    runtime: Any = None  # the in-process Runtime (None for ``--mockserver-url``)
    _closers: list[Any] = field(default_factory=list, repr=False)

    @property
    def clock(self) -> Clock:
        return self.control.clock

    @property
    def keys(self) -> Keys:
        return self.control.keys

    @property
    def rules(self) -> Rules:
        return self.control.rules

    @property
    def requests(self) -> Requests:
        """The request journal."""
        return self.control.requests

    @property
    def webhooks(self) -> Webhooks:
        return self.control.webhooks

    def advance(self, seconds: float) -> dict[str, Any]:
        """Advance the virtual clock (webhooks due by then are delivered before this returns)."""
        return self.control.clock.advance(seconds)

    def scenario(self, name: str, *rules: dict[str, Any]) -> dict[str, str]:
        """Define a named scenario and return the header that selects it, for per-request use:
        ``client.chat.completions.create(..., extra_headers=mockserver.scenario("slow", {...}))``."""
        self.control.rules.scenario(name, list(rules))
        return {"X-Mock-Scenario": name}

    def reset(self) -> None:
        self.control.reset()


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("mockserver", "Skytells / GateAI mock server")
    group.addoption("--mockserver-seed", type=int, default=0, help="seed for ids, text, media and timings")
    group.addoption("--mockserver-time-mode", default="manual", choices=["manual", "realtime", "instant"],
                    help="clock mode of the in-process server (default: manual)")
    group.addoption("--mockserver-autojump", type=float, default=None, metavar="SECONDS",
                    help="manual clock: a request waiting on it (await: true, paced streams) makes time jump to "
                         "what it waits for after this many real seconds (default: off; 0 jumps at once)")
    group.addoption("--mockserver-url", default=None,
                    help="use a running mock (its Skytells port root, e.g. http://127.0.0.1:8080) "
                         "instead of starting one; pair with --mockserver-gateai-url")
    group.addoption("--mockserver-gateai-url", default=None, help="the running mock's GateAI root URL")
    group.addoption("--mockserver-api-key", default=DEFAULT_API_KEY, help="the API key tests use")
    group.addoption("--mockserver-admin-token", default=None, help="admin token of a running mock, if it needs one")


@pytest.fixture(scope="session")
def mockserver_session(pytestconfig: pytest.Config) -> Iterator[MockServerHandle]:
    """One mock for the whole session: in-process on free loopback ports, or ``--mockserver-url``."""
    option = pytestconfig.getoption
    api_key = option("--mockserver-api-key")
    external = option("--mockserver-url")
    if external:
        root = external.rstrip("/").removesuffix("/v1")
        gateai = (option("--mockserver-gateai-url") or root).rstrip("/")
        control = MockControl(root, admin_token=option("--mockserver-admin-token"))
        yield MockServerHandle(root + "/v1", gateai, api_key, control)
        control.close()
        return
    from mockserver.server import ServerThread

    settings = Settings(seed=option("--mockserver-seed"), time_mode=option("--mockserver-time-mode"),
                        autojump=option("--mockserver-autojump"), api_keys=(api_key,))
    with ServerThread(settings) as server:
        urls = server.urls
        control = MockControl(urls["skytells"], admin_token=server.runtime.admin_token)
        yield MockServerHandle(urls["skytells"], urls["gateai"], api_key, control, runtime=server.runtime)
        control.close()


@pytest.fixture
def mockserver(mockserver_session: MockServerHandle) -> MockServerHandle:
    """The session's mock, reset to a clean state (traffic, rules, journal, webhooks, clock) for this test."""
    mockserver_session.reset()
    return mockserver_session
