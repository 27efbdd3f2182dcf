"""A server-only install (``pip install mockserver``, without the ``[harness]`` extra): the server and both
pytest plugins work; ``mockserver check`` says in one line what to install and exits 2.

The subprocesses get a ``sitecustomize`` whose import hook answers ``ModuleNotFoundError`` for the extra's
packages, exactly as a Python without them would (faster than a fresh virtualenv, and the same code paths).
"""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from mockserver.harness import EXTRA_MODULES

ROOT = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent
MISSING = "mockserver check needs the harness extra: pip install 'mockserver[harness]'"

HIDE = textwrap.dedent(f"""
    import sys
    from importlib.abc import MetaPathFinder

    class _NotInstalled(MetaPathFinder):
        def find_spec(self, name, path=None, target=None):
            if name.partition(".")[0] in {sorted(EXTRA_MODULES)!r}:
                raise ModuleNotFoundError(f"No module named {{name!r}}", name=name)
            return None

    sys.meta_path.insert(0, _NotInstalled())
""")


@pytest.fixture
def server_only(tmp_path: Path) -> dict[str, str]:
    """The environment of a subprocess that cannot import the harness extra's packages."""
    hook = tmp_path / "hook"
    hook.mkdir()
    (hook / "sitecustomize.py").write_text(HIDE)
    path = os.pathsep.join(p for p in (str(hook), str(ROOT), os.environ.get("PYTHONPATH", "")) if p)
    return {**os.environ, "PYTHONPATH": path, "PYTEST_DISABLE_PLUGIN_AUTOLOAD": "1"}


def run(command: list[str], env: dict[str, str], cwd: Path = ROOT) -> subprocess.CompletedProcess[str]:
    return subprocess.run(command, env=env, cwd=cwd, capture_output=True, text=True, timeout=120, check=False)


def test_the_hook_hides_the_extra(server_only: dict[str, str]) -> None:
    done = run([sys.executable, "-c", "import schemathesis"], server_only)
    assert done.returncode == 1 and "ModuleNotFoundError: No module named 'schemathesis'" in done.stderr


@pytest.mark.parametrize("command", [[str(BIN / "mockserver"), "check"], [sys.executable, "-m", "mockserver.harness"]])
def test_check_without_the_extra_names_it_in_one_line(server_only: dict[str, str], command: list[str]) -> None:
    done = run([*command, "--api", "skytells", "--base-url", "http://127.0.0.1:9/v1", "--api-key", "sk-x"],
               server_only)
    assert (done.returncode, done.stdout, done.stderr) == (2, "", MISSING + "\n")


def test_the_server_answers_without_the_extra(server_only: dict[str, str]) -> None:
    code = textwrap.dedent("""
        import sys
        from starlette.testclient import TestClient
        from mockserver.app import build
        from mockserver.settings import DEFAULT_API_KEY

        with TestClient(build().apps["skytells"]) as client:
            answer = client.get("/v1/models", headers={"x-api-key": DEFAULT_API_KEY})
        print(answer.status_code, len(answer.json()) > 0)
    """)
    done = run([sys.executable, "-c", code], server_only)
    assert done.returncode == 0, done.stderr
    assert done.stdout.split() == ["200", "True"]


def test_pytest_with_both_plugins_runs_without_the_extra(server_only: dict[str, str], tmp_path: Path) -> None:
    (tmp_path / "test_user.py").write_text(textwrap.dedent("""
        from mockserver.harness.pytest_plugin import test_contract  # noqa: F401

        def test_plain():
            assert 1 + 1 == 2
    """))
    plugins = ["-p", "mockserver.pytest_plugin", "-p", "mockserver.harness.pytest_plugin"]
    done = run([sys.executable, "-m", "pytest", "-q", *plugins, "-p", "no:cacheprovider", str(tmp_path),
                "--rootdir", str(tmp_path)], server_only, cwd=tmp_path)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "1 passed, 1 skipped" in done.stdout
    asked = run([sys.executable, "-m", "pytest", "-q", *plugins, "-p", "no:cacheprovider", str(tmp_path),
                 "--rootdir", str(tmp_path), "--contract-base-url", "http://127.0.0.1:9/v1"], server_only, cwd=tmp_path)
    assert (asked.returncode, asked.stdout) == (4, "")  # pytest's usage error
    assert asked.stderr.strip() == "ERROR: the contract checks need the harness extra: " + MISSING.split(": ")[1]
