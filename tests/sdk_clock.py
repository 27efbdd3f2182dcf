"""Make the SDKs' own sleeps (polling, retry backoff) advance the mock's clock instead of waiting."""

from __future__ import annotations

import time as real_time

import openai
import pytest
import skytells

from mockserver.core.clock import Clock


class _ClockTime:
    """Stands in for the ``time`` module inside an SDK: ``sleep`` advances the mock clock and is recorded."""

    def __init__(self, clock: Clock, slept: list[float]) -> None:
        self._clock, self._slept = clock, slept

    def __getattr__(self, name: str) -> object:
        return getattr(real_time, name)

    def sleep(self, seconds: float) -> None:
        self._slept.append(seconds)
        self._clock.advance(seconds)


def redirect_openai_sleeps(monkeypatch: pytest.MonkeyPatch, clock: Clock) -> list[float]:
    """``openai._base_client`` sleeps between retries with ``time.sleep``; returns the recorded sleeps."""
    slept: list[float] = []
    monkeypatch.setattr(openai._base_client, "time", _ClockTime(clock, slept))
    return slept


def redirect_skytells_sleeps(monkeypatch: pytest.MonkeyPatch, clock: Clock) -> list[float]:
    """The skytells SDK polls with ``time.sleep(5)``; returns the recorded sleeps."""
    slept: list[float] = []
    monkeypatch.setattr(skytells._client, "time", _ClockTime(clock, slept))
    return slept
