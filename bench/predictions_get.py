"""Throughput and p99 latency of ``GET /v1/predictions/{id}`` against a bare Starlette hello-world.

Both servers run as separate processes under uvicorn with the same settings (one worker, no
access log, the same event loop and HTTP implementation); the same load generator (this
process, asyncio + httpx, fixed concurrency and request count) measures each in the same run.
The figure that matters is the ratio, since these machines are noisy.

    python bench/predictions_get.py [--requests 4000] [--concurrency 16]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import socket
import statistics
import subprocess
import sys
import time
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parents[1]
KEY = "sk-bench-0000"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_ready(url: str, headers: dict[str, str]) -> None:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            if httpx.get(url, headers=headers, timeout=1).status_code < 500:
                return
        except httpx.HTTPError:
            time.sleep(0.1)
    raise RuntimeError(f"{url} did not come up")


async def load(url: str, headers: dict[str, str], requests: int, concurrency: int) -> dict[str, float]:
    latencies: list[float] = []
    limits = httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency)
    async with httpx.AsyncClient(headers=headers, limits=limits, timeout=30) as client:
        for _ in range(200):  # warm-up
            (await client.get(url)).raise_for_status()
        queue: asyncio.Queue[int] = asyncio.Queue()
        for index in range(requests):
            queue.put_nowait(index)

        async def worker() -> None:
            while True:
                try:
                    queue.get_nowait()
                except asyncio.QueueEmpty:
                    return
                start = time.perf_counter()
                response = await client.get(url)
                latencies.append(time.perf_counter() - start)
                response.raise_for_status()

        began = time.perf_counter()
        await asyncio.gather(*(worker() for _ in range(concurrency)))
        elapsed = time.perf_counter() - began
    latencies.sort()
    return {
        "rps": requests / elapsed,
        "p50_ms": statistics.median(latencies) * 1000,
        "p99_ms": latencies[int(len(latencies) * 0.99) - 1] * 1000,
    }


def start(command: list[str]) -> subprocess.Popen[bytes]:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    return subprocess.Popen(command, cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=4000)
    parser.add_argument("--concurrency", type=int, default=16)
    args = parser.parse_args()

    hello_port, mock_port, gateai_port = free_port(), free_port(), free_port()
    hello = start([sys.executable, "-m", "uvicorn", "bench.hello_app:app", "--port", str(hello_port),
                   "--log-level", "warning", "--no-access-log", "--lifespan", "off"])
    mock = start([sys.executable, "-m", "mockserver.cli", "serve", "--skytells-port", str(mock_port),
                  "--gateai-port", str(gateai_port), "--api-key", KEY, "--seed", "1", "--time-mode", "instant",
                  "--log-level", "warning"])
    try:
        headers = {"x-api-key": KEY}
        hello_url = f"http://127.0.0.1:{hello_port}/hello"
        base = f"http://127.0.0.1:{mock_port}/v1"
        wait_ready(hello_url, {})
        wait_ready(base + "/models", headers)
        created = httpx.post(base + "/predictions", headers=headers,
                             json={"model": "truefusion-pro", "input": {"prompt": "bench"}}).json()
        prediction_url = f"{base}/predictions/{created['id']}"
        results = {
            "baseline (Starlette hello-world)": asyncio.run(load(hello_url, {}, args.requests, args.concurrency)),
            "GET /v1/predictions/{id}": asyncio.run(load(prediction_url, headers, args.requests, args.concurrency)),
        }
    finally:
        for process in (hello, mock):
            process.terminate()
            process.wait(10)
    baseline, mock_result = results.values()
    for name, figures in results.items():
        rps, p50, p99 = figures["rps"], figures["p50_ms"], figures["p99_ms"]
        print(f"{name:34s} {rps:8.0f} req/s   p50 {p50:6.2f} ms   p99 {p99:6.2f} ms")
    ratio = {"throughput_ratio": mock_result["rps"] / baseline["rps"],
             "p99_ratio": mock_result["p99_ms"] / baseline["p99_ms"]}
    print(f"ratio: throughput {ratio['throughput_ratio']:.2f}x of baseline, p99 latency {ratio['p99_ratio']:.2f}x "
          f"of baseline ({args.requests} requests, concurrency {args.concurrency})")
    print(json.dumps({"requests": args.requests, "concurrency": args.concurrency, **results, **ratio}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
