"""Side by side under ``wrk``: the mock, a bare Starlette app on the same server stack, and WireMock.

Each server runs on one pinned core (``--server-core``) and ``wrk`` on another (``--wrk-core``), with 50
connections; every round measures every route on every server, the servers' order rotating between rounds,
and the table reports medians over the rounds. The bare app (``bench/bare_app.py``, uvicorn + httptools +
uvloop, the baseline of every ratio, and the same app on granian) and WireMock (when ``java`` is found; the
``wiremock`` npm package ships its jar, installed into ``--wiremock-dir`` with npm on first use) answer the bytes
the mock answered for each route, captured once at start, so the ratio to bare on the same route compares equal
work on the wire. The mock runs as README installs it (``mockserver serve``, instant clock), and again with
``--server granian`` (``--no-granian`` leaves both granian servers out). All traffic stays on 127.0.0.1. Besides
req/s and p99, each server's CPU time per request (the process and its children and threads, from ``/proc``) is
reported: on a machine shared with other work, throughput depends on the share of the core a server gets, its
CPU time per request much less.

    python bench/side_by_side.py [--duration 3] [--rounds 3] [--no-wiremock] [--no-granian] [--routes get,chat]
                                 [--compare-mock ../copy-of-main]   # another checkout's mock in the same rounds
                                 [--stored 10000]   # the read key's predictions before the rounds
                                 [--journal-off]    # also the mock with `--journal-size 0` (load tests)

Needs ``wrk`` (Debian: ``apt-get install wrk``) and ``taskset`` (util-linux). The default run takes about
ten minutes.
"""

from __future__ import annotations

import argparse
import contextlib
import datetime
import json
import os
import platform
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

ROOT = Path(__file__).resolve().parents[1]
READ_KEY = "sk-bench-read-0001"  # owns the stored predictions that GET and the list read
LOAD_KEY = "sk-bench-load-0001"  # creates and generates: funded and unthrottled, so no request is refused
RESULT_PREFIX = "BENCH_RESULT "
CHAT = {"model": "gpt-5", "messages": [{"role": "user", "content": "Say hello."}], "max_tokens": 16}
PREDICTION = {"model": "truefusion-pro", "input": {"prompt": "a fox in the snow"}}
GENERATION = {"model": "gpt-image-2", "type": "image", "params": {"prompt": "a fox in the snow"}}


@dataclass
class Route:
    """One measured request: which API, method, path (after set-up), body and key."""

    name: str
    api: str  # "skytells" | "gateai"
    method: str
    path: str
    body: dict[str, Any] | None = None
    key: str = LOAD_KEY
    headers: dict[str, str] = field(default_factory=dict)
    #: each request's body differs (``{n}`` in a string of the body becomes a per-request number), so no answer
    #: kept from an identical earlier request can serve it
    vary: bool = False

    def request_headers(self) -> dict[str, str]:
        auth = {"x-api-key": self.key} if self.api == "skytells" else {"authorization": f"Bearer {self.key}"}
        return {**auth, **({"content-type": "application/json"} if self.body is not None else {}), **self.headers}


def routes() -> list[Route]:
    """The measured routes; ``{prediction}`` and ``{task}`` are filled in by :func:`prepare_mock`."""
    return [
        Route("GET prediction", "skytells", "GET", "/v1/predictions/{prediction}", key=READ_KEY),
        Route("list page", "skytells", "GET", "/v1/predictions", key=READ_KEY),
        Route("POST create (instant)", "skytells", "POST", "/v1/predictions", PREDICTION),
        Route("POST create (instant), varied prompts", "skytells", "POST", "/v1/predictions",
              {**PREDICTION, "input": {"prompt": "a fox in the snow, take {n}"}}, vary=True),
        Route("chat, 16 tokens", "skytells", "POST", "/v1/chat/completions", CHAT),
        Route("chat, 16 tokens, varied prompts", "skytells", "POST", "/v1/chat/completions",
              {**CHAT, "messages": [{"role": "user", "content": "Say hello to visitor {n}."}]}, vary=True),
        Route("chat, streamed", "skytells", "POST", "/v1/chat/completions", {**CHAT, "stream": True},
              headers={"accept": "text/event-stream"}),
        Route("embeddings", "skytells", "POST", "/v1/embeddings", {"model": "deepbrain-router", "input": "a fox"}),
        Route("GateAI generate", "gateai", "POST", "/api/generate", GENERATION),
        Route("GateAI get", "gateai", "GET", "/get/{task}", key=READ_KEY),
    ]


def lua_script(route: Route) -> str:
    """A wrk script sending ``route``'s method, headers and body, and printing its figures as one JSON line."""
    lines = [f'wrk.method = "{route.method}"']
    if route.body is not None and route.vary:  # a counter per wrk thread, from a random start
        template = json.dumps(route.body).replace("%", "%%").replace("{n}", "%d")
        lines += ["math.randomseed(os.time())", "counter = math.random(1, 1000000000)",
                  "request = function()\n  counter = counter + 1\n"
                  f"  return wrk.format(nil, nil, nil, string.format([==[{template}]==], counter))\nend"]
    elif route.body is not None:
        lines.append(f"wrk.body = [==[{json.dumps(route.body)}]==]")
    lines += [f'wrk.headers["{name}"] = "{value}"' for name, value in route.request_headers().items()]
    fields = ", ".join(f'\\"{name}\\": %.0f' for name in
                       ("requests", "duration_us", "p50_us", "p99_us", "connect", "read", "write", "status",
                        "timeout"))
    lines.append("done = function(summary, latency, requests)\n"
                 f'  io.write(string.format("{RESULT_PREFIX}{{{fields}}}\\n", summary.requests, summary.duration,\n'
                 "    latency:percentile(50), latency:percentile(99), summary.errors.connect, summary.errors.read,\n"
                 "    summary.errors.write, summary.errors.status, summary.errors.timeout))\nend")
    return "\n".join(lines) + "\n"


def parse_wrk(output: str) -> dict[str, float]:
    """req/s, p50/p99 in ms and the error count from the output of a wrk run with :func:`lua_script`."""
    line = next((line for line in reversed(output.splitlines()) if line.startswith(RESULT_PREFIX)), None)
    if line is None:
        raise ValueError(f"no {RESULT_PREFIX.strip()} line in wrk's output: {output[-500:]!r}")
    raw = json.loads(line[len(RESULT_PREFIX):])
    seconds = raw["duration_us"] / 1e6
    errors = sum(raw[name] for name in ("connect", "read", "write", "status", "timeout"))
    return {"rps": raw["requests"] / seconds if seconds else 0.0, "p50_ms": raw["p50_us"] / 1000,
            "p99_ms": raw["p99_us"] / 1000, "errors": errors, "requests": raw["requests"]}


def median_result(runs: list[dict[str, float]]) -> dict[str, float]:
    """The median of each figure over the rounds (errors: their sum)."""
    merged = {name: statistics.median(run[name] for run in runs if name in run)
              for name in ("rps", "p50_ms", "p99_ms", "cpu_us") if any(name in run for run in runs)}
    return {**merged, "errors": sum(run["errors"] for run in runs), "rounds": len(runs)}


def sse_chunks(body: bytes, content_type: str) -> list[str]:
    """A captured body as the bare app should write it: one chunk, or one per server-sent event."""
    text = body.decode()
    if not content_type.startswith("text/event-stream"):
        return [text]
    return [event + "\n\n" for event in text.split("\n\n") if event]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_ready(url: str, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with contextlib.suppress(httpx.HTTPError):
            if httpx.get(url, timeout=1).status_code < 500:
                return
        time.sleep(0.2)
    raise RuntimeError(f"{url} did not come up")


def spawn(command: list[str], core: int, env: dict[str, str] | None = None,
          cwd: Path = ROOT) -> subprocess.Popen[bytes]:
    """``command`` pinned to ``core`` and run in ``cwd``, its output discarded."""
    return subprocess.Popen(["taskset", "-c", str(core), *command], cwd=cwd, env={**os.environ, **(env or {})},
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def stat_cpu_ticks(stat: str) -> tuple[int, int]:
    """(parent pid, user + system clock ticks) from the text of ``/proc/<pid>/stat``."""
    fields = stat[stat.rindex(")") + 2:].split()  # the command name may hold spaces and parentheses
    return int(fields[1]), int(fields[11]) + int(fields[12])


def cpu_seconds(root: int) -> float:
    """CPU time used so far by process ``root`` and its descendants (render workers, granian's worker)."""
    ticks: dict[int, tuple[int, int]] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            with contextlib.suppress(OSError, ValueError):
                ticks[int(entry.name)] = stat_cpu_ticks((entry / "stat").read_text())
    family, total = {root}, 0
    for pid in sorted(ticks):  # children have higher pids than their parents, short of pid wrap-around
        parent, used = ticks[pid]
        if pid in family or parent in family:
            family.add(pid)
            total += used
    return total / os.sysconf("SC_CLK_TCK")


def quiesce(servers: list[Server], idle_share: float = 0.05, window: float = 0.25, patience: float = 10.0) -> None:
    """Wait (at most ``patience`` seconds) until the servers together use under ``idle_share`` of a core: a JVM
    keeps compiling and collecting after its run, on the core the next server is measured on."""
    deadline = time.monotonic() + patience
    while time.monotonic() < deadline:
        before = sum(cpu_seconds(server.process.pid) for server in servers)
        time.sleep(window)
        if sum(cpu_seconds(server.process.pid) for server in servers) - before < idle_share * window:
            return


@dataclass
class Server:
    """A running server: its name, base URL per API, process."""

    name: str
    bases: dict[str, str]
    process: subprocess.Popen[bytes]

    def url(self, route: Route) -> str:
        return self.bases.get(route.api, self.bases.get("any", "")) + route.path

    def stop(self) -> None:
        self.process.terminate()
        try:
            self.process.wait(20)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(10)


def mock_command(sky: int, gate: int, server: str | None = None, extra: tuple[str, ...] = ()) -> list[str]:
    """``mockserver serve`` as the benches run it: seeded, on the instant clock, with the read key, warnings only;
    on its default server or on ``server`` (``--server``); ``extra``: more flags of ``serve``."""
    return [sys.executable, "-m", "mockserver.cli", "serve", "--skytells-port", str(sky), "--gateai-port", str(gate),
            "--api-key", READ_KEY, "--seed", "1", "--time-mode", "instant", "--log-level", "warning",
            *(["--server", server] if server else []), *extra]


def start_mock(core: int, root: Path = ROOT, name: str = "mock", server: str | None = None,
               extra: tuple[str, ...] = ()) -> Server:
    """The mock of the checkout at ``root`` (``python -m`` imports the package from its working directory), on
    its default server or on ``server`` (``--server``), with ``extra`` flags of ``serve``."""
    sky, gate = free_port(), free_port()
    process = spawn(mock_command(sky, gate, server, extra), core, cwd=root)
    server = Server(name, {"skytells": f"http://127.0.0.1:{sky}", "gateai": f"http://127.0.0.1:{gate}"}, process)
    wait_ready(server.bases["skytells"] + "/_mock/health")
    return server


def prepare_mock(mock: Server, measured: list[Route], stored: int = 20) -> None:
    """Fund the load key, store ``stored`` predictions and one generation of the read key; fill in the paths."""
    sky, gate = mock.bases["skytells"], mock.bases["gateai"]
    # Skytells sets no rate limit unless asked; GateAI's window (6 per 30 s by default) shrunk to 1 ms, as a
    # sliding window holds every hit inside it
    limits = {"concurrency": 10000, "requests_per_window": 1_000_000, "window_seconds": 0.001}
    httpx.post(sky + "/_mock/keys", json={"key": LOAD_KEY, "credits": 1e12, "daily_budget": 1e12,
                                          "limits": limits}).raise_for_status()
    ids = [httpx.post(sky + "/v1/predictions", json=PREDICTION, headers={"x-api-key": READ_KEY}).json()["id"]
           for _ in range(min(stored, 20))]
    fill(sky, stored - len(ids))
    task = httpx.post(gate + "/api/generate", json=GENERATION, headers={"authorization": f"Bearer {READ_KEY}"})
    task.raise_for_status()
    for route in measured:
        route.path = route.path.format(prediction=ids[0], task=task.json()["task_id"])


def fill(sky: str, count: int, threads: int = 4) -> None:
    """Store ``count`` more predictions of the read key (varied prompts), over a few connections at once."""
    if count <= 0:
        return

    def create(numbers: range) -> None:
        with httpx.Client(base_url=sky, headers={"x-api-key": READ_KEY}) as client:
            for number in numbers:
                body = {**PREDICTION, "input": {"prompt": f"a fox in the snow, stored {number}"}}
                client.post("/v1/predictions", json=body).raise_for_status()

    with ThreadPoolExecutor(threads) as pool:
        list(pool.map(create, [range(start, count, threads) for start in range(threads)]))


def capture(mock: Server, measured: list[Route]) -> list[dict[str, Any]]:
    """Each route's answer from the mock, as the bare app and WireMock replay it."""
    canned = []
    for route in measured:
        response = httpx.request(route.method, mock.url(route), json=route.body, headers=route.request_headers(),
                                 timeout=30)
        if response.status_code >= 400:
            raise RuntimeError(f"{route.name}: {response.status_code} {response.text[:300]}")
        content_type = response.headers["content-type"]
        canned.append({"method": route.method, "path": route.path, "status": response.status_code,
                       "content_type": content_type, "chunks": sse_chunks(response.content, content_type)})
    return canned


#: How each server stack runs the bare app: uvicorn + httptools + uvloop, or granian (its CLI, one worker).
BARE_COMMANDS = {
    "uvicorn": ["-m", "uvicorn", "bench.bare_app:app", "--http", "httptools", "--loop", "uvloop", "--no-access-log",
                "--lifespan", "off", "--log-level", "warning", "--port"],
    "granian": ["-m", "granian", "--interface", "asginl", "--loop", "uvloop", "--http", "1", "--no-ws",
                "--log-level", "warning", "--no-access-log", "bench.bare_app:app", "--port"],
}
BARE = "bare Starlette"


def bare_name(stack: str) -> str:
    """The bare app's name in the table: ``bare Starlette`` on uvicorn (the issue's baseline), else with its stack."""
    return BARE if stack == "uvicorn" else f"{BARE} ({stack})"


def start_bare(core: int, bodies: Path, stack: str = "uvicorn") -> Server:
    port = free_port()
    process = spawn([sys.executable, *BARE_COMMANDS[stack], str(port)], core,
                    env={"BENCH_BODIES": str(bodies), "PYTHONPATH": str(ROOT)})
    server = Server(bare_name(stack), {"any": f"http://127.0.0.1:{port}"}, process)
    wait_ready(server.bases["any"] + "/ready")
    return server


def wiremock_jar(directory: Path) -> Path | None:
    """The jar of the ``wiremock`` npm package in ``directory``, installed with npm when missing."""
    found = sorted(directory.glob("node_modules/wiremock/**/wiremock-standalone-*.jar"))
    if not found and shutil.which("npm"):
        directory.mkdir(parents=True, exist_ok=True)
        subprocess.run(["npm", "install", "--silent", "--prefix", str(directory), "wiremock@3"], check=True)
        found = sorted(directory.glob("node_modules/wiremock/**/wiremock-standalone-*.jar"))
    return found[-1] if found else None


def start_wiremock(core: int, jar: Path, canned: list[dict[str, Any]]) -> Server:
    port = free_port()
    process = spawn(["java", "-jar", str(jar), "--port", str(port), "--bind-address", "127.0.0.1",
                     "--disable-banner", "--no-request-journal", "--disable-request-logging"], core)
    server = Server(f"WireMock {jar.stem.rsplit('-', 1)[-1]}", {"any": f"http://127.0.0.1:{port}"}, process)
    wait_ready(server.bases["any"] + "/__admin/mappings")
    for entry in canned:
        stub = {"request": {"method": entry["method"], "url": entry["path"]},
                "response": {"status": entry["status"], "body": "".join(entry["chunks"]),
                             "headers": {"content-type": entry["content_type"]}}}
        httpx.post(server.bases["any"] + "/__admin/mappings", json=stub).raise_for_status()
    return server


def run_wrk(server: Server, route: Route, script: Path, args: argparse.Namespace,
            duration: float) -> dict[str, float]:
    """One wrk run against ``server``; adds the server's CPU time per request (robust on a busy machine)."""
    command = ["taskset", "-c", str(args.wrk_core), "wrk", "-t1", f"-c{args.connections}",
               f"-d{max(1, round(duration))}s", "--timeout", "10s", "-s", str(script), server.url(route)]
    before = cpu_seconds(server.process.pid)
    done = subprocess.run(command, capture_output=True, text=True, timeout=duration + 60, check=False)
    used = cpu_seconds(server.process.pid) - before
    result = parse_wrk(done.stdout + done.stderr)
    return {**result, "cpu_us": used * 1e6 / result["requests"] if result["requests"] else 0.0}


Runs = dict[tuple[str, str], list[dict[str, float]]]


def measure(servers: list[Server], measured: list[Route], args: argparse.Namespace, workdir: Path) -> Runs:
    """Warm every server on every route, then ``args.rounds`` rounds; every run's figures per (server, route)."""
    scripts = {}
    for index, route in enumerate(measured):
        scripts[route.name] = workdir / f"route{index}.lua"
        scripts[route.name].write_text(lua_script(route))
    for server in servers:
        for route in measured:
            run_wrk(server, route, scripts[route.name], args, args.warmup)
    runs: dict[tuple[str, str], list[dict[str, float]]] = {}
    for round_index in range(args.rounds):
        for route in measured:
            shift = round_index % len(servers)
            for server in servers[shift:] + servers[:shift]:
                quiesce(servers)
                result = run_wrk(server, route, scripts[route.name], args, args.duration)
                runs.setdefault((server.name, route.name), []).append(result)
        print(f"round {round_index + 1}/{args.rounds} done", file=sys.stderr)
    return runs


def paired_ratios(runs: Runs, first: str, second: str, measured: list[Route]) -> str:
    """Per route, ``first``'s CPU time per request over ``second``'s, round by round (both measured one after the
    other in each round): the median and range of those ratios, steadier than a ratio of medians when the machine's
    speed drifts between rounds."""
    lines = [f"CPU per request, {first} ÷ {second}, paired by round: median (range)"]
    for route in measured:
        ratios = sorted(a["cpu_us"] / b["cpu_us"] for a, b in zip(runs.get((first, route.name), []),
                                                                    runs.get((second, route.name), []), strict=False)
                        if a["cpu_us"] and b["cpu_us"])
        if ratios:
            lines.append(f"- {route.name}: {statistics.median(ratios):.3f} ({ratios[0]:.3f}-{ratios[-1]:.3f}, "
                         f"{len(ratios)} rounds)")
    return "\n".join(lines)


def machine() -> str:
    """The CPU model as lscpu names it, the number of cores and the load average."""
    model = platform.processor() or platform.machine()
    with contextlib.suppress(OSError, subprocess.SubprocessError):
        for line in subprocess.run(["lscpu"], capture_output=True, text=True, check=False).stdout.splitlines():
            if line.startswith("Model name:"):
                model = line.split(":", 1)[1].strip()
    load = ", ".join(f"{value:.2f}" for value in os.getloadavg())
    return f"{model}, {os.cpu_count()} cores, load average {load} at the end"


def stack() -> str:
    """The server stack the mock gets from this environment."""
    found = [name for name in ("httptools", "uvloop") if _importable(name)]
    return " + ".join(["uvicorn", *found]) if found else "uvicorn (h11, asyncio)"


def _importable(name: str) -> bool:
    with contextlib.suppress(ImportError):
        __import__(name)
        return True
    return False


def table(results: dict[tuple[str, str], dict[str, float]], servers: list[str], measured: list[Route],
          args: argparse.Namespace) -> str:
    """The markdown report: req/s, p99 and the ratios to bare Starlette (on uvicorn, and on the server's own
    stack, route by route), per route and server."""
    base_route = measured[0].name
    base = results.get((BARE, base_route), {}).get("rps")
    now = datetime.datetime.now(datetime.UTC).strftime("%Y-%m-%d %H:%M UTC")
    lines = [f"{now}; {machine()}; Python {platform.python_version()}; mock on {stack()}; "
             f"server on core {args.server_core}, wrk on core {args.wrk_core} (1 thread, {args.connections} "
             f"connections); median of {args.rounds} rounds of {args.duration:g} s", "",
             f"| route | server | req/s | p99 ms | × bare {base_route} | × bare, same route and stack | "
             "CPU µs/req | errors |",
             "|---|---|---:|---:|---:|---:|---:|---:|"]
    for route in measured:
        for server in servers:
            figures = results.get((server, route.name))
            if figures is None:
                continue
            rps, own_bare = figures["rps"], bare_of(server)
            same = results.get((own_bare, route.name), {}).get("rps")
            to_base = f"{rps / base:.2f}" if base else "–"
            to_same = f"{rps / same:.2f}" if same and server != own_bare else "–"
            lines.append(f"| {route.name} | {server} | {rps:,.0f} | {figures['p99_ms']:.1f} | {to_base} | "
                         f"{to_same} | {figures.get('cpu_us', 0):,.0f} | {figures['errors']:.0f} |")
    return "\n".join(lines)


def bare_of(server: str) -> str:
    """The bare app on ``server``'s stack: ``mock (granian)`` -> ``bare Starlette (granian)``."""
    return bare_name("granian") if server.endswith("(granian)") else BARE


def _arguments(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--duration", type=float, default=3.0, help="seconds per wrk run (default 3)")
    parser.add_argument("--rounds", type=int, default=3, help="rounds over every route and server (default 3)")
    parser.add_argument("--warmup", type=float, default=1.0, help="seconds of warm-up per route and server")
    parser.add_argument("--connections", type=int, default=50)
    parser.add_argument("--server-core", type=int, default=0)
    parser.add_argument("--wrk-core", type=int, default=1)
    parser.add_argument("--routes", help="comma-separated words; only routes whose name contains one")
    parser.add_argument("--no-wiremock", action="store_true", help="leave WireMock out even when Java is there")
    parser.add_argument("--no-granian", action="store_true",
                        help="leave out the mock and the bare app on granian (`serve --server granian`)")
    parser.add_argument("--wiremock-dir", type=Path, default=Path.home() / ".cache" / "mockserver-bench",
                        help="where npm installs the wiremock package (default ~/.cache/mockserver-bench)")
    parser.add_argument("--stored", type=int, default=20,
                        help="predictions the read key has before the rounds (default 20; the default retention "
                             "keeps up to 10,000 per key): GET and the list page read a store this full")
    parser.add_argument("--journal-off", action="store_true",
                        help="also measure the mock with no request journal (`serve --journal-size 0`), as "
                             "'mock (journal off)'")
    parser.add_argument("--json", type=Path, help="also write the medians here")
    parser.add_argument("--compare-mock", type=Path, metavar="CHECKOUT",
                        help="also measure the mock of another checkout (e.g. a copy of main before a change), in "
                             "the same rounds, as 'mock (<its directory name>)'")
    return parser.parse_args(argv)


@contextlib.contextmanager
def started(args: argparse.Namespace, workdir: Path, measured: list[Route]) -> Iterator[list[Server]]:
    """The mock (prepared), the bare app and WireMock, stopped on exit."""
    servers: list[Server] = []
    try:
        servers.append(start_mock(args.server_core))
        prepare_mock(servers[0], measured, args.stored)
        canned = capture(servers[0], measured)
        bodies = workdir / "bodies.json"
        ready = {"method": "GET", "path": "/ready", "status": 200, "content_type": "application/json", "chunks": ["{}"]}
        bodies.write_text(json.dumps([*canned, ready]))
        servers.insert(0, start_bare(args.server_core, bodies))
        if not args.no_granian:
            servers.insert(1, start_bare(args.server_core, bodies, "granian"))
            on_granian = start_mock(args.server_core, name="mock (granian)", server="granian")
            servers.append(on_granian)
            prepare_mock(on_granian, measured, args.stored)  # seeded alike: the same ids, the same paths
        if args.journal_off:  # seeded alike: the same ids, the same paths
            unjournaled = start_mock(args.server_core, name="mock (journal off)", extra=("--journal-size", "0"))
            servers.append(unjournaled)
            prepare_mock(unjournaled, measured, args.stored)
        jar = None if args.no_wiremock or not shutil.which("java") else wiremock_jar(args.wiremock_dir)
        if jar is not None:
            servers.append(start_wiremock(args.server_core, jar, canned))
        if args.compare_mock is not None:  # seeded alike, it stores the same ids, so the paths hold for it too
            other = start_mock(args.server_core, args.compare_mock.resolve(), f"mock ({args.compare_mock.name})")
            servers.append(other)
            prepare_mock(other, measured, args.stored)
            capture(other, measured)
        yield servers
    finally:
        for server in servers:
            server.stop()


def main(argv: list[str] | None = None) -> int:
    args = _arguments(argv)
    if not shutil.which("wrk") or not shutil.which("taskset"):
        print("side_by_side: needs wrk (apt-get install wrk) and taskset (util-linux)", file=sys.stderr)
        return 2
    measured = routes()
    if args.routes:
        words = [word.strip().lower() for word in args.routes.split(",")]
        measured = [measured[0]] + [r for r in measured[1:] if any(word in r.name.lower() for word in words)]
    with tempfile.TemporaryDirectory(prefix="bench-") as temp, started(args, Path(temp), measured) as servers:
        runs = measure(servers, measured, args, Path(temp))
    results = {pair: median_result(figures) for pair, figures in runs.items()}
    names = [server.name for server in servers]
    print(table(results, names, measured, args))
    if args.compare_mock is not None:
        print("\n" + paired_ratios(runs, "mock", names[-1], measured))
    if args.json:
        args.json.write_text(json.dumps({f"{server} | {route}": figures
                                         for (server, route), figures in results.items()}, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
