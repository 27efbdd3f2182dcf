"""The pure parts of bench/instructions.py's served count: which servers it counts in, and reading a dump."""

from __future__ import annotations

import subprocess
from pathlib import Path
from typing import Any

import pytest

from bench import instructions
from bench.side_by_side import BARE_COMMANDS


def test_the_bare_reference_runs_on_the_stack_the_wrk_bench_measures() -> None:
    command = instructions.server_command("bare", 41234)
    assert command[1:] == [*BARE_COMMANDS["uvicorn"], "41234"]


def test_the_mock_is_counted_as_mockserver_serve_runs_it_seeded_on_the_instant_clock() -> None:
    command = instructions.server_command("create", 41234)
    assert command[1:4] == ["-m", "mockserver.cli", "serve"]
    flags = dict(zip(command[4::2], command[5::2], strict=True))
    assert flags["--skytells-port"] == "41234" and flags["--time-mode"] == "instant" and flags["--seed"] == "1"
    assert flags["--api-key"] == instructions.READ_KEY and flags["--gateai-port"] != "41234"


def test_every_route_has_a_served_request_and_the_get_names_the_prepared_prediction() -> None:
    assert set(instructions.SERVED_REQUESTS) == set(instructions.ROUTES)
    method, path, key, body = instructions.SERVED_REQUESTS["get"]
    assert (method, body, key) == ("GET", None, instructions.READ_KEY)
    assert path.format(prediction="p-1") == "/v1/predictions/p-1"


def test_a_dump_s_total_is_read_from_the_file_callgrind_writes(tmp_path: Path,
                                                                monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "callgrind.out.7.1").write_text("summary: 1\n")  # an earlier dump: not this one
    asked: list[list[str]] = []

    def fake_run(command: list[str], **_: Any) -> subprocess.CompletedProcess[str]:
        asked.append(command)
        (tmp_path / "callgrind.out.7.2").write_text("version: 1\ncmd: python\nevents: Ir\nsummary: 306129000\n")
        return subprocess.CompletedProcess(command, 0, "", "")

    monkeypatch.setattr(instructions.subprocess, "run", fake_run)
    assert instructions.dump_total(7, tmp_path) == 306129000
    assert asked == [["callgrind_control", "--dump", "7"]]


def test_counted_processes_hash_strings_alike_from_run_to_run(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PYTHONHASHSEED", "random")
    monkeypatch.setenv("BENCH_PROBE", "kept")
    environment = instructions.child_environment()
    assert environment["PYTHONHASHSEED"] == "0" and environment["BENCH_PROBE"] == "kept"
