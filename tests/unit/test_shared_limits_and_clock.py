"""Sliding windows, slots and the clock on a real Redis: the in-memory semantics, atomic across clients (each
client stands for one server process), and one clock every process reads."""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor

import pytest
import redis

from mockserver.core.clock import Clock
from mockserver.core.limits import ConcurrencySlots, SlidingWindow
from mockserver.core.shared_store import SharedState
from mockserver.core.shared_store.store import RedisStore
from mockserver.core.store import MemoryStore
from tests.redis_server import Now

START = 1_767_225_600.0


def _window_trace(store, now: Now) -> list[tuple]:
    window = SlidingWindow(store, "w", 3, 30.0, now)
    trace = []
    for step in (0, 1, 1, 5, 0, 23.5, 0.5, 0.5, 10, 30):
        now.at += step
        decision = window.hit("A")
        trace.append((decision.allowed, round(decision.retry_after, 6), decision.used, window.used("A")))
    return trace


def test_a_sliding_window_answers_as_in_memory(redis_client) -> None:
    shared = _window_trace(RedisStore(redis_client), Now(START))
    assert shared == _window_trace(MemoryStore(), Now(START))
    assert [allowed for allowed, *_ in shared] == [True, True, True, False, False, True, True, False, True, True]


def _slots_trace(store, now: Now) -> list[tuple]:
    slots = ConcurrencySlots(store, "s", 2, now, auto_release=100.0)
    trace = [slots.acquire("A", "one", release_at=START + 10, info={"model": "m"}),
             slots.acquire("A", "two"), slots.acquire("A", "three")]
    now.at += 10
    trace += [slots.acquire("A", "three"), slots.acquire("A", "four", limit=3)]
    slots.release("A", "two")
    trace.append(slots.acquire("A", "five", limit=3))
    active = slots.active("A")
    return [(d.allowed, round(d.retry_after, 6), d.used) for d in trace] + [sorted(active), active["five"]]


def test_slots_answer_as_in_memory(redis_client) -> None:
    shared = _slots_trace(RedisStore(redis_client), Now(START))
    assert shared == _slots_trace(MemoryStore(), Now(START))
    assert shared[2] == (False, 10.0, 2)  # refused until the first slot frees itself


def test_seven_clients_at_once_get_exactly_five_slots_and_five_window_hits(redis_store_url) -> None:
    now = Now(START)
    stores = [RedisStore(redis.Redis.from_url(redis_store_url)) for _ in range(7)]
    barrier = threading.Barrier(7)

    def take(index: int) -> tuple[bool, bool]:
        barrier.wait()
        slot = ConcurrencySlots(stores[index], "gen", 5, now).acquire("A", f"task-{index}", release_at=START + 600)
        hit = SlidingWindow(stores[index], "gen", 5, 30.0, now).hit("B")
        return slot.allowed, hit.allowed

    with ThreadPoolExecutor(7) as pool:
        results = list(pool.map(take, range(7)))
    assert sum(slot for slot, _ in results) == 5 and sum(hit for _, hit in results) == 5
    assert len(ConcurrencySlots(stores[0], "gen", 5, now).active("A")) == 5


def test_clearing_an_owner_frees_its_windows_and_slots_only(redis_client) -> None:
    now, store = Now(START), RedisStore(redis_client)
    window, slots = SlidingWindow(store, "w", 1, 30.0, now), ConcurrencySlots(store, "s", 1, now)
    for who in ("A", "B"):
        assert window.hit(who).allowed and slots.acquire(who, "x").allowed
    store.clear(owner="A")
    assert window.hit("A").allowed and slots.acquire("A", "y").allowed
    assert not window.hit("B").allowed and not slots.acquire("B", "y").allowed
    store.clear()
    assert window.used("B") == 0 and slots.active("B") == {}


# -- the clock ------------------------------------------------------------------------------------------------

@pytest.fixture
def two_clocks(redis_store_url: str) -> Iterator[tuple[Clock, Clock]]:
    states = [SharedState(redis_store_url), SharedState(redis_store_url)]
    first = Clock(mode="manual", start=START, wall=time.time, cell=states[0].anchor)
    second = Clock(mode="realtime", start=0.0, wall=time.time, cell=states[1].anchor)  # joins: its own start is unused
    for state, clock in zip(states, (first, second), strict=True):
        state.listen(clock.notify)
    yield first, second
    for state in states:
        state.close()


def test_a_second_process_joins_the_running_clock(two_clocks) -> None:
    first, second = two_clocks
    assert second.mode == "manual" and second.now() == START == first.now()


def test_advance_set_and_mode_on_one_are_seen_by_the_other(two_clocks) -> None:
    first, second = two_clocks
    assert first.advance(90) == START + 90 and second.now() == START + 90
    second.set(START + 1000)
    assert first.now() == START + 1000
    with pytest.raises(ValueError, match="only moves forward"):
        first.set(START)
    state = second.configure(mode="instant")
    assert first.collapses_durations and first.state().mode == "instant" and state.now >= START + 1000
    first.reset(START, mode="manual", speed=1.0)
    assert second.state().now == START and second.mode == "manual"


def test_concurrent_advances_on_both_all_count(two_clocks) -> None:
    first, second = two_clocks
    with ThreadPoolExecutor(8) as pool:
        list(pool.map(lambda n: (first if n % 2 else second).advance(1.0), range(40)))
    assert first.now() == second.now() == START + 40


def test_a_waiter_on_one_wakes_when_the_other_advances(two_clocks) -> None:
    first, second = two_clocks

    async def scenario() -> bool:
        waiting = asyncio.create_task(second.sleep_until(START + 60, max_real=10))
        await asyncio.sleep(0)  # let it register before the other process moves the clock
        await asyncio.to_thread(first.advance, 60)
        return await waiting

    began = time.monotonic()
    assert asyncio.run(scenario()) is True
    assert time.monotonic() - began < 5  # woken by the change, not by max_real running out


# -- a vendor's ledger through Store.update -------------------------------------------------------------------

def test_a_daily_budget_is_never_overspent_by_two_processes_at_once(redis_store_url) -> None:
    from mockserver.core.runtime import Runtime
    from mockserver.gateai.budget import Budget, BudgetExceeded
    from tests.conftest import KEY, make_settings

    runtimes = [Runtime.from_settings(make_settings(store=redis_store_url, daily_budget=1.0)) for _ in range(2)]
    budgets = [Budget(runtime) for runtime in runtimes]
    now = runtimes[0].clock.now()
    barrier = threading.Barrier(10)

    def charge(index: int) -> bool:
        barrier.wait()
        try:
            budgets[index % 2].charge(KEY, f"task-{index}", "flux-schnell", 0.3, None, now)
        except BudgetExceeded:
            return False
        return True

    try:
        with ThreadPoolExecutor(10) as pool:
            admitted = sum(pool.map(charge, range(10)))
        assert admitted == 3
        assert budgets[1].status(KEY, now).remaining == pytest.approx(0.1)
    finally:
        for runtime in runtimes:
            runtime.close()


def test_a_restart_by_one_process_is_noticed_once_by_the_other(two_clocks) -> None:
    first, second = two_clocks
    noticed: list[str] = []
    first.on_restart(lambda: noticed.append("first"))
    second.on_restart(lambda: noticed.append("second"))
    first.reset(START)
    assert noticed == []  # nobody has read the clock yet, and the resetting process never notices its own
    second.now(), second.now(), first.now()
    assert noticed == ["second"]


def _gets(client: redis.Redis) -> int:
    return int(client.info("commandstats").get("cmdstat_get", {}).get("calls", 0))


def test_reading_the_clock_asks_redis_only_after_a_change_was_announced(two_clocks, redis_client) -> None:
    first, second = two_clocks
    first.now(), second.now()
    before = _gets(redis_client)
    assert all(first.now() == START for _ in range(100))
    assert _gets(redis_client) == before  # the anchor read last still holds: a poll, no round trip
    second.advance(5)
    assert first.now() == START + 5  # the announcement came before the advance was acknowledged
    # the change's own GET (under WATCH), one read after it, and at most one more if the listener thread hears of
    # the change only after that read; then none
    assert [first.now() for _ in range(100)] == [START + 5] * 100 and _gets(redis_client) - before <= 3


def test_a_flushed_store_restarts_the_clock_for_every_process(two_clocks, redis_client) -> None:
    first, second = two_clocks
    first.advance(30)
    assert second.now() == START + 30
    redis_client.flushdb()
    joining = SharedState(_url(redis_client))
    try:
        third = Clock(mode="manual", start=START + 7, wall=time.time, cell=joining.anchor)
        assert third.now() == first.now() == second.now() == START + 7  # the clock it started, announced
    finally:
        joining.close()


def _url(client: redis.Redis) -> str:
    kwargs = client.connection_pool.connection_kwargs
    return f"redis://{kwargs['host']}:{kwargs['port']}/{kwargs.get('db', 0)}"


def test_a_broken_subscription_reads_the_clock_again_rather_than_trusting_it(two_clocks, redis_client) -> None:
    first, second = two_clocks
    assert first.now() == second.now() == START
    redis_client.client_kill_filter(_type="pubsub")  # every subscription drops (as when Redis restarts)
    second.advance(10)  # announced to no one
    assert first.now() == START + 10 and first.now() == START + 10  # and it subscribes again
    second.advance(5)
    assert first.now() == START + 15
