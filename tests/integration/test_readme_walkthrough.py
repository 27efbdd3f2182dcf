"""README's curl walk-through, run verbatim (bash) against a server on its default settings."""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import pytest

from mockserver.server import ServerThread
from mockserver.settings import DEFAULT_API_KEY, Settings

README = Path(__file__).resolve().parents[2] / "README.md"


def walkthrough() -> str:
    text = README.read_text()
    section = text[text.index("## Quick start"):]
    return re.search(r"```bash\n(.*?)```", section, re.S).group(1)  # type: ignore[union-attr]


@pytest.mark.skipif(shutil.which("curl") is None, reason="curl is not installed")
def test_readme_walkthrough_runs_and_prints_what_it_says(tmp_path: Path) -> None:
    # the default key and a realtime clock, as a user runs it -- at 10x speed so the stream ends sooner
    with ServerThread(Settings(seed=11, speed=10.0)) as server:
        script = walkthrough().replace("http://127.0.0.1:8080/v1", server.urls["skytells"])
        assert f"KEY={DEFAULT_API_KEY}" in script
        result = subprocess.run(["bash", "-euo", "pipefail", "-c", script], cwd=tmp_path, capture_output=True,
                                text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines[0] == "gpt-5" and lines[1] == "webp" and lines[2] in ("pending", "starting", "processing")
    assert (tmp_path / "fox.webp").read_bytes()[8:12] == b"WEBP"
    events = [line for line in lines if line.startswith("event:")]
    assert events[0] == "event: prediction" and events[-1] == "event: done"
    assert "'total': 2" in result.stdout
    assert lines[-3:-1] == ["cancelled", lines[-2]] and lines[-1] == "PREDICTION_NOT_FOUND"


def control_plane_blocks() -> str:
    text = README.read_text()
    section = text[text.index("## Control plane"):text.index("## Testing your code")]
    return "\n".join(re.findall(r"```bash\n(.*?)```", section, re.S))


@pytest.mark.skipif(shutil.which("curl") is None, reason="curl is not installed")
def test_readme_control_plane_examples_answer_as_described(tmp_path: Path) -> None:
    # every curl prints its HTTP status on a line of its own after the body
    prelude = f"KEY={DEFAULT_API_KEY}\ncurl() {{ command curl -sS -w '\\n%{{http_code}}\\n' \"$@\"; }}\n"
    with ServerThread(Settings(seed=11, time_mode="manual")) as server:
        root = server.urls["skytells"].removesuffix("/v1")
        script = prelude + control_plane_blocks().replace("http://127.0.0.1:8080", root)
        result = subprocess.run(["bash", "-euo", "pipefail", "-c", script], cwd=tmp_path, capture_output=True,
                                text=True, timeout=120)
        assert result.returncode == 0, result.stderr
        statuses = [int(line) for line in result.stdout.splitlines() if re.fullmatch(r"\d{3}", line)]
        rules = server.runtime.rules.list()
        suspended = server.runtime.accounts.get("sk-team-b-0001")
    # reset, clock x5, keys create + patch, 3 rules, a scenario, its 429, an inline 500, journal x2, webhooks
    assert statuses == [200, 200, 200, 200, 200, 200, 201, 200, 201, 201, 201, 201, 429, 500, 200, 200, 200], \
        result.stdout
    assert len(rules) == 4 and suspended is not None and suspended.suspended
