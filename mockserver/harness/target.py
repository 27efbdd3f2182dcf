"""The API under test: its base URL, keys, HTTP clients and how time passes there.

Against the mock (its ``GET /_mock/health`` answers) the harness moves the virtual clock through the
control plane and may reset state and create keys; for the run it switches the clock to manual mode with
an immediate autojump (a request that waits on the clock, such as ``await: true``, is answered at once rather
than after ``await_timeout`` real seconds) and restores the mode it found when the run closes. Against any
other endpoint it waits for real, never longer in total than the run's ``timeout``.
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field

import httpx

from mockserver.admin.client import ControlPlaneError, MockControl
from mockserver.harness.apis import harness_api
from mockserver.harness.options import Options

#: The clock the harness drives the mock with: time moves only when the harness moves it, and a request
#: waiting on the clock makes it jump at once (so no wait comes near the harness' own request timeout).
DRIVEN_CLOCK = {"mode": "manual", "autojump": 0.0}


class WaitBudgetExceeded(Exception):
    """Passing this much time on a real endpoint would exceed the run's ``--timeout``."""


def api_root(api: str, base_url: str) -> str:
    """The root of an API's port (the base URL without the API's base path: Skytells' ``/v1``)."""
    return harness_api(api).root(base_url)


def auth_headers(api: str, key: str) -> dict[str, str]:
    """Each API's documented auth header."""
    return harness_api(api).auth_headers(key)


def detect_mock(root: str, timeout: float = 3.0) -> bool:
    """True when ``GET /_mock/health`` answers like the mock does."""
    try:
        response = httpx.get(root + "/_mock/health", timeout=timeout)
    except httpx.HTTPError:
        return False
    if response.status_code != 200:
        return False
    try:
        body = response.json()
    except ValueError:
        return False
    return isinstance(body, dict) and body.get("status") == "ok"


@dataclass
class Target:
    """One API endpoint and the means to drive it."""

    options: Options
    control: MockControl | None = None
    waited: float = 0.0  # real seconds spent waiting so far
    _clients: dict[str, httpx.Client] = field(default_factory=dict)
    other_key: str | None = None
    found_clock: dict[str, object] | None = None  # the mock's clock mode before the run (restored on close)
    requests_sent: int = 0  # every request of the run's clients (live progress)

    @classmethod
    def open(cls, options: Options, drive: bool = True) -> Target:
        """The target of ``options``; on the mock, with ``drive``, its clock driven for the run (else untouched:
        ``--plan-only`` sends GET requests only)."""
        root = api_root(options.api, options.base_url)
        control = MockControl(root, admin_token=options.admin_token, timeout=options.request_timeout) \
            if detect_mock(root) else None
        target = cls(options=options, control=control)
        target.other_key = options.other_api_key
        if drive:
            target.take_the_clock()
        return target

    def take_the_clock(self) -> None:
        """On the mock: remember its clock mode, then drive it (:data:`DRIVEN_CLOCK`) for the run."""
        if self.control is None:
            return
        try:
            state = self.control.clock.get()
        except ControlPlaneError as error:
            raise ValueError(f"the mock at {self.root} refused its control plane ({error.status} {error.code}: "
                             f"{error}); pass --admin-token if it needs one") from None
        if not isinstance(state, dict):
            raise ValueError(f"the mock at {self.root} answered GET /_mock/clock with {type(state).__name__}, "
                             "not an object")
        self.found_clock = {name: state.get(name) for name in ("mode", "speed", "autojump")}
        self.drive_clock()

    def drive_clock(self) -> None:
        """(Again, after a reset restored the server's configured mode.)"""
        if self.control is not None:
            self.control.clock.mode(DRIVEN_CLOCK["mode"], autojump=DRIVEN_CLOCK["autojump"])

    def restore_clock(self) -> None:
        """Put the mock's clock back in the mode, speed and autojump it had before the run."""
        if self.control is None or self.found_clock is None:
            return
        found, self.found_clock = self.found_clock, None
        with contextlib.suppress(ControlPlaneError, httpx.HTTPError):  # the mock went away: nothing to restore
            self.control.clock.mode(found.get("mode"), found.get("speed"),  # type: ignore[arg-type]
                                    autojump=found.get("autojump"))  # type: ignore[arg-type]

    # -- facts -------------------------------------------------------------------------

    @property
    def api(self) -> str:
        return self.options.api

    @property
    def base_url(self) -> str:
        return self.options.base_url.rstrip("/")

    @property
    def root(self) -> str:
        return api_root(self.api, self.base_url)

    @property
    def is_mock(self) -> bool:
        return self.control is not None

    @property
    def kind(self) -> str:
        return "mock" if self.is_mock else "remote"

    @property
    def key(self) -> str:
        return self.options.api_key

    # -- HTTP ----------------------------------------------------------------------------

    def client(self, key: str | None = None) -> httpx.Client:
        """A client on the base URL authenticated with ``key`` (default: the run's key; ``""``: none); reused."""
        key = self.key if key is None else key
        existing = self._clients.get(key)
        if existing is None:
            headers = auth_headers(self.api, key) if key else {}
            existing = httpx.Client(base_url=self.base_url, headers=headers, timeout=self.options.request_timeout,
                                    event_hooks={"request": [self._count]})
            self._clients[key] = existing
        return existing

    def _count(self, request: httpx.Request) -> None:
        self.requests_sent += 1

    def close(self) -> None:
        for client in self._clients.values():
            client.close()
        self._clients.clear()
        if self.control is not None:
            self.restore_clock()
            self.control.close()

    # -- state and time ------------------------------------------------------------------

    def reset(self) -> None:
        """Forget all of the mock's state (no-op on a real endpoint)."""
        if self.control is not None:
            self.control.reset()
            self.drive_clock()

    def pass_time(self, seconds: float) -> None:
        """Let ``seconds`` pass: the mock's clock moves; a real endpoint is waited for (bounded)."""
        if seconds <= 0:
            return
        if self.control is not None:
            self.control.clock.advance(seconds)
            return
        if self.waited + seconds > self.options.timeout:
            raise WaitBudgetExceeded(f"waiting {seconds:g} s more would exceed --timeout {self.options.timeout:g} s "
                                     f"({self.waited:g} s already waited)")
        time.sleep(seconds)
        self.waited += seconds

    def now(self) -> float:
        """The endpoint's notion of now: the mock's virtual clock, else the local wall clock."""
        if self.control is not None:
            return self.control.clock.now()
        return time.time()

    # -- keys ----------------------------------------------------------------------------

    def make_key(self, name: str, **account: object) -> str | None:
        """The key ``sk-harness-<name>`` on the mock (``POST /_mock/keys``) with these account fields.

        None where keys cannot be made (a real endpoint, or a mock without the keys routes).
        """
        if self.control is None:
            return None
        key = f"sk-harness-{name}"
        fields = {k: v for k, v in account.items() if v is not None}
        try:
            self.control.keys.create(key, **fields)  # type: ignore[arg-type]
        except ControlPlaneError as error:
            if error.status != 409:
                return None
            try:
                self.control.keys.update(key, **fields)
            except (ControlPlaneError, httpx.HTTPError):
                return None
        except httpx.HTTPError:
            return None
        return key

    def prepare_example(self) -> None:
        """A clean slate for one generated program: on the mock, a full reset and the second key again."""
        if self.control is None:
            return
        self.reset()
        if self.options.other_api_key is None:
            self.other_key = self.make_key("other")

    def second_key(self) -> str | None:
        """A key other than the run's, for owner-only checks: ``--other-api-key`` or one made on the mock."""
        if self.other_key is None:
            self.other_key = self.make_key("other")
        return self.other_key

    def balance(self, key: str | None = None) -> float | None:
        """Skytells credits of ``key`` as the mock's control plane reports them (None where unknown)."""
        if self.control is None:
            return None
        try:
            account = self.control.keys.get(key or self.key)
        except (ControlPlaneError, httpx.HTTPError, ValueError):
            return None
        value = account.get("credits") if isinstance(account, dict) else None
        return float(value) if isinstance(value, int | float) and not isinstance(value, bool) else None

    @contextmanager
    def session(self) -> Iterator[Target]:
        try:
            yield self
        finally:
            self.close()
