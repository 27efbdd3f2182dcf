"""Test-only ASGI middleware: every response a mock server gives is checked against the contracts.

:func:`install` wraps a :class:`~mockserver.server.ServerThread`'s apps (before it starts) with
:class:`ContractCapture`, which records each API exchange (``/_mock/...`` and ``/files/...``
excluded) and runs :func:`mockserver.spec.validate_response` on it once the response is complete. What
it finds goes to a :class:`Violations` sink, attributed to the test that is running
(:meth:`Violations.begin`), so the fixture in ``conftest.py`` can fail that test.

Responses shaped by an injected fault (``/_mock`` rules): an ``error`` or ``rate_limit`` fault is
checked against the API's route error schema whatever its status; a dropped connection (``reset``,
``empty``, ``sse_cut``) has no response to check.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from mockserver import spec
from mockserver.app import prefixes
from mockserver.core.rules.select import SCENARIO_HEADER, selection_of
from mockserver.server import ServerThread

SKIPPED_PREFIXES = ("/_mock", "/files/")
MAX_BODY_SHOWN = 300


@dataclass
class Exchange:
    """One request and its (possibly partial) response."""

    api: str
    method: str
    path: str
    status: int = 0
    headers: list[tuple[str, str]] = field(default_factory=list)
    body: bytearray = field(default_factory=bytearray)
    complete: bool = False
    fault: str | None = None
    scenario_header: bool = False

    @property
    def media(self) -> str:
        value = next((v for k, v in self.headers if k == "content-type"), "")
        return value.split(";")[0].strip().lower()

    def problems(self) -> list[str]:
        if self.fault in ("error", "rate_limit") or (self.scenario_header and self.status == 400):
            # an injected fault, or the mock's own X-Mock-Scenario header refused: any status, the API's error
            found = spec.route_error_problems(self.api, self.path, self.status, self.headers, bytes(self.body))
            return [f"{self.method} {self.path} -> {self.status} (injected {self.fault}): {p}" for p in found]
        return spec.validate_response(self.api, self.method, self.path, self.status, self.headers,
                                           bytes(self.body), complete=self.complete)

    def describe(self) -> str:
        text = bytes(self.body[:MAX_BODY_SHOWN]).decode("utf-8", errors="replace")
        return f"[{self.api}] {self.method} {self.path} -> {self.status}: {text}"


class Violations:
    """Contract problems per test (thread-safe: the server runs in its own thread)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._recorded = threading.Condition(self._lock)
        self._current = "<no test>"
        self._found: dict[str, list[str]] = {}
        self.checked = 0

    def begin(self, test_id: str) -> None:
        with self._lock:
            self._current = test_id
            self._found.pop(test_id, None)

    def record(self, exchange: Exchange, problems: list[str]) -> None:
        with self._lock:
            self.checked += 1
            self._recorded.notify_all()
            if problems:
                self._found.setdefault(self._current, []).extend(
                    [*problems, f"    response: {exchange.describe()}"])

    def wait_checked(self, count: int, timeout: float) -> bool:
        """Wait (at most ``timeout`` real seconds) until ``count`` exchanges in all have been checked.

        A client in another process may have read a whole response before the server thread has checked it;
        waiting keeps its problems with the test that made the request."""
        with self._recorded:
            return self._recorded.wait_for(lambda: self.checked >= count, timeout)

    def take(self, test_id: str) -> list[str]:
        with self._lock:
            return self._found.pop(test_id, [])

    def remaining(self) -> dict[str, list[str]]:
        with self._lock:
            return dict(self._found)


def _api_and_path(name: str, scope: Scope) -> tuple[str, str]:
    path: str = scope.get("path", "")
    root = scope.get("root_path", "")
    if root and path.startswith(root):
        path = path[len(root):]
    if name != "combined":
        return name, path
    for api, prefix in prefixes().items():
        if path == prefix or path.startswith(prefix + "/"):
            return api, path[len(prefix):] or "/"
    return "skytells", path


class ContractCapture:
    """Records each exchange of one listener's app and validates its response."""

    def __init__(self, app: ASGIApp, name: str, sink: Violations) -> None:
        self.app = app
        self.name = name
        self.sink = sink

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        api, path = _api_and_path(self.name, scope)
        if path.startswith(SKIPPED_PREFIXES):
            await self.app(scope, receive, send)
            return
        exchange = Exchange(api, scope["method"], path)
        exchange.scenario_header = any(k.lower() == SCENARIO_HEADER.encode() for k, _ in scope.get("headers", []))

        async def capture(message: Message) -> None:
            if message["type"] == "http.response.start":
                exchange.status = message["status"]
                exchange.headers = [(k.decode("latin-1").lower(), v.decode("latin-1"))
                                    for k, v in message.get("headers", [])]
            elif message["type"] == "http.response.body":
                exchange.body.extend(message.get("body", b""))
                if not message.get("more_body", False):
                    exchange.complete = True
            await send(message)

        try:
            await self.app(scope, receive, capture)
        finally:
            fault = selection_of(scope).fault
            exchange.fault = getattr(fault, "type", None)
            self._check(exchange)

    def _check(self, exchange: Exchange) -> None:
        if exchange.status == 0 or exchange.fault in ("reset", "empty", "sse_cut"):
            return  # no response, or a connection dropped on purpose
        if not exchange.complete and exchange.media != "text/event-stream":
            return  # the client went away mid-body: nothing whole to check
        self.sink.record(exchange, exchange.problems())


def install(server: ServerThread, sink: Violations) -> ServerThread:
    """Wrap every app of ``server`` (not yet started) so its responses are checked into ``sink``."""
    for listener in server.plan.listeners:
        listener.app = ContractCapture(listener.app, listener.name, sink)
    return server
