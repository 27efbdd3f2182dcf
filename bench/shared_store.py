"""The shared store under ``wrk``: one process on the memory store, one process on Redis, ``--workers 2`` on Redis.

Measures GET prediction and POST create (instant clock) on each configuration with the helpers of
``bench/side_by_side.py`` (the same routes, keys, wrk script, 50 connections, CPU time per request from
``/proc``), against a ``redis-server`` this script starts on a free loopback port in a temp dir (no persistence).
Each Redis configuration gets a database of its own (``/0`` one process, ``/1`` the workers). Rounds alternate
between the configurations (their order rotating), and the table reports medians, the ratio
``--workers 2`` / one Redis-backed process per route, Redis's own CPU per request, and the Redis commands a
request sends (counted with ``MONITOR`` over sequential requests after the rounds; commands run inside a Lua
script are not counted, those queued in one pipeline or transaction are, one each).

Cores: nothing is pinned by default. The target compares what the mock does with the machine's cores, and on
a 2-core machine wrk, redis-server and the server processes must share them: pinning the single process to
one core and ``--workers 2`` to both would leave wrk and Redis competing with the workers only, and pinning
wrk or Redis to a core takes it from the workers. Unpinned, the scheduler gives one process a core of its own
(it can use no more) and the rest to wrk and Redis, and gives the two workers whatever wrk and Redis leave.
``--cores 0`` (a taskset list) pins everything to those cores instead. ``--unix``: the servers reach Redis
over its socket file rather than TCP on 127.0.0.1.

    python bench/shared_store.py [--duration 3] [--rounds 5] [--unix] [--json out.json]

Needs ``wrk``, ``taskset`` and ``redis-server`` (Debian: ``apt-get install wrk redis-server``). The default
run takes about three minutes.
"""

from __future__ import annotations

import argparse
import contextlib
import datetime
import json
import os
import platform
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import redis

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from bench import side_by_side as sbs

ROUTES = ("GET prediction", "POST create (instant)")
SINGLE_REDIS, WORKERS = "1 process, Redis", "--workers 2, Redis"


@dataclass
class Config:
    """One way of serving: its name and its ``mockserver serve`` arguments (``{url}``: the Redis database)."""

    name: str
    extra: tuple[str, ...]
    database: int | None = None


CONFIGS = (Config("1 process, memory", ()), Config(SINGLE_REDIS, ("--store", "{url}"), 0),
           Config(WORKERS, ("--store", "{url}", "--workers", "2"), 1))


@contextlib.contextmanager
def redis_server(folder: str, cores: str) -> Iterator[tuple[int, subprocess.Popen[bytes]]]:
    """A ``redis-server`` without persistence on a free loopback port; yields (port, process)."""
    port = sbs.free_port()
    process = sbs.spawn(["redis-server", "--port", str(port), "--bind", "127.0.0.1", "--dir", folder, "--save", "",
                         "--appendonly", "no", "--unixsocket", str(Path(folder) / "redis.sock"),
                         "--unixsocketperm", "700"], cores)  # type: ignore[arg-type]  (a taskset list)
    try:
        client = redis.Redis(port=port)
        deadline = time.monotonic() + 20
        while True:
            try:
                client.ping()
                break
            except redis.ConnectionError:
                if time.monotonic() > deadline:
                    raise RuntimeError("redis-server did not start") from None
                time.sleep(0.05)
        yield port, process
    finally:
        process.terminate()
        process.wait(10)


def start(config: Config, redis_port: int, cores: str, unix: str | None = None) -> sbs.Server:
    """``mockserver serve`` as ``config`` says (instant clock, seed 1), ready and prepared; on Redis over TCP, or
    over the socket file ``unix``."""
    sky, gate = sbs.free_port(), sbs.free_port()
    url = f"unix://{unix}?db={config.database}" if unix else f"redis://127.0.0.1:{redis_port}/{config.database}"
    command = [sys.executable, "-m", "mockserver.cli", "serve", "--skytells-port", str(sky), "--gateai-port",
               str(gate), "--api-key", sbs.READ_KEY, "--seed", "1", "--time-mode", "instant", "--log-level",
               "warning", *(part.format(url=url) for part in config.extra)]
    process = sbs.spawn(command, cores)  # type: ignore[arg-type]
    server = sbs.Server(config.name, {"skytells": f"http://127.0.0.1:{sky}", "gateai": f"http://127.0.0.1:{gate}"},
                        process)
    sbs.wait_ready(server.bases["skytells"] + "/_mock/health")
    return server


def measured_routes(server: sbs.Server) -> list[sbs.Route]:
    """The two routes, their paths filled in for ``server`` (each server stores its own predictions)."""
    chosen = [route for route in sbs.routes() if route.name in ROUTES]
    sbs.prepare_mock(server, chosen)
    return chosen


def commands_per_request(port: int, database: int, server: sbs.Server, route: sbs.Route, count: int = 50) -> float:
    """Redis commands ``route`` sends per request (``MONITOR``, script-internal commands left out)."""
    seen: list[dict[str, Any]] = []
    stopped = threading.Event()
    quiet(redis.Redis(port=port))
    with redis.Redis(port=port, db=database).monitor() as monitor:
        def watch() -> None:
            for command in monitor.listen():
                if stopped.is_set():
                    return
                if command.get("client_type") != "lua" and command.get("db") == database:
                    seen.append(command)

        thread = threading.Thread(target=watch, daemon=True)
        thread.start()
        time.sleep(0.3)
        with sbs.httpx.Client(timeout=30) as client:
            for _ in range(count):
                client.request(route.method, server.url(route), json=route.body,
                               headers=route.request_headers()).raise_for_status()
        time.sleep(0.5)
        stopped.set()
        redis.Redis(port=port).ping()  # one more line for the watcher to wake on
        thread.join(5)
    return len(seen) / count


def quiet(client: redis.Redis, timeout: float = 30) -> None:
    """Wait until Redis receives nothing but these checks for half a second (the last wrk run's backlog done)."""
    deadline, last = time.monotonic() + timeout, -1
    while time.monotonic() < deadline:
        count = int(client.info("stats")["total_commands_processed"])
        if count <= last + 1:  # (the INFO itself)
            return
        last = count
        time.sleep(0.5)


def measure(servers: dict[str, tuple[sbs.Server, list[sbs.Route]]], args: argparse.Namespace, workdir: Path,
            redis_pid: int) -> dict[tuple[str, str], dict[str, float]]:
    """Warm-up, then ``args.rounds`` rounds over both routes and every configuration (order rotating)."""
    names = list(servers)
    runs: dict[tuple[str, str], list[dict[str, float]]] = {}
    scripts: dict[tuple[str, str], Path] = {}
    for name, (_, chosen) in servers.items():
        for index, route in enumerate(chosen):
            scripts[name, route.name] = workdir / f"{names.index(name)}-{index}.lua"
            scripts[name, route.name].write_text(sbs.lua_script(route))
    for round_index in range(-1, args.rounds):  # round -1: the warm-up, not recorded
        for route_index, route_name in enumerate(ROUTES):
            shift = max(round_index, 0) % len(names)
            for name in names[shift:] + names[:shift]:
                server, chosen = servers[name]
                duration = args.warmup if round_index < 0 else args.duration
                redis_before = sbs.cpu_seconds(redis_pid)
                result = sbs.run_wrk(server, chosen[route_index], scripts[name, route_name], args, duration)
                redis_used = sbs.cpu_seconds(redis_pid) - redis_before
                if round_index >= 0:
                    result["redis_cpu_us"] = redis_used * 1e6 / result["requests"] if result["requests"] else 0.0
                    runs.setdefault((name, route_name), []).append(result)
        if round_index >= 0:
            print(f"round {round_index + 1}/{args.rounds} done", file=sys.stderr)
    results = {}
    for pair, found in runs.items():
        merged = sbs.median_result(found)
        redis_cpu = [run["redis_cpu_us"] for run in found]
        merged["redis_cpu_us"] = sorted(redis_cpu)[len(redis_cpu) // 2]
        results[pair] = merged
    return results


def table(results: dict[tuple[str, str], dict[str, float]], args: argparse.Namespace, loads: list[str]) -> str:
    """The markdown report: per route and configuration, with the workers / one Redis process ratio."""
    now = datetime.datetime.now(datetime.UTC).strftime("%Y-%m-%d %H:%M UTC")
    pinning = f"everything on cores {args.cores}" if args.cores else "nothing pinned"
    pinning += "; Redis over its socket file (unix://)" if args.unix else "; Redis over TCP on 127.0.0.1"
    lines = [f"{now}; {sbs.machine().rsplit(', load', 1)[0]}; load average {loads[0]} at the start, {loads[1]} at "
             f"the end; Python {platform.python_version()}, mock on {sbs.stack()}, Redis {redis_version()}; "
             f"{pinning}; wrk 1 thread, {args.connections} connections; median of {args.rounds} rounds of "
             f"{args.duration:g} s", "",
             "| route | configuration | req/s | p99 ms | server CPU µs/req | Redis CPU µs/req | Redis commands/req "
             "| errors |", "|---|---|---:|---:|---:|---:|---:|---:|"]
    for route in ROUTES:
        for config in CONFIGS:
            figures = results[config.name, route]
            on_redis = config.database is not None
            redis_cpu = f"{figures['redis_cpu_us']:,.0f}" if on_redis else "–"
            commands = f"{figures['commands']:.1f}" if "commands" in figures else "–"
            lines.append(f"| {route} | {config.name} | {figures['rps']:,.0f} | {figures['p99_ms']:.1f} | "
                         f"{figures['cpu_us']:,.0f} | {redis_cpu} | {commands} | {figures['errors']:.0f} |")
    lines.append("")
    for route in ROUTES:
        ratio = results[WORKERS, route]["rps"] / results[SINGLE_REDIS, route]["rps"]
        lines.append(f"- {route}: `--workers 2` / one Redis-backed process = **{ratio:.2f}×**")
    return "\n".join(lines)


def redis_version() -> str:
    found = subprocess.run(["redis-server", "--version"], capture_output=True, text=True, check=False).stdout
    return next((part.split("=", 1)[1] for part in found.split() if part.startswith("v=")), "?")


def _arguments(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--duration", type=float, default=3.0, help="seconds per wrk run (default 3)")
    parser.add_argument("--rounds", type=int, default=5, help="rounds over every route and configuration (default 5)")
    parser.add_argument("--warmup", type=float, default=1.0, help="seconds of warm-up per route and configuration")
    parser.add_argument("--connections", type=int, default=50)
    parser.add_argument("--cores", help="pin wrk, redis-server and the servers to these cores (taskset list)")
    parser.add_argument("--unix", action="store_true", help="the servers reach Redis over its socket file, not TCP")
    parser.add_argument("--json", type=Path, help="also write the medians here")
    args = parser.parse_args(argv)
    args.wrk_core = args.cores or ",".join(map(str, sorted(os.sched_getaffinity(0))))
    return args


def main(argv: list[str] | None = None) -> int:
    args = _arguments(argv)
    if not all(shutil.which(tool) for tool in ("wrk", "taskset", "redis-server")):
        print("shared_store: needs wrk, taskset and redis-server (apt-get install wrk redis-server)", file=sys.stderr)
        return 2
    cores, start_load = args.wrk_core, f"{os.getloadavg()[0]:.2f}"
    servers: dict[str, tuple[sbs.Server, list[sbs.Route]]] = {}
    with tempfile.TemporaryDirectory(prefix="bench-") as temp, redis_server(temp, cores) as (port, redis_process):
        try:
            for config in CONFIGS:
                server = start(config, port, cores, str(Path(temp) / "redis.sock") if args.unix else None)
                servers[config.name] = (server, measured_routes(server))
            results = measure(servers, args, Path(temp), redis_process.pid)
            for config in CONFIGS:
                if config.database is not None:
                    server, chosen = servers[config.name]
                    for route in chosen:
                        results[config.name, route.name]["commands"] = commands_per_request(
                            port, config.database, server, route)
        finally:
            for server, _ in servers.values():
                server.stop()
    loads = [start_load, f"{os.getloadavg()[0]:.2f}"]
    print(table(results, args, loads))
    if args.json:
        report: dict[str, Any] = {f"{config} | {route}": figures for (config, route), figures in results.items()}
        for route in ROUTES:
            report[f"{WORKERS} / {SINGLE_REDIS} | {route}"] = {
                "rps_ratio": results[WORKERS, route]["rps"] / results[SINGLE_REDIS, route]["rps"]}
        report["run"] = {"load_average": loads, "cores": args.cores or "unpinned", "unix": args.unix,
                         "rounds": args.rounds, "duration": args.duration, "connections": args.connections}
        args.json.write_text(json.dumps(report, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
