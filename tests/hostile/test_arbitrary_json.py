"""Property: arbitrary JSON-ish bytes -- non-finite numbers, lone surrogates, deep nesting, huge numbers --
sent to every body-taking endpoint of both APIs and the control plane never get a 5xx, and the key's
list, the journal and the clock stay readable afterwards."""

from __future__ import annotations

import json
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.hostile.conftest import API_ENDPOINTS, CONTROL_ENDPOINTS, Hostile

#: Field names the endpoints read, so documents reach past the first checks.
FIELDS = ("model", "input", "prompt", "messages", "role", "content", "seconds", "time", "speed", "mode", "credits",
          "add_credits", "limits", "output", "outcome", "match", "duration", "n", "width", "await", "stream", "key")
MODELS = ("truefusion", "truefusion-pro", "gpt-4o", "deepbrain-router", "flux-1.1-pro", "seedance-2.0", "nvidia-sana")
HUGE = (b"1e400", b"-1e999", b"123456789012345678901234567890", b"1" * 5000, b"NaN", b"-Infinity", b'"\\udc00"')

leaves = (st.none() | st.booleans() | st.integers(min_value=-(10**30), max_value=10**30)
          | st.floats(allow_nan=True, allow_infinity=True)
          | st.text(alphabet=st.characters(blacklist_categories=()), max_size=12)  # surrogates included
          | st.sampled_from(MODELS))
values = st.recursive(leaves, lambda inner: st.lists(inner, max_size=4)
                      | st.dictionaries(st.sampled_from(FIELDS) | st.text(max_size=4), inner, max_size=5),
                      max_leaves=24)


@st.composite
def documents(draw: st.DrawFn) -> bytes:
    """Raw bytes of a JSON-like document, most of them objects with a model, some wrapped very deep."""
    body: dict[str, Any] = {"model": draw(st.sampled_from(MODELS))}
    body.update(draw(st.dictionaries(st.sampled_from(FIELDS), values, max_size=5)))
    raw = json.dumps(body, allow_nan=True, ensure_ascii=draw(st.booleans())).encode("utf-8", "surrogatepass")
    if draw(st.booleans()):
        raw = raw[:-1] + b', "extra": ' + draw(st.sampled_from(HUGE)) + b"}"
    depth = draw(st.sampled_from((0, 0, 0, 63, 65, 1500, 20_000)))
    return b"[" * depth + raw + b"]" * depth if depth else raw


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(document=documents())
def test_no_body_is_a_5xx_and_every_read_survives(hostile: Hostile, document: bytes) -> None:
    for endpoint in (*API_ENDPOINTS, *CONTROL_ENDPOINTS[:10]):
        response = hostile.send(endpoint, document)
        assert response.status_code < 500, (endpoint, response.status_code, response.text[:300])
    hostile.reads_work()
