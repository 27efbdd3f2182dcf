from __future__ import annotations

import asyncio
import threading
from datetime import UTC, datetime

import pytest
from hypothesis import given
from hypothesis import strategies as st

from mockserver.core.clock import MAX_EPOCH, MIN_EPOCH, Clock, isoformat


class FakeWall:
    def __init__(self) -> None:
        self.t = 100.0

    def __call__(self) -> float:
        return self.t


def test_realtime_runs_at_speed() -> None:
    wall = FakeWall()
    clock = Clock(mode="realtime", speed=10, start=1000.0, wall=wall)
    wall.t += 2
    assert clock.now() == pytest.approx(1020.0)


def test_manual_stands_still_until_advanced_or_set() -> None:
    wall = FakeWall()
    clock = Clock(mode="manual", start=1000.0, wall=wall)
    wall.t += 50
    assert clock.now() == 1000.0
    assert clock.advance(5) == 1005.0
    assert clock.set(2000.0) == 2000.0
    with pytest.raises(ValueError):
        clock.set(1999.0)
    with pytest.raises(ValueError):
        clock.advance(-1)


def test_switching_modes_keeps_time_continuous() -> None:
    wall = FakeWall()
    clock = Clock(mode="realtime", speed=2, start=0.0, wall=wall)
    wall.t += 10
    state = clock.configure(mode="manual")
    assert state.now == pytest.approx(20.0)
    wall.t += 10
    assert clock.now() == pytest.approx(20.0)
    clock.configure(mode="realtime", speed=1)
    wall.t += 1
    assert clock.now() == pytest.approx(21.0)
    assert not clock.collapses_durations
    clock.configure(mode="instant")
    assert clock.collapses_durations


def test_bad_configuration_is_refused() -> None:
    with pytest.raises(ValueError):
        Clock(mode="fast")  # type: ignore[arg-type]
    with pytest.raises(ValueError):
        Clock(speed=0)
    with pytest.raises(ValueError):
        Clock().configure(speed=-1)


def test_sleep_until_wakes_when_another_thread_advances() -> None:
    clock = Clock(mode="manual", start=0.0)

    async def wait() -> bool:
        return await clock.sleep_until(60.0, max_real=5)

    timer = threading.Timer(0.05, lambda: clock.advance(60))
    timer.start()
    assert asyncio.run(wait()) is True
    assert clock.now() == 60.0


def test_sleep_until_gives_up_after_max_real() -> None:
    clock = Clock(mode="manual", start=0.0)
    assert asyncio.run(clock.sleep_until(10.0, max_real=0.01)) is False
    assert asyncio.run(clock.sleep_until(0.0, max_real=0.01)) is True


def test_isoformat() -> None:
    assert isoformat(1_767_225_600.25) == "2026-01-01T00:00:00.250000Z"
    assert isoformat(1_767_225_600.9999996) == "2026-01-01T00:00:01.000000Z"  # rounding carries into the second
    assert isoformat(float("nan")) == isoformat(-5.0) == "1970-01-01T00:00:00.000000Z"


@given(st.floats(min_value=MIN_EPOCH, max_value=MAX_EPOCH) | st.integers(0, 4 * 10**15).map(lambda n: n / 1e6))
def test_isoformat_prints_what_datetime_prints(ts: float) -> None:
    """The cached form is byte for byte ``datetime``'s, rounding of the microseconds included."""
    assert isoformat(ts) == datetime.fromtimestamp(ts, UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def test_reset_starts_over() -> None:
    clock = Clock(mode="manual", start=100.0)
    clock.advance(1000)
    clock.reset(100.0, mode="instant", speed=3)
    assert clock.now() == pytest.approx(100.0, abs=0.5) and clock.mode == "instant" and clock.speed == 3


def test_autojump_moves_manual_time_to_what_a_waiting_client_waits_for() -> None:
    clock = Clock(mode="manual", start=0.0, autojump=0.0)
    assert asyncio.run(clock.sleep_until(90.0, max_real=5, client=True)) is True
    assert clock.now() == 90.0  # exactly the waited-for moment: no overshoot


def test_autojump_never_moves_time_for_background_waiters_or_when_off() -> None:
    clock = Clock(mode="manual", start=0.0, autojump=0.0)
    assert asyncio.run(clock.sleep_until(90.0, max_real=0.02)) is False  # not a client: webhooks, timers
    assert clock.now() == 0.0
    clock.configure(autojump=None)
    assert asyncio.run(clock.sleep_until(90.0, max_real=0.02, client=True)) is False
    assert clock.now() == 0.0
    clock.configure(autojump=0.0, mode="realtime", speed=1)
    assert clock.state().autojump == 0.0 and clock.mode == "realtime"  # realtime: no jump, time just runs


def test_autojump_does_not_jump_when_max_real_runs_out_first() -> None:
    clock = Clock(mode="manual", start=0.0, autojump=30.0)
    assert asyncio.run(clock.sleep_until(90.0, max_real=0.02, client=True)) is False
    assert clock.now() == 0.0


def test_autojump_is_reset_and_validated() -> None:
    clock = Clock(mode="manual", start=0.0)
    assert clock.autojump is None
    clock.configure(autojump=0.5)
    assert clock.autojump == 0.5
    clock.configure(mode="manual")  # leaves it as it is
    assert clock.autojump == 0.5
    clock.reset(0.0, autojump=None)
    assert clock.autojump is None
    for bad in (-1, True, "1"):
        with pytest.raises(ValueError):
            clock.configure(autojump=bad)  # type: ignore[arg-type]


def test_a_jump_wakes_waiters_a_batch_per_loop_turn() -> None:
    """Hundreds of waiters woken by one advance must not run in one loop turn (issue 12: a 110 ms stall)."""
    async def scenario() -> list[int]:
        clock = Clock(mode="manual", start=1000.0)
        waiters = [asyncio.create_task(clock.sleep_until(1010.0)) for _ in range(100)]
        await asyncio.sleep(0)  # every waiter is now registered
        clock.advance(10)
        finished: list[int] = []
        while len(finished) < 50 and not all(w.done() for w in waiters):
            await asyncio.sleep(0)  # one turn of the loop
            finished.append(sum(w.done() for w in waiters))
        assert all(w.result() is True for w in waiters)
        return finished

    finished = asyncio.run(scenario())
    steps = [after - before for before, after in zip([0, *finished], finished, strict=False)]
    assert max(steps) <= 16  # a few waiters a turn, so sockets are polled in between
    assert finished[-1] == 100
