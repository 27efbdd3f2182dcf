"""The official ``skytells`` Python SDK against the mock, unchanged but for its base URL."""

from __future__ import annotations

import asyncio

import httpx
import pytest
from skytells import AsyncSkytellsClient, SkytellsClient, SkytellsError

from tests.conftest import KEY, OTHER_KEY
from tests.sdk_clock import redirect_skytells_sleeps


@pytest.fixture
def client(skytells_url: str) -> SkytellsClient:
    return SkytellsClient(KEY, base_url=skytells_url, timeout=30_000)


@pytest.fixture
def clock_driven_sleep(monkeypatch: pytest.MonkeyPatch, runtime):
    """The SDK polls with time.sleep(5): make its sleep advance the mock's clock instead."""
    return redirect_skytells_sleeps(monkeypatch, runtime.clock)


def test_models_list_and_get_with_fields(client: SkytellsClient) -> None:
    models = client.models.list()
    assert isinstance(models, list) and len(models) == 39
    assert all("input_schema" not in m for m in models)
    assert {m["namespace"] for m in models} >= {"truefusion-pro", "gpt-5", "beatfusion-2.0", "veo-3.1"}
    with_schemas = client.models.list(fields=["input_schema", "output_schema"])
    assert all(m["input_schema"]["type"] == "object" for m in with_schemas)
    model = client.models.get("truefusion-pro", fields=["input_schema"])
    assert model["namespace"] == "truefusion-pro"
    assert model["pricing"]["amount"] == 0.05 and model["pricing"]["unit"] == "image"
    assert model["input_schema"]["properties"]["output_format"]["default"] == "webp"
    assert "output_schema" not in model


def test_unknown_model_raises_model_not_found(client: SkytellsClient) -> None:
    with pytest.raises(SkytellsError) as caught:
        client.models.get("truefusion-nope")
    assert caught.value.error_id == "MODEL_NOT_FOUND"
    assert caught.value.http_status == 404


def test_predict_returns_pending_then_poll_to_success(client: SkytellsClient, runtime) -> None:
    created = client.predict({"model": "truefusion-pro", "input": {"prompt": "A red fox", "num_outputs": 2}})
    assert created["status"] == "pending" and created["output"] is None
    runtime.clock.advance(60)
    done = client.predictions.get(created["id"])
    assert done["status"] == "succeeded"
    assert isinstance(done["output"], list) and len(done["output"]) == 2
    assert done["metadata"]["billing"]["credits_used"] == pytest.approx(0.10)
    image = httpx.get(done["output"][0])
    assert image.status_code == 200 and image.headers["content-type"] == "image/webp"
    assert image.content[:4] == b"RIFF" and image.content[8:12] == b"WEBP"
    assert done["metadata"]["storage"]["files"][0]["size"] == len(image.content)


def test_run_waits_for_completion(client: SkytellsClient, runtime) -> None:
    runtime.clock.configure(mode="instant")
    prediction = client.run("truefusion", input={"prompt": "An astronaut", "number_of_images": 3})
    assert prediction.status == "succeeded"
    assert isinstance(prediction.output, list) and len(prediction.output) == 3
    assert prediction.outputs() == prediction.output
    single = client.run("truefusion-max", input={"prompt": "A lighthouse"})
    assert isinstance(single.output, str) and single.output.endswith(".jpg")
    assert single.outputs() == single.output


def test_fast_model_succeeds_in_the_create_response(client: SkytellsClient) -> None:
    created = client.predictions.create({"model": "truefusion-edge", "input": {"prompt": "quick"}})
    assert created["status"] == "succeeded"
    assert created["metrics"]["predict_time"] > 0


def test_run_with_on_progress_polls_through_the_lifecycle(client: SkytellsClient, clock_driven_sleep) -> None:
    seen: list[str] = []
    prediction = client.run("veo-3.1", input={"prompt": "Waves", "duration": 4},
                            on_progress=lambda p: seen.append(p["status"]))
    assert prediction.status == "succeeded"
    assert seen[-1] == "succeeded" and "processing" in seen
    assert clock_driven_sleep and all(s == 5.0 for s in clock_driven_sleep)
    assert prediction.output.endswith(".mp4")
    assert prediction.raw()["metadata"]["billing"]["credits_used"] == pytest.approx(0.43 * 4)


def test_wait_polls_until_terminal(client: SkytellsClient, clock_driven_sleep) -> None:
    created = client.predictions.create({"model": "beatfusion-2.0", "input": {"lyrics": "[verse]\nla la"}})
    assert created["status"] == "pending"
    final = client.wait(created)
    assert final["status"] == "succeeded"
    assert final["output"].endswith(".mp3")
    audio = httpx.get(final["output"])
    assert audio.headers["content-type"] == "audio/mpeg" and len(audio.content) > 1000


def test_wait_times_out_with_max_wait(client: SkytellsClient) -> None:
    created = client.predictions.create({"model": "veo-3.1", "input": {"prompt": "slow"}})
    with pytest.raises(SkytellsError) as caught:
        client.wait(created, options={"interval": 1, "max_wait": 5})
    assert caught.value.error_id == "WAIT_TIMEOUT"


def test_list_paginates_and_filters(client: SkytellsClient, runtime) -> None:
    ids = [client.predictions.create({"model": "truefusion", "input": {"prompt": f"p{i}"}})["id"] for i in range(17)]
    other = client.predictions.create({"model": "truefusion-pro", "input": {"prompt": "x"}})["id"]
    first = client.predictions.list()
    assert first.pagination.total == 18 and first.pagination.per_page == 15 and first.pagination.last_page == 2
    assert first.data[0]["id"] == other  # newest first
    second = client.predictions.list(page=2)
    assert [p["id"] for p in second.data] == list(reversed(ids))[14:]
    only = client.predictions.list(model="truefusion-pro")
    assert [p["id"] for p in only.data] == [other]
    today = "2026-01-01"
    assert client.predictions.list(since=today, until=today).pagination.total == 18
    assert client.predictions.list(since="2026-01-02").pagination.total == 0
    with pytest.raises(SkytellsError) as bad_format:
        client.predictions.list(since="01/01/2026")
    assert bad_format.value.error_id == "INVALID_DATE_FORMAT" and bad_format.value.http_status == 400
    with pytest.raises(SkytellsError) as bad_range:
        client.predictions.list(since="2026-02-01", until="2026-01-01")
    assert bad_range.value.error_id == "INVALID_DATE_RANGE"


def test_cancel_and_delete(client: SkytellsClient, runtime) -> None:
    balance = runtime.accounts.get(KEY).credits
    created = client.predictions.create({"model": "mera", "input": {"prompt": "film"}})
    assert runtime.accounts.get(KEY).credits == pytest.approx(balance - 3.42)
    cancelled = client.cancel_prediction(created["id"])
    assert cancelled["status"] == "cancelled" and cancelled["output"] is None
    assert runtime.accounts.get(KEY).credits == pytest.approx(balance)  # refunded
    runtime.clock.advance(3600)
    assert client.predictions.get(created["id"])["status"] == "cancelled"
    with pytest.raises(SkytellsError) as again:
        client.cancel_prediction(created["id"])
    assert again.value.error_id == "INVALID_PARAMETER" and "cancelled" in str(again.value)
    deleted = client.delete_prediction(created["id"])
    assert deleted["id"] == created["id"]
    with pytest.raises(SkytellsError) as gone:
        client.predictions.get(created["id"])
    assert gone.value.http_status == 404


def test_prediction_object_methods(client: SkytellsClient, runtime) -> None:
    runtime.clock.configure(mode="instant")
    prediction = client.run("truefusion-pro", input={"prompt": "cat"})
    url = prediction.output[0]
    assert httpx.get(url).status_code == 200
    prediction.delete()
    assert httpx.get(url).status_code == 404
    with pytest.raises(SkytellsError):
        prediction.cancel()


def test_queue_and_dispatch(client: SkytellsClient) -> None:
    client.queue({"model": "truefusion", "input": {"prompt": "Cat"}})
    client.queue({"model": "truefusion-pro", "input": {"prompt": "Dog"}})
    client.queue({"model": "beatfusion-1.0", "input": {"prompt": "lofi beats to test by", "lyrics": "[verse] hello"}})
    results = client.dispatch()
    assert [r["model"]["name"] for r in results] == ["truefusion", "truefusion-pro", "beatfusion-1.0"]
    assert all(r["status"] == "pending" for r in results)
    assert client.dispatch() == []


def test_stream_prediction_as_json(client: SkytellsClient) -> None:
    created = client.predictions.create({"model": "truefusion-pro", "input": {"prompt": "stream"}})
    info = client.stream_prediction(created["id"])
    assert info["id"] == created["id"] and info["urls"]["stream"].endswith("/stream")


def test_other_keys_cannot_see_predictions(client: SkytellsClient, skytells_url: str) -> None:
    created = client.predictions.create({"model": "truefusion", "input": {"prompt": "mine"}})
    stranger = SkytellsClient(OTHER_KEY, base_url=skytells_url)
    for call in (lambda: stranger.predictions.get(created["id"]),
                 lambda: stranger.cancel_prediction(created["id"]),
                 lambda: stranger.delete_prediction(created["id"])):
        with pytest.raises(SkytellsError) as caught:
            call()
        assert caught.value.http_status == 404
    assert stranger.predictions.list().pagination.total == 0
    assert client.predictions.get(created["id"])["status"] == "pending"


def test_sdk_surfaces_documented_errors(skytells_url: str, runtime) -> None:
    with pytest.raises(SkytellsError) as missing:
        SkytellsClient("sk-unknown-key", base_url=skytells_url).models.list()
    assert missing.value.error_id == "UNAUTHORIZED" and missing.value.http_status == 401
    client = SkytellsClient(KEY, base_url=skytells_url)
    with pytest.raises(SkytellsError) as bad_input:
        client.predict({"model": "truefusion-pro", "input": {"prompt": "x", "num_outputs": 9}})
    assert bad_input.value.error_id == "INVALID_INPUT" and "num_outputs" in str(bad_input.value)
    with pytest.raises(SkytellsError) as text_model:
        client.predict({"model": "gpt-5", "input": {"prompt": "hi"}})
    assert text_model.value.error_id == "INVALID_PARAMETER" and "/v1/chat/completions" in str(text_model.value)
    runtime.accounts.change(KEY, credits=0.02)
    with pytest.raises(SkytellsError) as poor:
        client.predict({"model": "truefusion-pro", "input": {"prompt": "x"}})
    assert poor.value.error_id == "INSUFFICIENT_CREDITS" and poor.value.http_status == 402
    runtime.accounts.change(KEY, suspended=True)
    with pytest.raises(SkytellsError) as suspended:
        client.models.list()
    assert suspended.value.error_id == "ACCOUNT_SUSPENDED" and suspended.value.http_status == 401


def test_failed_prediction_raises_prediction_failed(client: SkytellsClient, runtime) -> None:
    runtime.clock.configure(mode="instant")
    with pytest.raises(SkytellsError) as caught:
        client.run("truefusion-pro", input={"prompt": "something nsfw"})
    assert caught.value.error_id == "PREDICTION_FAILED"
    assert "safety" in str(caught.value)
    listed = client.predictions.list(options={"page": 1}).data[0]
    assert listed["status"] == "failed" and listed["metadata"]["billing"]["credits_used"] == 0


def test_async_client(skytells_url: str, runtime) -> None:
    async def scenario() -> None:
        client = AsyncSkytellsClient(KEY, base_url=skytells_url)
        models = await client.models.list()
        assert len(models) == 39
        model = await client.models.get("veo-3.1", fields=["output_schema"])
        assert model["output_schema"] == {"type": "string", "format": "uri"}
        created = await client.predictions.create({"model": "truefusion-pro", "input": {"prompt": "async"}})
        runtime.clock.advance(60)
        final = await client.wait(created, options={"interval": 1})
        assert final["status"] == "succeeded"
        page = await client.predictions.list()
        assert page.pagination.total == 1
        runtime.clock.configure(mode="instant")
        prediction = await client.run("truefusion-edge", input={"prompt": "fast"})
        assert prediction.status == "succeeded"
        await prediction.delete()
        client.queue({"model": "truefusion", "input": {"prompt": "a"}})
        client.queue({"model": "truefusion", "input": {"prompt": "b"}})
        dispatched = await client.dispatch()
        assert len(dispatched) == 2

    asyncio.run(scenario())


def test_rate_limit_surfaces_as_rate_limit_exceeded_with_retry_after() -> None:
    from mockserver.server import ServerThread
    from tests.conftest import make_settings

    with ServerThread(make_settings(rate_limit_per_minute=2)) as limited:
        client = SkytellsClient(KEY, base_url=limited.urls["skytells"])
        client.models.list()
        client.models.list()
        with pytest.raises(SkytellsError) as caught:
            client.models.list()
        assert caught.value.error_id == "RATE_LIMIT_EXCEEDED" and caught.value.http_status == 429
        third = httpx.get(limited.urls["skytells"] + "/models", headers={"x-api-key": KEY})
        assert third.status_code == 429 and int(third.headers["retry-after"]) >= 1
        limited.runtime.clock.advance(61)
        assert len(client.models.list()) == 39
