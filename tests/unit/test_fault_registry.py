"""A new fault type is one class: defined here, registered, then parsed from a control-plane rule, applied to
an API request and described in the journal -- with no other file touched."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any, ClassVar

import httpx
import pytest
from starlette.types import Message

from mockserver.app import build
from mockserver.core import wire
from mockserver.core.rules.faults import FAULTS, Fault, FaultCall
from mockserver.core.rules.fields import RuleError, integer
from tests.conftest import KEY, make_settings


@dataclass(frozen=True)
class Truncate(Fault):
    """The app answers, but the connection drops after ``keep_bytes`` bytes of body."""

    type: ClassVar[str] = "truncate"
    fields: ClassVar[tuple[str, ...]] = ("keep_bytes",)
    keep_bytes: int = 0

    @classmethod
    def parse(cls, spec: Mapping[str, Any]) -> Fault:
        return cls(integer(spec, "keep_bytes", 0, 0, "fault.keep_bytes must be an integer >= 0"))

    async def apply(self, call: FaultCall) -> None:
        left = self.keep_bytes

        async def send(message: Message) -> None:
            nonlocal left
            if message["type"] == "http.response.start":
                headers = [(k, v) for k, v in message.get("headers", []) if k.lower() != b"content-length"]
                await call.send({**message, "headers": headers})
            elif message["type"] == "http.response.body":
                body = message.get("body", b"")[:left]
                left -= len(body)
                await call.send({"type": "http.response.body", "body": body, "more_body": True})
                if left <= 0:
                    transport = wire.transport_of(call.scope)
                    if transport is not None:
                        wire.close(transport)
                    raise wire.ConnectionDropped(f"scripted truncate fault after {self.keep_bytes} byte(s)")

        await call.app(call.scope, call.receive, send)

    def journal_error(self, *, started: bool, events: int | None) -> str | None:
        return f"body truncated after {self.keep_bytes} byte(s) (scripted truncate fault)" if started else None


@pytest.fixture
def truncate() -> Iterator[type[Truncate]]:
    FAULTS.register(Truncate)
    yield Truncate
    FAULTS.unregister(Truncate.type)


async def exercise(rule: dict[str, Any]) -> tuple[httpx.Response, BaseException, dict[str, Any]]:
    """Post ``rule``, make one API request (in process: a drop raises), read its journal entry."""
    app = build(make_settings()).apps["skytells"]
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://mock") as client:
        created = await client.post("/_mock/rules", json=rule)
        with pytest.raises(wire.ConnectionDropped) as dropped:
            await client.get("/v1/models", headers={"x-api-key": KEY})
        journal = (await client.get("/_mock/requests", params={"path": "/v1/models"})).json()
    return created, dropped.value, journal["data"][0]


def test_a_fault_type_defined_in_one_class_works_end_to_end(truncate: type[Truncate]) -> None:
    created, dropped, entry = asyncio.run(exercise(
        {"id": "cut", "match": {"route": "GET /v1/models"}, "fault": {"type": "truncate", "keep_bytes": 7}}))
    assert created.status_code == 201 and created.json()["fault"] == {"type": "truncate", "keep_bytes": 7}
    assert str(dropped) == "scripted truncate fault after 7 byte(s)"
    assert entry["rules"] == ["cut"] and entry["status"] == 200 and entry["response"]["bytes"] == 7
    assert entry["error"] == "body truncated after 7 byte(s) (scripted truncate fault)"


def test_a_registered_fault_type_parses_with_the_rule_errors(truncate: type[Truncate]) -> None:
    assert "truncate" in FAULTS.names()
    assert FAULTS.parse({"type": "truncate"}) == Truncate(0)
    with pytest.raises(RuleError, match=r"fault\.keep_bytes must be an integer >= 0"):
        FAULTS.parse({"type": "truncate", "keep_bytes": -1})
    with pytest.raises(RuleError, match=r"unknown field\(s\) for fault type truncate: status \(it takes keep_bytes\)"):
        FAULTS.parse({"type": "truncate", "status": 500})


def test_a_fault_type_is_registered_once_and_can_be_removed(truncate: type[Truncate]) -> None:
    with pytest.raises(ValueError, match="already registered"):
        FAULTS.register(Truncate)
    FAULTS.unregister("truncate")
    builtin = "latency, error, rate_limit, reset, empty, sse_cut"
    with pytest.raises(RuleError, match=rf"fault\.type must be one of {builtin}$"):
        FAULTS.parse({"type": "truncate"})
    FAULTS.register(Truncate)
