"""The package layers stay as packaged: ``mockserver.spec`` (contracts, validation, data files) imports nothing
else of ``mockserver``; only the ``check`` sub-command reaches the harness; the harness' packages are an extra;
starting the server loads no media, text or harness library."""

from __future__ import annotations

import ast
import re
import subprocess
import sys
import tomllib
from pathlib import Path

from mockserver.harness import EXTRA_MODULES

ROOT = Path(__file__).resolve().parents[2]
PACKAGE = ROOT / "mockserver"


def imports(path: Path) -> set[str]:
    """Every ``mockserver…`` module ``path`` imports, at the top or inside a function."""
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
            found.add(node.module)
            if node.module == "mockserver":  # ``from mockserver import spec``
                found |= {f"mockserver.{alias.name}" for alias in node.names}
    return {name for name in found if name == "mockserver" or name.startswith("mockserver.")}


def modules(folder: Path) -> dict[str, set[str]]:
    return {str(path.relative_to(ROOT)): imports(path) for path in folder.rglob("*.py")}


def test_the_spec_package_imports_nothing_else_of_mockserver() -> None:
    outside = {path: sorted(name for name in names if not name.startswith("mockserver.spec"))
               for path, names in modules(PACKAGE / "spec").items()}
    assert not {path: names for path, names in outside.items() if names}
    assert modules(PACKAGE / "spec")  # the walk sees the package


def test_only_the_check_command_imports_the_harness() -> None:
    users = {path for path, names in modules(PACKAGE).items()
             if not path.startswith("mockserver/harness/") and any(n.startswith("mockserver.harness") for n in names)}
    assert users == {"mockserver/cli.py"}


def test_the_walk_would_see_a_forbidden_import(tmp_path: Path) -> None:
    sample = tmp_path / "sample.py"
    sample.write_text("def f():\n    from mockserver import harness\n    import mockserver.core.media\n")
    assert imports(sample) == {"mockserver", "mockserver.harness", "mockserver.core.media"}


def _requirement_names(requirements: list[str]) -> set[str]:
    return {re.split(r"[\s<>=!~;\[]", requirement, maxsplit=1)[0].lower() for requirement in requirements}


def test_the_harness_packages_are_an_extra_the_tests_pull_in() -> None:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    extras = project["optional-dependencies"]
    assert _requirement_names(extras["harness"]) == EXTRA_MODULES
    assert not _requirement_names(project["dependencies"]) & EXTRA_MODULES
    assert "mockserver[harness]" in extras["test"]


def test_starting_the_server_loads_no_media_text_or_harness_library() -> None:
    code = ("import sys, mockserver.app, mockserver.cli, mockserver.pytest_plugin, mockserver.harness.pytest_plugin; "
            "print(' '.join(sorted({name.partition('.')[0] for name in sys.modules})))")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=True)
    loaded = set(done.stdout.split())
    assert "mockserver" in loaded and "starlette" in loaded
    assert not loaded & {"numpy", "av", "PIL", "faker", "schemathesis", "hypothesis"}
