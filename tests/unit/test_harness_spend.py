"""The harness's spend figures: a request's estimate stays within the plan's bound, answers are priced by usage."""

from __future__ import annotations

import httpx
import pytest

from mockserver.harness.spend import SkytellsPrices, actual_cost
from tests.conftest import KEY


@pytest.fixture
def prices(skytells_url: str) -> SkytellsPrices:
    with httpx.Client(base_url=skytells_url, headers={"x-api-key": KEY}) as client:
        return SkytellsPrices.fetch(client)


def test_an_inference_estimate_never_exceeds_the_routes_bound(prices: SkytellsPrices) -> None:
    huge = {"model": "gpt-5", "messages": [{"role": "user", "content": "x"}], "n": 128,
            "max_completion_tokens": 2_672_194_580}
    bound = prices.worst_cost("/v1/chat/completions")
    assert prices.inference_cost("/v1/chat/completions", huge) > bound  # what the body alone would say
    assert prices.cost("POST", "/v1/chat/completions", huge) == bound


def test_an_answer_is_priced_by_its_usage(prices: SkytellsPrices, http: httpx.Client, runtime) -> None:
    before = runtime.accounts.get(KEY).credits
    answer = http.post("/chat/completions", json={"model": "gpt-5", "n": 2,
                                                   "messages": [{"role": "user", "content": "Hi"}]})
    charged = before - runtime.accounts.get(KEY).credits
    cost = actual_cost("/v1/chat/completions", 200, answer.json(), prices)
    assert cost == pytest.approx(charged, abs=1e-9) and cost > 0
    usage = answer.json()["usage"]
    model = prices.model("gpt-5")
    assert cost == pytest.approx(prices.token_cost(model, usage["prompt_tokens"], usage["completion_tokens"]))
    assert actual_cost("/v1/chat/completions", 200, {"no": "usage"}, prices) is None
