"""Create planning done once per request: parsed bodies shared by equal JSON, seed-free output plans, the safety
verdict and the price kept on the request -- with the same predictions as planning everything anew."""

from __future__ import annotations

import dataclasses

import orjson
import pytest

from mockserver.core.errors import InvalidInput, NotFound
from mockserver.core.files import recipe
from mockserver.core.media import MediaSpec
from mockserver.core.rules.model import ScriptedResult
from mockserver.core.runtime import Runtime
from mockserver.skytells import outputs
from mockserver.skytells.catalog import Catalog
from mockserver.skytells.prediction_body import _parse, parse_create
from mockserver.skytells.predictions import Predictions, ending
from tests.conftest import KEY, make_settings

CATALOG = Catalog.load()


def test_equal_bodies_share_one_parsed_request() -> None:
    first = parse_create({"model": "truefusion-pro", "input": {"prompt": "a fox", "num_outputs": 2}}, CATALOG)
    again = parse_create({"model": "truefusion-pro", "input": {"prompt": "a fox", "num_outputs": 2}}, CATALOG)
    other = parse_create({"model": "truefusion-pro", "input": {"prompt": "a cat", "num_outputs": 2}}, CATALOG)
    assert again is first and other is not first and other.input == {"prompt": "a cat", "num_outputs": 2}


def test_a_number_written_differently_is_another_body() -> None:
    """``1`` and ``1.0`` are equal in Python but not in the echoed input: they are never confused."""
    whole = parse_create({"model": "truefusion-pro", "input": {"prompt": "a fox", "seed": 1}}, CATALOG)
    written = parse_create({"model": "truefusion-pro", "input": {"prompt": "a fox", "seed": 1.0}}, CATALOG)
    assert orjson.dumps(whole.input) == b'{"prompt":"a fox","seed":1}'
    assert orjson.dumps(written.input) == b'{"prompt":"a fox","seed":1.0}'


def test_a_bad_body_is_refused_every_time() -> None:
    for _ in range(2):
        with pytest.raises(InvalidInput):
            parse_create({"model": "truefusion-pro", "input": {"prompt": 5}}, CATALOG)
        with pytest.raises(NotFound):
            parse_create({"model": "no-such-model", "input": {}}, CATALOG)


def test_a_body_orjson_cannot_write_is_parsed_each_time() -> None:
    body = {"model": "truefusion-pro", "input": {"prompt": "a fox", "seed": 2**70}}  # beyond orjson's integers
    first, again = parse_create(body, CATALOG), parse_create(body, CATALOG)
    assert first == again and first is not again and first.input["seed"] == 2**70


@pytest.mark.parametrize("seed", [0, 7, 2**31 - 1, 2**1001])
def test_a_reseeded_recipe_is_the_recipe_built_with_that_seed(seed: int) -> None:
    template = MediaSpec(format="JPEG", width=640, height=480, quality=70, seed=0, label="a fox")
    assert template.reseeded(seed) == MediaSpec(format="jpg", width=640, height=480, quality=70, seed=seed,
                                                label="a fox")
    assert template.reseeded(seed).__dict__ == MediaSpec(format="jpg", width=640, height=480, quality=70, seed=seed,
                                                         label="a fox").__dict__


def test_a_reseeded_recipe_refuses_a_seed_the_constructor_refuses() -> None:
    with pytest.raises(ValueError):
        MediaSpec(format="png").reseeded(1.5)  # type: ignore[arg-type]


@pytest.mark.parametrize("model", ["truefusion-pro", "truefusion-x", "truefusion-video", "flux-2-flex"])
def test_planned_files_number_their_seeds_from_the_predictions(model: str) -> None:
    chosen = CATALOG.get(model)
    params = {"prompt": "a fox", "num_outputs": 3, "n": 2}
    planned = outputs.plan_files(chosen, params, 1000)
    assert [spec.seed for spec in planned] == [1000 + index for index in range(len(planned))]
    assert len({spec.reseeded(0) for spec in planned}) == 1  # the same recipe but for the seed


def test_the_safety_verdict_follows_the_configured_terms() -> None:
    request = parse_create({"model": "truefusion-pro", "input": {"prompt": "a fox in gore"}}, CATALOG)
    assert ending(request, ScriptedResult(), ("nsfw", "gore"))[0] == "failed"
    assert ending(request, ScriptedResult(), ("nsfw",)) == ("succeeded", None)
    assert ending(request, ScriptedResult(status="succeeded"), ("gore",)) == ("succeeded", None)


def test_repeated_creates_plan_as_fresh_ones() -> None:
    """Creates sharing a parsed request make the same predictions as creates parsing their own body."""
    made = []
    for shared in (True, False):
        predictions = Predictions(Runtime.from_settings(make_settings(credits=1000.0)), CATALOG)
        body = {"model": "truefusion-pro", "input": {"prompt": "a fox", "num_outputs": 2}}
        made.append([predictions.create(KEY, parse_create(body, CATALOG) if shared else _parse(body, CATALOG))
                     for _ in range(3)])
    assert made[0] == made[1]
    assert len({record["id"] for record in made[0]}) == 3 and all(len(r["file_specs"]) == 2 for r in made[0])


@pytest.mark.parametrize(("model", "params"), [
    ("truefusion-pro", {"prompt": "a fox", "num_outputs": 3}),
    ("truefusion-video", {"prompt": "a fox"}),
    ("beatfusion-2.0", {"prompt": "a fox", "lyrics": "la la la"}),
])
def test_planned_recipes_are_the_recipes_of_the_files_planned_with_the_predictions_seed(model: str,
                                                                                         params: dict) -> None:
    """The recipes a create keeps (its templates' recipes with the seed moved) are those of the files planned anew
    with the prediction's media seed: on the first create of a request and on the next."""
    predictions = Predictions(Runtime.from_settings(make_settings(credits=1000.0)), CATALOG)
    request = parse_create({"model": model, "input": params}, CATALOG)
    for pid in ("p-1", "p-2"):
        seed = predictions.runtime.rng.bits(f"media:{pid}", 31)
        expected = tuple(map(recipe, outputs.plan_files(request.model, request.params, seed)))
        assert predictions._plan_outputs(pid, request) == expected and expected


def test_a_create_that_cannot_fail_is_made_as_create_makes_it() -> None:
    made, balances = [], []
    body = {"model": "truefusion-pro", "input": {"prompt": "a fox", "num_outputs": 2}}
    for sure in (True, False):
        runtime = Runtime.from_settings(make_settings(credits=1000.0))
        predictions, request = Predictions(runtime, CATALOG), parse_create(body, CATALOG)
        account = runtime.accounts.get(KEY)
        assert account is not None
        made.append(predictions.create_if_sure(account, request) if sure else predictions.create(KEY, request))
        balances.append(runtime.accounts.get(KEY).credits)  # type: ignore[union-attr]
    assert made[0] == made[1] and made[0] is not None and balances[0] == balances[1] < 1000.0


@pytest.mark.parametrize(("body", "credits"), [
    ({"model": "truefusion-pro", "input": {"prompt": "a fox", "width": 100000, "height": 100000}}, 1000.0),  # no file
    ({"model": "truefusion-pro", "input": {"prompt": "a fox"}}, 0.0),  # the credits do not cover it
    ({"model": "truefusion-2-optima", "input": {"prompt": "a fox"}}, 1000.0),  # priced by the compute time to draw
    ({"model": "truefusion-pro", "input": {"prompt": "a fox"}, "webhook": "http://127.0.0.1:9/hook"}, 1000.0),
])
def test_a_create_that_might_fail_is_declined_with_nothing_drawn_charged_or_stored(body: dict,
                                                                                    credits: float) -> None:
    runtime = Runtime.from_settings(make_settings(credits=credits))
    predictions, account = Predictions(runtime, CATALOG), runtime.accounts.get(KEY)
    assert account is not None
    assert predictions.create_if_sure(account, parse_create(body, CATALOG)) is None
    assert runtime.accounts.get(KEY).credits == credits  # type: ignore[union-attr]
    assert runtime.store.usage(KEY)[0] == 0
    fresh = Runtime.from_settings(make_settings(credits=credits))
    assert runtime.rng.uuid4("prediction") == fresh.rng.uuid4("prediction")  # no id drawn


def test_a_create_is_never_sure_on_a_shared_store() -> None:
    """Another instance may spend the balance between the check and the debit: the router's way answers."""
    runtime = Runtime.from_settings(make_settings(credits=1000.0))
    shared = dataclasses.replace(runtime, shared=object())
    account = runtime.accounts.get(KEY)
    assert account is not None
    body = {"model": "truefusion-pro", "input": {"prompt": "a fox"}}
    assert Predictions(shared, CATALOG).create_if_sure(account, parse_create(body, CATALOG)) is None
    assert Predictions(runtime, CATALOG).create_if_sure(account, parse_create(body, CATALOG)) is not None
