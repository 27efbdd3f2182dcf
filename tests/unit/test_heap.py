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
