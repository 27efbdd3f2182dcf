"""Heavy outputs and heavy traffic against a mock server process: latency of the other port, and memory.

Reports (nothing is asserted; targets from issue 12):

1. the worst latency of ``GET /_mock/health`` on the GateAI port while five 8192x8192 images are
   listed and downloaded (rendered) on the Skytells port -- target < 50 ms;
2. the same while 200 SSE status streams finish after one clock advance, and how long they took;
3. the server's RSS while ``--creates`` predictions are created (default 100,000) -- target: flat once
   the per-key budget (``--max-key-bytes``) is reached;
4. the RSS while ``--uploads`` x 4 MB files are uploaded to GateAI (default 200) -- target: flat.

The server runs as a subprocess on free loopback ports in manual time; every loop is bounded. The
health probe runs in its own process, so the load generator's own work never counts; an idle-server
row first gives the machine's noise floor.

    python bench/hostile_resources.py [--creates 100000] [--uploads 200] [--streams 200]
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import multiprocessing
import os
import socket
import subprocess
import sys
import time
from collections.abc import AsyncIterator, Awaitable
from pathlib import Path
from typing import Any

import httpx

ROOT = Path(__file__).resolve().parents[1]
KEY = "sk-bench-resources-0001"
HEADERS = {"x-api-key": KEY}


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def rss_mib(pid: int) -> float:
    """Resident memory of ``pid`` in MiB (Linux /proc)."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def children_rss_mib(pid: int) -> float:
    """Resident memory of ``pid``'s child processes (the render workers) in MiB."""
    total = 0.0
    for task in Path(f"/proc/{pid}/task").iterdir():
        for child in (task / "children").read_text().split():
            with contextlib.suppress(OSError):
                total += rss_mib(int(child))
    return total


class Server:
    """``mockserver serve`` in a subprocess, manual time."""

    def __init__(self, extra: list[str]) -> None:
        self.skytells_port, self.gateai_port = free_port(), free_port()
        command = [sys.executable, "-m", "mockserver.cli", "serve", "--skytells-port", str(self.skytells_port),
                   "--gateai-port", str(self.gateai_port), "--api-key", KEY, "--time-mode", "manual",
                   "--log-level", "warning", *extra]
        env = {**os.environ, "PYTHONPATH": str(ROOT)}
        self.process = subprocess.Popen(command, cwd=ROOT, env=env, stdout=subprocess.DEVNULL)
        self.base = f"http://127.0.0.1:{self.skytells_port}/v1"
        self.control = f"http://127.0.0.1:{self.skytells_port}/_mock"
        self.gateai = f"http://127.0.0.1:{self.gateai_port}"
        for _ in range(300):
            with contextlib.suppress(httpx.HTTPError):
                if httpx.get(self.gateai + "/_mock/health", timeout=1).status_code == 200:
                    return
            time.sleep(0.1)
        raise RuntimeError("the server did not start")

    def advance(self, seconds: float) -> None:
        httpx.post(self.control + "/clock/advance", json={"seconds": seconds}, timeout=120).raise_for_status()

    def close(self) -> None:
        self.process.terminate()
        self.process.wait(30)


def _probe(url: str, stop: Any, results: Any) -> None:
    """In its own process (so the load generator's work never counts): GET ``url`` back to back."""
    latencies: list[float] = []
    with httpx.Client(timeout=60) as client:
        while not stop.is_set():
            began = time.perf_counter()
            client.get(url).raise_for_status()
            latencies.append((time.perf_counter() - began) * 1000)
            time.sleep(0.005)
    results.put(latencies)


@contextlib.asynccontextmanager
async def probing(url: str) -> AsyncIterator[list[float]]:
    """Probe ``url`` from another process while the body runs; the list holds the latencies (ms) after."""
    context = multiprocessing.get_context("spawn")
    stop, results = context.Event(), context.Queue()
    process = context.Process(target=_probe, args=(url, stop, results), daemon=True)
    process.start()
    latencies: list[float] = []
    await asyncio.to_thread(_first_probe, url)
    try:
        yield latencies
    finally:
        stop.set()
        latencies.extend(await asyncio.to_thread(results.get, True, 60))
        process.join(10)


def _first_probe(url: str) -> None:
    """Return once the prober is surely running (its first request reaches the server)."""
    time.sleep(1.0)  # the spawned prober imports httpx and connects: give it a head start
    httpx.get(url, timeout=10).raise_for_status()


async def timed(awaitable: Awaitable[Any]) -> tuple[Any, float]:
    began = time.perf_counter()
    result = await awaitable
    return result, time.perf_counter() - began


async def idle(server: Server, seconds: float = 3.0) -> dict[str, float]:
    """The floor: the same probe against an idle server (this machine's scheduling noise)."""
    async with probing(server.gateai + "/_mock/health") as latencies:
        await asyncio.sleep(seconds)
    return spread(latencies)


def spread(latencies: list[float]) -> dict[str, float]:
    ordered = sorted(latencies)
    return {"worst_health_ms": ordered[-1], "p50_ms": ordered[len(ordered) // 2],
            "p99_ms": ordered[max(0, int(len(ordered) * 0.99) - 1)], "probes": len(ordered)}


def describe(figures: dict[str, float]) -> str:
    return (f"/_mock/health on the other port: worst {figures['worst_health_ms']:.1f} ms, p99 {figures['p99_ms']:.1f}, "
            f"median {figures['p50_ms']:.1f} ({figures['probes']:.0f} probes)")


async def huge_images(server: Server) -> dict[str, float]:
    async with httpx.AsyncClient(base_url=server.base, headers=HEADERS, timeout=600) as http:
        body = {"model": "truefusion-pano", "input": {"prompt": "huge", "width": 8192, "height": 8192}}
        for _ in range(5):
            (await http.post("/predictions", json=body)).raise_for_status()
        server.advance(3600)
        async with probing(server.gateai + "/_mock/health") as latencies:
            listed = (await http.get("/predictions", params={"per_page": 5})).json()["data"]
            urls = [entry["url"] for p in listed for entry in p["metadata"]["storage"]["files"]]
            sizes, seconds = await timed(asyncio.gather(*(http.get(url) for url in urls)))
        return {"files": len(urls), "mib": sum(len(r.content) for r in sizes) / 2**20, "seconds": seconds,
                **spread(latencies)}


async def streams(server: Server, count: int) -> dict[str, float]:
    limits = httpx.Limits(max_connections=count + 10)
    async with httpx.AsyncClient(base_url=server.base, headers=HEADERS, timeout=600, limits=limits) as http:
        body = {"model": "truefusion-pro", "input": {"prompt": "stream"}}
        ids = [(await http.post("/predictions", json=body)).json()["id"] for _ in range(count)]
        opened = asyncio.Semaphore(0)

        async def follow(pid: str) -> int:
            events = 0
            headers = {"accept": "text/event-stream"}
            async with http.stream("GET", f"/predictions/{pid}/stream", headers=headers) as response:
                async for line in response.aiter_lines():
                    if line.startswith("event:"):
                        events += 1
                        if events == 1:
                            opened.release()
            return events

        tasks = [asyncio.create_task(follow(pid)) for pid in ids]
        for _ in ids:
            await asyncio.wait_for(opened.acquire(), 120)
        async with probing(server.gateai + "/_mock/health") as latencies:
            began = time.perf_counter()
            await asyncio.to_thread(server.advance, 3600)
            events = await asyncio.gather(*tasks)
            seconds = time.perf_counter() - began
        return {"streams": count, "events": sum(events), "seconds": seconds, **spread(latencies)}


async def creates(server: Server, count: int, concurrency: int = 32) -> list[tuple[int, float, float]]:
    samples = [(0, rss_mib(server.process.pid), children_rss_mib(server.process.pid))]
    retried: list[int] = []
    step = max(count // 5, 1)
    done = 0
    limits = httpx.Limits(max_connections=concurrency)
    async with httpx.AsyncClient(base_url=server.base, headers=HEADERS, timeout=60, limits=limits) as http:
        body = {"model": "truefusion-edge", "input": {"prompt": "a small fox, " * 8}}

        async def worker(n: int) -> None:
            nonlocal done
            for _ in range(n):
                for attempt in range(3):  # a kept-alive connection the server closed meanwhile: once more
                    try:
                        (await http.post("/predictions", json=body)).raise_for_status()
                        break
                    except httpx.TransportError:
                        if attempt == 2:
                            raise
                        retried.append(1)
                done += 1

        while done < count:
            batch = min(step, count - done)
            await asyncio.gather(*(worker(batch // concurrency + (i < batch % concurrency))
                                   for i in range(concurrency)))
            samples.append((done, rss_mib(server.process.pid), children_rss_mib(server.process.pid)))
    if retried:
        print(f"  ({len(retried)} creates retried after a transport error)")
    return samples


async def uploads(server: Server, count: int, size: int = 4 * 2**20) -> list[tuple[int, float]]:
    payload = b"ID3\x04\x00\x00\x00\x00\x00\x00" + b"\0" * (size - 10)  # sniffed as audio
    samples = [(0, rss_mib(server.process.pid))]
    headers = {"authorization": f"Bearer {KEY}"}
    async with httpx.AsyncClient(base_url=server.gateai, headers=headers, timeout=60) as http:
        for n in range(1, count + 1):
            files = {"file": ("clip.mp3", payload, "audio/mpeg")}
            (await http.post("/api/upload", files=files)).raise_for_status()
            if n % max(count // 5, 1) == 0:
                samples.append((n, rss_mib(server.process.pid)))
    return samples


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--creates", type=int, default=100_000)
    parser.add_argument("--uploads", type=int, default=200)
    parser.add_argument("--streams", type=int, default=200)
    parser.add_argument("--max-key-bytes", type=int, default=32 * 2**20)
    args = parser.parse_args()

    server = Server([])
    try:
        floor = asyncio.run(idle(server))
        print(f"idle server (load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs): {describe(floor)}")
        images = asyncio.run(huge_images(server))
        print(f"5 x 8192x8192 listed + downloaded: {images['files']} files, {images['mib']:.0f} MiB in "
              f"{images['seconds']:.1f} s; {describe(images)}")
        finished = asyncio.run(streams(server, args.streams))
        print(f"{finished['streams']} SSE streams finished after one advance in {finished['seconds']:.2f} s "
              f"({finished['events']} events); {describe(finished)}")
    finally:
        server.close()

    budget = ["--max-records", "none", "--max-key-bytes", str(args.max_key_bytes), "--credits", "1000000000"]
    server = Server(budget)
    try:
        print(f"RSS during {args.creates} creates (max_key_bytes {args.max_key_bytes / 2**20:.0f} MiB, "
              "max_records unbounded):")
        for done, rss, workers in asyncio.run(creates(server, args.creates)):
            print(f"  {done:>7} creates: server {rss:7.1f} MiB, render workers {workers:6.1f} MiB")
        print(f"RSS during {args.uploads} x 4 MiB uploads:")
        for done, rss in asyncio.run(uploads(server, args.uploads)):
            print(f"  {done:>7} uploads: server {rss:7.1f} MiB")
    finally:
        server.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
