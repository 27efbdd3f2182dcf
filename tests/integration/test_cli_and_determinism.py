"""The ``mockserver serve`` command as a user runs it, and seeded reproducibility across runs."""

from __future__ import annotations

import contextlib
import hashlib
import os
import re
import subprocess
import sys
from collections.abc import Iterator

import httpx

from mockserver.server import ServerThread
from mockserver.settings import DEFAULT_API_KEY
from tests.conftest import KEY, make_settings
from tests.serve_banner import banner


def test_serve_starts_on_embedded_defaults_and_announces_key_and_urls(tmp_path) -> None:
    env = {**os.environ, "MOCKSERVER_SEED": "3"}
    command = [sys.executable, "-m", "mockserver.cli", "serve", "--skytells-port", "0", "--gateai-port", "0",
               "--time-mode", "instant"]
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env=env)
    try:
        text = banner(process)
        assert DEFAULT_API_KEY in text and "seed 3" in text
        control = re.search(r"control plane +: (\S+) \(loopback callers only\)", text)
        assert control and httpx.get(control.group(1) + "/clock", timeout=10).json()["mode"] == "instant"
        base = re.search(r"Skytells API base URL : (\S+)", text).group(1)  # type: ignore[union-attr]
        assert base.endswith("/v1")
        models = httpx.get(base + "/models", headers={"x-api-key": DEFAULT_API_KEY}, timeout=10)
        assert models.status_code == 200 and len(models.json()) == 39
        done = httpx.post(base + "/predictions", headers={"x-api-key": DEFAULT_API_KEY}, timeout=10,
                          json={"model": "truefusion", "input": {"prompt": "cli"}}).json()
        assert done["status"] == "succeeded"
    finally:
        process.terminate()
        process.wait(10)


def test_bad_flags_exit_with_a_message() -> None:
    result = subprocess.run([sys.executable, "-m", "mockserver.cli", "serve", "--time-mode", "warp"],
                            capture_output=True, text=True, timeout=30)
    assert result.returncode == 2 and "time_mode" in result.stderr


def test_single_port_mode_mounts_both_prefixes() -> None:
    with ServerThread(make_settings(single_port=True)) as server:
        base = server.urls["skytells"]
        assert "/skytells/v1" in base
        created = httpx.post(base + "/predictions", headers={"x-api-key": KEY},
                             json={"model": "truefusion", "input": {"prompt": "x"}}).json()
        assert created["urls"]["get"].startswith(base + "/predictions/")
        assert httpx.get(created["urls"]["get"], headers={"x-api-key": KEY}).status_code == 200
        missing = httpx.get(base + "/nothing-here", headers={"x-api-key": KEY})
        assert missing.status_code == 404 and missing.json()["error_id"] == "NOT_FOUND"


def _session(seed: int) -> list[object]:
    """A fixed sequence of requests; returns everything a seed should pin down."""
    observed: list[object] = []
    with ServerThread(make_settings(seed=seed)) as server:
        base, clock = server.urls["skytells"], server.runtime.clock
        client = httpx.Client(base_url=base, headers={"x-api-key": KEY})
        for model, given in [("truefusion-pro", {"prompt": "fox", "num_outputs": 2}),
                             ("beatfusion-2.0", {"lyrics": "[verse] hey"}), ("veo-3.1-fast", {"prompt": "sea"})]:
            observed.append(client.post("/predictions", json={"model": model, "input": given}).json()["id"])
        clock.advance(3600)
        for prediction in client.get("/predictions").json()["data"]:
            files = [{k: v for k, v in f.items() if k != "url"} for f in prediction["metadata"]["storage"]["files"]]
            observed.append((prediction["id"], prediction["metrics"], prediction["started_at"],
                             prediction["completed_at"], files))
            urls = prediction["output"] if isinstance(prediction["output"], list) else [prediction["output"]]
            for url in urls:
                observed.append(hashlib.sha256(httpx.get(url).content).hexdigest())
    return observed


def test_same_seed_same_ids_timings_and_bytes() -> None:
    first, second = _session(99), _session(99)
    assert first == second
    assert _session(100)[:3] != first[:3]


def test_listening_sockets_are_tcp_so_connections_get_nodelay() -> None:
    import socket

    with ServerThread(make_settings()) as server:
        assert all(listener.sock.proto == socket.IPPROTO_TCP for listener in server.plan.listeners)


def test_serve_beyond_loopback_prints_the_admin_token_it_made() -> None:
    command = [sys.executable, "-m", "mockserver.cli", "serve", "--skytells-port", "0", "--gateai-port", "0",
               "--host", "0.0.0.0"]
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        line = next(line for line in process.stdout if "control plane" in line)  # type: ignore[union-attr]
        url, token = re.search(r": (\S+) \(X-Mock-Admin-Token: (\S+)\)", line).groups()  # type: ignore[union-attr]
        url = url.replace("0.0.0.0", "127.0.0.1")
        assert httpx.get(url + "/clock", timeout=10).status_code == 401
        assert httpx.get(url + "/clock", headers={"X-Mock-Admin-Token": token}, timeout=10).status_code == 200
    finally:
        process.terminate()
        process.wait(10)


@contextlib.contextmanager
def serving(*flags: str) -> Iterator[tuple[str, str, subprocess.Popen[str]]]:
    """``mockserver serve`` on free ports (instant clock) with ``flags``, once announced: its banner, its Skytells
    base URL and the process, terminated on leaving (its output left to read)."""
    command = [sys.executable, "-m", "mockserver.cli", "serve", "--skytells-port", "0", "--gateai-port", "0",
               "--time-mode", "instant", *flags]
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        text = banner(process)
        yield text, re.search(r"Skytells API base URL : (\S+)", text).group(1), process  # type: ignore[union-attr]
    finally:
        process.terminate()


def create(base: str, prompt: str) -> httpx.Response:
    return httpx.post(base + "/predictions", headers={"x-api-key": DEFAULT_API_KEY}, timeout=10,
                      json={"model": "truefusion", "input": {"prompt": prompt}})  # no retry: announced, listening


def test_serve_on_granian_answers_once_announced_and_stops_cleanly_on_sigterm() -> None:
    with serving("--server", "granian") as (text, base, process):
        assert "HTTP server           : granian (no reset / empty faults: --server uvicorn has them)" in text
        answer = create(base, "granian")
        assert answer.status_code == 201 and answer.headers["server"] == "granian"
    output = process.communicate(timeout=20)[0]
    assert process.returncode == 0 and "Traceback" not in output, output


def test_serve_without_a_journal_says_so_serves_and_refuses_journal_reads() -> None:
    with serving("--journal-size", "0") as (text, base, process):
        assert "request journal       : off (--journal-size 0" in text
        assert create(base, "no journal").status_code == 201
        refused = httpx.get(base.removesuffix("/v1") + "/_mock/requests", timeout=10)
        assert refused.status_code == 409 and refused.json()["error"]["code"] == "JOURNAL_OFF"
    process.wait(10)
