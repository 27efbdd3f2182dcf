"""The contract harness against the mock: clean runs of both APIs, the CLI, reports, read-only, spend limits,
and the pytest plugin used from another project."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from collections.abc import Iterator
from contextlib import contextmanager
from importlib import metadata
from pathlib import Path
from xml.etree import ElementTree as ET

import pytest
from starlette.types import ASGIApp, Receive, Scope, Send

from mockserver.cli import main
from mockserver.harness import harness, report
from mockserver.harness.findings import RunResult
from mockserver.harness.options import Options
from mockserver.harness.spend import SpendGuard, SpendLimitReached
from mockserver.server import ServerThread
from tests.conftest import KEY, START, make_settings

pytestmark = pytest.mark.slow
CLEAN_EXAMPLES = 3


class Capture:
    """Records the method and path of every request the wrapped app receives."""

    def __init__(self, app: ASGIApp, seen: list[tuple[str, str]], hide_control: bool = False) -> None:
        self.app, self.seen, self.hide_control = app, seen, hide_control

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            if self.hide_control and scope["path"].startswith("/_mock"):  # looks like a real endpoint
                await send({"type": "http.response.start", "status": 404, "headers": []})
                await send({"type": "http.response.body", "body": b""})
                return
            self.seen.append((scope["method"], scope["path"]))
        await self.app(scope, receive, send)


@contextmanager
def serving(api: str, seen: list[tuple[str, str]] | None = None, hide_control: bool = False) -> Iterator[str]:
    server = ServerThread(make_settings())
    if seen is not None:
        listener = next(item for item in server.plan.listeners if item.name == api)
        listener.app = Capture(listener.app, seen, hide_control)
    with server:
        yield server.urls[api]


def run(options: Options, lines: list[str] | None = None) -> RunResult:
    sink = lines.append if lines is not None else (lambda line: None)
    return harness.run(options, out=sink, progress=sink)


def explain(result: RunResult) -> str:
    return report.summary(result) + "".join(f"\n--- {f.headline()}\n{f.details}" for f in result.findings)


#: Every phase runs: the coverage phase, too, keeps to --max-examples per operation (mockserver/harness/budget.py).
CI_PHASES = {"skytells": ("examples", "coverage", "fuzzing", "stateful", "behaviour"),
             "gateai": ("examples", "coverage", "fuzzing", "stateful", "behaviour")}
#: schemathesis cases at least sent in those phases
MIN_CASES = {"skytells": 100, "gateai": 50}


@pytest.mark.parametrize("api", ["skytells", "gateai"])
def test_a_full_run_against_the_mock_passes(api: str) -> None:
    """Every phase and behaviour check, small example counts for CI time (bench/harness_full_run.py: bigger)."""
    with serving(api) as url:
        result = run(Options(api=api, base_url=url, api_key=KEY, max_examples=CLEAN_EXAMPLES, seed=1, steps=8,
                             phases=CI_PHASES[api]))
    print(report.summary(result))
    assert result.exit_code == 0, explain(result)
    names = {phase.name for phase in result.phases}
    assert {"fuzzing", "stateful"} <= names
    assert sum(p.examples for p in result.phases if p.source == "behaviour") >= 3 * CLEAN_EXAMPLES
    assert result.examples("schemathesis") >= MIN_CASES[api]


def test_the_cli_writes_junit_and_json_and_exits_0(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    junit, as_json = tmp_path / "out" / "report.xml", tmp_path / "report.json"
    with serving("skytells") as url:
        code = main(["check", "--api", "skytells", "--base-url", url, "--api-key", KEY, "--phases",
                     "fuzzing,behaviour", "--operations", "GET /v1/models/{slug}", "--checks", "skytells.catalog_reads",
                     "--max-examples", "3", "--quiet",
                     "--report", "junit", "--report-path", str(junit), "--report", "json", "--report-path",
                     str(as_json)])
    out = capsys.readouterr().out
    assert code == 0, out
    assert out.index("Plan: skytells") < out.index("Contract check: skytells")
    assert "PASSED (exit code 0)" in out
    suites = ET.parse(junit).getroot()
    assert suites.tag == "testsuites" and suites.get("failures") == "0" and int(suites.get("tests", "0")) >= 2
    names = {case.get("name") for case in suites.iter("testcase")}
    assert {"fuzzing", "skytells.catalog_reads"} <= names
    data = json.loads(as_json.read_text())
    assert data["ok"] is True and data["exit_code"] == 0 and data["findings"] == []
    assert data["examples"] == sum(phase["examples"] for phase in data["phases"]) > 0


def test_read_only_sends_nothing_but_get() -> None:
    seen: list[tuple[str, str]] = []
    with serving("skytells", seen) as url:
        result = run(Options(api="skytells", base_url=url, api_key=KEY, max_examples=2, read_only=True, steps=6))
    # violations are the clean run's business (test_a_full_run_against_the_mock_passes); here: nothing refused
    assert not result.errors and result.stopped is None, explain(result)
    api_requests = [(method, path) for method, path in seen if not path.startswith("/_mock")]
    assert len(api_requests) > 50
    assert {method for method, _ in api_requests} == {"GET"}, sorted({m for m, _ in api_requests})
    skipped = {p.name for p in result.phases if p.status == "skipped"}
    assert {"skytells.prediction_lifecycle", "skytells.inference_sse"} <= skipped


def test_max_spend_refuses_a_plan_that_exceeds_it_before_spending_anything() -> None:
    seen: list[tuple[str, str]] = []
    lines: list[str] = []
    with serving("gateai", seen) as url:
        result = run(Options(api="gateai", base_url=url, api_key=KEY, max_examples=5, max_spend=0.01), lines)
    assert result.exit_code == 3
    assert "more than --max-spend $0.01" in (result.stopped or "")
    assert lines[0].startswith("Plan: gateai") and "worst-case spend" in lines[0]
    assert not [path for method, path in seen if method == "POST" and path == "/api/generate"]


def test_a_real_endpoint_needs_a_spend_limit_unless_read_only() -> None:
    seen: list[tuple[str, str]] = []
    with serving("skytells", seen, hide_control=True) as url:
        refused = run(Options(api="skytells", base_url=url, api_key=KEY, phases=("behaviour",), max_examples=2))
        allowed = run(Options(api="skytells", base_url=url, api_key=KEY, phases=("behaviour",), max_examples=2,
                              read_only=True, steps=4))
    assert refused.target_kind == "remote" and refused.exit_code == 3
    assert "without a limit" in (refused.stopped or "")
    assert allowed.exit_code == 0, explain(allowed)
    assert {method for method, _ in seen} == {"GET"}


def test_the_spend_guard_stops_at_the_limit() -> None:
    guard = SpendGuard(0.05)
    guard.authorize("POST /v1/predictions", 0.03)
    with pytest.raises(SpendLimitReached, match="was not sent"):
        guard.authorize("POST /v1/predictions", 0.03)
    with pytest.raises(SpendLimitReached):  # sticky: nothing paid is sent any more
        guard.authorize("POST /v1/predictions", 0.001)
    guard.authorize("GET /v1/models", 0.0)
    assert guard.spent == pytest.approx(0.03)


def test_plan_only_prints_the_plan_and_sends_nothing_paid(capsys: pytest.CaptureFixture[str]) -> None:
    seen: list[tuple[str, str]] = []
    with serving("skytells", seen) as url:
        code = main(["check", "--api", "skytells", "--base-url", url, "--api-key", KEY, "--plan-only",
                     "--max-spend", "100000"])
    out = capsys.readouterr().out
    assert code == 0
    assert "schemathesis POST /v1/predictions" in out and "behaviour skytells.prediction_lifecycle" in out
    assert all(method == "GET" for method, _ in seen)


def _plugin_flag() -> str:
    names = {entry.name for entry in metadata.entry_points(group="pytest11")}
    return "mockserver_contracts" if "mockserver_contracts" in names else "mockserver.harness.pytest_plugin"


def test_the_pytest_plugin_parametrizes_the_checks_in_another_project(tmp_path: Path) -> None:
    (tmp_path / "test_api_contract.py").write_text(textwrap.dedent("""
        from mockserver.harness.pytest_plugin import test_contract  # noqa: F401
    """))
    with serving("gateai") as url:
        command = [sys.executable, "-m", "pytest", "-q", "-p", _plugin_flag(), "-p", "no:randomly",
                   "-p", "no:cacheprovider", str(tmp_path), "--rootdir", str(tmp_path),
                   "--contract-api", "gateai", "--contract-base-url", url, "--contract-api-key", KEY,
                   "--contract-max-examples", "2", "--contract-phases", "fuzzing,behaviour",
                   "-k", "discovery_reads or models"]
        done = subprocess.run(command, capture_output=True, text=True, timeout=300, check=False,
                              cwd=tmp_path)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "passed" in done.stdout and "failed" not in done.stdout


def test_the_plugin_is_inert_without_its_option(tmp_path: Path) -> None:
    (tmp_path / "test_api_contract.py").write_text(
        "from mockserver.harness.pytest_plugin import test_contract  # noqa\n")
    done = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", _plugin_flag(), "-p", "no:cacheprovider",
                           str(tmp_path), "--rootdir", str(tmp_path)],
                          capture_output=True, text=True, timeout=120, check=False, cwd=tmp_path)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "1 skipped" in done.stdout




def test_the_budget_check_knows_the_daily_budget_resets_at_midnight() -> None:
    """A run that starts at 23:55 UTC crosses 00:00, where GateAI's budget resets: that is no finding."""
    with ServerThread(make_settings(start_time=START - 300)) as server:
        result = run(Options(api="gateai", base_url=server.urls["gateai"], api_key=KEY, max_examples=15, seed=3,
                             steps=12, phases=("behaviour",), machines=("gateai.generation_budget",)))
    assert result.exit_code == 0, explain(result)
    assert sum(p.examples for p in result.phases if p.source == "behaviour") >= 15
