"""The core job engine on a real manual Clock, a real MemoryStore and real accounts: lifecycle, owners,
cancel/refund, delete, waiting and the status stream."""

from __future__ import annotations

import asyncio
from collections.abc import Coroutine
from typing import Any

import pytest

from mockserver.core import jobs
from mockserver.core.accounts import Accounts, InsufficientFunds
from mockserver.core.clock import Clock
from mockserver.core.files import Files
from mockserver.core.media import MediaSpec
from mockserver.core.store import MemoryStore

START = 1_767_225_600.0
OWNER, STRANGER = "sk-owner", "sk-stranger"
STEPS = [("pending", 1.0), ("starting", 2.0), ("processing", 5.0), ("succeeded", 0.0)]  # ends at START + 8
KIND = jobs.JobKind("thing", refund_field="price")


@pytest.fixture
def clock() -> Clock:
    return Clock(mode="manual", start=START)


@pytest.fixture
def engine(clock: Clock) -> jobs.JobEngine:
    store = MemoryStore()
    accounts = Accounts(store, default_credits=10.0, default_budget=100.0)
    accounts.create(OWNER)
    return jobs.JobEngine(KIND, store, clock, Files(), accounts=accounts)


def start(engine: jobs.JobEngine, job_id: str = "j1", price: float = 0.0, files: int = 0) -> dict[str, Any]:
    engine.charge(OWNER, price)
    outputs = [(f"{job_id}-{n}.png", MediaSpec(format="png", width=8, height=8)) for n in range(files)]
    names, recipes = engine.outputs(outputs)
    record = {"id": job_id, "owner": OWNER, "created_at": engine.clock.now(), "price": price, "files": names,
              "file_specs": recipes,
              "phases": jobs.build_phases(engine.clock.now(), STEPS)}
    return engine.put(record)


def balance(engine: jobs.JobEngine) -> float:
    assert engine.accounts is not None
    account = engine.accounts.get(OWNER)
    assert account is not None
    return account.credits


def run(coroutine: Coroutine[Any, Any, Any]) -> Any:
    return asyncio.run(asyncio.wait_for(coroutine, timeout=10))


async def settle() -> None:
    """Let the other tasks run until they block (no time passes)."""
    for _ in range(20):
        await asyncio.sleep(0)


def test_status_follows_the_clock(engine: jobs.JobEngine, clock: Clock) -> None:
    record = start(engine)
    seen = []
    for step in (0.0, 1.0, 2.5, 10.0):
        clock.advance(step)
        seen.append(engine.state(engine.get(OWNER, "j1")).status)
    assert seen == ["pending", "starting", "processing", "succeeded"]
    assert engine.state(record, START + 0.5).status == "pending"  # any moment, not just now
    assert engine.state(record).terminal and engine.state(record).entered_at == START + 8


def test_only_the_owner_finds_a_job(engine: jobs.JobEngine) -> None:
    start(engine)
    with pytest.raises(jobs.JobNotFound) as stranger:
        engine.get(STRANGER, "j1")
    assert (stranger.value.kind, stranger.value.job_id) == ("thing", "j1")
    with pytest.raises(jobs.JobNotFound):
        engine.get(OWNER, "nope")
    assert [r["id"] for r in engine.scan(OWNER)] == ["j1"] and list(engine.scan(STRANGER)) == []


def test_cancel_cuts_the_timeline_refunds_and_drops_the_files(engine: jobs.JobEngine, clock: Clock) -> None:
    start(engine, price=4.0, files=2)
    assert balance(engine) == 6.0 and engine.files.info("j1-0.png") is not None
    clock.advance(1.5)
    record = engine.cancel(OWNER, "j1")
    assert record["cancelled_at"] == START + 1.5 and record["refunded"] is True
    assert engine.timeline(record) == [("pending", START), ("starting", START + 1), ("cancelled", START + 1.5)]
    clock.advance(100)
    assert engine.state(engine.get(OWNER, "j1")).status == "cancelled"  # the old schedule no longer applies
    assert balance(engine) == 10.0
    assert engine.files.info("j1-0.png") is None and engine.files.info("j1-1.png") is None
    with pytest.raises(jobs.JobNotCancellable) as again:
        engine.cancel(OWNER, "j1")
    assert again.value.status == "cancelled" and balance(engine) == 10.0  # refunded once


def test_a_finished_job_cannot_be_cancelled_and_keeps_its_charge(engine: jobs.JobEngine, clock: Clock) -> None:
    start(engine, price=3.0, files=1)
    clock.advance(8)
    with pytest.raises(jobs.JobNotCancellable) as ended:
        engine.cancel(OWNER, "j1")
    assert ended.value.status == "succeeded"
    assert balance(engine) == 7.0 and engine.files.info("j1-0.png") is not None
    with pytest.raises(jobs.JobNotFound):
        engine.cancel(STRANGER, "j1")


def test_a_charge_the_balance_cannot_cover_is_refused_whole(engine: jobs.JobEngine) -> None:
    with pytest.raises(InsufficientFunds) as refused:
        engine.charge(OWNER, 10.5)
    assert (refused.value.balance, refused.value.amount) == (10.0, 10.5) and balance(engine) == 10.0


def test_delete_cancels_a_running_job_first(engine: jobs.JobEngine, clock: Clock) -> None:
    start(engine, "running", price=2.0, files=1)
    start(engine, "done", price=1.0, files=1)
    clock.advance(8)
    start(engine, "late", price=2.0, files=1)
    gone = engine.delete(OWNER, "late")
    assert gone["deleted"] is True and gone["cancelled_at"] == START + 8
    assert "cancelled_at" not in engine.delete(OWNER, "done")  # finished: nothing to cancel or refund
    assert balance(engine) == 10.0 - 2.0 - 1.0  # "late" was refunded, the finished ones were not
    assert engine.find("late") is None and engine.find("done") is None and engine.files.info("late-0.png") is None
    with pytest.raises(jobs.JobNotFound):
        engine.delete(OWNER, "late")


def test_waiting_returns_when_the_job_ends(engine: jobs.JobEngine, clock: Clock) -> None:
    record = start(engine)

    async def scenario() -> dict[str, Any]:
        waiter = asyncio.create_task(jobs.wait_terminal(engine, record, max_real=60))
        await settle()
        assert not waiter.done()  # a manual clock that does not move: still waiting
        clock.advance(3)
        await settle()
        assert not waiter.done()  # processing now: still waiting
        clock.advance(5)
        return await waiter

    done = run(scenario())
    assert engine.state(done).status == "succeeded"


def test_waiting_ends_on_cancel_delete_timeout_and_shutdown(engine: jobs.JobEngine, clock: Clock) -> None:
    async def cancelled() -> dict[str, Any]:
        waiter = asyncio.create_task(jobs.wait_terminal(engine, start(engine, "c"), max_real=60))
        await settle()
        engine.cancel(OWNER, "c")
        clock.advance(1)  # a waiter on a manual clock looks again when the clock moves
        return await waiter

    assert engine.state(run(cancelled())).status == "cancelled"

    async def deleted() -> dict[str, Any]:
        waiter = asyncio.create_task(jobs.wait_terminal(engine, start(engine, "d"), max_real=60))
        await settle()
        engine.delete(OWNER, "d")
        clock.advance(1)
        return await waiter

    assert run(deleted())["deleted"] is True
    timed_out = run(jobs.wait_terminal(engine, start(engine, "t"), max_real=0))
    assert not engine.state(timed_out).terminal  # out of time: the job as it stands
    clock.drain()
    assert engine.state(run(jobs.wait_terminal(engine, start(engine, "s"), max_real=60))).status == "pending"


async def collect(engine: jobs.JobEngine, record: dict[str, Any], moves: list[Any]) -> list[jobs.Progress]:
    """The stream's steps while ``moves`` (callables) change the world, one after each step."""
    steps = []
    async for step in jobs.progress(engine, record):
        steps.append(step)
        if moves:
            moves.pop(0)()
    return steps


def test_the_status_stream_reports_every_transition_even_across_a_jump(engine: jobs.JobEngine,
                                                                       clock: Clock) -> None:
    record = start(engine)
    steps = run(collect(engine, record, [lambda: clock.advance(4), lambda: clock.advance(100)]))
    assert [step.reached for step in steps] == [[START], [START + 1, START + 3], [START + 8]]
    assert [step.final for step in steps] == [None, None, "succeeded"]
    assert all(step.interrupted is None for step in steps)


def test_the_status_stream_follows_a_cancel(engine: jobs.JobEngine, clock: Clock) -> None:
    record = start(engine)

    def cancel() -> None:
        clock.advance(0.5)
        engine.cancel(OWNER, "j1")
        clock.advance(1)  # the stream looks again when the clock moves past the phase it was waiting for

    steps = run(collect(engine, record, [cancel]))
    assert [step.reached for step in steps] == [[START], [START + 0.5]]
    assert steps[-1].final == "cancelled" and steps[-1].record["cancelled_at"] == START + 0.5


def test_the_status_stream_says_when_the_server_shuts_down(engine: jobs.JobEngine, clock: Clock) -> None:
    steps = run(collect(engine, start(engine), [clock.drain]))
    assert [(step.final, step.interrupted) for step in steps] == [(None, None), (None, "pending")]


def test_a_kind_without_webhook_delivery_refuses_to_follow(engine: jobs.JobEngine) -> None:
    with pytest.raises(RuntimeError, match="no webhook delivery"):
        engine.follow(start(engine), "http://127.0.0.1:9/hook", {"succeeded"})
    with pytest.raises(RuntimeError, match="no webhook delivery"):
        engine.renders_with(lambda record, at, context: record)
