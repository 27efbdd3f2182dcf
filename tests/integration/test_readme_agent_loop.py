"""README's agent-loop example, run as it stands against the session server (only the base URL and key differ)."""

from __future__ import annotations

import contextlib
import io
import re
from pathlib import Path

from mockserver.server import ServerThread
from tests.conftest import KEY

README = Path(__file__).resolve().parents[2] / "README.md"


def agent_loop_example() -> str:
    match = re.search(r"<!-- example: agent-loop -->\n```python\n(.*?)```", README.read_text(encoding="utf-8"), re.S)
    assert match, "README lost its agent-loop example"
    return match.group(1)


def test_the_agent_loop_calls_the_tool_then_answers_with_its_result(server: ServerThread) -> None:
    code = agent_loop_example()
    assert 'base_url="http://127.0.0.1:8080/v1"' in code and 'api_key="sk-mock-0000000000000000"' in code
    code = code.replace("http://127.0.0.1:8080/v1", server.urls["skytells"]).replace("sk-mock-0000000000000000", KEY)
    printed = io.StringIO()
    with contextlib.redirect_stdout(printed):
        exec(compile(code, "README agent-loop", "exec"), {})
    # the loop's second turn answers in text quoting the tool's result, so the tool was called and answered
    assert printed.getvalue().startswith("Based on the tool results: get_weather returned 18 C and sunny in ")
