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

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

import pytest

from mockserver.admin.client import Clock, Keys, MockControl, Requests, Rules, Webhooks
from mockserver.core.vendor import REGISTRY, Vendor
from mockserver.settings import DEFAULT_API_KEY, Settings


@dataclass
class MockServerHandle:
    """What a test gets: base URLs for the SDKs, the default key and the control plane.

    ``urls`` holds every installed API's base URL as its SDKs want it, by vendor name; ``<name>_url`` reads the
    same (``mockserver.skytells_url``: ``…/v1``, the Skytells SDKs' and the openai SDK's base URL;
    ``mockserver.gateai_url``: GateAI's root)."""

    urls: dict[str, str]
    api_key: str
    control: MockControl
    runtime: Any = None  # the in-process Runtime (None for ``--mockserver-url``)
    _closers: list[Any] = field(default_factory=list, repr=False)

    def __getattr__(self, name: str) -> str:
        urls = self.__dict__.get("urls", {})
        if name.endswith("_url") and name.removesuffix("_url") in urls:
            return urls[name.removesuffix("_url")]
        raise AttributeError(f"{type(self).__name__!r} object has no attribute {name!r}")

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
    first, *others = REGISTRY.all()
    group = parser.getgroup("mockserver", f"{' / '.join(vendor.title for vendor in REGISTRY.all())} mock server")
    group.addoption("--mockserver-seed", type=int, default=0, help="seed for ids, text, media and timings")
    group.addoption("--mockserver-time-mode", default="manual", choices=["manual", "realtime", "instant"],
                    help="clock mode of the in-process server (default: manual)")
    group.addoption("--mockserver-autojump", type=float, default=None, metavar="SECONDS",
                    help="manual clock: a request waiting on it (await: true, paced streams) makes time jump to "
                         "what it waits for after this many real seconds (default: off; 0 jumps at once)")
    pair = ", ".join(f"--mockserver-{vendor.name}-url" for vendor in others)
    group.addoption("--mockserver-url", default=None,
                    help=f"use a running mock (its {first.title} port root, e.g. http://127.0.0.1:"
                         f"{first.default_port}) instead of starting one" + (f"; pair with {pair}" if pair else ""))
    for vendor in others:
        group.addoption(f"--mockserver-{vendor.name}-url", default=None,
                        help=f"the running mock's {vendor.title} root URL (default: --mockserver-url's)")
    group.addoption("--mockserver-api-key", default=DEFAULT_API_KEY, help="the API key tests use")
    group.addoption("--mockserver-admin-token", default=None, help="admin token of a running mock, if it needs one")


@pytest.fixture(scope="session")
def mockserver_session(pytestconfig: pytest.Config) -> Iterator[MockServerHandle]:
    """One mock for the whole session: in-process on free loopback ports, or ``--mockserver-url``."""
    option = pytestconfig.getoption
    api_key = option("--mockserver-api-key")
    external = option("--mockserver-url")
    if external:
        handle = running_mock(external, option)
        yield handle
        handle.control.close()
        return
    from mockserver.server import ServerThread

    settings = Settings(seed=option("--mockserver-seed"), time_mode=option("--mockserver-time-mode"),
                        autojump=option("--mockserver-autojump"), api_keys=(api_key,))
    with ServerThread(settings) as server:
        urls = dict(server.urls)
        control = MockControl(next(iter(urls.values())), admin_token=server.runtime.admin_token)
        yield MockServerHandle(urls, api_key, control, runtime=server.runtime)
        control.close()


def running_mock(url: str, option: Callable[[str], Any]) -> MockServerHandle:
    """The handle of a mock already running at ``url`` (the first API's root; each other API at its
    ``--mockserver-<name>-url``, by default the same root)."""
    root = _root(url, REGISTRY.all()[0])
    urls = {vendor.name: _root(option(f"--mockserver-{vendor.name}-url") or root, vendor) + vendor.base_path
            for vendor in REGISTRY.all()}
    control = MockControl(root, admin_token=option("--mockserver-admin-token"))
    return MockServerHandle(urls, option("--mockserver-api-key"), control)


def _root(url: str, vendor: Vendor) -> str:
    """A URL given for ``vendor``, without its base path (the port's root)."""
    root = url.rstrip("/")
    return root.removesuffix(vendor.base_path) if vendor.base_path else root


@pytest.fixture
def mockserver(mockserver_session: MockServerHandle) -> MockServerHandle:
    """The session's mock, reset to a clean state (traffic, rules, journal, webhooks, clock) for this test."""
    mockserver_session.reset()
    return mockserver_session
