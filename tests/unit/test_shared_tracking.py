"""Records a server process keeps while Redis tracks them (``core/shared_store/tracking.py``), against a real
``redis-server``: an unchanged record costs no round trip, and a change by any client is seen at the next read.

Each store here has its own single-connection client, as each server process has. A write by another "process"
is followed by a round trip of that process (``PING``) before this one reads: Redis has written its invalidation
messages by the time it answers the next command (in a server, the writer's journal entry is that command).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
import redis
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from mockserver.core.shared_store.connection import connect
from mockserver.core.shared_store.store import RedisStore
from mockserver.core.shared_store.tracking import TrackedReads
from mockserver.core.store import Retention

UNBOUNDED = Retention(max_records=None, max_key_bytes=None, max_store_bytes=None)


class Counted:
    """Counts the ``HGETALL`` a client sends (what a kept record spares)."""

    def __init__(self, client: redis.Redis) -> None:
        self.reads = 0
        original = client.hgetall

        def hgetall(name: Any) -> Any:
            self.reads += 1
            return original(name)

        client.hgetall = hgetall  # type: ignore[method-assign]


@pytest.fixture
def processes(redis_store_url: str) -> Iterator[tuple[RedisStore, RedisStore, Counted]]:
    """Two stores as two server processes have them; the first one's reads are counted."""
    one, other = connect(redis_store_url, single=True), connect(redis_store_url, single=True)
    counted = Counted(one)
    stores = [RedisStore(client, UNBOUNDED, tracked=TrackedReads(client)) for client in (one, other)]
    yield stores[0], stores[1], counted
    one.close()
    other.close()


def settled(store: RedisStore) -> None:
    """One round trip of the writing process: its writes' invalidations are on their way to every reader."""
    store.client.ping()


def test_an_unchanged_record_is_read_from_redis_once(processes) -> None:
    one, other, counted = processes
    other.put("prediction", "p1", {"id": "p1", "n": 1}, owner="A")
    settled(other)
    first = one.get("prediction", "p1")
    assert [one.get("prediction", "p1") for _ in range(5)] == [first] * 5 and first == {"id": "p1", "n": 1}
    assert counted.reads <= 2  # the first read (and one more while tracking was being set up), then none


@pytest.mark.parametrize("change", ["put", "update", "adjust", "delete", "clear_owner", "clear_all", "flush"])
def test_a_change_by_another_process_is_seen_at_the_next_read(processes, change: str) -> None:
    one, other, counted = processes
    other.put("account", "k", {"key": "k", "credits": 5.0}, owner=None)
    other.put("prediction", "p1", {"id": "p1", "n": 1}, owner="A")
    settled(other)
    for _ in range(3):
        one.get("prediction", "p1"), one.get("account", "k")
    before = counted.reads
    expected = _apply(change, other)
    settled(other)
    assert (one.get("prediction", "p1"), one.get("account", "k")) == expected
    assert counted.reads > before


def _apply(change: str, store: RedisStore) -> tuple[Any, Any]:
    """Make ``change`` through ``store``; what the prediction and the account are after it."""
    prediction, account = {"id": "p1", "n": 1}, {"key": "k", "credits": 5.0}
    if change == "put":
        store.put("prediction", "p1", {"id": "p1", "n": 2}, owner="A")
        return {"id": "p1", "n": 2}, account
    if change == "update":
        store.update("prediction", "p1", lambda record: {**record, "n": 3})
        return {"id": "p1", "n": 3}, account
    if change == "adjust":
        store.adjust("account", "k", "credits", -2.0)
        return prediction, {"key": "k", "credits": 3.0}
    if change == "delete":
        store.delete("prediction", "p1")
        return None, account
    if change == "clear_owner":
        store.clear(owner="A")
        return None, account
    if change == "clear_all":
        store.clear()
        return None, None
    store.client.flushdb()
    return None, None


def test_own_writes_are_seen_at_once(processes) -> None:
    one, _, _ = processes
    one.put("prediction", "p1", {"id": "p1", "n": 1}, owner="A")
    assert one.get("prediction", "p1") == {"id": "p1", "n": 1}
    one.put("prediction", "p1", {"id": "p1", "n": 2}, owner="A")
    assert one.get("prediction", "p1") == {"id": "p1", "n": 2}
    one.update("prediction", "p1", lambda record: {**record, "n": 3})
    assert one.get("prediction", "p1")["n"] == 3
    one.delete("prediction", "p1")
    assert one.get("prediction", "p1") is None


@pytest.mark.parametrize("broken", ["subscriber", "hot connection"])
def test_a_broken_connection_drops_what_is_kept_and_tracking_comes_back(processes, broken: str) -> None:
    one, other, counted = processes
    other.put("prediction", "p1", {"id": "p1", "n": 1}, owner="A")
    settled(other)
    one.get("prediction", "p1"), one.get("prediction", "p1")
    tracked = one._tracked
    assert tracked is not None and tracked.subscriber_id is not None
    victim = tracked.subscriber_id if broken == "subscriber" else int(one.client.client_id())
    other.client.client_kill_filter(_id=victim)
    other.put("prediction", "p1", {"id": "p1", "n": 2}, owner="A")  # its invalidation may be lost with the kill
    settled(other)
    assert one.get("prediction", "p1") == {"id": "p1", "n": 2}
    reads = counted.reads
    assert one.get("prediction", "p1") == {"id": "p1", "n": 2}  # tracked again (set up anew on the way)
    assert one.get("prediction", "p1") == {"id": "p1", "n": 2} and counted.reads - reads <= 1


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(steps=st.lists(st.tuples(st.sampled_from(["one", "other"]), st.sampled_from(["put", "delete", "get"]),
                                st.integers(0, 2), st.integers(0, 9)), max_size=30))
def test_two_processes_read_what_one_store_would(processes, steps: list[tuple[str, str, int, int]]) -> None:
    """Any interleaving of writes and reads by two processes reads what was last written (a dict as the model)."""
    one, other, _ = processes
    one.clear()
    settled(one)
    model: dict[str, int] = {}
    stores = {"one": one, "other": other}
    for who, action, slot, value in steps:
        store, key = stores[who], f"p{slot}"
        if action == "put":
            store.put("prediction", key, {"id": key, "v": value}, owner="A")
            model[key] = value
        elif action == "delete":
            store.delete("prediction", key)
            model.pop(key, None)
        else:
            got = store.get("prediction", key)
            assert (None if got is None else got["v"]) == model.get(key)
        settled(store)


def test_a_control_plane_change_is_settled_before_its_answer_goes_out(redis_store_url: str) -> None:
    """A change through ``/_mock`` makes one more round trip (``SharedState.settle``) before its last chunk, so a
    client that has the answer finds the change announced to every process; a read makes none."""
    import asyncio
    import json

    from mockserver.app import build
    from tests.conftest import make_settings
    from tests.unit.test_request_garbage import call

    mock = build(make_settings(store=redis_store_url))
    shared, settled = mock.runtime.shared, []
    assert shared is not None
    settle = shared.settle
    shared.settle = lambda: settled.append(1) or settle()  # type: ignore[method-assign]
    app = mock.apps["skytells"]
    try:
        asyncio.run(call(app, "GET", "/_mock/clock", []))
        assert settled == []
        body = json.dumps({"seconds": 5}).encode()
        sent = asyncio.run(call(app, "POST", "/_mock/clock/advance", [(b"content-type", b"application/json")], body))
        assert sent[0]["status"] == 200 and settled == [1]
    finally:
        mock.runtime.close()


def test_a_redis_that_refuses_tracking_is_not_asked_on_every_read(redis_store_url: str,
                                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    """Without tracking every read goes to Redis, and setting it up is tried again only after a pause."""
    from mockserver.core.shared_store import tracking

    client = connect(redis_store_url, single=True)
    counted, attempts = Counted(client), []
    execute = client.execute_command

    def refusing(*args: Any, **options: Any) -> Any:
        if args[:2] == ("CLIENT", "TRACKING"):
            attempts.append(args)
            raise redis.ResponseError("NOPERM this user has no permissions to run the 'client|tracking' command")
        return execute(*args, **options)

    monkeypatch.setattr(client, "execute_command", refusing)
    store = RedisStore(client, UNBOUNDED, tracked=TrackedReads(client))
    store.put("prediction", "p1", {"id": "p1"}, owner="A")
    try:
        assert [store.get("prediction", "p1") for _ in range(5)] == [{"id": "p1"}] * 5
        assert counted.reads == 5 and len(attempts) == 1
        monkeypatch.setattr(tracking.time, "monotonic", lambda: 1e12)  # the pause is over
        store.get("prediction", "p1")
        assert len(attempts) == 2
    finally:
        client.close()
