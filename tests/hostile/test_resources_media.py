"""Media rendering off the event loop (issue 12, item 4).

* every output file's size is declared by its recipe and the rendered bytes have exactly that length,
  still decoding as the format they claim (padding is format-legal);
* a create, a GET and a list of finished predictions render nothing; a ``HEAD`` of a file neither;
* while a render is in flight (a renderer blocked on an event) both ports keep answering.
"""

from __future__ import annotations

import io
import threading
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import av
import httpx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from PIL import Image

from mockserver.core import media
from mockserver.server import ServerThread
from tests.conftest import KEY, make_settings

# -- sizes known without rendering ------------------------------------------------------------------------

_IMAGE = st.builds(media.MediaSpec, format=st.sampled_from(["jpg", "png", "webp"]),
                   width=st.integers(1, 300), height=st.integers(1, 300), quality=st.integers(1, 100),
                   seed=st.integers(0, 2**31 - 1), label=st.text(max_size=40))


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(_IMAGE)
def test_an_image_has_its_declared_size_and_still_decodes(spec: media.MediaSpec) -> None:
    data = media.render(spec)
    assert len(data) == media.declared_size(spec)
    with Image.open(io.BytesIO(data)) as image:
        image.load()
        assert image.size == (spec.width, spec.height)


@pytest.mark.parametrize("spec", [
    media.MediaSpec("mp4", width=320, height=180, seconds=1.0, fps=8, seed=3, label="fox"),
    media.MediaSpec("mp3", seconds=1.5, sample_rate=22050, bitrate=64000, seed=4),
    media.MediaSpec("wav", seconds=0.5, sample_rate=16000, seed=5),
    media.MediaSpec("pcm", seconds=0.5, sample_rate=16000, seed=5),
    media.MediaSpec("glb", seed=6, label="cube"),
])
def test_audio_video_and_meshes_have_their_declared_size(spec: media.MediaSpec) -> None:
    data = media.render(spec)
    assert len(data) == media.declared_size(spec)
    if spec.format in ("mp4", "mp3"):
        with av.open(io.BytesIO(data)) as container:
            assert sum(1 for _ in container.decode(container.streams[0])) > 0


def test_an_encoding_over_its_bound_falls_back_to_a_smaller_one(monkeypatch: pytest.MonkeyPatch) -> None:
    spec = media.MediaSpec("jpg", width=64, height=64, quality=100, seed=1)
    media.clear_cache()
    monkeypatch.setattr("mockserver.core.media.size.declared_size", lambda _spec: len(media.encode(spec, 1)) + 4)
    data = media.render(spec)
    assert len(data) == len(media.encode(spec, 1)) + 4
    with Image.open(io.BytesIO(data)) as image:
        image.load()
    media.clear_cache()


# -- nothing renders during create / GET / list ----------------------------------------------------------


class CountingRenderer:
    """A renderer that counts its calls, and can be held on an event to keep a render in flight."""

    def __init__(self, hold: bool = False) -> None:
        self.calls: list[media.MediaSpec] = []
        self.entered = threading.Event()
        self.release = threading.Event()
        if not hold:
            self.release.set()

    def __call__(self, spec: media.MediaSpec) -> bytes:
        self.calls.append(spec)
        self.entered.set()
        assert self.release.wait(30)
        return media.render(spec)


@pytest.fixture
def counting() -> Iterator[tuple[ServerThread, CountingRenderer]]:
    renderer = CountingRenderer(hold=True)
    server = ServerThread(make_settings(time_mode="instant"))
    pool = server.runtime.renders  # the pool the file routes use, rendering in a thread through the test's renderer
    pool.processes, pool.renderer = False, renderer
    with server:
        yield server, renderer
        renderer.release.set()


def _api(server: ServerThread) -> httpx.Client:
    return httpx.Client(base_url=server.urls["skytells"], headers={"x-api-key": KEY}, timeout=30)


def test_create_get_and_list_render_nothing(counting: tuple[ServerThread, CountingRenderer],
                                            monkeypatch: pytest.MonkeyPatch) -> None:
    server, renderer = counting
    media.clear_cache()
    encoded: list[media.MediaSpec] = []
    monkeypatch.setattr(media.rendering, "encode", lambda spec, effort=0: encoded.append(spec) or b"")
    with _api(server) as http:
        created = http.post("/predictions", json={"model": "truefusion-edge", "input": {"prompt": "a fox"}})
        assert created.status_code == 201 and created.json()["status"] == "succeeded"
        pid = created.json()["id"]
        files = http.get(f"/predictions/{pid}").json()["metadata"]["storage"]["files"]
        assert http.get("/predictions").json()["data"][0]["id"] == pid
        assert files and all(isinstance(entry["size"], int) and entry["size"] > 0 for entry in files)
        head = httpx.head(files[0]["url"])
        assert head.status_code == 200 and int(head.headers["content-length"]) == files[0]["size"]
    assert renderer.calls == [] and encoded == []  # sizes came from the recipes: nothing was encoded


def test_both_ports_answer_while_a_render_is_in_flight(counting: tuple[ServerThread, CountingRenderer]) -> None:
    server, renderer = counting
    media.clear_cache()
    with _api(server) as http, ThreadPoolExecutor(1) as pool:
        pid = http.post("/predictions", json={"model": "truefusion-edge", "input": {"prompt": "a fox"}}).json()["id"]
        entry = http.get(f"/predictions/{pid}").json()["metadata"]["storage"]["files"][0]
        download = pool.submit(httpx.get, entry["url"], timeout=30)
        assert renderer.entered.wait(30)  # the render is in flight, held by the test
        assert httpx.get(server.urls["gateai"] + "/_mock/health").status_code == 200
        assert http.get(f"/predictions/{pid}").status_code == 200
        assert not download.done()
        renderer.release.set()
        response = download.result(30)
    assert response.status_code == 200 and len(response.content) == entry["size"]
    assert response.headers["content-type"] == entry["type"]


# -- the pool ----------------------------------------------------------------------------------------------


def _ended(worker: Any) -> bool:
    """Whether a worker process has ended. ``is_alive()`` alone can say True for a moment after: the executor's
    own thread may reap the process as close() joins it, and the Process learns its exit code only from the
    ``waitpid`` that won (seen once in a CI run: exit code -15 a moment after ``is_alive()`` said True)."""
    import os

    worker.join(10)
    if worker.exitcode is not None:
        return True
    try:
        os.kill(worker.pid, 0)
    except ProcessLookupError:
        return True  # reaped by the executor's thread
    return False


def test_equal_renders_in_flight_share_one_job_and_a_process_pool_renders_the_same_bytes() -> None:
    import asyncio

    from mockserver.core.render_pool import RenderPool

    spec = media.MediaSpec("png", width=40, height=30, seed=77, label="one job")
    renderer = CountingRenderer()

    async def twice(pool: RenderPool) -> list[bytes]:
        return list(await asyncio.gather(pool.render(spec), pool.render(spec)))

    media.clear_cache()
    threads = RenderPool(2, processes=False, renderer=renderer)
    first, second = asyncio.run(twice(threads))
    assert first == second and len(renderer.calls) == 1
    media.clear_cache()
    processes = RenderPool(1)
    try:
        assert asyncio.run(twice(processes))[0] == first  # rendered in a spawned worker: the same bytes
        workers = list(processes._pool()._processes.values())  # type: ignore[attr-defined]
        assert workers and all(worker.is_alive() for worker in workers)
    finally:
        processes.close()
        threads.close()
    assert all(_ended(worker) for worker in workers)  # no worker outlives the pool (nor the server)


@pytest.mark.parametrize(("parent", "code"), [("1", 0), ("os.getppid()", 3)])
def test_a_render_worker_ends_once_its_server_is_gone(parent: str, code: int) -> None:
    """``exit_with_parent``: a worker whose parent is not the one it was started for ends at once; else it lives."""
    import subprocess
    import sys

    script = ("import os, sys, time; from mockserver.core.render_pool import exit_with_parent; "
              f"exit_with_parent({parent}, every=0.01); time.sleep(0.3); sys.exit(3)")
    finished = subprocess.run([sys.executable, "-c", script], timeout=60)
    assert finished.returncode == code
