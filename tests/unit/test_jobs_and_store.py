from __future__ import annotations

from mockserver.core import jobs
from mockserver.core.store import MemoryStore, Retention

STEPS = [("pending", 1.0), ("starting", 2.0), ("processing", 5.0), ("succeeded", 0.0)]


def test_state_follows_the_schedule() -> None:
    phases = jobs.build_phases(100.0, STEPS)
    assert phases == [("pending", 100.0), ("starting", 101.0), ("processing", 103.0), ("succeeded", 108.0)]
    assert jobs.state_at(phases, 50.0).status == "pending"
    assert jobs.state_at(phases, 102.9).status == "starting"
    done = jobs.state_at(phases, 10_000.0)
    assert (done.status, done.entered_at, done.terminal) == ("succeeded", 108.0, True)


def test_collapsed_schedule_is_terminal_at_once() -> None:
    phases = jobs.build_phases(100.0, STEPS, collapse=True)
    assert jobs.state_at(phases, 100.0).status == "succeeded"


def test_cancel_cuts_the_timeline_only_before_the_end() -> None:
    phases = jobs.build_phases(100.0, STEPS)
    line = jobs.timeline(phases, cancelled_at=102.0)
    assert line == [("pending", 100.0), ("starting", 101.0), ("cancelled", 102.0)]
    assert jobs.state_at(phases, 500.0, cancelled_at=102.0).status == "cancelled"
    assert jobs.timeline(phases, cancelled_at=200.0) == phases
    assert jobs.entered(line, "starting") == 101.0 and jobs.entered(line, "processing") is None


def test_store_owner_scoping_and_order() -> None:
    store = MemoryStore()
    for index in range(5):
        store.put("thing", f"t{index}", {"i": index}, owner="a" if index % 2 == 0 else "b")
    assert [r["i"] for r in store.scan("thing", owner="a")] == [4, 2, 0]
    assert [r["i"] for r in store.scan("thing", newest_first=False)] == [0, 1, 2, 3, 4]
    assert len(list(store.scan("thing", owner="b"))) == 2
    store.clear(owner="a")
    assert len(list(store.scan("thing"))) == 2 and store.get("thing", "t0") is None


def test_store_retention_by_count_and_age() -> None:
    now = [0.0]
    store = MemoryStore(Retention(max_records=3, ttl=10.0), now=lambda: now[0])
    for index in range(5):
        store.put("thing", f"t{index}", {"i": index}, owner="x")
        now[0] += 1
    assert [r["i"] for r in store.scan("thing", owner="x")] == [4, 3, 2]
    now[0] = 13.5  # t2 was stored at 2.0, t3 at 3.0 -> both older than 10 s
    assert [r["i"] for r in store.scan("thing")] == [4]
    store.put("account", "k", {"credits": 1})
    now[0] = 10_000
    assert store.get("account", "k") == {"credits": 1}  # accounts are never evicted


def test_store_update_is_read_modify_write() -> None:
    store = MemoryStore()
    store.put("n", "x", {"v": 1})
    assert store.update("n", "x", lambda r: {"v": r["v"] + 1}) == {"v": 2}
    assert store.update("n", "missing", lambda r: r) is None
    assert store.delete("n", "x") and not store.delete("n", "x")
