"""The store's per-owner count and page, the budget ledger's running totals, and the view cache's expiry."""

from __future__ import annotations

import orjson

from mockserver.core.limits import SlidingWindow
from mockserver.core.runtime import Runtime
from mockserver.core.store import MemoryStore, Retention
from mockserver.gateai.budget import DAY, Budget
from mockserver.settings import Settings
from mockserver.skytells.catalog import Catalog
from mockserver.skytells.prediction_body import parse_create
from mockserver.skytells.predictions import Predictions
from mockserver.skytells.routes import links_for

START = 1_767_225_600.0


def test_count_and_page_follow_puts_deletes_and_eviction() -> None:
    store = MemoryStore(Retention(max_records=5))
    for index in range(8):
        store.put("job", f"a{index}", {"n": index}, owner="a")
    store.put("job", "b0", {"n": 0}, owner="b")
    store.delete("job", "a6")
    assert store.count("job", "a") == 4 and store.count("job", "b") == 1
    assert [r["n"] for r in store.page("job", "a", 0, 3)] == [7, 5, 4]
    assert [r["n"] for r in store.page("job", "a", 3, 3)] == [3]
    assert [r["n"] for r in store.page("job", "a", 0, 10)] == [r["n"] for r in store.scan("job", owner="a")]


def test_byte_budget_evicts_the_owners_oldest_over_all_kinds() -> None:
    store = MemoryStore(Retention(max_records=None, max_key_bytes=400))
    store.put("x", "old", {"v": "x" * 100}, owner="a")
    store.put("y", "mid", {"v": "y" * 100}, owner="a")
    store.put("x", "new", {"v": "z" * 100}, owner="a")  # 3 x 174 bytes: one must go
    assert store.get("x", "old") is None and store.get("y", "mid") is not None


def test_ttl_expires_in_write_order_and_skips_rewritten_records() -> None:
    now = [0.0]
    store = MemoryStore(Retention(ttl=10.0), now=lambda: now[0])
    store.put("job", "a", {"n": 1}, owner="o")
    now[0] = 5.0
    store.put("job", "b", {"n": 2}, owner="o")
    store.put("job", "a", {"n": 3}, owner="o")  # rewritten: ages from now on
    now[0] = 12.0
    assert store.get("job", "a") == {"n": 3} and store.get("job", "b") == {"n": 2}
    now[0] = 16.0
    assert store.get("job", "a") is None and store.count("job", "o") == 0


def test_ledger_totals_settle_refunds_and_start_over_each_day() -> None:
    runtime = Runtime.from_settings(Settings(api_keys=("k",), seed=1, time_mode="manual", start_time=START))
    budget = Budget(runtime)
    budget.charge("k", "t1", "m1", 30.0, refund_at=START + 100)
    budget.charge("k", "t2", "m2", 50.0, refund_at=None)
    assert budget.status("k").used == 80
    runtime.clock.advance(100)
    assert budget.status("k").used == 50
    assert budget.spending_today("k") == {"m1": {"requests": 1, "cost": 0}, "m2": {"requests": 1, "cost": 50}}
    assert budget.charge("k", "t3", "m1", 50.0, refund_at=None).used == 100
    runtime.clock.advance(DAY)
    assert budget.status("k").used == 0 and budget.spending_today("k") == {}


def test_sliding_window_forgets_hits_older_than_the_window() -> None:
    now = [0.0]
    window = SlidingWindow(MemoryStore(), "w", 2, 10.0, lambda: now[0])
    assert window.hit("a").allowed and window.hit("a").allowed
    refused = window.hit("a")
    assert not refused.allowed and refused.retry_after == 10.0
    now[0] = 10.0
    assert window.used("a") == 0 and window.hit("a").allowed


def test_cached_view_changes_with_the_phase_and_the_record() -> None:
    settings = Settings(api_keys=("k",), credits=100.0, seed=3, time_mode="manual", start_time=START)
    runtime = Runtime.from_settings(settings)
    catalog = Catalog.load()
    domain = Predictions(runtime, catalog)
    links = links_for("http://mock/v1")
    record = domain.create("k", parse_create({"model": "truefusion-pro", "input": {"prompt": "p"}}, catalog))
    first = domain.views.encoded(record, links)
    assert domain.views.encoded(record, links) is first  # same phase, same record: the kept bytes reused
    assert domain.views.view(record, links) == orjson.loads(first)  # a dict view is those bytes decoded
    runtime.clock.advance(1_000)
    later = domain.views.view(domain.get("k", record["id"]), links)
    assert later["status"] == "succeeded" and later == domain.views.render(record, links, runtime.clock.now())
    cancelled_source = domain.create("k", parse_create({"model": "truefusion-pro", "input": {"prompt": "q"}},
                                                       catalog))
    domain.views.view(cancelled_source, links)
    assert domain.views.view(domain.cancel("k", cancelled_source["id"]), links)["status"] == "cancelled"


def test_both_stores_implement_the_whole_store_protocol() -> None:
    """count, page and put_absent are part of the protocol: every store has them, with the protocol's parameters."""
    import inspect

    from mockserver.core.shared_store.store import RedisStore
    from mockserver.core.store import Store

    methods = [name for name, member in vars(Store).items() if callable(member) and not name.startswith("_")]
    assert {"count", "page", "put_absent"} <= set(methods)
    for implementation in (MemoryStore, RedisStore):
        for name in methods:
            wanted = list(inspect.signature(getattr(Store, name)).parameters)
            assert list(inspect.signature(getattr(implementation, name)).parameters) == wanted, (implementation, name)
