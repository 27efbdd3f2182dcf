"""``/_mock/keys`` over real HTTP: create, inspect, change and delete keys, and per-key limits honoured by
both APIs (credits, suspension, Skytells rate limit, GateAI concurrency, window and prompt length)."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest

from mockserver.core.accounts import mask_key
from mockserver.server import ServerThread
from tests.conftest import KEY, OTHER_KEY

NEW_KEY = "sk-cp-test-key-0042"


@pytest.fixture
def admin(server: ServerThread) -> Iterator[httpx.Client]:
    base = server.urls["skytells"].removesuffix("/v1") + "/_mock"
    with httpx.Client(base_url=base, timeout=30) as client:
        yield client


def create(admin: httpx.Client, **body: object) -> dict:
    response = admin.post("/keys", json=body)
    assert response.status_code == 201, response.text
    return response.json()


def assert_admin_error(response: httpx.Response, status: int, code: str, param: str | None = None) -> str:
    assert response.status_code == status, response.text
    error = response.json()["error"]
    assert error["code"] == code, error
    if param is not None:
        assert error.get("param") == param, error
    return error["message"]


def skytells_create(skytells_url: str, key: str, model: str = "truefusion-pro") -> httpx.Response:
    return httpx.post(f"{skytells_url}/predictions", headers={"x-api-key": key}, timeout=30,
                      json={"model": model, "input": {"prompt": "a fox"}})


def generate(gateai_url: str, key: str, prompt: str = "a fox") -> httpx.Response:
    return httpx.post(f"{gateai_url}/api/generate", headers={"authorization": f"Bearer {key}"}, timeout=30,
                      json={"model": "gpt-image-2", "params": {"prompt": prompt}})


# -- listing and reading -----------------------------------------------------------------------------


def test_list_shows_every_key_in_full_with_its_masked_form(admin: httpx.Client) -> None:
    body = admin.get("/keys").json()
    assert body["count"] == 2
    views = {view["key"]: view for view in body["data"]}
    assert set(views) == {KEY, OTHER_KEY}
    view = views[KEY]
    assert view["masked"] == mask_key(KEY)
    assert view["credits"] == 100.0
    assert view["daily_budget"] == {"daily_limit": 100, "used": 0, "remaining": 100,
                                    "resets_at": "2026-01-02T00:00:00.000000Z"}
    assert view["suspended"] is False and view["limits"] == {} and view["configured"] is True
    assert view["effective_limits"] == {"rate_limit_per_minute": None, "concurrency": 5, "requests_per_window": 5,
                                        "window_seconds": 30.0, "max_prompt_length": 1500}
    assert view["webhook_secret"].startswith("whsec_")


def test_get_one_key_and_404_for_unknown(admin: httpx.Client) -> None:
    assert admin.get(f"/keys/{KEY}").json()["key"] == KEY
    message = assert_admin_error(admin.get("/keys/sk-nobody-here-000"), 404, "NOT_FOUND")
    assert "sk-nobody-here-000" not in message  # even the admin plane's errors mask keys


def test_budget_status_reflects_spending(admin: httpx.Client, gateai_url: str) -> None:
    assert generate(gateai_url, KEY).status_code == 200
    budget = admin.get(f"/keys/{KEY}").json()["daily_budget"]
    assert budget["used"] == 0.003 and budget["remaining"] == 99.997


# -- creating ------------------------------------------------------------------------------------------


def test_create_with_one_credit_then_an_expensive_prediction_is_402(admin: httpx.Client, skytells_url: str) -> None:
    view = create(admin, key=NEW_KEY, credits=1)
    assert view["credits"] == 1.0 and view["configured"] is False
    assert view["created_with"] == {"credits": 1.0, "daily_budget": 100.0, "suspended": False, "limits": {}}
    response = skytells_create(skytells_url, NEW_KEY, model="veo-3.1")
    assert response.status_code == 402, response.text
    assert response.json()["error_id"] == "INSUFFICIENT_CREDITS"
    assert skytells_create(skytells_url, NEW_KEY, model="truefusion-edge").status_code == 201  # cheap still fits


def test_a_created_key_works_on_both_apis(admin: httpx.Client, skytells_url: str, gateai_url: str) -> None:
    create(admin, key=NEW_KEY, daily_budget=0.004)
    assert skytells_create(skytells_url, NEW_KEY).status_code == 201
    assert generate(gateai_url, NEW_KEY).status_code == 200
    refused = generate(gateai_url, NEW_KEY)  # $0.003 of $0.004 used: the next does not fit
    assert refused.status_code == 402 and refused.json()["code"] == "BUDGET_EXCEEDED"


def test_generated_keys_are_seeded(admin: httpx.Client, runtime) -> None:
    first = create(admin)["key"]
    second = create(admin)["key"]
    assert first.startswith("sk-mock-") and second.startswith("sk-mock-") and first != second
    runtime.reset()
    assert create(admin)["key"] == first  # same seed, same sequence


def test_create_refuses_an_existing_key(admin: httpx.Client) -> None:
    assert_admin_error(admin.post("/keys", json={"key": KEY}), 409, "KEY_EXISTS", "key")


@pytest.mark.parametrize(("body", "param", "fragment"), [
    ({"key": "has space"}, "key", "key must be"),
    ({"key": 12}, "key", "key must be"),
    ({"credits": -1}, "credits", ">= 0"),
    ({"credits": "lots"}, "credits", "number"),
    ({"suspended": "yes"}, "suspended", "true or false"),
    ({"colour": "red"}, "colour", "unknown field"),
    ({"limits": {"bogus": 1}}, "limits.bogus", "unknown limit(s): bogus"),
    ({"limits": {"concurrency": 0}}, "limits.concurrency", "between 1"),
    ({"limits": {"concurrency": 2.5}}, "limits.concurrency", "whole number"),
    ({"limits": {"window_seconds": "long"}}, "limits.window_seconds", "number"),
    ({"limits": [1]}, "limits", "object"),
])
def test_create_refuses_bad_bodies_clearly(admin: httpx.Client, body: dict, param: str, fragment: str) -> None:
    message = assert_admin_error(admin.post("/keys", json=body), 400, "INVALID_REQUEST", param)
    assert fragment in message


def test_unknown_limit_names_the_known_ones(admin: httpx.Client) -> None:
    message = assert_admin_error(admin.post("/keys", json={"limits": {"rpm": 5}}), 400, "INVALID_REQUEST")
    for name in ("rate_limit_per_minute", "concurrency", "requests_per_window", "window_seconds", "max_prompt_length"):
        assert name in message


# -- changing ------------------------------------------------------------------------------------------


def test_patch_sets_or_adds_credits(admin: httpx.Client) -> None:
    assert admin.patch(f"/keys/{KEY}", json={"credits": 7.5}).json()["credits"] == 7.5
    assert admin.patch(f"/keys/{KEY}", json={"add_credits": 2.5}).json()["credits"] == 10.0
    assert admin.patch(f"/keys/{KEY}", json={"add_credits": -4}).json()["credits"] == 6.0
    assert_admin_error(admin.patch(f"/keys/{KEY}", json={"add_credits": -7}), 400, "INVALID_REQUEST", "add_credits")
    assert_admin_error(admin.patch(f"/keys/{KEY}", json={"credits": 1, "add_credits": 1}), 400, "INVALID_REQUEST")
    assert_admin_error(admin.patch("/keys/sk-nobody-here-000", json={"credits": 1}), 404, "NOT_FOUND")
    assert admin.get(f"/keys/{KEY}").json()["credits"] == 6.0  # refused changes changed nothing


def test_suspended_key_is_refused_by_both_apis(admin: httpx.Client, skytells_url: str, gateai_url: str) -> None:
    assert admin.patch(f"/keys/{KEY}", json={"suspended": True}).json()["suspended"] is True
    skytells = skytells_create(skytells_url, KEY)
    assert skytells.status_code == 401 and skytells.json()["error_id"] == "ACCOUNT_SUSPENDED"
    gateai = generate(gateai_url, KEY)
    assert gateai.status_code == 403 and gateai.json()["code"] == "ACCOUNT_SUSPENDED"
    admin.patch(f"/keys/{KEY}", json={"suspended": False})
    assert skytells_create(skytells_url, KEY).status_code == 201


def test_patch_limits_merges_and_null_drops(admin: httpx.Client) -> None:
    admin.patch(f"/keys/{KEY}", json={"limits": {"concurrency": 2, "window_seconds": 10}})
    view = admin.patch(f"/keys/{KEY}", json={"limits": {"concurrency": None, "max_prompt_length": 99}}).json()
    assert view["limits"] == {"window_seconds": 10.0, "max_prompt_length": 99}
    assert view["effective_limits"]["concurrency"] == 5 and view["effective_limits"]["window_seconds"] == 10.0


# -- limits honoured ---------------------------------------------------------------------------------


def test_custom_gateai_concurrency(admin: httpx.Client, gateai_url: str) -> None:
    create(admin, key=NEW_KEY, limits={"concurrency": 2})
    assert [generate(gateai_url, NEW_KEY).status_code for _ in range(2)] == [200, 200]
    third = generate(gateai_url, NEW_KEY)
    assert third.status_code == 429, third.text
    body = third.json()
    assert body["code"] == "RATE_LIMITED" and body["details"]["limit"] == "concurrency"
    assert body["details"]["max"] == 2 and "2 of 2 slots" in body["error"]
    me = httpx.get(f"{gateai_url}/api/me", params={"key": NEW_KEY}).json()
    assert me["concurrency"]["max"] == 2 and me["concurrency"]["available"] == 0
    assert generate(gateai_url, KEY).status_code == 200  # other keys keep the documented 5


def test_custom_gateai_window(admin: httpx.Client, gateai_url: str, runtime) -> None:
    create(admin, key=NEW_KEY, limits={"requests_per_window": 2, "window_seconds": 10})
    assert [generate(gateai_url, NEW_KEY).status_code for _ in range(2)] == [200, 200]
    refused = generate(gateai_url, NEW_KEY)
    assert refused.status_code == 429
    assert refused.json()["details"] == {"limit": "requests_per_window", "max": 2, "window_seconds": 10.0,
                                         "retry_after": refused.json()["details"]["retry_after"]}
    assert refused.headers["retry-after"] == "10"
    runtime.clock.advance(10)  # a 10 s window, not the documented 30 s
    assert generate(gateai_url, NEW_KEY).status_code == 200


def test_custom_prompt_length(admin: httpx.Client, gateai_url: str) -> None:
    create(admin, key=NEW_KEY, limits={"max_prompt_length": 10})
    refused = generate(gateai_url, NEW_KEY, prompt="x" * 11)
    assert refused.status_code == 400
    assert refused.json()["code"] == "PROMPT_TOO_LONG" and refused.json()["details"] == {"length": 11, "max": 10}
    assert generate(gateai_url, NEW_KEY, prompt="x" * 10).status_code == 200
    admin.patch(f"/keys/{NEW_KEY}", json={"limits": {"max_prompt_length": 3000}})
    assert generate(gateai_url, NEW_KEY, prompt="x" * 2000).status_code == 200  # beyond the documented 1500


def test_custom_skytells_rate_limit(admin: httpx.Client, skytells_url: str) -> None:
    create(admin, key=NEW_KEY, limits={"rate_limit_per_minute": 2})
    models = [httpx.get(f"{skytells_url}/models", headers={"x-api-key": NEW_KEY}) for _ in range(3)]
    assert [r.status_code for r in models] == [200, 200, 429]
    assert models[2].json()["error_id"] == "RATE_LIMIT_EXCEEDED"
    assert httpx.get(f"{skytells_url}/models", headers={"x-api-key": KEY}).status_code == 200


# -- reset and delete --------------------------------------------------------------------------------


def test_per_key_reset_restores_what_the_key_was_created_with(admin: httpx.Client, skytells_url: str,
                                                              gateai_url: str) -> None:
    create(admin, key=NEW_KEY, credits=5, daily_budget=2, limits={"concurrency": 1})
    assert skytells_create(skytells_url, NEW_KEY).status_code == 201
    admin.patch(f"/keys/{NEW_KEY}", json={"suspended": True, "limits": {"concurrency": 4}, "daily_budget": 50})
    assert admin.post("/reset", json={"key": NEW_KEY}).json()["reset"] == "key"
    view = admin.get(f"/keys/{NEW_KEY}").json()
    assert view["credits"] == 5.0 and view["suspended"] is False
    assert view["limits"] == {"concurrency": 1} and view["daily_budget"]["daily_limit"] == 2
    admin.patch(f"/keys/{KEY}", json={"credits": 1})
    admin.post("/reset", json={"key": KEY})
    assert admin.get(f"/keys/{KEY}").json()["credits"] == 100.0  # configured keys: the server's defaults


def test_delete_forgets_the_key(admin: httpx.Client, skytells_url: str) -> None:
    create(admin, key=NEW_KEY)
    pid = skytells_create(skytells_url, NEW_KEY).json()["id"]
    assert admin.delete(f"/keys/{NEW_KEY}").json() == {"key": NEW_KEY, "deleted": True}
    refused = httpx.get(f"{skytells_url}/predictions/{pid}", headers={"x-api-key": NEW_KEY})
    assert refused.status_code == 401 and refused.json()["error_id"] == "UNAUTHORIZED"
    assert_admin_error(admin.get(f"/keys/{NEW_KEY}"), 404, "NOT_FOUND")
    assert_admin_error(admin.delete(f"/keys/{NEW_KEY}"), 404, "NOT_FOUND")
    create(admin, key=NEW_KEY)  # the name is free again, with nothing left over
    assert httpx.get(f"{skytells_url}/predictions/{pid}", headers={"x-api-key": NEW_KEY}).status_code == 404
