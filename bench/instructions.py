"""Instructions per request, counted by valgrind: a deterministic figure to compare two versions of the hot path.

Timings on a shared machine move by 10-20 % between runs; the instructions a request executes move by well under
1 %. For each route the app (built as ``mockserver serve`` builds it: seeded, instant clock) is called in-process
over ASGI -- no server, no socket -- first ``--warm`` times, then ``N`` times, under ``valgrind --tool=cachegrind
--cache-sim=no``, for two values of ``N`` (``--counts``); the difference of the two totals divided by the difference
of the counts is the cost of one request, start-up and warm-up cancelled out. Collections of the collector are
included (the serving process's thresholds and pacing apply). Fewer instructions is not the same as less time: a
request that touches less memory can take less time with as many instructions (see README, Benchmarks).

    python bench/instructions.py [--routes create,get,chat,bare] [--counts 300,1300] [--warm 1500]

``bare`` is the reference: a bare Starlette GET (``bench/bare_app.py``) called the same way.

``--served`` counts what a serving process executes instead: the mock as ``mockserver serve`` runs it (uvicorn +
httptools + uvloop, instant clock) and the bare app on the same stack, each under ``valgrind --tool=callgrind``,
sent the requests over one keep-alive connection from this process. The count between two ``callgrind_control
--dump`` calls, divided by the requests sent between them, is the cost of one request with the server's own work
(parsing, the protocol, the task, the writes' system-call wrappers) included; the kernel's is not (valgrind sees
user space only). Set beside the CPU time ``bench/side_by_side.py`` measures, it tells how much of the mock's
extra time is instructions and how much waiting on memory.

    python bench/instructions.py --served [--routes create,get,chat,bare] [--counts 300,1300] [--warm 1500]

Needs ``valgrind`` (Debian: ``apt-get install valgrind``); about a minute per route either way
(``--served``: 3.5 minutes for the four).
"""

from __future__ import annotations

import argparse
import asyncio
import http.client
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from types import ModuleType
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
READ_KEY = "sk-bench-read-0001"
LOAD_KEY = "sk-bench-load-0001"
PREDICTION = {"model": "truefusion-pro", "input": {"prompt": "a fox in the snow"}}
CHAT = {"model": "gpt-5", "messages": [{"role": "user", "content": "Say hello."}], "max_tokens": 16}
ROUTES = ("create", "get", "chat", "bare")


def _scope(method: str, path: str, key: str, body: bytes | None) -> dict[str, Any]:
    headers = [(b"host", b"127.0.0.1:8080"), (b"x-api-key", key.encode()), (b"user-agent", b"bench")]
    if body is not None:
        headers += [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]
    return {"type": "http", "asgi": {"version": "3.0", "spec_version": "2.3"}, "http_version": "1.1",
            "server": ("127.0.0.1", 8080), "client": ("127.0.0.1", 50000), "scheme": "http", "method": method,
            "root_path": "", "path": path, "raw_path": path.encode(), "query_string": b"", "headers": headers,
            "state": {}}


async def _call(app: Any, method: str, path: str, key: str, body: bytes | None = None) -> list[dict[str, Any]]:
    """One request through the app; the messages it sent."""
    sent: list[dict[str, Any]] = []
    pending = [{"type": "http.request", "body": body or b"", "more_body": False}]

    async def receive() -> dict[str, Any]:
        return pending.pop() if pending else {"type": "http.disconnect"}

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    await app(_scope(method, path, key, body), receive, send)
    return sent


async def _serve_requests(route: str, count: int, warm: int) -> None:
    """The child: build the app, prepare, warm up, then ``count`` requests of ``route``."""
    sys.path.insert(0, str(ROOT))
    if route == "bare":  # the reference: bench/bare_app.py answering a GET, called the same way
        await _serve_bare(count, warm)
        return
    from mockserver.app import build
    from mockserver.server import settle_heap
    from mockserver.settings import Settings

    settings = Settings(api_keys=(READ_KEY,), seed=1, time_mode="instant", max_records=1000, journal_size=500)
    app = build(settings).apps["skytells"]
    funding = {"key": LOAD_KEY, "credits": 1e12, "daily_budget": 1e12, "limits": {"concurrency": 10000}}
    await _call(app, "POST", "/_mock/keys", "", json.dumps(funding).encode())
    made = await _call(app, "POST", "/v1/predictions", READ_KEY, json.dumps(PREDICTION).encode())
    request = {
        "create": ("POST", "/v1/predictions", LOAD_KEY, json.dumps(PREDICTION).encode()),
        "get": ("GET", f"/v1/predictions/{json.loads(made[1]['body'])['id']}", READ_KEY, None),
        "chat": ("POST", "/v1/chat/completions", LOAD_KEY, json.dumps(CHAT).encode()),
    }[route]
    for _ in range(warm):
        await _call(app, *request)
    settle_heap()  # as a serving process: start-up objects frozen, the serving thresholds, paced collections
    for _ in range(count):
        answer = await _call(app, *request)
    if count and answer[0]["status"] >= 400:
        raise SystemExit(f"{route}: {answer[0]['status']} {answer[1].get('body', b'')[:300]!r}")


async def _serve_bare(count: int, warm: int) -> None:
    """The child for ``bare``: a bare Starlette GET (``bench/bare_app.py``), warmed up, then ``count`` of them."""
    sys.path.insert(0, str(ROOT / "bench"))
    from bare_app import app

    for _ in range(warm + count):
        await _call(app, "GET", "/v1/predictions/abc", READ_KEY)


def child_environment() -> dict[str, str]:
    """The environment of a counted process: string hashing seeded the same every time (``PYTHONHASHSEED=0``),
    so that dicts and sets lay out alike from run to run. Measured: chat 300,748 and 295,551 instructions in two
    runs with random hashing, 293,265 and 293,001 with it fixed (create 571,438 and 570,864; 571,201 and 569,221)."""
    return {**os.environ, "PYTHONHASHSEED": "0"}


def instructions(route: str, count: int, warm: int) -> int:
    """The instructions of a child process serving ``count`` requests of ``route`` (valgrind's ``I refs``)."""
    command = ["valgrind", "--tool=cachegrind", "--cache-sim=no", "--cachegrind-out-file=/dev/null",
               sys.executable, __file__, "--child", route, str(count), "--warm", str(warm)]
    done = subprocess.run(command, capture_output=True, text=True, check=False, cwd=ROOT, env=child_environment())
    found = re.search(r"I\s+refs:\s+([\d,]+)", done.stderr)
    if done.returncode != 0 or found is None:
        raise RuntimeError(f"{route} x{count}: valgrind failed: {done.stderr[-800:]}")
    return int(found.group(1).replace(",", ""))


# -- served: the request counted in a serving process --------------------------------------------------------------

#: The routes as requests over HTTP: method, path (``{prediction}`` filled in), key, body.
SERVED_REQUESTS: dict[str, tuple[str, str, str, bytes | None]] = {
    "create": ("POST", "/v1/predictions", LOAD_KEY, json.dumps(PREDICTION).encode()),
    "get": ("GET", "/v1/predictions/{prediction}", READ_KEY, None),
    "chat": ("POST", "/v1/chat/completions", LOAD_KEY, json.dumps(CHAT).encode()),
    "bare": ("GET", "/v1/predictions/abc", READ_KEY, None),
}


def _side_by_side() -> ModuleType:
    """``bench/side_by_side.py``, whose commands start the servers (imported when a served count needs them)."""
    if str(ROOT) not in sys.path:
        sys.path.insert(0, str(ROOT))
    from bench import side_by_side

    return side_by_side


def server_command(route: str, port: int) -> list[str]:
    """The server a route is counted in, started as ``bench/side_by_side.py`` starts it: the mock as ``mockserver
    serve`` runs it, or the bare app on uvicorn + httptools + uvloop."""
    bench = _side_by_side()
    if route == "bare":
        return [sys.executable, *bench.BARE_COMMANDS["uvicorn"], str(port)]
    return bench.mock_command(port, bench.free_port())


class Connection:
    """One keep-alive connection to a server under valgrind (slow: generous timeouts)."""

    def __init__(self, port: int, patience: float = 300.0) -> None:
        deadline = time.monotonic() + patience
        while True:
            try:
                self.http = http.client.HTTPConnection("127.0.0.1", port, timeout=120)
                self.http.connect()
                return
            except OSError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.5)

    def send(self, method: str, path: str, key: str, body: bytes | None = None) -> tuple[int, bytes]:
        headers = {"x-api-key": key, **({"content-type": "application/json"} if body is not None else {})}
        self.http.request(method, path, body=body, headers=headers)
        answer = self.http.getresponse()
        return answer.status, answer.read()


def dump_total(pid: int, directory: Path) -> int:
    """Ask callgrind in ``pid`` for a dump (its counters then start again from zero); the dump's total."""
    before = set(directory.iterdir())
    subprocess.run(["callgrind_control", "--dump", str(pid)], capture_output=True, check=False, timeout=300)
    deadline = time.monotonic() + 300
    while not (set(directory.iterdir()) - before):
        if time.monotonic() > deadline:
            raise RuntimeError("callgrind wrote no dump")
        time.sleep(0.2)
    dump = max(set(directory.iterdir()) - before, key=lambda path: path.stat().st_mtime)
    for _ in range(100):  # written, then closed: the totals line comes last
        found = re.search(r"^(?:summary|totals):\s+(\d+)", dump.read_text(errors="replace"), re.M)
        if found:
            return int(found.group(1))
        time.sleep(0.2)
    raise RuntimeError(f"no totals in {dump}")


def _prepared(route: str, connection: Connection) -> tuple[str, str, str, bytes | None]:
    """The route's request, the mock prepared for it (the load key funded, a prediction to GET)."""
    method, path, key, body = SERVED_REQUESTS[route]
    if route == "bare":
        connection.send("GET", "/ready", READ_KEY)
        return method, path, key, body
    funding = {"key": LOAD_KEY, "credits": 1e12, "daily_budget": 1e12, "limits": {"concurrency": 10000}}
    connection.send("POST", "/_mock/keys", "", json.dumps(funding).encode())
    status, made = connection.send("POST", "/v1/predictions", READ_KEY, json.dumps(PREDICTION).encode())
    if status != 201:
        raise RuntimeError(f"create: {status} {made[:300]!r}")
    return method, path.format(prediction=json.loads(made)["id"]), key, body


def served_instructions(route: str, warm: int, count: int) -> float:
    """Instructions per request of ``route`` in a serving process under callgrind (see the module)."""
    port = _side_by_side().free_port()
    with tempfile.TemporaryDirectory(prefix="served-") as scratch:
        directory = Path(scratch)
        command = ["valgrind", "--tool=callgrind", f"--callgrind-out-file={directory}/callgrind.out.%p",
                   *server_command(route, port)]
        env = {**child_environment(), "PYTHONPATH": str(ROOT)}
        log = directory / "server.log"
        with log.open("wb") as output:
            server = subprocess.Popen(command, cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=output)
        try:
            connection = Connection(port)
            request = _prepared(route, connection)
            for _ in range(warm):
                connection.send(*request)
            dump_total(server.pid, directory)
            statuses = {connection.send(*request)[0] for _ in range(count)}
            total = dump_total(server.pid, directory)
        except Exception as exc:
            ending = log.read_text(errors="replace")[-800:]
            raise RuntimeError(f"{route}: {exc}; the server's log ends: {ending}") from exc
        finally:
            server.send_signal(signal.SIGINT)
            try:
                server.wait(timeout=120)
            except subprocess.TimeoutExpired:
                server.kill()
    if max(statuses) >= 400:
        raise RuntimeError(f"{route}: answered {sorted(statuses)}")
    return total / count


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--routes", default=",".join(ROUTES), help=f"comma-separated, of: {', '.join(ROUTES)}")
    parser.add_argument("--counts", default="300,1300", help="the two request counts whose totals are compared")
    parser.add_argument("--warm", type=int, default=1500, help="requests before the counted ones")
    parser.add_argument("--served", action="store_true",
                        help="count in serving processes over HTTP: after --warm requests, the difference of --counts")
    parser.add_argument("--child", nargs=2, metavar=("ROUTE", "COUNT"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        asyncio.run(_serve_requests(args.child[0], int(args.child[1]), args.warm))
        return 0
    if shutil.which("valgrind") is None:
        print("instructions: needs valgrind (apt-get install valgrind)", file=sys.stderr)
        return 2
    low, high = (int(part) for part in args.counts.split(","))
    where = "served over HTTP" if args.served else "in-process"
    print(f"| route | instructions per request ({where}) |\n|---|---:|")
    for route in args.routes.split(","):
        if route not in ROUTES:
            parser.error(f"unknown route {route!r}")
        if args.served:
            per_request = served_instructions(route, args.warm, high - low)
        else:
            per_request = (instructions(route, high, args.warm) - instructions(route, low, args.warm)) / (high - low)
        print(f"| {route} | {per_request:,.0f} |", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
