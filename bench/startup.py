"""Start-up cost of an installed mockserver: ``import mockserver.app`` and ``mockserver serve`` until healthy.

    python bench/startup.py VENV [VENV ...]     # e.g. fresh venvs after `pip install .` / `pip install '.[harness]'`

For each virtualenv: the cumulative ``mockserver.app`` line of ``python -X importtime -c "import mockserver.app"``
(median of 15) and the time from starting ``mockserver serve`` to the first 200 of ``/_mock/health`` (median of
9), both run from a folder outside any source checkout so the installed package is what loads. Add ``du -sh VENV``
for the install size (README, "Install and packaging").
"""

from __future__ import annotations

import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx

IMPORTS = 15
STARTS = 9


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def import_seconds(venv: Path, cwd: str) -> float:
    """Cumulative seconds of the ``mockserver.app`` import, as ``-X importtime`` reports it."""
    done = subprocess.run([str(venv / "bin" / "python"), "-X", "importtime", "-c", "import mockserver.app"],
                          capture_output=True, text=True, cwd=cwd, check=True)
    line = next(line for line in done.stderr.splitlines() if line.rstrip().endswith("| mockserver.app"))
    return int(line.split("|")[1]) / 1e6


def serve_seconds(venv: Path, cwd: str) -> float:
    """Seconds from ``mockserver serve`` to its first healthy answer."""
    port = free_port()
    env = {**os.environ, "MOCKSERVER_SKYTELLS_PORT": str(port), "MOCKSERVER_GATEAI_PORT": str(free_port())}
    start = time.perf_counter()
    server = subprocess.Popen([str(venv / "bin" / "mockserver"), "serve"], env=env, cwd=cwd,
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        while True:
            try:
                if httpx.get(f"http://127.0.0.1:{port}/_mock/health", timeout=1).status_code == 200:
                    return time.perf_counter() - start
            except httpx.HTTPError:
                time.sleep(0.01)
    finally:
        server.terminate()
        server.wait(10)


def main(venvs: list[str]) -> None:
    with tempfile.TemporaryDirectory() as cwd:
        imports: dict[str, list[float]] = {venv: [] for venv in venvs}
        for _ in range(IMPORTS):  # interleaved, so load from other work falls on every venv alike
            for venv in venvs:
                imports[venv].append(import_seconds(Path(venv), cwd))
        starts = {venv: [serve_seconds(Path(venv), cwd) for _ in range(STARTS)] for venv in venvs}
    for venv in venvs:
        print(f"{venv}: import mockserver.app {statistics.median(imports[venv]):.2f} s (median of {IMPORTS}); "
              f"serve -> healthy {statistics.median(starts[venv]):.2f} s (median of {STARTS})")


if __name__ == "__main__":
    if len(sys.argv) < 2:
        sys.exit(__doc__)
    main(sys.argv[1:])
