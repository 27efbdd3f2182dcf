"""Ids across resets, file caching, log levels and shutdown (issue 12, item 8).

* an unseeded server never reuses an id (so a file URL never names other bytes) and serves files as
  immutable; a seeded server repeats its ids after a reset (reproducible runs) and so serves files with
  ``no-cache`` and an ``ETag`` (the recipe's digest) instead;
* ``--log-level trace`` starts; an unknown level is refused as a bad setting;
* on SIGTERM an ``await: true`` create answers with the prediction as it is and a status stream ends
  with a final ``error`` event, within the grace period, instead of being cut.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
from concurrent.futures import ThreadPoolExecutor

import httpx
import pytest

from mockserver.core.randomness import Randomness
from mockserver.server import ServerThread
from mockserver.settings import Settings
from tests.conftest import KEY, make_settings


def test_unseeded_ids_never_repeat_after_a_reset_seeded_ones_do() -> None:
    unseeded, seeded = Randomness(None), Randomness(5)
    before = [unseeded.uuid4("prediction"), seeded.uuid4("prediction")]
    unseeded.reset()
    seeded.reset()
    assert unseeded.uuid4("prediction") != before[0]
    assert seeded.uuid4("prediction") == before[1]


@pytest.mark.parametrize("seed", [None, 7])
def test_file_urls_and_their_caching(seed: int | None) -> None:
    with ServerThread(make_settings(seed=seed, time_mode="instant")) as server, \
            httpx.Client(base_url=server.urls["skytells"], headers={"x-api-key": KEY}) as http:
        def first_file() -> dict:
            body = {"model": "truefusion-edge", "input": {"prompt": "a fox"}}
            return http.post("/predictions", json=body).json()["metadata"]["storage"]["files"][0]

        before = first_file()
        server.runtime.reset()
        after = first_file()
        head = httpx.head(after["url"])
        assert head.status_code == 200 and head.headers["etag"]
        if seed is None:
            assert after["url"] != before["url"]
            assert "immutable" in head.headers["cache-control"]
        else:
            assert after["url"] == before["url"]  # reproducible, so the URL must be revalidated
            assert "no-cache" in head.headers["cache-control"] and "immutable" not in head.headers["cache-control"]
        again = httpx.get(after["url"], headers={"if-none-match": head.headers["etag"]})
        assert again.status_code == 304


def test_log_levels_are_validated_and_trace_is_one() -> None:
    assert Settings(log_level="trace").log_level == "trace"
    with pytest.raises(ValueError, match="log_level"):
        Settings(log_level="loud")


def _start(*args: str) -> tuple[subprocess.Popen[str], dict[str, str]]:
    process = subprocess.Popen(
        [sys.executable, "-m", "mockserver.cli", "serve", "--skytells-port", "0", "--gateai-port", "0",
         "--api-key", KEY, "--time-mode", "manual", "--render-threads", *args],
        stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True, env={**os.environ, "PYTHONUNBUFFERED": "1"})
    urls: dict[str, str] = {}
    assert process.stdout is not None
    for line in process.stdout:
        if "API base URL" in line:
            name = "skytells" if "Skytells" in line else "gateai"
            urls[name] = line.split(": ", 1)[1].strip()
        if len(urls) == 2:
            break
    assert len(urls) == 2, "the server did not start"
    return process, urls


def _stream(url: str, started: threading.Event) -> list[str]:
    events = []
    headers = {"x-api-key": KEY, "accept": "text/event-stream"}
    with httpx.stream("GET", url, headers=headers, timeout=60) as response:
        for line in response.iter_lines():
            if line.startswith("event:"):
                events.append(line.split(":", 1)[1].strip())
                started.set()
    return events


@pytest.mark.parametrize("http_server", ["uvicorn", "granian"])
def test_sigterm_drains_streams_and_awaited_creates(http_server: str) -> None:
    process, urls = _start("--log-level", "trace", "--shutdown-grace", "10", "--server", http_server)
    try:
        base = urls["skytells"]
        with httpx.Client(base_url=base, headers={"x-api-key": KEY}, timeout=60) as http, ThreadPoolExecutor(2) as pool:
            body = {"model": "truefusion-pro", "input": {"prompt": "a fox"}}
            pid = http.post("/predictions", json=body).json()["id"]
            started = threading.Event()
            stream = pool.submit(_stream, f"{base}/predictions/{pid}/stream", started)
            waiting = pool.submit(http.post, "/predictions", json={**body, "await": True})
            for _ in range(2000):  # the awaited create is stored (and waiting) once the list shows it
                if http.get("/predictions").json()["pagination"]["total"] == 2:
                    break
            assert started.wait(30)  # the stream is open and has sent its first event
            process.send_signal(signal.SIGTERM)
            answered = waiting.result(60)
            events = stream.result(60)
        assert answered.status_code in (200, 201), answered.text
        assert answered.json()["status"] in ("pending", "starting", "processing")
        assert events[0] == "prediction" and events[-1] == "error"
        assert process.wait(60) in (0, -signal.SIGTERM)  # uvicorn re-raises the signal it caught once done
    finally:
        if process.poll() is None:
            process.kill()
            process.wait(10)

