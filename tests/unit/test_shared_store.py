"""The Redis store against a real ``redis-server``: the same answers as the in-memory store, and atomic changes
from several clients at once (each client stands for one server process)."""

from __future__ import annotations

import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor

import pytest
import redis
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from mockserver.core.accounts import Accounts, InsufficientFunds
from mockserver.core.shared_store import SharedState
from mockserver.core.shared_store.store import RedisStore
from mockserver.core.store import MemoryStore, Retention, StoreUnavailable
from tests.redis_server import Now


def clients(url: str, count: int) -> list[redis.Redis]:
    return [redis.Redis.from_url(url) for _ in range(count)]


def together(count: int, work: Callable[[int], object]) -> list[object]:
    barrier = threading.Barrier(count)

    def run(index: int) -> object:
        barrier.wait()
        return work(index)

    with ThreadPoolExecutor(count) as pool:
        return list(pool.map(run, range(count)))


def test_records_round_trip_in_order_per_owner(redis_client) -> None:
    store = RedisStore(redis_client, Retention(max_records=None))
    store.put("prediction", "p1", {"id": "p1", "tags": [], "nested": {"a": [1, 2]}, "none": None}, owner="A")
    store.put("prediction", "p2", {"id": "p2"}, owner="B")
    store.put("prediction", "p3", {"id": "p3"}, owner="A")
    assert store.get("prediction", "p1") == {"id": "p1", "tags": [], "nested": {"a": [1, 2]}, "none": None}
    assert [r["id"] for r in store.scan("prediction", owner="A")] == ["p3", "p1"]
    assert [r["id"] for r in store.scan("prediction", newest_first=False)] == ["p1", "p2", "p3"]
    assert store.count("prediction", "A") == 2 and store.count("prediction", "C") == 0
    assert [r["id"] for r in store.page("prediction", "A", 1, 5)] == ["p1"]
    assert [r["id"] for r in store.page("prediction", "A", 0, 1, newest_first=False)] == ["p1"]
    assert store.page("prediction", "A", 0, 0) == []
    assert store.update("prediction", "p1", lambda r: {**r, "status": "cancelled"})["status"] == "cancelled"
    assert [r["id"] for r in store.scan("prediction", owner="A")] == ["p3", "p1"]  # an update keeps its place
    assert store.update("prediction", "missing", lambda r: r) is None
    assert store.delete("prediction", "p1") and not store.delete("prediction", "p1")
    store.clear(owner="A")
    assert [r["id"] for r in store.scan("prediction")] == ["p2"]
    store.clear()
    assert list(store.scan("prediction")) == [] and redis_client.dbsize() == 0


# -- the same answers as the in-memory store -----------------------------------------------------------------

PADS = st.sampled_from([0, 40, 250, 420])  # 64 + JSON bytes each: two big ones pass the key budget
OWNERS = st.sampled_from([None, "A", "B"])
KINDS = st.sampled_from(["prediction", "task", "account"])  # "account" is permanent: never evicted or expired
PUT = st.tuples(st.just("put"), KINDS, st.integers(0, 3), OWNERS, PADS)
OPS = st.lists(st.one_of(
    PUT, PUT, PUT,  # mostly writes, so the budgets are reached
    st.tuples(st.just("update"), KINDS, st.integers(0, 3), PADS),
    st.tuples(st.just("delete"), KINDS, st.integers(0, 3)),
    st.tuples(st.just("clear"), OWNERS),
    st.tuples(st.just("advance"), st.sampled_from([0, 5, 30, 58, 61])),
), min_size=5, max_size=50)


def _apply(store, now: Now, op: tuple) -> None:
    match op:
        case ("put", kind, n, owner, pad):
            store.put(kind, f"k{n}", {"n": n, "pad": "x" * pad}, owner=owner)
        case ("update", kind, n, pad):
            store.update(kind, f"k{n}", lambda r: {**r, "pad": "y" * pad})
        case ("delete", kind, n):
            store.delete(kind, f"k{n}")
        case ("clear", owner):
            store.clear(owner=owner)
        case ("advance", seconds):
            now.at += seconds


def _view(store) -> dict:
    kinds = ("prediction", "task", "account")
    view: dict = {(kind, owner): list(store.scan(kind, owner=owner)) for kind in kinds for owner in (None, "A", "B")}
    for kind in kinds:
        for owner in ("A", "B"):
            view[kind, owner, "count"] = store.count(kind, owner)
            view[kind, owner, "pages"] = [store.page(kind, owner, offset, 2) for offset in (0, 1, 2)]
            view[kind, owner, "oldest"] = store.page(kind, owner, 0, 1, newest_first=False)
    return view


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(ops=OPS)
def test_the_redis_store_answers_as_the_memory_store(redis_client, ops) -> None:
    redis_client.flushdb()
    retention = Retention(max_records=1, ttl=60, max_key_bytes=600, max_store_bytes=None)
    memory_now, redis_now = Now(), Now()
    memory, shared = MemoryStore(retention, now=memory_now), RedisStore(redis_client, retention, now=redis_now)
    for op in ops:
        _apply(memory, memory_now, op)
        _apply(shared, redis_now, op)
        assert _view(shared) == _view(memory), op


def test_over_its_byte_budget_an_owner_loses_only_its_own_oldest(redis_client) -> None:
    store = RedisStore(redis_client, Retention(max_records=None, max_key_bytes=2_000))
    store.put("prediction", "b0", {"pad": "b" * 1_500}, owner="B")
    for n in range(8):
        store.put("task" if n % 2 else "prediction", f"a{n}", {"pad": "a" * 400}, owner="A")
    assert store.get("prediction", "b0") is not None
    kept = [r for kind in ("prediction", "task") for r in store.scan(kind, owner="A")]
    assert len(kept) == 4 and store.get("task", "a7") is not None and store.get("prediction", "a3") is None


def test_over_the_store_budget_the_heaviest_owner_loses_its_oldest_first(redis_client) -> None:
    store = RedisStore(redis_client, Retention(max_records=None, max_store_bytes=3_000))
    store.put("prediction", "b0", {"pad": "b" * 200}, owner="B")
    for n in range(6):
        store.put("prediction", f"a{n}", {"pad": "a" * 400}, owner="A")
    assert store.get("prediction", "b0") is not None  # the light owner kept everything
    kept = [r["pad"][0] for r in store.scan("prediction", owner="A")]
    assert 0 < len(kept) < 6 and store.get("prediction", "a5") is not None and store.get("prediction", "a0") is None
    assert int(redis_client.get("mockserver:bt")) <= 3_000


def test_ttl_is_virtual_time(redis_client) -> None:
    now = Now()
    store = RedisStore(redis_client, Retention(ttl=60), now=now)
    store.put("prediction", "old", {"n": 1}, owner="A")
    now.at += 59
    assert store.get("prediction", "old") is not None  # no real second matters, only the clock's
    now.at += 2
    assert store.get("prediction", "old") is None and list(store.scan("prediction")) == []


# -- atomic across clients ----------------------------------------------------------------------------------

def test_concurrent_updates_from_several_clients_lose_nothing(redis_store_url) -> None:
    stores = [RedisStore(c) for c in clients(redis_store_url, 8)]
    stores[0].put("counter", "c", {"value": 0})

    def bump(index: int) -> None:
        for _ in range(25):
            stores[index].update("counter", "c", lambda r: {**r, "value": r["value"] + 1})

    together(8, bump)
    assert stores[0].get("counter", "c") == {"value": 200}


def test_concurrent_debits_never_overdraw(redis_store_url) -> None:
    accounts = [Accounts(RedisStore(c), default_credits=1.0, default_budget=1.0)
                for c in clients(redis_store_url, 20)]
    accounts[0].create("sk-shared-0001")

    def spend(index: int) -> bool:
        try:
            accounts[index].debit("sk-shared-0001", 0.15)
        except InsufficientFunds:
            return False
        return True

    assert sum(together(20, spend)) == 6
    assert accounts[1].find("sk-shared-0001").credits == pytest.approx(0.1)
    assert accounts[1].credit("sk-shared-0001", 0.05) == pytest.approx(0.15)


def test_an_adjusted_balance_survives_a_later_update(redis_client) -> None:
    accounts = Accounts(RedisStore(redis_client), default_credits=1.0, default_budget=1.0)
    accounts.create("sk-shared-0002")
    assert accounts.debit("sk-shared-0002", 0.25) == 0.75
    changed = accounts.change("sk-shared-0002", suspended=True)
    assert changed.credits == 0.75 and changed.suspended
    assert accounts.debit("sk-shared-0002", 0.75) == 0.0
    with pytest.raises(InsufficientFunds):
        accounts.debit("sk-shared-0002", 1e-6)
    with pytest.raises(KeyError):
        accounts.debit("sk-nobody-000", 1.0)


def test_seeded_id_sequences_are_shared(redis_client) -> None:
    one, other = RedisStore(redis_client), RedisStore(redis_client)
    assert [one.next_index("prediction"), other.next_index("prediction"), one.next_index("task")] == [0, 1, 0]


def test_an_unreachable_store_is_named_in_the_error() -> None:
    with pytest.raises(StoreUnavailable, match=r"cannot reach the store at redis://127\.0\.0\.1:1/0"):
        SharedState("redis://127.0.0.1:1/0")
