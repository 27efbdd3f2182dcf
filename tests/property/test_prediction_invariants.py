"""Hypothesis: lifecycle, timestamps, balances and paging hold under any sequence of operations.

The state machine drives the Predictions domain directly (no HTTP) on a manual clock: create
predictions of several kinds, advance time by arbitrary amounts, cancel, delete, and read.
"""

from __future__ import annotations

import itertools

from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import Bundle, RuleBasedStateMachine, consumes, invariant, rule

from mockserver.core.accounts import InsufficientFunds
from mockserver.core.jobs import JobNotCancellable
from mockserver.core.runtime import Runtime
from mockserver.settings import Settings
from mockserver.skytells.catalog import Catalog
from mockserver.skytells.prediction_body import parse_create
from mockserver.skytells.prediction_errors import api_error
from mockserver.skytells.predictions import TERMINAL, Predictions
from mockserver.skytells.routes import links_for

KEY = "sk-prop-owner"
CATALOG = Catalog.load()
BASE = "http://mock/v1"
REQUESTS = [
    {"model": "truefusion-edge", "input": {"prompt": "fast"}},
    {"model": "truefusion-pro", "input": {"prompt": "std", "num_outputs": 2}},
    {"model": "truefusion-2-optima", "input": {"prompt": "compute seconds"}},
    {"model": "veo-3.1-fast", "input": {"prompt": "video", "duration": 4}},
    {"model": "beatfusion-1.0", "input": {"prompt": "a calm lofi beat", "lyrics": "[verse] la la la"}},
    {"model": "truefusion-pro", "input": {"prompt": "nsfw"}},  # fails at the safety checker
]


class PredictionMachine(RuleBasedStateMachine):
    predictions = Bundle("predictions")

    def __init__(self) -> None:
        super().__init__()
        self.runtime = Runtime.from_settings(Settings(api_keys=(KEY,), credits=6.0, seed=7, time_mode="manual",
                                                      start_time=1_767_225_600.0))
        self.domain = Predictions(self.runtime, CATALOG)
        self.seen: dict[str, list[dict]] = {}
        self.deleted: set[str] = set()
        self.expected_balance = 6.0

    @rule(target=predictions, request=st.sampled_from(REQUESTS))
    def create(self, request: dict) -> str:
        try:
            record = self.domain.create(KEY, parse_create(request, CATALOG))
        except InsufficientFunds as exc:
            assert api_error(exc).error_id in ("INSUFFICIENT_CREDITS", "PAYMENT_REQUIRED")  # type: ignore[union-attr]
            return "rejected"
        self.seen[record["id"]] = []
        self.expected_balance -= record["credits"]
        return record["id"]

    @rule(seconds=st.floats(min_value=0, max_value=400, allow_nan=False))
    def advance(self, seconds: float) -> None:
        self.runtime.clock.advance(seconds)

    @rule(pid=predictions)
    def cancel(self, pid: str) -> None:
        if pid == "rejected" or pid in self.deleted:
            return
        before = self.domain.state(self.domain.get(KEY, pid)).status
        try:
            record = self.domain.cancel(KEY, pid)
            assert before not in TERMINAL
            self.expected_balance += record["credits"]  # refunded
        except JobNotCancellable as exc:
            assert before in TERMINAL and exc.status == before
            assert api_error(exc).error_id == "INVALID_PARAMETER"  # type: ignore[union-attr]

    @rule(pid=consumes(predictions))
    def delete(self, pid: str) -> None:
        if pid == "rejected" or pid in self.deleted:
            return
        running = not self.domain.state(self.domain.get(KEY, pid)).terminal
        record = self.domain.delete(KEY, pid)
        if running:
            self.expected_balance += record["credits"]  # deleting a running prediction cancels it
        self.deleted.add(pid)

    @rule()
    def observe(self) -> None:
        for pid, history in self.seen.items():
            if pid in self.deleted:
                continue
            history.append(self.domain.views.view(self.domain.get(KEY, pid), links_for(BASE)))

    @invariant()
    def no_transition_out_of_a_terminal_state(self) -> None:
        for history in self.seen.values():
            statuses = [view["status"] for view in history]
            for earlier, later in itertools.pairwise(statuses):
                if earlier in TERMINAL:
                    assert later == earlier

    @invariant()
    def timestamps_are_monotone(self) -> None:
        for history in self.seen.values():
            for view in history:
                stamps = [view["created_at"], view["started_at"], view["completed_at"]]
                present = [s for s in stamps if s is not None]
                assert present == sorted(present)
                assert view["updated_at"] >= view["created_at"]
            updates = [view["updated_at"] for view in history]
            assert updates == sorted(updates)

    @invariant()
    def balance_is_never_negative_and_adds_up(self) -> None:
        balance = self.runtime.accounts.get(KEY).credits
        assert balance >= 0
        assert abs(self.expected_balance - balance) < 1e-6

    @invariant()
    def paging_never_loses_or_repeats(self) -> None:
        expected = {r["id"] for r in self.runtime.store.scan("prediction", owner=KEY)}
        for per_page in (1, 2, 15):
            collected: list[str] = []
            page = 1
            while True:
                records, pagination = self.domain.list(KEY, page=page, per_page=per_page)
                collected.extend(r["id"] for r in records)
                if page >= pagination["last_page"]:
                    break
                page += 1
            assert len(collected) == len(set(collected)) == pagination["total"]
            assert set(collected) == expected


PredictionMachine.TestCase.settings = settings(max_examples=40, stateful_step_count=25, deadline=None,
                                               suppress_health_check=[HealthCheck.too_slow])
TestPredictionInvariants = PredictionMachine.TestCase
