"""Hypothesis: GateAI's budget, sliding window and input handling hold under any sequence of operations.

* budget: ``used + remaining == daily_limit`` at every moment, under random generations (some slow
  enough to be refunded at 20 minutes, some force-failed at 40, some failing upstream), random clock
  jumps across midnights and random budget pressure -- and ``used`` always equals the sum of what the
  tasks of the current UTC day still cost;
* limiter: no 30 s window ever holds a 6th admitted generation request, and a request is refused only
  when its window already holds 5;
* input: no body, however malformed, gets a 5xx (over real HTTP).

(That a snapped size is always valid for its model is proven in ``tests/unit/test_gateai_params.py``.)
"""

from __future__ import annotations

import json

import httpx
import pytest
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, rule

from mockserver.core.rules.model import ScriptedResult
from mockserver.core.runtime import Runtime
from mockserver.gateai.budget import day_start
from mockserver.gateai.generate_body import parse_request
from mockserver.gateai.task_errors import api_error
from mockserver.gateai.task_views import TaskViews
from mockserver.gateai.tasks import KIND, WINDOW_LIMIT, WINDOW_SECONDS, Tasks
from mockserver.settings import Settings
from tests.conftest import KEY

START = 1_767_225_600.0  # 2026-01-01T00:00:00Z
REQUESTS = [
    {"model": "seedance-2.0", "params": {"prompt": "a", "mode": "RESOLUTION_1080", "duration": 15}},  # 11.25
    {"model": "seedance-2.0", "params": {"prompt": "b", "width": 1280, "height": 720, "duration": 4}},  # 0.4934
    {"model": "gpt-image-2", "params": {"prompt": "c", "quality": "high", "quantity": 8}},  # 0.88
    {"model": "rodin-v2", "params": {}},  # 0.16
    {"model": "flux-schnell", "params": {"prompt": "d"}},
    {"model": "veo-3.1-generate-001", "params": {"prompt": "e"}},  # 0.08
]
#: How long the upstream takes: seeded default, quick, > 20 min (refunded), > 40 min (force-failed).
DURATIONS = [None, 0.0, 5.0, 1199.0, 1200.0, 1500.0, 2399.0, 5000.0]


def fresh_runtime(budget: float = 3.0) -> Runtime:
    return Runtime.from_settings(Settings(api_keys=(KEY,), daily_budget=budget, seed=11, time_mode="manual",
                                          start_time=START))


class BudgetMachine(RuleBasedStateMachine):
    def __init__(self) -> None:
        super().__init__()
        self.runtime = fresh_runtime()
        self.tasks = Tasks(self.runtime)

    @rule(request=st.sampled_from(REQUESTS), duration=st.sampled_from(DURATIONS), fail=st.booleans())
    def generate(self, request: dict, duration: float | None, fail: bool) -> None:
        try:
            created = self.tasks.create(KEY, parse_request(request),
                                        ScriptedResult(duration=duration, status="failed" if fail else None))
        except Exception as exc:  # a domain error: api_error answers it (None for anything else)
            error = api_error(exc)
            assert error is not None
            assert error.error_id in ("RATE_LIMITED", "BUDGET_EXCEEDED"), error
            event(error.error_id)
            return
        event("downgraded" if created.adjustments else "generated")
        if created.record["refund_at"] is not None:
            event("will be refunded")

    @rule(seconds=st.one_of(st.floats(min_value=0, max_value=3000, allow_nan=False),
                            st.sampled_from([30.0, 600.0, 1200.0, 2400.0, 86_400.0])))
    def advance(self, seconds: float) -> None:
        self.runtime.clock.advance(seconds)

    @rule(budget=st.sampled_from([0.5, 3.0, 20.0]))
    def raise_budget(self, budget: float) -> None:
        """The budget only grows, so what was spent can never exceed it."""
        account = self.runtime.accounts.get(KEY)
        assert account is not None
        if budget > account.daily_budget:
            self.runtime.accounts.change(KEY, daily_budget=budget)

    @invariant()
    def used_plus_remaining_is_the_daily_limit(self) -> None:
        now = self.runtime.clock.now()
        status = self.tasks.budget.status(KEY, now)
        limit = self.runtime.accounts.get(KEY).daily_budget  # type: ignore[union-attr]
        assert status.used_micros + status.remaining_micros == status.limit_micros
        assert round(status.used + status.remaining, 6) == limit
        assert 0 <= status.used <= limit
        today = day_start(now)
        still_charged = sum(self.tasks.cost_now(record, now) for record in self.runtime.store.scan(KIND, owner=KEY)
                            if day_start(record["created_at"]) == today)
        assert round(still_charged, 6) == status.used
        views = TaskViews(self.tasks).dashboard(KEY)
        assert round(sum(row["cost"] for row in views["today_spending"].values()), 6) == status.used
        assert TaskViews(self.tasks).credits(KEY)["your_budget"] == views["budget"] == status.as_json()


TestBudgetInvariant = BudgetMachine.TestCase
TestBudgetInvariant.settings = settings(max_examples=60, stateful_step_count=40, deadline=None,
                                        suppress_health_check=[HealthCheck.too_slow])


@given(gaps=st.lists(st.one_of(st.floats(min_value=0, max_value=40, allow_nan=False), st.just(0.0)),
                     min_size=1, max_size=60))
@settings(max_examples=150, deadline=None)
def test_the_limiter_never_admits_a_sixth_request_in_any_30s_window(gaps: list[float]) -> None:
    runtime = fresh_runtime(budget=100.0)
    tasks = Tasks(runtime)
    request = {"model": "flux-kontext-pro", "params": {"prompt": "x"}}
    admitted: list[float] = []
    for gap in gaps:
        now = runtime.clock.advance(gap)
        in_window = sum(1 for t in admitted if t > now - WINDOW_SECONDS)
        try:
            tasks.create(KEY, parse_request(request), ScriptedResult(duration=0.0))  # ends at once: the slot frees
        except Exception as exc:  # a domain error: api_error answers it (None for anything else)
            error = api_error(exc)
            assert error is not None
            assert error.error_id == "RATE_LIMITED" and error.details["limit"] == "requests_per_window"
            assert in_window == WINDOW_LIMIT  # refused only when the window is full
            wait = int(error.headers["Retry-After"])
            oldest = min(t for t in admitted if t > now - WINDOW_SECONDS)
            assert wait - 1 < oldest + WINDOW_SECONDS - now <= wait
            continue
        assert in_window < WINDOW_LIMIT
        admitted.append(now)
    for t in admitted:  # every 30 s window ending at an admitted request
        assert sum(1 for u in admitted if t - WINDOW_SECONDS < u <= t) <= WINDOW_LIMIT


JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers(min_value=-(10**30), max_value=10**30)
    | st.floats(allow_nan=False, allow_infinity=False) | st.text(max_size=20),
    lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=12), children, max_size=4),
    max_leaves=12,
)
PARAM_NAMES = st.sampled_from(["prompt", "width", "height", "quantity", "duration", "durationSeconds", "mode",
                               "quality", "image", "image_urls", "reference_images", "images", "videos", "seed",
                               "guidance_scale", "start_frame", "output_format", "resolution", "aspect_ratio"])
MODEL_IDS = st.sampled_from(["gpt-image-2", "seedance-2.0", "flux-dev", "hailuo-2_3", "rodin-v2", "kling-3.0",
                             "gemini-image-2", "ltxv-2.3-fast", "sora-2-pro", "seedream-4.0", "nope"])
BODIES = st.one_of(
    st.fixed_dictionaries({"model": MODEL_IDS, "params": st.dictionaries(PARAM_NAMES, JSON_VALUES, max_size=6)}),
    st.dictionaries(st.sampled_from(["model", "type", "params"]), JSON_VALUES, max_size=3),
    JSON_VALUES,
)
RAW = st.sampled_from([b"", b"{", b'{"model": "flux-dev", "params": {"width": NaN}}',
                       b'{"model": "seedance-2.0", "params": {"prompt": "x", "width": Infinity, "height": 1}}',
                       b'{"model": "seedance-2.0", "params": {"prompt": "x", "width": 1e400, "height": 720}}',
                       b'{"model": "seedance-2.0", "params": {"prompt": "x", "width": ' + b"9" * 400 + b"}}",
                       b'{"model": "flux-dev", "params": {"prompt": "x", "guidance_scale": -Infinity}}',
                       b"\xff\xfe", b'"just a string"'])


@pytest.fixture(scope="module")
def gateai_client(server) -> httpx.Client:  # type: ignore[no-untyped-def]
    with httpx.Client(base_url=server.urls["gateai"], headers={"authorization": f"Bearer {KEY}"},
                      timeout=30) as client:
        yield client


@given(body=st.one_of(BODIES.map(lambda value: json.dumps(value).encode()), RAW),
       path=st.sampled_from(["/api/generate", "/api/estimate"]))
@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
def test_no_input_gets_a_5xx(server, gateai_client: httpx.Client, body: bytes, path: str) -> None:  # type: ignore[no-untyped-def]
    server.runtime.clock.advance(31)  # keep the sliding window open
    response = gateai_client.post(path, content=body, headers={"content-type": "application/json"})
    assert response.status_code < 500, response.text
    payload = response.json()
    if response.status_code >= 400:
        assert isinstance(payload["error"], str) and isinstance(payload["code"], str)
