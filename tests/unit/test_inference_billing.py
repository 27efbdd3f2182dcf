"""Token prices from the catalog and debits against the key's credits."""

from __future__ import annotations

import pytest

from mockserver.core.accounts import InsufficientFunds
from mockserver.core.runtime import Runtime
from mockserver.skytells.catalog import Catalog
from mockserver.skytells.inference import billing
from tests.conftest import KEY, make_settings
from tests.domain_answers import inference_answer

CATALOG = Catalog.load()


def test_prices_per_token_from_the_catalog() -> None:
    gpt5 = billing.prices(CATALOG.get("gpt-5"))
    assert gpt5.input == pytest.approx(0.5e-6) and gpt5.output == pytest.approx(1.25e-6)
    assert gpt5.cached_input == gpt5.input  # no cached price in the catalog: billed as input
    codex = billing.prices(CATALOG.get("gpt-5.3-codex"))
    assert (codex.input, codex.cached_input, codex.output) == pytest.approx((1.75e-6, 0.175e-6, 14e-6))


def test_prices_need_token_pricing() -> None:
    with pytest.raises(ValueError):
        billing.prices(CATALOG.get("truefusion-pro"))


def test_cost_arithmetic() -> None:
    codex = CATALOG.get("gpt-5.3-codex")
    assert billing.cost(codex, 1_000_000, 0) == pytest.approx(1.75)
    assert billing.cost(codex, 0, 1_000_000) == pytest.approx(14.0)
    assert billing.cost(codex, 1_000, 500, cached_tokens=400) == pytest.approx(600 * 1.75e-6 + 400 * 0.175e-6
                                                                               + 500 * 14e-6)
    assert billing.cost(codex, 10, 0, cached_tokens=99) == pytest.approx(10 * 0.175e-6)
    router = CATALOG.get("deepbrain-router")
    assert billing.cost(router, 9, 10) == pytest.approx(9 * 0.5e-6 + 10 * 1.25e-6)


def test_charge_debits_and_refuses_without_touching_the_balance() -> None:
    runtime = Runtime.from_settings(make_settings(credits=0.001))
    assert billing.charge(runtime, KEY, 0.0004) == pytest.approx(0.0006)
    with pytest.raises(InsufficientFunds) as caught:
        billing.charge(runtime, KEY, 0.001)
    error = inference_answer(caught.value)
    assert (error.status, error.error_id, error.code) == (402, "INSUFFICIENT_CREDITS", "insufficient_credits")
    assert runtime.accounts.get(KEY).credits == pytest.approx(0.0006)
    runtime.accounts.change(KEY, credits=0.0)
    with pytest.raises(InsufficientFunds) as empty:
        billing.charge(runtime, KEY, 1e-6)
    assert inference_answer(empty.value).message == "You have run out of credits."

