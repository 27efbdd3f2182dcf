"""What a user installs and runs: the wheel carries the fixtures; the Dockerfile's commands work."""

from __future__ import annotations

import json
import os
import re
import shlex
import socket
import subprocess
import sys
import time
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("wheel")
    subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--quiet", "-w", str(out), str(ROOT)],
                   check=True, timeout=300)
    return next(out.glob("mockserver-*.whl"))


def test_wheel_contains_packages_fixtures_contracts_and_entry_points(wheel: Path) -> None:
    names = set(zipfile.ZipFile(wheel).namelist())
    assert "mockserver/_fixtures/skytells/models.json" in names
    assert "mockserver/_fixtures/skytells/timing.json" in names
    assert "mockserver/_fixtures/skytells/vocabulary.json" in names
    assert {"mockserver/_contracts/skytells.yaml", "mockserver/_contracts/gateai.yaml"} <= names
    assert {"mockserver/cli.py", "mockserver/spec/__init__.py", "mockserver/harness/__init__.py"} <= names
    entry_points = next(n for n in names if n.endswith("entry_points.txt"))
    text = zipfile.ZipFile(wheel).read(entry_points).decode()
    assert "mockserver = mockserver.cli:main" in text
    assert "mockserver_contracts = mockserver.harness.pytest_plugin" in text


def test_wheel_carries_the_dashboard_assets(wheel: Path) -> None:
    names = set(zipfile.ZipFile(wheel).namelist())
    assets = {path.relative_to(ROOT).as_posix() for path in (ROOT / "mockserver/admin/ui").rglob("*") if path.is_file()}
    assert {"mockserver/admin/ui/index.html", "mockserver/admin/ui/app.js"} <= assets
    assert assets <= names


def test_the_wheel_installs_one_top_level_import_name(wheel: Path) -> None:
    """Nothing beside ``mockserver`` (e.g. no ``contracts``, which is a project of its own on PyPI)."""
    top = {name.split("/")[0] for name in zipfile.ZipFile(wheel).namelist()}
    assert {name for name in top if not name.endswith(".dist-info")} == {"mockserver"}


def test_installed_wheel_finds_its_fixtures_outside_the_source_tree(wheel: Path, tmp_path: Path) -> None:
    zipfile.ZipFile(wheel).extractall(tmp_path / "site")
    code = ("import mockserver.spec.data as f; from mockserver import spec; from mockserver.skytells.catalog import "
            "Catalog; from mockserver.skytells.inference import tokens; "
            "print(f.fixtures_root(), f.data_root('contracts'), len(spec.document('gateai')['paths']), "
            "len(Catalog.load()), tokens.decode(tokens.encode('Hello, world')))")
    result = subprocess.run([sys.executable, "-c", code], cwd=tmp_path, capture_output=True, text=True, timeout=60,
                            env={**os.environ, "PYTHONPATH": str(tmp_path / "site")})
    assert result.returncode == 0, result.stderr
    fixtures, contracts, paths, count, text = result.stdout.split(maxsplit=4)
    site = str(tmp_path / "site")
    assert fixtures.startswith(site) and contracts == str(tmp_path / "site" / "mockserver" / "_contracts")
    assert int(paths) > 0 and count == "39" and text.strip() == "Hello, world"


def _dockerfile() -> tuple[dict[str, str], list[str], list[str]]:
    text = (ROOT / "Dockerfile").read_text()
    joined = re.sub(r"\\\n\s*", " ", text)
    env: dict[str, str] = {}
    for line in joined.splitlines():
        if line.startswith("ENV "):
            for pair in shlex.split(line[4:]):
                key, _, value = pair.partition("=")
                env[key] = value
    command = json.loads(re.search(r"^CMD (\[.*\])$", joined, re.M).group(1))  # type: ignore[union-attr]
    health = json.loads(re.search(r"^HEALTHCHECK .*CMD (\[.*\])$", joined, re.M).group(1))  # type: ignore[union-attr]
    return env, command, health


def test_dockerfile_commands_start_the_server_and_pass_the_healthcheck() -> None:
    env, command, health = _dockerfile()
    assert command[:2] == ["mockserver", "serve"] and health == ["mockserver", "health"]
    ports = {"MOCKSERVER_SKYTELLS_PORT": str(free_port()), "MOCKSERVER_GATEAI_PORT": str(free_port())}
    run_env = {**os.environ, **env, **ports}
    bin_dir = Path(sys.executable).parent
    server = subprocess.Popen([str(bin_dir / command[0]), *command[1:]], env=run_env,
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 30
        while True:
            check = subprocess.run([str(bin_dir / health[0]), *health[1:]], env=run_env, capture_output=True,
                                   text=True, timeout=30)
            if check.returncode == 0 or time.monotonic() > deadline:
                break
            time.sleep(0.2)
        assert check.returncode == 0, check.stdout
        assert f":{ports['MOCKSERVER_SKYTELLS_PORT']}/_mock/health" in check.stdout
    finally:
        server.terminate()
        server.wait(10)
    after = subprocess.run([str(bin_dir / health[0]), *health[1:]], env=run_env, capture_output=True, timeout=30)
    assert after.returncode == 1
