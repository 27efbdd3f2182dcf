"""Run the mock's apps under uvicorn (or granian: server_granian.py): in the foreground (CLI) or in a background
thread (tests)."""

from __future__ import annotations

import asyncio
import contextlib
import gc
import logging
import os
import signal
import socket
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Protocol

import uvicorn
from uvicorn.loops.auto import auto_loop_factory
from uvicorn.protocols.http.auto import AutoHTTPProtocol

from mockserver.admin import errors as admin_errors
from mockserver.admin import mappings
from mockserver.app import MockServer, build
from mockserver.core import logs
from mockserver.core.answer_at_once import AnswersAtOnce, answering_at_once
from mockserver.core.boundary import protocol_error_response
from mockserver.core.errors import ApiError
from mockserver.core.front import answer_at_once_of
from mockserver.core.head_limit import head_limited, is_httptools
from mockserver.core.heap import PACER, IdleCollector
from mockserver.core.vendor import REGISTRY
from mockserver.core.wire import ParserErrorWriter, transport_exposing
from mockserver.server_granian import GranianServer
from mockserver.settings import Settings

LOG = logging.getLogger("mockserver")


@dataclass
class Listener:
    """One bound socket serving one ASGI app."""

    name: str
    app: object
    sock: socket.socket
    prefix: str = ""

    @property
    def url(self) -> str:
        host, port = self.sock.getsockname()[:2]
        host = f"[{host}]" if ":" in host else host
        return f"http://{host}:{port}{self.prefix}"


@dataclass
class ServingPlan:
    """What to serve where."""

    mock: MockServer
    listeners: list[Listener] = field(default_factory=list)

    def base_urls(self) -> dict[str, str]:
        """Each API's base URL as its SDKs want it (the root plus the vendor's base path: Skytells ``…/v1``)."""
        roots = {}
        for listener in self.listeners:
            if listener.name == "combined":
                roots.update({vendor.name: listener.url + vendor.prefix for vendor in self.mock.vendors})
            else:
                roots[listener.name] = listener.url
        return {vendor.name: roots[vendor.name] + vendor.base_path for vendor in self.mock.vendors
                if vendor.name in roots}


def _bind(host: str, port: int) -> socket.socket:
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    # proto=IPPROTO_TCP matters: asyncio only sets TCP_NODELAY on accepted connections of sockets
    # created with it, and without TCP_NODELAY every response waits ~40 ms for a delayed ACK.
    sock = socket.socket(family, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((host, port))
    except OSError as exc:
        sock.close()
        raise OSError(exc.errno, f"cannot bind {host}:{port}: {exc.strerror or exc}") from None
    sock.listen(512)
    sock.setblocking(False)
    return sock


def plan(mock: MockServer, free_ports: bool = False) -> ServingPlan:
    """Bind the sockets: each vendor's port, or the first vendor's in single-port mode (``free_ports``, or a
    port of 0, picks a free port)."""
    settings = mock.settings
    vendors = mock.vendors
    result = ServingPlan(mock)
    if settings.single_port:
        port = 0 if free_ports else settings.port_of(vendors[0])
        result.listeners.append(Listener("combined", mock.combined(), _bind(settings.host, port)))
        return result
    for vendor in vendors:
        port = 0 if free_ports else settings.port_of(vendor)
        result.listeners.append(Listener(vendor.name, mock.apps[vendor.name], _bind(settings.host, port)))
    return result


def http_protocol(parser_error: ParserErrorWriter, head_limit: int, base: type[asyncio.Protocol] | None = None,
                  answer: AnswersAtOnce | None = None) -> type[asyncio.Protocol]:
    """uvicorn's HTTP protocol ``base`` (default: httptools where installed, else h11) with the mock's additions;
    under httptools, with ``answer``, express answers written at once (:mod:`mockserver.core.answer_at_once`)."""
    protocol = transport_exposing(base or AutoHTTPProtocol, parser_error)
    if not is_httptools(protocol):
        return protocol
    protocol = head_limited(protocol, parser_error, head_limit)
    return protocol if answer is None else answering_at_once(protocol, answer)


def event_loop_factory() -> Callable[[], asyncio.AbstractEventLoop]:
    """uvloop's event loop where it is installed (uvicorn's ``loop="auto"`` choice), else asyncio's."""
    return auto_loop_factory(use_subprocess=False)


class HttpServer(Protocol):
    """What :func:`serve` needs of a server: ``uvicorn.Server`` and :class:`GranianServer` have it."""

    should_exit: bool

    async def serve(self, sockets: list[socket.socket]) -> None: ...


def http_server(listener: Listener, log_level: str, settings: Settings) -> HttpServer:
    """The server ``settings.server`` names, for one listener."""
    if settings.server == "granian":
        return GranianServer(listener.app, log_level)
    return _uvicorn(listener, log_level, settings)


def _uvicorn(listener: Listener, log_level: str, settings: Settings) -> uvicorn.Server:
    # The protocol puts each connection's transport into the scope, so faults can drop it (core.wire), and
    # answers requests its parser refuses (headers past max_header_bytes: 431) in the API's error format.
    def parser_error(head: bytes, status: int) -> bytes:
        return protocol_error_response(listener.app, admin_errors.render, head, status, settings.max_header_bytes)

    config = uvicorn.Config(listener.app, log_level=log_level.lower(), access_log=False, lifespan="off",
                            timeout_graceful_shutdown=max(settings.shutdown_grace, 0.1) + 1.0,
                            http=http_protocol(parser_error, settings.max_header_bytes + 1024,
                                               # uvicorn's trace level logs each ASGI message: none written at once
                                               answer=None if log_level.lower() == "trace" else
                                               answer_at_once_of(listener.app)),
                            h11_max_incomplete_event_size=settings.max_header_bytes + 1024)
    return uvicorn.Server(config)


#: The collector's thresholds while serving: net allocations of tracked objects before a young collection, young
#: collections before a middle one, middle ones before a full one is considered (Python's defaults: 700, 10, 10).
#: The pacer collects the young generations every 200 requests, and even a thousand requests of any hot route keep
#: under half of 50,000 tracked objects even while the journal, the store and the caches fill (chat with varied
#: prompts ~16k, creates ~11k; a unit test holds every hot route to it), so young collections come from the pacer
#: alone and each object a request leaves alive is visited once, where CPython's own young collections (every 700)
#: visited it a second time. CPython considers a full collection only after a thousand middle ones, and an idle
#: process collects in full (:class:`mockserver.core.heap.IdleCollector`).
GC_THRESHOLDS = (50_000, 10, 1000)


def settle_heap() -> None:
    """Once start-up is done, in a process of its own: the start-up objects (catalogs, contracts, compiled
    routes: ~55k) move to the collector's permanent generation, and full collections are considered a hundred
    times less often (and run when the process is idle: :func:`serve`).

    A request leaves no reference cycle behind (a unit test checks it), so what a full collection walks is the
    journal and the store, which only a collection of every generation could free anyway; with the defaults one
    came every few thousand requests and held the loop for 20-70 ms (gc callbacks under ``wrk``), the p99 of a
    GET.
    """
    gc.collect()
    gc.freeze()
    gc.set_threshold(*GC_THRESHOLDS)
    PACER.start()  # and the young generations every 200 requests (mockserver.core.heap)


async def serve(serving: ServingPlan, log_level: str = "info", stop: asyncio.Event | None = None,
                own_process: bool = True) -> None:
    """Serve every listener until interrupted (or until ``stop`` is set).

    ``own_process``: the process serves nothing else (the CLI, a worker), so its collector is tuned for serving
    (:func:`settle_heap`); a server in a thread of a test process leaves the process's collector alone.
    """
    idle_collection = None
    if own_process:
        settle_heap()
        idle_collection = asyncio.create_task(IdleCollector(PACER).run())
    servers = [http_server(listener, log_level, serving.mock.settings) for listener in serving.listeners]
    logs.install()  # after uvicorn configured its loggers: no API key reaches a log line in full
    _exit_through_cleanup(servers)
    pairs = zip(servers, serving.listeners, strict=True)
    tasks = [asyncio.create_task(server.serve(sockets=[listener.sock])) for server, listener in pairs]
    drain = asyncio.create_task(_drain_on_exit(servers, serving.mock.runtime.clock.drain))
    _reload_on_sighup(serving.mock)
    if stop is not None:
        await stop.wait()
        for server in servers:
            server.should_exit = True
    try:
        await asyncio.gather(*tasks)
    finally:
        drain.cancel()
        if idle_collection is not None:
            idle_collection.cancel()
        await serving.mock.runtime.webhooks.close()  # stop webhook deliveries with the server
        serving.mock.runtime.renders.close()
        serving.mock.runtime.close()  # the shared store's connection, if any


def _exit_through_cleanup(servers: list[HttpServer]) -> None:
    """SIGTERM/SIGINT stop every server and then :func:`serve`'s cleanup runs (webhook leases let go, render
    workers and the store's connection closed). uvicorn raises a signal it caught again once its server has
    stopped, to the handler it found: the default one would kill the process before the cleanup."""
    def stop(_signum: int, _frame: object) -> None:
        for server in servers:
            server.should_exit = True

    with contextlib.suppress(ValueError):  # not the main thread (ServerThread): no signals to take
        for signum in (signal.SIGTERM, signal.SIGINT):
            signal.signal(signum, stop)


async def _drain_on_exit(servers: list[HttpServer], drain: Callable[[], None]) -> None:
    """Once any server is told to exit (SIGTERM, Ctrl-C, ``stop``), stop every client wait (clock.drain).

    uvicorn then waits up to the grace period for in-flight requests: awaited creates answer with the
    prediction as it is, status streams send a final ``error`` event; none is cut mid-way.
    """
    while not any(server.should_exit for server in servers):
        await asyncio.sleep(0.05)
    for server in servers:  # SIGTERM reaches one server's handler: every port stops
        server.should_exit = True
    drain()


def _reload_on_sighup(mock: MockServer) -> None:
    """SIGHUP re-reads the start-up files and resets the server to them (main thread, POSIX, with files only)."""
    if mock.runtime.startup is None or not hasattr(signal, "SIGHUP"):
        return

    def reload() -> None:
        try:
            count = mappings.reload(mock.runtime)
        except (mappings.MappingError, ApiError) as error:
            LOG.error("SIGHUP: start-up files not reloaded: %s", error)
            return
        LOG.info("SIGHUP: start-up files reloaded (%d entries); state reset to them", count)

    with contextlib.suppress(NotImplementedError, RuntimeError, ValueError):  # not the main thread: no signals
        asyncio.get_running_loop().add_signal_handler(signal.SIGHUP, reload)


class ServerThread:
    """The whole mock on free loopback ports in a background thread (for tests and fixtures)."""

    def __init__(self, settings: Settings | None = None) -> None:
        settings = settings or Settings()
        free = {vendor.port_setting: 0 for vendor in REGISTRY.all() if hasattr(settings, vendor.port_setting)}
        self.mock = build(settings.replace(**free))
        self.plan = plan(self.mock, free_ports=True)
        self._loop = event_loop_factory()()
        self._stop: asyncio.Event | None = None
        self._thread = threading.Thread(target=self._run, name="mockserver", daemon=True)
        self._started = threading.Event()

    @property
    def runtime(self):
        return self.mock.runtime

    @property
    def urls(self) -> dict[str, str]:
        return self.plan.base_urls()

    def _run(self) -> None:
        asyncio.set_event_loop(self._loop)

        async def main() -> None:
            self._stop = asyncio.Event()
            self._started.set()
            await serve(self.plan, log_level="warning", stop=self._stop, own_process=False)

        try:
            self._loop.run_until_complete(main())
        finally:
            # library tasks that outlive the servers (sse-starlette's shutdown watcher) end with the loop
            leftovers = asyncio.all_tasks(self._loop)
            for task in leftovers:
                task.cancel()
            self._loop.run_until_complete(asyncio.gather(*leftovers, return_exceptions=True))
            self._loop.close()

    def start(self) -> ServerThread:
        self._thread.start()
        self._started.wait(10)
        return self

    def stop(self) -> None:
        if self._stop is not None:
            self._loop.call_soon_threadsafe(self._stop.set)
        self._thread.join(10)
        for listener in self.plan.listeners:
            with contextlib.suppress(OSError):
                listener.sock.close()

    def __enter__(self) -> ServerThread:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


@contextlib.contextmanager
def running(settings: Settings | None = None) -> Iterator[ServerThread]:
    """``with running(settings) as server: server.urls["skytells"]``"""
    server = ServerThread(settings).start()
    try:
        yield server
    finally:
        server.stop()


# -- several worker processes on one shared store (``--workers N``) ------------------------------------------------


def serve_workers(serving: ServingPlan, count: int, log_level: str = "info",
                  started: Callable[[], None] | None = None) -> int:
    """Serve ``serving``'s sockets from ``count`` forked processes, each with its own runtime on the shared store.

    The parent bound the sockets and checked the settings (``serving`` was built to do so); it lets go of its
    own runtime, forks the workers (the kernel hands each connection to one of them), forwards SIGTERM/SIGINT
    to them and waits (``started`` runs once they are forked: the sockets already queue connections for them).
    Returns the first non-zero exit status of a worker, else 0. POSIX only.
    """
    serving.mock.runtime.close()  # no thread or connection of the parent's crosses the fork
    children: list[int] = []
    for signum in (signal.SIGTERM, signal.SIGINT):  # held until the workers exist, then forwarded to them
        signal.pthread_sigmask(signal.SIG_BLOCK, {signum})
    for _ in range(count):
        pid = os.fork()
        if pid == 0:  # the worker
            signal.pthread_sigmask(signal.SIG_UNBLOCK, {signal.SIGTERM, signal.SIGINT})
            code = 1
            try:
                code = _worker(serving, log_level)
            finally:
                os._exit(code)
        children.append(pid)
    LOG.info("%d workers serving: %s", count, ", ".join(map(str, children)))
    return _supervise(children, started)


def _worker(serving: ServingPlan, log_level: str) -> int:
    """One worker: a fresh runtime and apps (on the shared store) serving the parent's sockets."""
    settings, token = serving.mock.settings, serving.mock.runtime.admin_token
    if token and not settings.admin_token:  # the token the parent made and printed, not one of the worker's own
        settings = settings.replace(admin_token=token)
    mock = build(settings)
    apps = {"combined": mock.combined(), **mock.apps}
    listeners = [Listener(item.name, apps[item.name], item.sock, item.prefix) for item in serving.listeners]
    own = ServingPlan(mock, listeners)
    with contextlib.suppress(KeyboardInterrupt), asyncio.Runner(loop_factory=event_loop_factory()) as runner:
        runner.run(serve(own, log_level=log_level))
    return 0


def _supervise(children: list[int], started: Callable[[], None] | None) -> int:
    """Wait for every worker; SIGTERM/SIGINT to the parent go to each of them."""

    def forward(signum: int, _frame: object) -> None:
        for pid in children:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signum)

    for signum in (signal.SIGTERM, signal.SIGINT):
        signal.signal(signum, forward)
    signal.pthread_sigmask(signal.SIG_UNBLOCK, {signal.SIGTERM, signal.SIGINT})  # a held signal arrives now
    if started is not None:
        started()
    status = 0
    for pid in children:
        while True:
            try:
                _, code = os.waitpid(pid, 0)
                break
            except ChildProcessError:
                code = 0
                break
            except InterruptedError:
                continue
        code = os.waitstatus_to_exitcode(code)
        stopped = code in (-signal.SIGTERM, -signal.SIGINT)  # stopped by the forwarded signal while starting
        status = status or (0 if stopped else code)
    return status
