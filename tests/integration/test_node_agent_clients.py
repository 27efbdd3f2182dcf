"""The Node agent clients against the mock's Inference API: the ``openai`` SDK (7.x) and the Vercel AI SDK
(``ai`` 7 + ``@ai-sdk/openai``), unchanged but for their base URL (issue 11).

Each test runs one check of ``tests/node/openai_checks.mjs`` or ``tests/node/aisdk_checks.mjs`` against the live
session server; the check drives the client, asserts what the client saw and prints one JSON line. Node >= 22 and
the pinned packages come from ``tests/node_runtime.py``. The ``scripted_*`` checks script agent turns through the
control plane (``POST /_mock/rules``) themselves; every test starts from a reset server. Inference replies are
instant (no pacing is configured), so nothing waits on the clock. A failing check's message lists every request
the client sent and the mock's answer, from the request journal (``GET /_mock/requests``).
"""

from __future__ import annotations

import json
import os
import subprocess
from collections.abc import Callable
from typing import Any

import httpx
import pytest

from mockserver.server import ServerThread
from mockserver.skytells.inference import tokens
from tests.conftest import CONTRACT_VIOLATIONS, KEY
from tests.node_runtime import NODE_DIR, node_executable

CHECK_TIMEOUT = 120  # seconds; a check takes about one (a bound, never an assertion)
SETTLE_TIMEOUT = 30  # seconds the server thread may take to finish checking answers the client already read
BODY_SHOWN = 2500  # characters of each journal body shown in a failure message

OPENAI_CHECKS = [
    "chat_plain", "chat_stream", "tools_auto", "tools_parallel", "tools_required", "tools_named", "tools_none",
    "tool_loop", "run_tools", "stream_tool_calls", "parse_zod", "json_object", "responses_tools",
    "responses_tools_stateless", "responses_parse", "responses_stream_tools", "responses_input_items", "chat_n2",
    "logprobs", "image_url", "responses_input_image", "chat_n2_stream", "logprobs_stream", "stream_parse_zod",
    "parse_refusal", "responses_parse_tool", "bad_tool_choice", "bad_n", "bad_tool_schema", "scripted_tool_loop",
    "embeddings",
]
AISDK_CHECKS = [
    "ai_generate_text_responses", "ai_generate_text_chat", "ai_stream_text_responses", "ai_stream_text_chat",
    "ai_tool_loop_responses", "ai_tool_loop_chat", "ai_stream_tool_loop_responses", "ai_stream_tool_loop_chat",
    "ai_output_object_responses", "ai_output_object_chat", "ai_stream_output_object_responses",
    "ai_stream_output_object_chat", "ai_conversation_responses", "ai_conversation_chat", "ai_scripted_tool_loop_chat",
    "ai_scripted_output_object_responses", "ai_image_parts_responses", "ai_image_parts_chat", "ai_embed",
]
SCRIPTS = {"openai": "openai_checks.mjs", "aisdk": "aisdk_checks.mjs"}


@pytest.fixture(scope="session")
def node() -> str:
    return node_executable()


def node_env(server: ServerThread) -> dict[str, str]:
    return {**os.environ, "MOCK_BASE_URL": server.urls["skytells"], "MOCK_API_KEY": KEY}


def run_check(node: str, server: ServerThread, script: str, name: str) -> dict[str, Any]:
    """Run one check; return once the server has also finished (journaled and contract-checked) its answers."""
    checked = CONTRACT_VIOLATIONS.checked
    done = subprocess.run([node, SCRIPTS[script], name], cwd=NODE_DIR, env=node_env(server), capture_output=True,
                          text=True, timeout=CHECK_TIMEOUT, check=False)
    assert done.returncode == 0, f"{script} {name} crashed ({done.returncode}):\n{done.stderr}"
    [line] = done.stdout.splitlines()
    result = json.loads(line)
    assert result["check"] == name
    CONTRACT_VIOLATIONS.wait_checked(checked + result["requests"], SETTLE_TIMEOUT)  # a bound, not an assertion
    return result


def journal(server: ServerThread) -> list[dict[str, Any]]:
    """Every API request of this test, oldest first, as the control plane's journal has it."""
    control = server.urls["skytells"].removesuffix("/v1")
    answer = httpx.get(f"{control}/_mock/requests", params={"order": "asc", "limit": 100}, timeout=30)
    answer.raise_for_status()
    return answer.json()["data"]


def clipped(text: str, limit: int = BODY_SHOWN) -> str:
    return text if len(text) <= limit else text[:limit] + f"… ({len(text)} characters)"


def shown(body: object) -> str:
    """A journal body for a failure message: JSON as sent; a stream as its first and last few events."""
    if not isinstance(body, str) or not body.lstrip().startswith(("data:", "event:")):
        return clipped(body if isinstance(body, str) else json.dumps(body))
    events = [event.strip() for event in body.split("\n\n") if event.strip()]
    kept = events if len(events) <= 8 else [*events[:5], f"… {len(events) - 8} more events …", *events[-3:]]
    return "\n      " + "\n      ".join(clipped(event.replace("\n", " "), 600) for event in kept)


def failure_report(result: dict[str, Any], server: ServerThread) -> str:
    lines = [f"{result['check']}: {json.dumps(result['error'])[:BODY_SHOWN]}", "requests the client sent:"]
    for entry in journal(server):
        lines.append(f"  {entry['method']} {entry['path']} -> {entry['status']} ({entry['events'] or 0} SSE events)")
        lines.append(f"    request:  {shown(entry['request']['body'])}")
        lines.append(f"    response: {shown(entry['response']['body'])}")
    return "\n".join(lines)


def request_bodies(server: ServerThread, path: str) -> list[dict[str, Any]]:
    return [entry["request"]["body"] for entry in journal(server) if entry["path"] == path]


# -- what the clients sent: the wire format the mock has to understand ---------------------------------------


def sent_tool_message(server: ServerThread) -> None:
    bodies = request_bodies(server, "/v1/chat/completions")
    assert [m["role"] for m in bodies[-1]["messages"]][-2:] == ["assistant", "tool"]
    assistant, tool_message = bodies[-1]["messages"][-2:]
    assert assistant["tool_calls"][0]["id"] == tool_message["tool_call_id"]


def sent_function_call_output(server: ServerThread) -> None:
    bodies = request_bodies(server, "/v1/responses")
    assert any(item.get("type") == "function_call_output" for item in bodies[-1]["input"])


def sent_chat_json_schema(server: ServerThread) -> None:
    [body] = request_bodies(server, "/v1/chat/completions")
    assert body["response_format"]["type"] == "json_schema"


def sent_responses_json_schema(server: ServerThread) -> None:
    [body] = request_bodies(server, "/v1/responses")
    assert body["text"]["format"]["type"] == "json_schema"


def n_usage_adds_up(value: dict[str, Any]) -> None:
    usage = value["usage"]
    assert usage["completion_tokens"] == sum(tokens.count_tokens(text) for text in value["contents"])
    assert usage["total_tokens"] == usage["prompt_tokens"] + usage["completion_tokens"]


SENT: dict[str, Callable[[ServerThread], None]] = {
    "tool_loop": sent_tool_message, "run_tools": sent_tool_message, "ai_tool_loop_chat": sent_tool_message,
    "ai_stream_tool_loop_chat": sent_tool_message, "ai_tool_loop_responses": sent_function_call_output,
    "ai_stream_tool_loop_responses": sent_function_call_output, "parse_zod": sent_chat_json_schema,
    "ai_output_object_chat": sent_chat_json_schema, "ai_stream_output_object_chat": sent_chat_json_schema,
    "responses_parse": sent_responses_json_schema, "ai_output_object_responses": sent_responses_json_schema,
    "ai_stream_output_object_responses": sent_responses_json_schema,
}
OBSERVED: dict[str, Callable[[dict[str, Any]], None]] = {"chat_n2": n_usage_adds_up}


def judge(result: dict[str, Any], server: ServerThread) -> None:
    assert result["ok"], failure_report(result, server)
    name = result["check"]
    if name in SENT:
        SENT[name](server)
    if name in OBSERVED:
        OBSERVED[name](result["value"])


@pytest.mark.parametrize("name", OPENAI_CHECKS)
def test_openai_node_sdk(node: str, server: ServerThread, name: str) -> None:
    judge(run_check(node, server, "openai", name), server)


@pytest.mark.parametrize("name", AISDK_CHECKS)
def test_vercel_ai_sdk(node: str, server: ServerThread, name: str) -> None:
    judge(run_check(node, server, "aisdk", name), server)


@pytest.mark.parametrize(("script", "names"), [("openai", OPENAI_CHECKS), ("aisdk", AISDK_CHECKS)])
def test_every_check_of_the_scripts_is_a_test(node: str, server: ServerThread, script: str,
                                             names: list[str]) -> None:
    listed = subprocess.run([node, SCRIPTS[script], "--list"], cwd=NODE_DIR, env=node_env(server),
                            capture_output=True, text=True, timeout=CHECK_TIMEOUT, check=True)
    assert listed.stdout.split() == names


def test_clients_are_the_pinned_versions_on_node_22(node: str) -> None:
    script = ("import {readFileSync} from 'node:fs';"
              "const v = (p) => JSON.parse(readFileSync(`node_modules/${p}/package.json`)).version;"
              "console.log(JSON.stringify({node: process.versions.node, openai: v('openai'), ai: v('ai'),"
              " provider: v('@ai-sdk/openai'), zod: v('zod')}))")
    found = json.loads(subprocess.run([node, "--input-type=module", "-e", script], cwd=NODE_DIR, capture_output=True,
                                      text=True, timeout=CHECK_TIMEOUT, check=True).stdout)
    pinned = json.loads((NODE_DIR / "package.json").read_text())["dependencies"]
    assert int(found["node"].split(".")[0]) >= 22
    assert (found["openai"], found["ai"], found["provider"], found["zod"]) == (
        pinned["openai"], pinned["ai"], pinned["@ai-sdk/openai"], pinned["zod"])
