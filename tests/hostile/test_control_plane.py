"""Everything the control plane stores is held to the API's strictness: a bad value is a 400 naming the
field, nothing is stored, and the clock, the keys and the rules stay readable."""

from __future__ import annotations

import pytest

from tests.conftest import KEY, OTHER_KEY
from tests.hostile.conftest import Hostile, error_of

#: (method, path, raw body, param): each must be refused with that param and change nothing.
REFUSED = [
    ("POST", "/_mock/clock/advance", b'{"seconds": NaN}', "seconds"),
    ("POST", "/_mock/clock/advance", b'{"seconds": 1e300}', "seconds"),
    ("POST", "/_mock/clock/set", b'{"time": 1e300}', "time"),
    ("POST", "/_mock/clock/set", b'{"time": "10000-01-01T00:00:00Z"}', "time"),
    ("POST", "/_mock/clock/set", b'{"time": -1}', "time"),
    ("POST", "/_mock/clock/mode", b'{"speed": Infinity}', "speed"),
    ("POST", "/_mock/clock/mode", b'{"speed": 1e300}', "speed"),
    ("POST", "/_mock/clock/mode", b'{"autojump": 1e300}', "autojump"),
    ("POST", "/_mock/keys", b'{"key": "sk-hostile-1", "credits": NaN}', "credits"),
    ("POST", "/_mock/keys", b'{"key": "sk-hostile-1", "credits": 1e308}', "credits"),
    ("POST", "/_mock/keys", b'{"key": "sk-hostile-1", "limits": {"concurrency": Infinity}}', "limits.concurrency"),
    ("PATCH", f"/_mock/keys/{KEY}", b'{"add_credits": 1e300}', "add_credits"),
    ("POST", "/_mock/outcomes", b'{"output": [NaN]}', "output[0]"),
    ("POST", "/_mock/outcomes", b'{"reply": "\\udfff"}', "reply"),
    ("POST", "/_mock/faults", b'{"type": "latency", "latency_ms": -Infinity}', "latency_ms"),
    ("POST", "/_mock/rules", b'{"fault": {"type": "error"}, "probability": NaN}', "probability"),
    ("PUT", "/_mock/scenarios/s", b'[{"outcome": {"duration": NaN}}]', "[0].outcome.duration"),
]


@pytest.mark.parametrize(("method", "path", "body", "param"), REFUSED, ids=[f"{r[1]} {r[2][:30]!r}" for r in REFUSED])
def test_a_bad_value_is_a_400_naming_the_field_and_nothing_is_stored(hostile: Hostile, method: str, path: str,
                                                                     body: bytes, param: str) -> None:
    before = hostile.reads_work()
    for client in hostile.clients.values():  # the control plane on both ports
        response = client.request(method, path, content=body, headers={"content-type": "application/json"})
        assert response.status_code == 400, response.text
        code, named = error_of("control", response.json())
        assert code == "INVALID_REQUEST" and named == param, response.json()
    after = hostile.reads_work()
    for read in ("clock", "keys", "rules", "scenarios"):
        assert after[read] == before[read], read


def test_the_clock_never_runs_past_year_9999(hostile: Hostile) -> None:
    admin = hostile.clients["skytells"]
    assert admin.post("/_mock/clock/set", json={"time": "9999-12-31T23:59:00Z"}).status_code == 200
    assert admin.post("/_mock/clock/mode", json={"mode": "realtime", "speed": 1e6}).status_code == 200
    hostile.server.runtime.clock.advance(0)  # a moment later, at a million times real speed
    clock = admin.get("/_mock/clock")
    assert clock.status_code == 200 and clock.json()["now"] <= "9999-12-31T23:59:59.999999Z"
    hostile.reads_work()


def test_a_credits_patch_cannot_overflow_a_balance(hostile: Hostile) -> None:
    admin = hostile.clients["skytells"]
    assert admin.patch(f"/_mock/keys/{OTHER_KEY}", json={"credits": 1e12}).status_code == 200
    response = admin.patch(f"/_mock/keys/{OTHER_KEY}", json={"add_credits": 1e12})
    assert response.status_code == 400 and error_of("control", response.json())[1] == "add_credits"
    hostile.reads_work()


def test_a_huge_mock_duration_header_is_refused(hostile: Hostile) -> None:
    before = hostile.balances()
    response = hostile.clients["gateai"].post("/api/generate", json={"model": "seedance-2.0", "prompt": "p"},
                                              headers={"x-mock-duration": "1e300"})
    assert response.status_code == 400 and error_of("gateai", response.json())[1] == "X-Mock-Duration"
    assert hostile.balances() == before
    hostile.reads_work()
