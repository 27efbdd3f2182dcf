"""README's pytest-plugin example, run as a user would run it: its own file, its own pytest process."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

README = Path(__file__).resolve().parents[2] / "README.md"


def readme_example() -> str:
    text = README.read_text(encoding="utf-8")
    match = re.search(r"<!-- example: pytest-plugin -->\n```python\n(.*?)```", text, re.S)
    assert match, "README lost its pytest-plugin example"
    return match.group(1)


def run_pytest(directory: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", *args],
                          cwd=directory, capture_output=True, text=True, timeout=300)


def test_the_readme_example_passes_with_the_plugin(tmp_path: Path) -> None:
    (tmp_path / "test_my_app.py").write_text(readme_example(), encoding="utf-8")
    result = run_pytest(tmp_path)
    assert result.returncode == 0, result.stdout + result.stderr
    assert re.search(r"\b5 passed\b", result.stdout), result.stdout


def test_state_is_fresh_in_every_test_and_options_apply(tmp_path: Path) -> None:
    (tmp_path / "test_fresh.py").write_text('''
import httpx

def test_one(mockserver):
    mockserver.rules.fault("error", status=503)
    mockserver.advance(100)
    assert httpx.get(mockserver.skytells_url + "/models",
                     headers={"x-api-key": mockserver.api_key}).status_code == 503

def test_two(mockserver):
    assert mockserver.rules.list() == []
    assert mockserver.requests.count() == 0
    assert mockserver.clock.get()["mode"] == "instant"
    models = httpx.get(mockserver.skytells_url + "/models", headers={"x-api-key": mockserver.api_key})
    assert models.status_code == 200 and len(models.json()) == 39
    assert httpx.get(mockserver.gateai_url + "/v1/models").status_code == 200
''', encoding="utf-8")
    result = run_pytest(tmp_path, "--mockserver-time-mode", "instant", "-p", "no:randomly")
    assert result.returncode == 0, result.stdout + result.stderr
    assert re.search(r"\b2 passed\b", result.stdout), result.stdout


def test_autojump_lets_an_awaited_create_finish_on_the_manual_clock(tmp_path: Path) -> None:
    (tmp_path / "test_await.py").write_text('''
import httpx

def test_await(mockserver):
    assert mockserver.clock.get()["autojump"] == 0
    started = mockserver.clock.now()
    created = httpx.post(mockserver.skytells_url + "/predictions", headers={"x-api-key": mockserver.api_key},
                         json={"model": "truefusion-pro", "input": {"prompt": "a fox"}, "await": True}).json()
    assert created["status"] == "succeeded"
    assert mockserver.clock.now() > started  # the wait moved virtual time, to the prediction's end
''', encoding="utf-8")
    result = run_pytest(tmp_path, "--mockserver-autojump", "0")
    assert result.returncode == 0, result.stdout + result.stderr


def test_the_plugin_starts_nothing_unless_asked(tmp_path: Path) -> None:
    (tmp_path / "test_plain.py").write_text("def test_plain():\n    assert True\n", encoding="utf-8")
    result = run_pytest(tmp_path, "--setup-show")
    assert result.returncode == 0 and "mockserver" not in result.stdout, result.stdout
