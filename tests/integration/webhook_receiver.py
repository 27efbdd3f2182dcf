"""Local webhook receivers on loopback ports, for the webhook tests.

* :class:`Receiver` -- an HTTP endpoint that records every delivery (headers, raw body and the status it
  answers) *before* answering, so once the mock has seen the answer the delivery is on record; with
  ``fail_first=n`` it answers 500 to the first ``n`` attempts of each event (``webhook-id``);
* :class:`HangingReceiver` -- accepts connections and never answers;
* :func:`free_port` -- a loopback port with nothing listening on it (connections are refused).
"""

from __future__ import annotations

import socket
import threading
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

HOST = "127.0.0.1"


def free_port() -> int:
    """A port nothing listens on (until someone binds it)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((HOST, 0))
        return sock.getsockname()[1]


@dataclass(frozen=True)
class Received:
    """One delivery as the receiver got it."""

    path: str
    headers: dict[str, str]
    body: bytes
    status: int = 204


class Receiver:
    """An HTTP webhook endpoint in a background thread; answers ``status`` (204 by default)."""

    def __init__(self, port: int = 0, status: int = 204, fail_first: int = 0) -> None:
        self.port = port
        self.status = status
        self.fail_first = fail_first
        self.deliveries: list[Received] = []
        self._lock = threading.Lock()
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        return f"http://{HOST}:{self.port}/hooks"

    def received(self) -> list[Received]:
        with self._lock:
            return list(self.deliveries)

    def accepted(self) -> list[Received]:
        """The deliveries answered with a 2xx (an event delivered; what the mock records as delivered)."""
        return [item for item in self.received() if 200 <= item.status < 300]

    def start(self) -> Receiver:
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                length = int(self.headers.get("content-length") or 0)
                body = self.rfile.read(length)
                headers = {k.lower(): v for k, v in self.headers.items()}
                with receiver._lock:
                    tried = sum(d.headers.get("webhook-id") == headers.get("webhook-id") for d in receiver.deliveries)
                    status = 500 if tried < receiver.fail_first else receiver.status
                    receiver.deliveries.append(Received(self.path, headers, body, status))
                self.send_response(status)
                self.send_header("content-length", "0")
                self.end_headers()

            def log_message(self, format: str, *args: object) -> None:
                pass

        self._server = ThreadingHTTPServer((HOST, self.port), Handler)
        self._server.daemon_threads = True
        self.port = self._server.server_address[1]
        self._thread = threading.Thread(target=self._server.serve_forever, kwargs={"poll_interval": 0.05},
                                        name="webhook-receiver", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None
        if self._thread is not None:
            self._thread.join(10)

    def __enter__(self) -> Receiver:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


class HangingReceiver:
    """Accepts connections, reads nothing and never answers (until stopped)."""

    def __init__(self) -> None:
        self._sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self._sock.bind((HOST, 0))
        self._sock.listen(64)
        self._sock.settimeout(0.2)  # lets the accept loop notice stop()
        self.port = self._sock.getsockname()[1]
        self._connections: list[socket.socket] = []
        self._accepted = threading.Condition()
        self._stopped = threading.Event()
        self._thread = threading.Thread(target=self._accept_loop, name="hanging-receiver", daemon=True)

    @property
    def url(self) -> str:
        return f"http://{HOST}:{self.port}/hooks"

    def _accept_loop(self) -> None:
        while not self._stopped.is_set():
            try:
                conn, _ = self._sock.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            with self._accepted:
                self._connections.append(conn)
                self._accepted.notify_all()

    def wait_for_connections(self, count: int, timeout: float = 10.0) -> bool:
        """Block until ``count`` connections have been accepted in total."""
        with self._accepted:
            return self._accepted.wait_for(lambda: len(self._connections) >= count, timeout)

    @property
    def connections(self) -> int:
        with self._accepted:
            return len(self._connections)

    def start(self) -> HangingReceiver:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stopped.set()
        self._thread.join(10)
        with self._accepted:
            for conn in self._connections:
                conn.close()
        self._sock.close()

    def __enter__(self) -> HangingReceiver:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()
