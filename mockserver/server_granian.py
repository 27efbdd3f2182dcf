"""``serve --server granian``: the apps on granian's embedded server (HTTP in Rust, the app on this event loop).

:class:`GranianServer` has the surface :func:`mockserver.server.serve` uses of ``uvicorn.Server`` (``serve`` and
``should_exit``), so both servers start, stop and drain the same way. Measured beside uvicorn + httptools + uvloop
(``bench/side_by_side.py``, one core): the mock's GETs per second 1.26-1.37 times, its heavier routes about the
same (their own work dominates), their p99 a third to a quarter.

What granian cannot do, and what the mock does instead:

* An app cannot reach the connection, so the ``reset`` and ``empty`` faults are refused when a rule names them
  (:data:`mockserver.settings.GRANIAN_REFUSED_FAULTS`); ``sse_cut`` works (an exception mid-body closes the
  connection).
* A request granian's parser refuses gets granian's own bodiless answer (``Connection: close``): a malformed
  request line a 400; a head of more than 100 header lines, or a head that outgrows the read buffer
  (:data:`HEAD_BUFFER`, well past ``max_header_bytes``), a 431. A head over ``max_header_bytes`` that granian
  reads whole gets the mock's 431 in the API's error format, as on uvicorn.
* ``X-Forwarded-For`` from a trusted proxy (``FORWARDED_ALLOW_IPS``, default ``127.0.0.1``) names the caller, by
  uvicorn's own middleware, as under uvicorn.
* It serves the socket :func:`mockserver.server.plan` bound (a duplicate of its descriptor), as uvicorn does: the
  port is listening before the banner is printed, and ``--workers`` processes share the one socket.
"""

from __future__ import annotations

import asyncio
import logging
import os
import socket
from typing import Any

from mockserver.core.wire import ConnectionDropped

#: granian's HTTP/1 read buffer (its default is 408 KiB): a head well past it gets granian's own refusal (measured:
#: 900 KB still reached the mock, 1 MB did not).
HEAD_BUFFER = 512 * 1024
#: The listen backlog granian is told of (the socket listens already, with :func:`mockserver.server.plan`'s).
BACKLOG = 512
#: How often a server checks whether it was told to stop (``should_exit``), in seconds.
STOP_POLL = 0.05
_LEVELS = {"trace": "debug"}  # mockserver's log levels that granian names otherwise
#: granian's loggers: its Python code's, and its Rust code's (an app's exception is logged as ``_granian.utils``)
_LOGGERS = ("_granian", "_granian.utils")
#: granian's log lines go to the root logger, so they take the mock's format (and its masking of API keys)
_LOG_CONFIG = {"loggers": {"_granian": {"handlers": [], "propagate": True}}}


class _QuietDrops(logging.Filter):
    """Leaves out granian's traceback for a connection the mock dropped on purpose (a scripted ``sse_cut``), and
    its banner calling the embedded server experimental (the README says so)."""

    def filter(self, record: logging.LogRecord) -> bool:
        if record.exc_info and isinstance(record.exc_info[1], ConnectionDropped):
            return False
        text = record.getMessage()  # granian's Rust code logs the traceback as text, its last line the exception's
        return f"{ConnectionDropped.__name__}: " not in text.rstrip().rpartition("\n")[2] and "experimental" not in text


_QUIET_DROPS = _QuietDrops()


def _server_class() -> type:
    """granian's embedded server, serving a socket the mock bound (granian's own binds its address itself)."""
    from granian._granian import SocketHolder
    from granian.server.embed import Server

    class OnBoundSocket(Server):
        """Serves ``bound`` (a listening socket's descriptor, duplicated: granian closes its copy)."""

        bound: socket.socket

        def _init_shared_socket(self) -> None:
            self._ssp = None
            self._shd = SocketHolder(os.dup(self.bound.fileno()), False, BACKLOG)
            self._sfd = self._shd.get_fd()

    return OnBoundSocket


class GranianServer:
    """One app under granian's embedded server on a socket bound beforehand, stopped by setting ``should_exit``."""

    def __init__(self, app: Any, log_level: str, header_read_timeout_ms: int = 30_000) -> None:
        from uvicorn.middleware.proxy_headers import ProxyHeadersMiddleware

        # as uvicorn does by default: a trusted proxy's X-Forwarded-For names the caller (the control plane's
        # loopback-only rule then sees the real caller behind a proxy on the same host)
        self.app = ProxyHeadersMiddleware(app, trusted_hosts=os.environ.get("FORWARDED_ALLOW_IPS", "127.0.0.1"))
        level = _LEVELS.get(log_level.lower(), log_level.lower())
        self.log_level = "warning" if level == "info" else level  # its start-up lines repeat the mock's banner
        self.header_read_timeout = header_read_timeout_ms
        self.should_exit = False

    def _embedded(self, sock: socket.socket) -> Any:
        from granian.constants import HTTPModes, Interfaces
        from granian.http import HTTP1Settings
        from granian.log import LogLevels

        host, port = sock.getsockname()[:2]
        # accepted connections inherit it (Linux): granian does not set it on a socket it did not bind, and without
        # it a streamed answer's last chunk waits ~40 ms for the client's delayed ACK
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        server = _server_class()(self.app, address=host, port=port, interface=Interfaces.ASGINL,
                                 http=HTTPModes.http1, websockets=False, log_level=LogLevels(self.log_level),
                                 log_dictconfig=_LOG_CONFIG,
                                 http1_settings=HTTP1Settings(header_read_timeout=self.header_read_timeout,
                                                              max_buffer_size=HEAD_BUFFER))
        server.bound = sock
        for name in _LOGGERS:  # a filter applies to its own logger's records, not to a child's
            logging.getLogger(name).addFilter(_QUIET_DROPS)  # once: the same filter
        return server

    async def serve(self, sockets: list[socket.socket]) -> None:
        """Serve ``sockets[0]`` (bound and listening) until told to stop."""
        server = self._embedded(sockets[0])
        watcher = asyncio.create_task(self._stop_when_told(server))
        try:
            await server.serve()
        finally:
            watcher.cancel()

    async def _stop_when_told(self, server: Any) -> None:
        while not self.should_exit:
            await asyncio.sleep(STOP_POLL)
        server.stop()
