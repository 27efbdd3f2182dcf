"""The cost report (bench/gateai_cost_table.py, docs/gateai-costs.md) holds: every example cost the doc
states is what ``/api/estimate`` answers, at the doc's precision."""

from __future__ import annotations

import httpx
import pytest

from bench.gateai_cost_table import EXAMPLES, Row, measure, summary_rows
from mockserver.gateai import catalog

#: Summary figures no valid request can reach: seedance-1.0-pro(-fast) is documented at "720p 15s" but its
#: duration enum stops at 12 s.
UNREACHABLE = {("seedance-1.0-pro", 15), ("seedance-1.0-pro-fast", 15)}


@pytest.mark.parametrize("row", EXAMPLES, ids=lambda row: row.label)
def test_documented_example_costs(gateai: httpx.Client, row: Row) -> None:
    outcome = measure(gateai, row)
    assert isinstance(outcome, tuple) and outcome[1], (row, outcome)


def test_every_model_summary(gateai: httpx.Client) -> None:
    refused = []
    for model in catalog.all():
        for row in summary_rows(model):
            outcome = measure(gateai, row)
            if isinstance(outcome, str):
                refused.append((row.model, row.params.get("duration")))
            else:
                assert outcome[1], (row, outcome)
    assert set(refused) == UNREACHABLE
