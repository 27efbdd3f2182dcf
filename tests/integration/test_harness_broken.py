"""The harness must FAIL on a broken API: each deliberately broken variant of the mock is reported.

Every variant is the real mock with one defect, made by an ASGI wrapper around its app (a response rewritten)
or a patch of one domain object, served by uvicorn on a free loopback port. The assertions check that the
defect is reported with a message naming the check, the operation and the field.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import pytest
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from mockserver.core.jobs import JobState
from mockserver.core.view_cache import ViewCache
from mockserver.harness import harness
from mockserver.harness.findings import RunResult
from mockserver.harness.options import Options
from mockserver.server import ServerThread
from tests.conftest import KEY, make_settings

Edit = Callable[[int, Any], tuple[int, Any]]


class RewriteJSON:
    """Rewrites the JSON responses of one route: ``edit(status, body) -> (status, body)``."""

    def __init__(self, app: ASGIApp, method: str, path: str, edit: Edit) -> None:
        self.app, self.method, self.path, self.edit = app, method, re.compile(path), edit

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] != self.method or not self.path.fullmatch(scope["path"]):
            await self.app(scope, receive, send)
            return
        start: dict[str, Any] = {}
        chunks: list[bytes] = []

        async def capture(message: Message) -> None:
            if message["type"] == "http.response.start":
                start.update(message)
                return
            if message["type"] != "http.response.body":
                await send(message)
                return
            chunks.append(message.get("body", b""))
            if message.get("more_body"):
                return
            status, raw = start["status"], b"".join(chunks)
            try:
                status, body = self.edit(status, json.loads(raw))
                raw = json.dumps(body).encode()
            except ValueError:
                pass
            headers = [(k, v) for k, v in start["headers"] if k.lower() != b"content-length"]
            await send({"type": "http.response.start", "status": status,
                        "headers": [*headers, (b"content-length", str(len(raw)).encode())]})
            await send({"type": "http.response.body", "body": raw})

        await self.app(scope, receive, capture)


@contextmanager
def broken_mock(api: str, wrap: Callable[[ASGIApp], ASGIApp] | None = None,
                patch: Callable[[Any], None] | None = None) -> Iterator[str]:
    """The mock with one defect; yields the API's base URL."""
    server = ServerThread(make_settings())
    listener = next(item for item in server.plan.listeners if item.name == api)
    if patch is not None:
        patch(listener.app.state.api)
    if wrap is not None:
        listener.app = wrap(listener.app)
    with server:
        yield server.urls[api]


def run(api: str, base_url: str, **options: Any) -> RunResult:
    settings = Options(api=api, base_url=base_url, api_key=KEY, seed=3, **{"max_examples": 8, **options})
    return harness.run(settings, out=lambda line: None, progress=lambda line: None)


def reported(result: RunResult, checks: set[str], operation: str, field: str | None = None) -> str:
    """The headline of the finding that names one of ``checks``, ``operation`` and ``field``; fails otherwise."""
    assert result.exit_code == 1, f"the harness did not fail (exit {result.exit_code}): {result.errors}"
    for finding in result.findings:
        if finding.check in checks and finding.operation == operation and (field is None or finding.field == field):
            headline = finding.headline()
            assert finding.check in headline and operation in headline
            if field is not None:
                assert f"'{field}'" in headline
            return headline
    raise AssertionError(f"no {checks} finding on {operation} field {field}; found:\n"
                         + "\n".join(f.headline() for f in result.findings))


SCHEMA_CHECKS = {"contract.response", "response_schema_conformance"}


def test_a_field_with_the_wrong_type_is_reported() -> None:
    def edit(status: int, body: Any) -> tuple[int, Any]:
        if status == 200 and isinstance(body, dict):
            body["stream"] = "false"  # a string where the Prediction Object has a boolean
        return status, body

    wrap = lambda app: RewriteJSON(app, "GET", r"/v1/predictions/[^/]+", edit)  # noqa: E731
    with broken_mock("skytells", wrap=wrap) as url:
        result = run("skytells", url, phases=("behaviour",), machines=("skytells.prediction_lifecycle",))
    headline = reported(result, SCHEMA_CHECKS, "GET /v1/predictions/{id}", "stream")
    assert "not of type 'boolean'" in headline


def test_a_missing_field_is_reported() -> None:
    def edit(status: int, body: Any) -> tuple[int, Any]:
        if status == 200 and isinstance(body, dict):
            body.pop("urls", None)
        return status, body

    wrap = lambda app: RewriteJSON(app, "GET", r"/v1/predictions/[^/]+", edit)  # noqa: E731
    with broken_mock("skytells", wrap=wrap) as url:
        result = run("skytells", url, phases=("behaviour",), machines=("skytells.prediction_lifecycle",))
    headline = reported(result, SCHEMA_CHECKS, "GET /v1/predictions/{id}", "urls")
    assert "required property" in headline


def test_a_wrong_status_code_is_reported_by_schemathesis() -> None:
    wrap = lambda app: RewriteJSON(app, "POST", r"/v1/predictions", lambda s, b: (202 if s == 201 else s, b))  # noqa: E731
    with broken_mock("skytells", wrap=wrap) as url:
        result = run("skytells", url, phases=("fuzzing",), operations=("POST /v1/predictions",), max_examples=5)
    headline = reported(result, {"status_code_conformance"}, "POST /v1/predictions")
    assert "202" in headline


def test_a_created_resource_that_is_not_found_is_reported() -> None:
    def edit(status: int, body: Any) -> tuple[int, Any]:
        if status == 200 and isinstance(body, dict):  # every prediction "vanishes" as soon as it is read
            return 404, {"status": False, "error_id": "PREDICTION_NOT_FOUND", "message": "gone", "response": "gone"}
        return status, body

    wrap = lambda app: RewriteJSON(app, "GET", r"/v1/predictions/[^/]+", edit)  # noqa: E731
    with broken_mock("skytells", wrap=wrap) as url:
        result = run("skytells", url, phases=("stateful",), max_examples=10,
                     operations=("POST /v1/predictions", "GET /v1/predictions/{id}"))
    headline = reported(result, {"resource_availability"}, "POST /v1/predictions")
    assert "404" in headline and "just created" in headline


def test_the_wrong_error_format_is_reported() -> None:
    def edit(status: int, body: Any) -> tuple[int, Any]:
        if status >= 400 and isinstance(body, dict):
            return status, {"detail": body.get("message", "error")}  # not {error_id, message}
        return status, body

    wrap = lambda app: RewriteJSON(app, "GET", r"/v1/models/[^/]+", edit)  # noqa: E731
    with broken_mock("skytells", wrap=wrap) as url:
        result = run("skytells", url, phases=("fuzzing", "behaviour"), operations=("GET /v1/models/{slug}",),
                     machines=("skytells.catalog_reads",), max_examples=5)
    reported(result, {"response_schema_conformance"}, "GET /v1/models/{slug}")
    reported(result, {"contract.response"}, "GET /v1/models/{slug}", "error_id")


def test_a_lifecycle_that_leaves_a_terminal_state_is_reported() -> None:
    def patch(api: Any) -> None:
        engine = api.predictions.engine  # every reader of a prediction's status asks the job engine
        honest = engine.state

        def state(record: dict[str, Any], now: float | None = None) -> JobState:
            found = honest(record, now)
            current = engine.clock.now() if now is None else now
            if found.terminal and current >= found.entered_at + 60:  # a minute after the end: "processing" again
                return JobState("processing", found.entered_at, False)
            return found

        engine.state = state
        # views are kept for the span their phase lasts by the schedule (no state asked on a hit): keep none
        api.predictions.views._cache = ViewCache(size=0)

    with broken_mock("skytells", patch=patch) as url:
        result = run("skytells", url, phases=("behaviour",), machines=("skytells.prediction_lifecycle",),
                     max_examples=20)
    headline = reported(result, {"lifecycle.terminal_is_final"}, "GET /v1/predictions/{id}", "status")
    assert "left terminal state" in headline


def test_a_budget_that_leaks_is_reported() -> None:
    def patch(api: Any) -> None:
        budget = api.tasks.budget
        budget.charge = lambda owner, task_id, model, cost, refund_at, now=None: budget.status(owner, now)

    with broken_mock("gateai", patch=patch) as url:
        result = run("gateai", url, phases=("behaviour",), machines=("gateai.generation_budget",))
    headline = reported(result, {"budget.deducted", "budget.accounting"}, "POST /api/generate", "remaining")
    assert "remaining" in headline


def test_a_limiter_that_admits_a_sixth_request_is_reported() -> None:
    def patch(api: Any) -> None:  # both limits admit six (either one alone still refuses the 6th, correctly)
        window, slots = api.tasks.window, api.tasks.slots
        hit, acquire = window.hit, slots.acquire
        window.hit = lambda who, limit=None: hit(who, 6)
        slots.acquire = lambda who, slot_id, release_at=None, info=None, limit=None: acquire(
            who, slot_id, release_at=release_at, info=info, limit=6)

    with broken_mock("gateai", patch=patch) as url:
        result = run("gateai", url, phases=("behaviour",), machines=("gateai.limits",), max_examples=20)
    headline = reported(result, {"limits.rate_limited"}, "POST /api/generate", "status_code")
    assert "expected HTTP 429" in headline and "got 200" in headline


def test_tool_arguments_that_break_the_tools_schema_are_reported() -> None:
    def edit(status: int, body: Any) -> tuple[int, Any]:
        for choice in body.get("choices") or [] if status == 200 and isinstance(body, dict) else []:
            for call in (choice.get("message") or {}).get("tool_calls") or []:
                arguments = json.loads(call["function"]["arguments"])  # still JSON, but every value of a wrong type
                wrong = {key: {"wrong": [True]} for key in arguments} or {"unexpected": {"wrong": [True]}}
                call["function"]["arguments"] = json.dumps(wrong)
        return status, body

    wrap = lambda app: RewriteJSON(app, "POST", r"/v1/chat/completions", edit)  # noqa: E731
    with broken_mock("skytells", wrap=wrap) as url:
        result = run("skytells", url, phases=("behaviour",), machines=("skytells.agent_turns",))
    headline = reported(result, {"tools.arguments"}, "POST /v1/chat/completions",
                        "choices[0].message.tool_calls.function.arguments")
    assert "break its parameters schema" in headline


def test_structured_replies_that_break_the_json_schema_are_reported() -> None:
    def edit(status: int, body: Any) -> tuple[int, Any]:
        for choice in body.get("choices") or [] if status == 200 and isinstance(body, dict) else []:
            message = choice.get("message") or {}
            try:
                value = json.loads(message.get("content") or "")
            except ValueError:
                continue
            if isinstance(value, dict):  # a JSON reply: still a JSON object, but none of the schema's fields
                message["content"] = json.dumps({"unexpected": [None]})
        return status, body

    wrap = lambda app: RewriteJSON(app, "POST", r"/v1/chat/completions", edit)  # noqa: E731
    with broken_mock("skytells", wrap=wrap) as url:
        result = run("skytells", url, phases=("behaviour",), machines=("skytells.agent_turns",))
    headline = reported(result, {"structured.json_schema"}, "POST /v1/chat/completions", "choices[0].message.content")
    assert "breaks the json_schema" in headline


@pytest.mark.parametrize("api", ["skytells", "gateai"])
def test_the_cli_exits_non_zero_on_a_violation(api: str, capsys: pytest.CaptureFixture[str]) -> None:
    from mockserver.cli import main

    wrap = lambda app: RewriteJSON(app, "GET", r"/(v1/)?.*", lambda s, b: (s, b) if s < 400 else (s, {"oops": 1}))  # noqa: E731
    with broken_mock(api, wrap=wrap) as url:
        code = main(["check", "--api", api, "--base-url", url, "--api-key", KEY, "--phases", "behaviour",
                     "--checks", f"{api}.{'catalog_reads' if api == 'skytells' else 'discovery_reads'}",
                     "--max-examples", "5", "--quiet"])
    out = capsys.readouterr().out
    assert code == 1
    assert "FAILED: contract violations (exit code 1)" in out
    assert "[contract.response]" in out
