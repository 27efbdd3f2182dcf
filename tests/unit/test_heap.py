"""The pace of young collections in a serving process (``mockserver/core/heap.py``)."""

from __future__ import annotations

import gc

import pytest

from mockserver.core.heap import Pacer


def test_the_young_generations_are_collected_every_nth_request(monkeypatch: pytest.MonkeyPatch) -> None:
    collected: list[int] = []
    monkeypatch.setattr(gc, "collect", lambda generation=2: collected.append(generation) or 0)
    pacer = Pacer()
    for _ in range(10):
        pacer.tick()
    assert collected == []  # off until the serving process starts it
    pacer.start(4)
    for _ in range(10):
        pacer.tick()
    assert collected == [1, 1]  # the 4th and the 8th request


def test_a_serving_process_turns_the_pacer_on() -> None:
    import subprocess
    import sys

    code = ("from mockserver.core.heap import PACER, REQUESTS_PER_COLLECTION\n"
            "from mockserver.server import settle_heap\n"
            "assert PACER.every == 0\n"
            "settle_heap()\n"
            "print(PACER.every == REQUESTS_PER_COLLECTION)")
    assert subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True,
                          timeout=60).stdout.strip() == "True"


def _full_collections() -> tuple[list[int], object]:
    generations: list[int] = []

    def seen(phase: str, info: dict[str, int]) -> None:
        if phase == "start":
            generations.append(info["generation"])

    return generations, seen


def test_an_idle_process_collects_in_full_once_enough_was_promoted() -> None:
    from mockserver.core.heap import PROMOTIONS_BEFORE_IDLE_COLLECTION, IdleCollector

    pacer = Pacer()
    idle = IdleCollector(pacer)
    generations, seen = _full_collections()
    gc.callbacks.append(seen)
    try:
        gc.collect()  # the oldest generation's count starts at 0
        generations.clear()
        for _ in range(PROMOTIONS_BEFORE_IDLE_COLLECTION):
            gc.collect(1)  # each counts towards the oldest generation
        pacer.tick()
        assert not idle.check()  # a request came since the collector last looked
        generations.clear()
        assert idle.check()  # none since: the whole heap is collected
        assert generations == [2]
        assert gc.get_count()[2] == 0
        assert not idle.check()  # still idle, but nothing promoted since
    finally:
        gc.callbacks.remove(seen)


def test_an_idle_process_with_little_promoted_is_left_alone() -> None:
    from mockserver.core.heap import IdleCollector

    idle = IdleCollector(Pacer())
    gc.collect()
    gc.collect(1)
    assert not idle.check()


def test_a_serving_process_keeps_full_collections_for_sustained_traffic() -> None:
    import subprocess
    import sys

    code = ("import gc\n"
            "from mockserver.server import settle_heap, GC_THRESHOLDS\n"
            "settle_heap()\n"
            "print(gc.get_threshold() == GC_THRESHOLDS and GC_THRESHOLDS[2] >= 1000)")  # full ones: a million requests
    assert subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True,
                          timeout=60).stdout.strip() == "True"


SERVED_IDLE = """
import asyncio, gc, json, urllib.request
from mockserver.app import build
from mockserver.core import heap
from mockserver.server import plan, serve
from mockserver.settings import Settings

heap.PROMOTIONS_BEFORE_IDLE_COLLECTION, heap.IDLE_SECONDS = 1, 0.02
full = []
gc.callbacks.append(lambda phase, info: phase == "stop" and info["generation"] == 2 and full.append(1))

async def main():
    serving = plan(build(Settings()), free_ports=True)
    port = serving.listeners[0].sock.getsockname()[1]
    stop = asyncio.Event()
    task = asyncio.create_task(serve(serving, log_level="warning", stop=stop))
    for _ in range(3):  # traffic (the first request waits for the server), then a middle collection
        await asyncio.to_thread(urllib.request.urlopen, f"http://127.0.0.1:{port}/_mock/health")
    after_start = len(full)
    gc.collect(1)
    await asyncio.sleep(4 * heap.IDLE_SECONDS)
    idle = len(full) - after_start
    stop.set()
    await task
    print(json.dumps({"idle_full_collections": idle}))

asyncio.run(main())
"""


def test_a_serving_process_collects_in_full_once_traffic_stops() -> None:
    import json
    import subprocess
    import sys

    out = subprocess.run([sys.executable, "-c", SERVED_IDLE], capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stderr[-2000:]
    assert json.loads(out.stdout.strip().splitlines()[-1]) == {"idle_full_collections": 1}


KEPT_PER_THOUSAND = """
import asyncio, gc, json, sys
from mockserver.app import build
from mockserver.server import GC_THRESHOLDS
from mockserver.settings import Settings
from tests.unit.test_request_garbage import call

KEY = "sk-heap-0001"
auth = [(b"x-api-key", KEY.encode()), (b"content-type", b"application/json")]
mock = build(Settings(api_keys=(KEY,), seed=1, time_mode="instant", credits=1e12))
sky, gate = mock.apps["skytells"], mock.apps["gateai"]

def body(value):
    return json.dumps(value).encode()

async def kept(request, count=1000):
    for index in range(50):
        await call(*request(index))
    gc.collect()
    before = len(gc.get_objects())
    for index in range(50, 50 + count):
        await call(*request(index))
    gc.collect()
    return len(gc.get_objects()) - before

async def main():
    created = json.loads((await call(sky, "POST", "/v1/predictions", auth,
                                      body({"model": "truefusion-pro", "input": {"prompt": "a fox"}})))[-1]["body"])
    routes = {
        "create": lambda i: (sky, "POST", "/v1/predictions", auth,
                             body({"model": "truefusion-pro", "input": {"prompt": f"a fox {i}"}})),
        "get": lambda i: (sky, "GET", "/v1/predictions/" + created["id"], auth),
        "list": lambda i: (sky, "GET", "/v1/predictions", auth),
        "chat": lambda i: (sky, "POST", "/v1/chat/completions", auth,
                           body({"model": "gpt-5", "messages": [{"role": "user", "content": f"hi {i}"}],
                                 "max_tokens": 16})),
        "embeddings": lambda i: (sky, "POST", "/v1/embeddings", auth,
                                 body({"model": "deepbrain-router", "input": f"a fox {i}"})),
        "generate": lambda i: (gate, "POST", "/api/generate", auth,
                               body({"model": "gpt-image-2", "type": "image", "params": {"prompt": f"fox {i}"}})),
    }
    print(json.dumps({"threshold": GC_THRESHOLDS[0], **{name: await kept(r) for name, r in routes.items()}}))

asyncio.run(main())
"""


def test_a_thousand_requests_keep_fewer_objects_than_a_young_collection_waits_for() -> None:
    """The serving threshold leaves young collections to the pacer (every 200 requests) only while even a thousand
    requests of any hot route keep fewer tracked objects than it: varied bodies, so every cache fills."""
    import json
    import subprocess
    import sys

    done = subprocess.run([sys.executable, "-c", KEPT_PER_THOUSAND], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr[-2000:]
    kept = json.loads(done.stdout.strip().splitlines()[-1])
    threshold = kept.pop("threshold")
    assert set(kept) == {"create", "get", "list", "chat", "embeddings", "generate"}
    assert all(count < threshold // 2 for count in kept.values()), kept
