"""A real ``redis-server`` for the shared-store tests: started on a free loopback port in a temp dir.

Without the ``redis-server`` command the tests that need it are skipped (with the reason), except in CI
(``CI=true``), where a missing Redis fails them: ``.ci/run`` installs the Debian package.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import tempfile
import threading
from collections.abc import Iterator
from contextlib import contextmanager

import pytest


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def require_redis_server() -> str:
    """The ``redis-server`` command; skips the test without it (fails in CI)."""
    command = shutil.which("redis-server")
    if command is None:
        reason = "redis-server is not installed (apt-get install redis-server); the shared-store tests need it"
        if os.environ.get("CI") == "true":
            pytest.fail(reason, pytrace=False)
        pytest.skip(reason)
    return command


@contextmanager
def redis_server() -> Iterator[str]:
    """A fresh Redis (no persistence) for the duration of the block; yields its ``redis://`` URL."""
    with tempfile.TemporaryDirectory(prefix="mockserver-redis-") as folder:
        port = free_port()
        process = start_redis(folder, port)
        try:
            yield f"redis://127.0.0.1:{port}/0"
        finally:
            stop_redis(process)


def start_redis(folder: str, port: int, persist: bool = False) -> subprocess.Popen:
    """``redis-server`` on ``port`` keeping its files in ``folder`` (with ``persist``: an append-only file, so a
    restart on the same folder has the same data); returns once it accepts connections."""
    command = require_redis_server()
    persistence = ["--appendonly", "yes", "--appendfsync", "always"] if persist else ["--appendonly", "no"]
    process = subprocess.Popen(
        [command, "--port", str(port), "--bind", "127.0.0.1", "--dir", folder, "--save", "", *persistence,
         "--logfile", ""],
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        _wait_until_ready(process)
    except RuntimeError:
        stop_redis(process)
        raise
    return process


def stop_redis(process: subprocess.Popen) -> None:
    process.terminate()
    process.wait(10)


def _wait_until_ready(process: subprocess.Popen) -> None:
    """Read the server's log until it accepts connections (no polling), then keep draining it in the background."""
    assert process.stdout is not None
    seen: list[str] = []
    for line in process.stdout:
        seen.append(line)
        if "Ready to accept connections" in line:
            threading.Thread(target=process.stdout.read, daemon=True).start()
            return
    raise RuntimeError("redis-server did not start:\n" + "".join(seen[-20:]))


class Now:
    """A settable clock (a store's or a limit's ``now``) for retention by age and sliding windows."""

    def __init__(self, at: float = 1_000.0) -> None:
        self.at = at

    def __call__(self) -> float:
        return self.at
