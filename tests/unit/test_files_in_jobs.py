"""Output files live in their job's record: found by name, gone with the job, sized from the kept recipe."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from mockserver.core import jobs
from mockserver.core.clock import Clock
from mockserver.core.files import (
    SHAPE_FIELDS,
    SIZED_BY_CONTENT,
    Files,
    file_name,
    info_from_recipe,
    info_of,
    job_of,
    recipe,
)
from mockserver.core.media import MediaSpec, declared_size
from mockserver.core.media.formats import FORMAT_TABLE
from mockserver.core.store import MemoryStore

START = 1_767_225_600.0
STEPS = [("processing", 5.0), ("succeeded", 0.0)]
UUID = "0f8fad5b-d9cb-469f-a165-70867728950e"


def test_a_file_name_leads_back_to_its_job() -> None:
    assert job_of(file_name(UUID, 0, "webp")) == UUID
    assert job_of(file_name(UUID, 3, "glb", tag="_hunyuan-3d_")) == UUID  # a tag may hold dashes
    assert job_of("no-such-file") == "no-such" and job_of("") == ""


@settings(max_examples=60, deadline=None)
@given(fmt=st.sampled_from(sorted(set(FORMAT_TABLE) - SIZED_BY_CONTENT)), seed=st.integers(0, 2**31 - 1),
       label=st.text(max_size=30), width=st.integers(1, 4096), quality=st.integers(1, 100),
       seconds=st.floats(0.1, 60))
def test_the_declared_size_depends_on_the_shape_alone(fmt: str, seed: int, label: str, width: int, quality: int,
                                                      seconds: float) -> None:
    """What lets a view size a file from a cached shape: every field but the seed and the label."""
    spec = MediaSpec(fmt, width=width, height=64, seconds=seconds, quality=quality, seed=seed, label=label)
    shape = MediaSpec(*recipe(spec)[:SHAPE_FIELDS])
    assert declared_size(spec) == declared_size(shape)
    assert info_from_recipe("x", recipe(spec)) == info_of("x", spec)
    assert info_from_recipe("x", list(recipe(spec))) == info_of("x", spec)  # as a JSON store gives it back


def test_a_mesh_is_sized_from_its_whole_recipe() -> None:
    one, other = MediaSpec("glb", seed=1, label="a"), MediaSpec("glb", seed=2, label="a much longer label")
    assert info_from_recipe("m.glb", recipe(one)) == info_of("m.glb", one)
    assert info_from_recipe("m.glb", recipe(other)) == info_of("m.glb", other)


@pytest.fixture
def made() -> tuple[jobs.JobEngine, Files, Clock]:
    clock, files, store = Clock(mode="manual", start=START), Files(), MemoryStore()
    return jobs.JobEngine(jobs.JobKind("thing"), store, clock, files), files, clock


def put(engine: jobs.JobEngine, job_id: str, count: int) -> dict:
    specs = [MediaSpec("png", width=8, height=8, seed=n) for n in range(count)]
    names, recipes = engine.outputs((file_name(job_id, n, "png"), spec) for n, spec in enumerate(specs))
    return engine.put({"id": job_id, "owner": "sk-a", "created_at": START, "files": names, "file_specs": recipes,
                       "phases": jobs.build_phases(START, STEPS)})


def test_files_are_found_through_their_job(made: tuple[jobs.JobEngine, Files, Clock]) -> None:
    engine, files, _ = made
    record = put(engine, UUID, 2)
    assert files.spec(file_name(UUID, 1, "png")) == MediaSpec("png", width=8, height=8, seed=1)
    assert [info.name for info in engine.output_infos(record)] == [file_name(UUID, n, "png") for n in range(2)]
    assert files.spec(file_name(UUID, 2, "png")) is None  # the job has two files
    assert files.spec(file_name(UUID, 0, "jpg")) is None  # nor one of another format
    assert files.spec("unknown-0.png") is None


def test_files_go_with_a_cancel_and_a_delete(made: tuple[jobs.JobEngine, Files, Clock]) -> None:
    engine, files, clock = made
    put(engine, UUID, 1)
    other = "1b4e28ba-2fa1-11d2-883f-0016d3cca427"
    put(engine, other, 1)
    engine.cancel("sk-a", UUID)
    assert files.info(file_name(UUID, 0, "png")) is None and files.info(file_name(other, 0, "png")) is not None
    clock.advance(10)
    engine.delete("sk-a", other)
    assert files.info(file_name(other, 0, "png")) is None


def test_a_later_engine_of_a_kind_takes_the_place_of_the_earlier(made: tuple[jobs.JobEngine, Files, Clock]) -> None:
    engine, files, clock = made
    put(engine, UUID, 1)
    again = jobs.JobEngine(jobs.JobKind("thing"), engine.store, clock, files)  # e.g. the dashboard's reader
    assert len(files._sources) == 1 and files._sources["thing"] is again
    assert files.info(file_name(UUID, 0, "png")) is not None


def test_a_record_without_recipes_has_no_files(made: tuple[jobs.JobEngine, Files, Clock]) -> None:
    """A job an older version stored (its file names, no recipes) answers no file rather than failing."""
    engine, files, _ = made
    engine.put({"id": UUID, "owner": "sk-a", "created_at": START, "files": [file_name(UUID, 0, "png")],
                "phases": jobs.build_phases(START, STEPS)})
    assert files.info(file_name(UUID, 0, "png")) is None and engine.output_infos(engine.find(UUID)) == []
