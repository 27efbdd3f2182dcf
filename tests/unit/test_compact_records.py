"""Compact job records and packed schedules: what the in-memory store keeps is smaller, and reads the same --
including after a trip through the Redis store, which is given the full record."""

from __future__ import annotations

import orjson
import pytest
from hypothesis import given
from hypothesis import strategies as st

from mockserver.core import jobs
from mockserver.core.clock import Clock
from mockserver.core.files import Files
from mockserver.core.shared_store.store import RedisStore
from mockserver.core.store import MemoryStore, Retention
from mockserver.skytells.predictions import NO_WEBHOOK, PredictionRecord

START = 1_767_225_600.0
STEPS = [("pending", 1.0), ("starting", 2.0), ("processing", 5.0), ("succeeded", 0.0)]


def prediction(**fields: object) -> PredictionRecord:
    base = {"id": "p1", "owner": "sk-a", "created_at": START, "files": (),
            "phases": jobs.packed(jobs.build_phases(START, STEPS))}
    return PredictionRecord.compact({**base, **fields})


def test_fields_at_their_default_are_left_out_and_read_as_the_default() -> None:
    record = prediction(stream=False, webhook={"url": None, "events": []}, error=None, refunded=False,
                        output_array=True, deleted=False)
    assert set(record) == {"id", "owner", "created_at", "files", "phases"}
    assert record["stream"] is False and record["webhook"] == NO_WEBHOOK and record["error"] is None
    assert record.get("deleted") is False and record.get("refunded") is False and record.get("cancelled_at") is None
    assert record.get("unknown", 7) == 7
    with pytest.raises(KeyError):
        _ = record["unknown"]


def test_optional_fields_set_on_a_new_record_are_kept_only_off_their_default() -> None:
    record = prediction()
    record.set_unless_default({"stream": False, "webhook": {"url": None, "events": []}, "outcome": "failed",
                               "error": "boom", "output_array": 1})
    assert set(record) == {"id", "owner", "created_at", "files", "phases", "outcome", "error", "output_array"}
    assert record == PredictionRecord.compact({**prediction(), "stream": False, "outcome": "failed", "error": "boom",
                                               "output_array": 1})


def test_a_value_of_another_type_is_not_a_default() -> None:
    record = prediction(stream=0, output_array=1.0, error="boom")
    assert record["stream"] == 0 and type(dict.__getitem__(record, "stream")) is int
    assert "output_array" in dict.keys(record) and record["error"] == "boom"


def test_changes_stay_compact_and_full_fills_every_field() -> None:
    record = prediction()
    cancelled = jobs.engine.changed(record, cancelled_at=START + 2, refunded=True)
    assert isinstance(cancelled, PredictionRecord) and cancelled["cancelled_at"] == START + 2
    assert cancelled["stream"] is False and "cancelled_at" not in record
    full = record.full()
    assert type(full) is dict and set(PredictionRecord.DEFAULTS) <= set(full) and full["phases"] == record["phases"]
    assert orjson.loads(orjson.dumps(record)) == {k: list(v) if isinstance(v, tuple) else v for k, v in record.items()}


def test_packed_phases_read_as_pairs_in_either_form() -> None:
    line = jobs.build_phases(START, STEPS)
    stored = jobs.packed(line)
    assert stored == ("pending", START, "starting", START + 1, "processing", START + 3, "succeeded", START + 8)
    from_json = orjson.loads(orjson.dumps(stored))  # a shared store gives back a list
    for form in (line, stored, from_json):
        assert jobs.pairs(form) == line
        assert jobs.state_at(form, START + 4).status == "processing"
        assert jobs.timeline(form, cancelled_at=START + 2) == [("pending", START), ("starting", START + 1),
                                                               ("cancelled", START + 2)]


def test_the_memory_store_keeps_the_compact_record_and_a_shared_store_the_full_one(redis_client) -> None:
    clock = Clock(mode="manual", start=START)
    kind = jobs.JobKind("prediction", refund_field="credits")
    memory = MemoryStore()
    jobs.JobEngine(kind, memory, clock, Files()).put(prediction())
    assert type(memory.get("prediction", "p1")) is PredictionRecord

    shared = RedisStore(redis_client, Retention(max_records=None))
    engine = jobs.JobEngine(kind, shared, clock, Files())
    record = prediction(stream=True)
    engine.put(record)
    back = engine.find("p1")
    assert back is not None and type(back) is dict
    defaults = PredictionRecord.DEFAULTS
    # as JSON keeps them (a tuple comes back a list)
    assert {key: back[key] for key in defaults} == orjson.loads(orjson.dumps({key: record[key] for key in defaults}))
    assert engine.state(back, START + 9) == engine.state(record, START + 9)
    assert engine.delete("sk-a", "p1")["deleted"] is True


@given(st.lists(st.floats(0, 50), min_size=1, max_size=5), st.floats(-10, 80),
       st.none() | st.floats(-10, 80))
def test_the_state_of_a_packed_schedule_is_the_state_of_its_pairs(gaps: list[float], now: float,
                                                                  cancelled_at: float | None) -> None:
    steps = [(f"s{index}", gap) for index, gap in enumerate(gaps)]
    line = jobs.build_phases(0.0, steps)
    for form in (jobs.packed(line), list(jobs.packed(line))):
        assert jobs.state_at(form, now, cancelled_at) == jobs.state_at(line, now, cancelled_at)
