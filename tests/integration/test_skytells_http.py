"""The Skytells Models and Predictions API over raw HTTP: formats, errors, SSE, files."""

from __future__ import annotations

import json

import httpx
import pytest

from tests.conftest import KEY, OTHER_KEY


def parse_error(body: dict) -> dict:
    """Verbatim from skytells-two-apis.txt: the documented way to read an error."""
    if "error_id" in body:
        return {"source": "prediction", "id": body["error_id"], "msg": body["message"]}
    if "error" in body:
        err = body["error"]
        return {
            "source": "inference",
            "id": err["error_id"],
            "msg": err["message"],
            "request_id": err.get("request_id"),
        }
    return {}


def assert_prediction_error(response: httpx.Response, status: int, error_id: str) -> dict:
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/json")
    body = response.json()
    parsed = parse_error(body)
    assert parsed["source"] == "prediction" and parsed["id"] == error_id and parsed["msg"]
    # what the official SDKs read
    assert body["error"]["error_id"] == error_id and body["error"]["http_status"] == status
    assert isinstance(body["error"]["details"], str)
    assert body["error"]["request_id"] == response.headers["x-request-id"]
    return body


def create(http: httpx.Client, model: str = "truefusion-pro", **input_: object) -> dict:
    response = http.post("/predictions", json={"model": model, "input": {"prompt": "a fox", **input_}})
    assert response.status_code == 201, response.text
    return response.json()


def test_models_list_is_a_bare_array_and_fields_add_schemas(http: httpx.Client) -> None:
    plain = http.get("/models").json()
    assert isinstance(plain, list) and len(plain) == 39
    assert {"name", "namespace", "type", "pricing", "status", "capabilities", "vendor"} <= set(plain[0])
    both = http.get("/models", params={"fields": "input_schema,output_schema"}).json()
    assert all({"input_schema", "output_schema"} <= set(m) for m in both)
    assert http.get("/model/gpt-5").json()["type"] == "text"
    assert http.get("/models/FLUX.2-pro").json()["pricing"]["unit"] == "image_megapixel"
    assert_prediction_error(http.get("/models", params={"fields": "secrets"}), 400, "INVALID_PARAMETER")
    assert_prediction_error(http.get("/models/no-such-model"), 404, "MODEL_NOT_FOUND")


@pytest.mark.parametrize(
    ("headers", "error_id"),
    [
        ({}, "UNAUTHORIZED"),
        ({"x-api-key": "sk-wrong"}, "UNAUTHORIZED"),
        ({"authorization": "Basic abc"}, "UNAUTHORIZED"),
    ],
)
def test_auth_errors(skytells_url: str, headers: dict, error_id: str) -> None:
    response = httpx.get(skytells_url + "/models", headers=headers)
    assert_prediction_error(response, 401, error_id)


def test_bearer_key_is_accepted(skytells_url: str) -> None:
    assert httpx.get(skytells_url + "/models", headers={"authorization": f"Bearer {KEY}"}).status_code == 200


def test_suspended_account(http: httpx.Client, runtime) -> None:
    runtime.accounts.change(KEY, suspended=True)
    assert_prediction_error(http.get("/predictions"), 401, "ACCOUNT_SUSPENDED")


@pytest.mark.parametrize(
    ("body", "status", "error_id", "needle"),
    [
        ({"input": {"prompt": "x"}}, 400, "INVALID_PARAMETER", "model"),
        ({"model": "truefusion-pro"}, 400, "INVALID_INPUT", "input"),
        ({"model": "truefusion-pro", "input": "prompt"}, 400, "INVALID_INPUT", "input"),
        ({"model": "truefusion-pro", "input": {}}, 400, "INVALID_INPUT", "input.prompt"),
        ({"model": "truefusion-pro", "input": {"prompt": "x", "aspect_ratio": "7:3"}}, 400, "INVALID_INPUT",
         "input.aspect_ratio"),
        ({"model": "truefusion-pro", "input": {"prompt": "x", "guidance": "high"}}, 400, "INVALID_INPUT",
         "input.guidance"),
        ({"model": "truefusion-pro", "input": {"prompt": "x", "image": "not a uri"}}, 400, "INVALID_INPUT",
         "input.image"),
        ({"model": "beatfusion-2.0", "input": {"lyrics": "x" * 3501}}, 400, "INVALID_INPUT", "input.lyrics"),
        ({"model": "nope", "input": {"prompt": "x"}}, 404, "MODEL_NOT_FOUND", "nope"),
        ({"model": "gpt-5.3-codex", "input": {"prompt": "x"}}, 400, "INVALID_PARAMETER", "/v1/responses"),
        ({"model": "truefusion", "input": {"prompt": "x"}, "await": "yes"}, 400, "INVALID_PARAMETER", "await"),
        ({"model": "truefusion", "input": {"prompt": "x"}, "webhook": "ftp://x"}, 400, "INVALID_PARAMETER", "webhook"),
        ({"model": "truefusion", "input": {"prompt": "x"}, "webhook": {"url": "https://a.b", "events": ["boom"]}},
         400, "INVALID_PARAMETER", "boom"),
    ],
)
def test_create_validation_errors(http: httpx.Client, body: dict, status: int, error_id: str, needle: str) -> None:
    error = assert_prediction_error(http.post("/predictions", json=body), status, error_id)
    assert needle in error["message"] or needle == error["error"]["param"]


def test_transport_level_bad_input(http: httpx.Client, runtime) -> None:
    assert_prediction_error(http.post("/predictions", content=b"{nope", headers={"content-type": "application/json"}),
                            400, "INVALID_INPUT")
    assert_prediction_error(http.post("/predictions", content=b"[1, 2]"), 400, "INVALID_INPUT")
    assert_prediction_error(http.post("/predictions", content=b""), 400, "INVALID_INPUT")
    assert_prediction_error(http.post("/predictions", content=b"model=x", headers={"content-type": "text/plain"}),
                            415, "UNSUPPORTED_MEDIA_TYPE")
    huge = json.dumps({"model": "truefusion", "input": {"prompt": "x" * (runtime.settings.max_body_bytes + 10)}})
    assert_prediction_error(http.post("/predictions", content=huge), 413, "PAYLOAD_TOO_LARGE")
    assert_prediction_error(http.get("/nowhere"), 404, "NOT_FOUND")
    assert_prediction_error(http.put("/predictions"), 405, "METHOD_NOT_ALLOWED")
    assert_prediction_error(http.get("/predictions/abc/cancel"), 405, "METHOD_NOT_ALLOWED")


def test_list_parameter_errors(http: httpx.Client) -> None:
    assert_prediction_error(http.get("/predictions", params={"per_page": 51}), 400, "INVALID_PARAMETER")
    assert_prediction_error(http.get("/predictions", params={"page": 0}), 400, "INVALID_PARAMETER")
    assert_prediction_error(http.get("/predictions", params={"page": "two"}), 400, "INVALID_PARAMETER")
    assert_prediction_error(http.get("/predictions", params={"status": "done"}), 400, "INVALID_PARAMETER")
    assert_prediction_error(http.get("/predictions", params={"from": "2026-13-01"}), 400, "INVALID_DATE_FORMAT")
    assert_prediction_error(http.get("/predictions", params={"from": "2026-02-02", "to": "2026-02-01"}), 400,
                            "INVALID_DATE_RANGE")


def test_list_status_filter_and_per_page(http: httpx.Client, runtime) -> None:
    first = create(http)
    runtime.clock.advance(120)
    create(http)
    done = http.get("/predictions", params={"status": "succeeded"}).json()
    assert [p["id"] for p in done["data"]] == [first["id"]]
    assert http.get("/predictions", params={"status": "pending"}).json()["pagination"]["total"] == 1
    assert len(http.get("/predictions", params={"per_page": 1}).json()["data"]) == 1


def test_lifecycle_statuses_and_timestamps(http: httpx.Client, runtime) -> None:
    created = create(http)
    assert created["status"] == "pending" and created["started_at"] is None and created["completed_at"] is None
    seen = [created["status"]]
    for _ in range(80):
        runtime.clock.advance(0.5)
        current = http.get(f"/predictions/{created['id']}").json()
        if current["status"] != seen[-1]:
            seen.append(current["status"])
        if current["status"] == "succeeded":
            break
    assert seen == ["pending", "starting", "processing", "succeeded"]
    assert current["created_at"] <= current["started_at"] <= current["completed_at"] == current["updated_at"]
    assert current["metrics"]["predict_time"] <= current["metrics"]["total_time"]
    assert current["metadata"]["data_available"] is True


def test_urls_point_back_at_the_mock(http: httpx.Client, skytells_url: str) -> None:
    created = create(http)
    urls = created["urls"]
    assert urls["get"] == f"{skytells_url}/predictions/{created['id']}"
    assert http.get(urls["get"]).json()["id"] == created["id"]
    assert http.post(urls["cancel"]).json()["status"] == "cancelled"
    assert http.delete(urls["delete"]).status_code == 200
    assert http.get(urls["get"]).status_code == 404


def test_delete_by_plain_delete_route(http: httpx.Client) -> None:
    created = create(http)
    assert http.delete(f"/predictions/{created['id']}").json()["id"] == created["id"]
    assert_prediction_error(http.get(f"/predictions/{created['id']}"), 404, "PREDICTION_NOT_FOUND")


def test_await_blocks_until_terminal(http: httpx.Client, runtime) -> None:
    runtime.clock.configure(mode="realtime", speed=1000.0)
    done = http.post("/predictions", json={"model": "truefusion-pro", "input": {"prompt": "a"}, "await": True}).json()
    assert done["status"] == "succeeded" and done["output"]


def test_stream_emits_every_transition_until_terminal(http: httpx.Client, runtime) -> None:
    created = create(http)
    events = []
    with http.stream("GET", f"/predictions/{created['id']}/stream", headers={"accept": "text/event-stream"}) as stream:
        assert stream.headers["content-type"].startswith("text/event-stream")
        event = None
        for line in stream.iter_lines():
            if line.startswith("event:"):
                event = line.split(":", 1)[1].strip()
            elif line.startswith("data:"):
                events.append((event, json.loads(line.split(":", 1)[1])))
                if len(events) == 1:
                    runtime.clock.advance(3600)  # one jump: the stream still reports each transition
    statuses = [data["status"] for name, data in events if name == "prediction"]
    assert statuses == ["pending", "starting", "processing", "succeeded"]
    assert events[-2][1]["output"] and events[-1] == ("done", {"id": created["id"], "status": "succeeded"})
    stamps = [data["updated_at"] for name, data in events if name == "prediction"]
    assert stamps == sorted(stamps)


def test_output_files_have_the_requested_format(http: httpx.Client, runtime) -> None:
    runtime.clock.configure(mode="instant")
    cases = [
        ("truefusion-pro", {"prompt": "x", "output_format": "png"}, "image/png", b"\x89PNG"),
        ("truefusion-pro", {"prompt": "x", "output_format": "jpg"}, "image/jpeg", b"\xff\xd8\xff"),
        ("beatfusion-2.0", {"lyrics": "[verse] hi", "audio_format": "wav"}, "audio/wav", b"RIFF"),
        ("veo-3.1", {"prompt": "x"}, "video/mp4", None),
    ]
    for model, input_, content_type, magic in cases:
        body = http.post("/predictions", json={"model": model, "input": input_}).json()
        url = body["output"][0] if isinstance(body["output"], list) else body["output"]
        file = httpx.get(url)
        assert file.headers["content-type"].startswith(content_type)
        assert body["metadata"]["storage"]["files"][0]["type"].startswith(content_type)
        if magic:
            assert file.content.startswith(magic)
        else:
            assert file.content[4:8] == b"ftyp"


def test_image_dimensions_follow_aspect_ratio(http: httpx.Client, runtime) -> None:
    from io import BytesIO

    from PIL import Image

    runtime.clock.configure(mode="instant")
    body = http.post("/predictions", json={"model": "truefusion-pro",
                                           "input": {"prompt": "x", "aspect_ratio": "16:9"}}).json()
    width, height = Image.open(BytesIO(httpx.get(body["output"][0]).content)).size
    assert abs(width / height - 16 / 9) < 0.02
    body = http.post("/predictions", json={"model": "nvidia-sana",
                                           "input": {"prompt": "x", "width": 640, "height": 384}}).json()
    assert Image.open(BytesIO(httpx.get(body["output"]).content)).size == (640, 384)


def test_credits_follow_catalog_pricing(http: httpx.Client, runtime) -> None:
    runtime.clock.configure(mode="instant")
    cases = [
        ("truefusion-2", {"prompt": "x", "resolution": "720p"}, 0.07),
        ("wan-2.5-i2v", {"prompt": "x", "image": "https://example.com/a.png", "resolution": "1080p",
                         "duration": 10}, 1.6),
        ("veo-3.1-fast", {"prompt": "x", "generate_audio": False, "duration": 6}, 0.78),
        ("FLUX.2-pro", {"prompt": "x", "resolution": "4 MP"}, 0.08),
        ("video-upscale", {"video": "https://example.com/v.mp4"}, 0.10),
        ("beatfusion-2.0", {"lyrics": "[verse] hi"}, 0.75),
    ]
    for model, input_, credits in cases:
        before = runtime.accounts.get(KEY).credits
        body = http.post("/predictions", json={"model": model, "input": input_}).json()
        assert body["metadata"]["billing"]["credits_used"] == pytest.approx(credits), model
        assert runtime.accounts.get(KEY).credits == pytest.approx(before - credits)
    optima = http.post("/predictions", json={"model": "truefusion-2-optima", "input": {"prompt": "x"}}).json()
    assert optima["metadata"]["billing"]["credits_used"] == pytest.approx(0.008 * optima["metrics"]["predict_time"])


def test_payment_required_when_balance_is_empty(http: httpx.Client, runtime) -> None:
    runtime.accounts.change(KEY, credits=0.0)
    assert_prediction_error(http.post("/predictions", json={"model": "truefusion", "input": {"prompt": "x"}}),
                            402, "PAYMENT_REQUIRED")


def test_files_of_other_predictions_are_public_but_predictions_are_not(skytells_url: str, http: httpx.Client,
                                                                      runtime) -> None:
    runtime.clock.configure(mode="instant")
    body = create(http)
    stranger = httpx.Client(base_url=skytells_url, headers={"x-api-key": OTHER_KEY})
    assert stranger.get(f"/predictions/{body['id']}").status_code == 404
    assert httpx.get(body["output"][0]).status_code == 200  # CDN-style public URL, as in the docs


def test_request_ids_on_every_response(http: httpx.Client) -> None:
    first = http.get("/models").headers["x-request-id"]
    second = http.get("/models").headers["x-request-id"]
    assert first.startswith("req_") and first != second


def test_input_urls_into_private_networks_are_a_security_violation(http: httpx.Client, runtime) -> None:
    for url in ("http://169.254.169.254/latest/meta-data", "http://10.0.0.5/a.png", "http://localhost:9000/a.png"):
        body = {"model": "truefusion-pro", "input": {"prompt": "x", "image": url}}
        assert_prediction_error(http.post("/predictions", json=body), 403, "SECURITY_VIOLATION")
    runtime.clock.configure(mode="instant")
    first = create(http)
    chained = http.post("/predictions", json={"model": "truefusion-pro",
                                              "input": {"prompt": "again", "image": first["output"][0]}})
    assert chained.status_code == 201


def test_an_unexpected_fault_is_a_500_in_the_prediction_format(http: httpx.Client, server, monkeypatch) -> None:
    api = server.mock.apps["skytells"].state.api

    def broken(owner: str, pid: str) -> dict:
        raise RuntimeError("disk on fire")

    monkeypatch.setattr(api.predictions, "get", broken)
    body = assert_prediction_error(http.get("/predictions/anything"), 500, "INTERNAL_ERROR")
    assert "disk on fire" not in body["message"]  # internals are logged, not leaked
