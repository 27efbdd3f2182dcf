"""Charge only when a result can be produced (issue 12, item 7).

* input the mock cannot render (a 9000 px side) is a 400 naming the field, and nothing is debited;
* every image model returns as many outputs as it bills: models documented to return a single URL
  ("Returns a single image URL": ``truefusion-x``, ``FLUX-1.1-pro``) bill one image whatever ``n``.
"""

from __future__ import annotations

import httpx
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from mockserver.core.runtime import Runtime
from mockserver.skytells import outputs
from mockserver.skytells.catalog import Catalog
from mockserver.spec import pricing as billing
from tests.conftest import KEY

CATALOG = Catalog.load()
IMAGE_MODELS = sorted(m.namespace for m in CATALOG if m.type == "image" and m.serves_predictions)


def _balance(runtime: Runtime) -> float:
    account = runtime.accounts.get(KEY)
    assert account is not None
    return account.credits


@pytest.mark.parametrize("size", [{"width": 9000}, {"height": 9000}, {"width": 9000, "height": 9000}])
def test_an_unrenderable_size_is_a_400_and_costs_nothing(http: httpx.Client, runtime: Runtime,
                                                          size: dict[str, int]) -> None:
    before = _balance(runtime)
    response = http.post("/predictions", json={"model": "nvidia-sana", "input": {"prompt": "p", **size}})
    assert response.status_code == 400, response.text
    error = response.json()["error"]
    assert error["error_id"] == "INVALID_INPUT" and error["param"] in ("input.width", "input.height")
    assert _balance(runtime) == before
    assert http.get("/predictions").status_code == 200 and http.get("/predictions").json()["data"] == []


@pytest.mark.parametrize("model", ["truefusion-x", "FLUX-1.1-pro"])
def test_a_single_url_model_bills_the_one_image_it_returns(http: httpx.Client, runtime: Runtime,
                                                           skytells_url: str, model: str) -> None:
    before = _balance(runtime)
    created = http.post("/predictions", json={"model": model, "input": {"prompt": "p", "n": 4}})
    assert created.status_code == 201, created.text
    pid = created.json()["id"]
    control = skytells_url.rsplit("/v1", 1)[0] + "/_mock/clock/advance"
    assert httpx.post(control, json={"seconds": 3600}).status_code == 200
    done = http.get(f"/predictions/{pid}").json()
    assert done["status"] == "succeeded"
    assert isinstance(done["output"], str) and len(done["metadata"]["storage"]["files"]) == 1
    per_image = CATALOG.get(model).pricing["amount"]
    assert done["metadata"]["billing"]["credits_used"] == pytest.approx(per_image)
    assert before - _balance(runtime) == pytest.approx(per_image)


@settings(max_examples=60, deadline=None)
@given(model=st.sampled_from(IMAGE_MODELS), count=st.integers(1, 4))
def test_outputs_returned_equal_outputs_billed(model: str, count: int) -> None:
    chosen = CATALOG.get(model)
    params = {"prompt": "p", "n": count, "num_outputs": count, "number_of_images": count}
    planned = outputs.plan_files(chosen, params, seed=1)
    assert len(planned) == billing.quantity(chosen, params)
    if not chosen.returns_array:
        assert len(planned) == 1
