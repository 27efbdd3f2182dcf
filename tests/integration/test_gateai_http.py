"""The GateAI Core API over real HTTP: discovery, generation, files, limits, money and time.

Time moves only through ``runtime.clock.advance`` (manual clock): the 10/20/40-minute rules, the
30 s sliding window and the midnight-UTC reset are reached by advancing it, never by sleeping.
"""

from __future__ import annotations

import base64
import io
import struct

import httpx
import pytest
from PIL import Image

from mockserver.core.clock import isoformat
from mockserver.gateai import catalog
from mockserver.gateai.tasks import TIMEOUT_ERROR
from mockserver.server import ServerThread
from tests.conftest import KEY, OTHER_KEY, make_settings

P720 = {"width": 1280, "height": 720}
DAY = 86_400


@pytest.fixture(autouse=True)
def _fresh_morning(runtime) -> None:
    """Each test starts at 01:00 UTC of a new day, so none crosses midnight (a budget reset) by accident."""
    runtime.clock.set((runtime.clock.now() // DAY + 1) * DAY + 3600)


def next_midnight(runtime) -> float:
    return (runtime.clock.now() // DAY + 1) * DAY


def png_bytes(width: int = 8, height: int = 8) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (width, height), (200, 30, 30)).save(buffer, format="PNG")
    return buffer.getvalue()


MP4_HEAD = b"\0\0\0\x18ftypisom0000"  # enough of an MP4 for the upload sniffer
PNG_URI = "data:image/png;base64," + base64.b64encode(png_bytes()).decode()


def assert_error(response: httpx.Response, status: int, code: str, param: str | None = None) -> dict:
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/json")
    body = response.json()
    assert body["code"] == code, body
    assert isinstance(body["error"], str) and body["error"]
    assert body["request_id"] == response.headers["x-request-id"]
    if param is not None:
        assert body.get("param") == param, body
    return body


def generate(client: httpx.Client, model: str = "gpt-image-2", takes: float | None = None,
             outcome: str | None = None, **params: object) -> httpx.Response:
    """POST /api/generate; ``takes`` and ``outcome`` set the X-Mock-Duration / X-Mock-Outcome test hooks."""
    headers = {}
    if takes is not None:
        headers["x-mock-duration"] = str(takes)
    if outcome is not None:
        headers["x-mock-outcome"] = outcome
    found = catalog.find(model)
    body = {"model": model, "type": found.type if found else "image", "params": {"prompt": "a fox", **params}}
    return client.post("/api/generate", json=body, headers=headers)


def ok(response: httpx.Response) -> dict:
    assert response.status_code == 200, response.text
    return response.json()


def used(client: httpx.Client) -> float:
    return client.get("/credits").json()["your_budget"]["used"]


# --- discovery ---------------------------------------------------------------------------------


def test_models_list_needs_no_auth(gateai_url: str) -> None:
    models = ok(httpx.get(gateai_url + "/v1/models"))
    assert len(models) == 53
    assert {m["type"] for m in models} == {"image", "video", "3d"}
    for entry in models:
        assert set(entry) == {"id", "type", "cost", "params"}
        assert isinstance(entry["cost"], str) and all(isinstance(p, str) for p in entry["params"])
    assert models[0]["params"][0] == "prompt"


def test_schema_of_every_model(gateai: httpx.Client, gateai_url: str) -> None:
    assert_error(httpx.get(gateai_url + "/v1/models/schema"), 401, "UNAUTHORIZED")
    schema = ok(gateai.get("/v1/models/schema"))
    assert [m["id"] for m in schema] == [m.id for m in catalog.all()]
    flux = next(m for m in schema if m["id"] == "flux-dev")
    assert flux["params"]["guidance_scale"] == {
        "type": "number", "min": 1, "max": 10, "default": 3.5,
        "description": "How closely the model follows the prompt",
    }
    assert flux["params"]["prompt"]["required"] is True


def test_single_model_schema_with_an_example_that_generates(gateai: httpx.Client) -> None:
    view = ok(gateai.get("/v1/models/seedance-2.0"))
    assert view["id"] == "seedance-2.0" and view["type"] == "video"
    assert view["params"]["prompt"]["required"] is True
    assert view["example"]["model"] == "seedance-2.0"
    created = ok(gateai.post("/api/generate", json=view["example"]))
    assert created["status"] == "PROCESSING"


def test_unknown_model_suggests_close_matches(gateai: httpx.Client) -> None:
    body = assert_error(gateai.get("/v1/models/seedance"), 404, "MODEL_NOT_FOUND")
    assert body["error"] == "Model not found"
    assert body["suggestions"][0] == "seedance-2.0"
    body = assert_error(generate(gateai, "gpt-image"), 404, "MODEL_NOT_FOUND", param="model")
    assert "gpt-image-2" in body["suggestions"]
    assert_error(gateai.post("/api/estimate", json={"model": "sedance-2.0"}), 404, "MODEL_NOT_FOUND")


def test_docs_txt_serves_the_documentation_without_auth(gateai_url: str) -> None:
    response = httpx.get(gateai_url + "/docs.txt")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/plain")
    assert "GateAI Core API" in response.text and "/api/generate" in response.text


# --- auth ----------------------------------------------------------------------------------------

PROTECTED = [
    ("POST", "/api/generate"),
    ("POST", "/api/estimate"),
    ("POST", "/api/upload"),
    ("GET", "/get/some-task"),
    ("GET", "/credits"),
    ("GET", "/api/me"),
    ("GET", "/v1/models/schema"),
    ("GET", "/v1/models/flux-dev"),
]


@pytest.mark.parametrize(("method", "path"), PROTECTED)
@pytest.mark.parametrize("headers", [{}, {"authorization": "Bearer sk-wrong-key"}, {"authorization": f"Basic {KEY}"}])
def test_every_protected_endpoint_needs_a_valid_key(gateai_url: str, method: str, path: str, headers: dict) -> None:
    response = httpx.request(method, gateai_url + path, headers=headers, json={"model": "flux-dev"})
    assert_error(response, 401, "UNAUTHORIZED")


def test_x_api_key_is_accepted_and_a_suspended_key_is_forbidden(gateai_url: str, runtime) -> None:
    assert httpx.get(gateai_url + "/credits", headers={"x-api-key": KEY}).status_code == 200
    runtime.accounts.change(KEY, suspended=True)
    assert_error(httpx.get(gateai_url + "/credits", headers={"x-api-key": KEY}), 403, "ACCOUNT_SUSPENDED")


def test_dashboard_takes_the_key_as_a_query_parameter(gateai_url: str) -> None:
    assert ok(httpx.get(gateai_url + "/api/me", params={"key": KEY}))["budget"]["daily_limit"] == 100
    assert_error(httpx.get(gateai_url + "/api/me"), 401, "UNAUTHORIZED")
    assert_error(httpx.get(gateai_url + "/api/me", params={"key": "sk-nobody-000000"}), 401, "UNAUTHORIZED")


# --- generation and status -----------------------------------------------------------------------


def test_generate_answers_processing_and_finishes_on_the_clock(gateai: httpx.Client, runtime) -> None:
    created = ok(generate(gateai, quality="high", width=1024, height=1024))
    task_id = created["task_id"]
    assert created == {"task_id": task_id, "url": f"/get/{task_id}", "status": "PROCESSING",
                       "cost": 0.11, "remaining": 99.89}
    status = ok(gateai.get(created["url"]))
    assert status == {"task_id": task_id, "status": "PROCESSING", "result": [], "model": "gpt-image-2",
                      "cost": 0.11, "refunded": False}
    runtime.clock.advance(9.9)  # images take 10-30 s
    assert ok(gateai.get(created["url"]))["status"] == "PROCESSING"
    runtime.clock.advance(20.1)
    done = ok(gateai.get(created["url"]))
    assert done["status"] == "FINISHED" and len(done["result"]) == 1 and done["cost"] == 0.11


def test_videos_take_one_to_five_minutes(gateai: httpx.Client, runtime) -> None:
    url = ok(generate(gateai, "seedance-2.0", **P720, duration=4))["url"]
    runtime.clock.advance(59.9)
    assert ok(gateai.get(url))["status"] == "PROCESSING"
    runtime.clock.advance(240.1)
    assert ok(gateai.get(url))["status"] == "FINISHED"


def test_image_results_are_real_files_of_the_requested_size_format_and_count(gateai: httpx.Client, runtime) -> None:
    jpg = ok(generate(gateai, quantity=3, width=1200, height=896))
    png = ok(generate(gateai, "gpt-image-1", output_format="png"))
    runtime.clock.advance(30)
    urls = ok(gateai.get(jpg["url"]))["result"]
    assert len(urls) == 3 and len(set(urls)) == 3
    for url in urls:
        response = httpx.get(url)
        assert response.status_code == 200 and response.headers["content-type"] == "image/jpeg"
        with Image.open(io.BytesIO(response.content)) as image:
            assert image.format == "JPEG" and image.size == (1200, 896)
    (url,) = ok(gateai.get(png["url"]))["result"]
    response = httpx.get(url)
    assert response.headers["content-type"] == "image/png"
    with Image.open(io.BytesIO(response.content)) as image:
        assert image.format == "PNG" and image.size == (1024, 1024)


def test_video_result_is_an_mp4(gateai: httpx.Client, runtime) -> None:
    url = ok(generate(gateai, "kling-2.5", duration=5))["url"]
    runtime.clock.advance(300)
    (video,) = ok(gateai.get(url))["result"]
    response = httpx.get(video)
    assert response.headers["content-type"] == "video/mp4" and response.content[4:8] == b"ftyp"


def test_3d_results_have_a_jpg_preview_and_a_glb_at_the_same_name(gateai: httpx.Client, runtime) -> None:
    body = {"model": "rodin-v2", "type": "3d", "params": {"quality": "low"}}
    url = ok(gateai.post("/api/generate", json=body))["url"]
    assert ok(gateai.get(url))["glb_urls"] == []
    runtime.clock.advance(180)
    body = ok(gateai.get(url))
    (preview,) = body["result"]
    (glb,) = body["glb_urls"]
    assert preview.endswith("rodin-v2_-0.jpg") and glb == preview[: -len(".jpg")] + ".glb"
    assert httpx.get(preview).headers["content-type"] == "image/jpeg"
    response = httpx.get(glb)
    assert response.headers["content-type"] == "model/gltf-binary"
    magic, version, length = struct.unpack("<4sII", response.content[:12])
    assert (magic, version, length) == (b"glTF", 2, len(response.content))


def test_tasks_of_another_key_are_invisible(gateai: httpx.Client, gateai_url: str, runtime) -> None:
    created = ok(generate(gateai))
    other = {"authorization": f"Bearer {OTHER_KEY}"}
    assert_error(httpx.get(gateai_url + created["url"], headers=other), 404, "TASK_NOT_FOUND")
    assert_error(gateai.get("/get/no-such-task"), 404, "TASK_NOT_FOUND")
    me = ok(httpx.get(gateai_url + "/api/me", params={"key": OTHER_KEY}))
    assert me["active_tasks"] == [] and me["budget"]["used"] == 0 and me["today_spending"] == {}


def test_instant_mode_finishes_at_once(gateai: httpx.Client, runtime) -> None:
    runtime.clock.configure(mode="instant")
    created = ok(generate(gateai, "seedance-2.0", **P720, duration=4))
    assert created["status"] == "FINISHED"
    assert ok(gateai.get(created["url"]))["result"]


def test_single_port_mode_links_keep_the_mount_prefix() -> None:
    with ServerThread(make_settings(single_port=True)) as server:
        base = server.urls["gateai"]
        assert base.endswith("/gateai")
        headers = {"authorization": f"Bearer {KEY}"}
        created = ok(httpx.post(base + "/api/generate", headers=headers,
                                json={"model": "flux-schnell", "params": {"prompt": "x"}}))
        assert created["url"] == f"/gateai/get/{created['task_id']}"
        server.runtime.clock.advance(30)
        root = base.rsplit("/gateai", 1)[0]
        result = ok(httpx.get(root + created["url"], headers=headers))["result"]
        assert result[0].startswith(base + "/files/") and httpx.get(result[0]).status_code == 200


# --- validation ----------------------------------------------------------------------------------


def test_prompt_limit_is_1500_characters(gateai: httpx.Client) -> None:
    assert ok(generate(gateai, prompt="x" * 1500))
    body = assert_error(generate(gateai, prompt="x" * 1501), 400, "PROMPT_TOO_LONG", param="prompt")
    assert body["details"] == {"length": 1501, "max": 1500}


def test_quantity_limit_is_8(gateai: httpx.Client) -> None:
    assert ok(generate(gateai, quantity=8))
    assert_error(generate(gateai, quantity=9), 400, "QUANTITY_TOO_HIGH", param="quantity")
    assert_error(generate(gateai, "sora-2", quantity=2), 400, "QUANTITY_TOO_HIGH", param="quantity")


@pytest.mark.parametrize(
    ("model", "params", "param"),
    [
        ("gpt-image-2", {"quality": "ultra"}, "quality"),  # enum
        ("flux-dev", {"guidance_scale": 11}, "guidance_scale"),  # range
        ("flux-dev", {"num_inference_steps": "many"}, "num_inference_steps"),  # type
        ("flux-dev", {"width": "wide"}, "width"),  # type of a snapped size
        ("hailuo-2_3-fast", {}, "start_frame"),  # required
        ("gpt-image-2", {"prompt": None}, "prompt"),  # required (null is absent)
        ("gpt-image-2", {"prompt": 42}, "prompt"),
    ],
)
def test_invalid_params_name_the_field(gateai: httpx.Client, model: str, params: dict, param: str) -> None:
    body = {"model": model, "params": {"prompt": "a fox", **params}}
    assert_error(gateai.post("/api/generate", json=body), 400, "INVALID_PARAMS", param=param)
    assert_error(gateai.post("/api/estimate", json=body), 400, "INVALID_PARAMS", param=param)


@pytest.mark.parametrize(
    ("body", "status", "code"),
    [
        (b"not json", 400, "INVALID_REQUEST"),
        (b"[1, 2]", 400, "INVALID_REQUEST"),
        (b"", 400, "INVALID_REQUEST"),
        (b'{"params": {"prompt": "x"}}', 400, "INVALID_REQUEST"),
        (b'{"model": 7}', 400, "INVALID_REQUEST"),
        (b'{"model": "flux-dev", "type": 3}', 400, "INVALID_REQUEST"),
        (b'{"model": "flux-dev", "params": "prompt"}', 400, "INVALID_PARAMS"),
        (b'{"model": "flux-dev", "params": [1]}', 400, "INVALID_PARAMS"),
    ],
)
def test_bad_bodies_are_clear_400s(gateai: httpx.Client, body: bytes, status: int, code: str) -> None:
    response = gateai.post("/api/generate", content=body, headers={"content-type": "application/json"})
    assert_error(response, status, code)


def test_wrong_content_type_is_415_and_a_huge_body_413(gateai: httpx.Client) -> None:
    assert_error(gateai.post("/api/generate", content=b"model=x", headers={"content-type": "text/plain"}),
                 415, "UNSUPPORTED_MEDIA_TYPE")
    huge = b'{"model": "flux-dev", "params": {"prompt": "' + b"x" * (10 * 1024 * 1024) + b'"}}'
    assert_error(gateai.post("/api/generate", content=huge, headers={"content-type": "application/json"}),
                 413, "PAYLOAD_TOO_LARGE")


def test_unknown_routes_and_methods_answer_in_the_gateai_shape(gateai: httpx.Client) -> None:
    assert_error(gateai.get("/api/nothing"), 404, "NOT_FOUND")
    assert_error(gateai.get("/api/generate"), 405, "METHOD_NOT_ALLOWED")
    assert_error(gateai.get("/files/nothing.jpg"), 404, "NOT_FOUND")


def test_invalid_sizes_are_snapped_and_reported(gateai: httpx.Client) -> None:
    body = ok(generate(gateai, width=1000, height=560))  # gpt-image-2: a resolution table
    assert body["adjustments"] == [
        {"param": "width", "from": 1000, "to": 1376, "reason": "snapped to the nearest supported size"},
        {"param": "height", "from": 560, "to": 768, "reason": "snapped to the nearest supported size"},
    ]
    body = ok(generate(gateai, "flux-dev", width=1001, height=5000))  # a step-8 range up to 2048
    assert [(a["param"], a["to"]) for a in body["adjustments"]] == [("width", 1000), ("height", 2048)]
    assert "adjustments" not in ok(generate(gateai, width=1024, height=1024))


# --- references and uploads ----------------------------------------------------------------------


def test_inline_references_accept_https_and_data_uris(gateai: httpx.Client) -> None:
    assert ok(generate(gateai, "seedance-2.0", image="https://example.com/cat.jpg", mode="RESOLUTION_720"))
    assert ok(generate(gateai, "kling-2.6", start_frame=PNG_URI))
    assert ok(generate(gateai, "gemini-image-2", image_urls=["https://example.com/a.png", PNG_URI]))


@pytest.mark.parametrize(
    ("params", "param", "words"),
    [
        ({"image": "data:image/png;base64,@@@"}, "image", "not valid base64"),
        ({"image": "data:image/png,abc"}, "image", "base64"),
        ({"image": "data:;base64,AAAA"}, "image", "MIME"),
        ({"image": "data:video/mp4;base64,AAAA"}, "image", "image/*"),
        ({"image": "http://example.com/cat.jpg"}, "image", "https"),
        ({"image": 12}, "image", "https"),
        ({"reference_images": ["https://example.com/a.png", "data:image/png;base64,A"]}, "reference_images[1]",
         "base64"),
        ({"audio_url": PNG_URI}, "audio_url", "audio/*"),
    ],
)
def test_broken_references_are_clear_errors(gateai: httpx.Client, params: dict, param: str, words: str) -> None:
    body = assert_error(generate(gateai, "seedance-2.0", **params), 400, "INVALID_PARAMS", param=param)
    assert words in body["error"]


def upload(client: httpx.Client, *files: tuple[str, bytes, str]) -> httpx.Response:
    return client.post("/api/upload", files=[("file", item) for item in files])


def test_upload_returns_ids_usable_in_images(gateai: httpx.Client, gateai_url: str) -> None:
    body = ok(upload(gateai, ("cat.png", png_bytes(), "image/png"), ("clip.mp4", MP4_HEAD, "video/mp4")))
    image, video = body["files"]
    assert image["kind"] == "image" and image["filename"] == "cat.png" and image["size"] == len(png_bytes())
    assert video["kind"] == "video" and image["id"] != video["id"]
    assert ok(generate(gateai, "kling-2.6", images=[image["id"]], videos=[video["id"]]))
    assert_error(generate(gateai, images=["nope"]), 400, "INVALID_PARAMS", param="images[0]")
    assert_error(generate(gateai, images=[video["id"]]), 400, "INVALID_PARAMS", param="images[0]")
    assert_error(generate(gateai, images=image["id"]), 400, "INVALID_PARAMS", param="images")
    other = httpx.Client(base_url=gateai_url, headers={"authorization": f"Bearer {OTHER_KEY}"})
    assert_error(generate(other, images=[image["id"]]), 400, "INVALID_PARAMS", param="images[0]")


def test_upload_errors(gateai: httpx.Client) -> None:
    assert_error(gateai.post("/api/upload", json={"file": "x"}), 415, "UNSUPPORTED_MEDIA_TYPE")
    assert_error(gateai.post("/api/upload", data={"note": "no file"}, files={}), 415, "UNSUPPORTED_MEDIA_TYPE")
    assert_error(gateai.post("/api/upload", files={"note": (None, b"text only")}), 400, "INVALID_REQUEST",
                 param="file")
    assert_error(upload(gateai, ("x.bin", b"\x00\x01garbage", "application/octet-stream")), 415,
                 "UNSUPPORTED_MEDIA_TYPE")
    assert_error(upload(gateai, ("x.png", b"", "image/png")), 400, "INVALID_FILE")
    assert_error(upload(gateai, ("fake.png", MP4_HEAD, "image/png")), 400, "INVALID_FILE")
    response = gateai.post("/api/upload", content=b"--x\r\nbroken",
                           headers={"content-type": "multipart/form-data; boundary=x"})
    assert response.status_code == 400 and response.json()["code"] == "INVALID_REQUEST"
    big = png_bytes() + b"\0" * (10 * 1024 * 1024)
    assert_error(upload(gateai, ("big.png", big, "image/png")), 413, "PAYLOAD_TOO_LARGE")


# --- estimate, budget and downgrade --------------------------------------------------------------


def test_estimate_costs_without_generating(gateai: httpx.Client) -> None:
    body = {"model": "gpt-image-2", "type": "image",
            "params": {"prompt": "x", "width": 1024, "height": 1024, "quality": "high"}}
    for _ in range(7):  # no budget spent, no rate limit
        assert ok(gateai.post("/api/estimate", json=body)) == {"cost": 0.11, "daily_remaining": 100,
                                                               "fits_in_budget": True}
    assert used(gateai) == 0
    assert ok(generate(gateai))  # the window is untouched by estimates
    snapped = ok(gateai.post("/api/estimate", json={"model": "flux-dev", "params": {"prompt": "x", "width": 1001}}))
    assert snapped["adjustments"][0]["to"] == 1000


def test_estimate_over_budget_suggests_what_fits(gateai: httpx.Client, runtime) -> None:
    runtime.accounts.change(KEY, daily_budget=1.0)
    body = {"model": "seedance-2.0", "params": {"prompt": "x", "mode": "RESOLUTION_1080", "duration": 15}}
    estimate = ok(gateai.post("/api/estimate", json=body))
    assert estimate["cost"] == 11.25 and estimate["daily_remaining"] == 1 and estimate["fits_in_budget"] is False
    adjusted = estimate["adjusted_params"]
    assert (adjusted["width"], adjusted["height"], adjusted["mode"], adjusted["duration"]) == (1280, 720,
                                                                                             "RESOLUTION_720", 8)
    assert estimate["adjusted_cost"] == pytest.approx(0.9868) and estimate["adjusted_cost"] <= 1
    assert [a["param"] for a in estimate["adjustments"]] == ["width", "height", "mode", "duration"]
    runtime.accounts.change(KEY, daily_budget=0.1)
    nothing = ok(gateai.post("/api/estimate", json=body))
    assert nothing["fits_in_budget"] is False
    assert nothing["adjusted_params"] is None and nothing["adjusted_cost"] is None


def test_generation_over_budget_is_downgraded_resolution_first_then_duration(gateai: httpx.Client, runtime) -> None:
    runtime.accounts.change(KEY, daily_budget=2.0)
    body = ok(generate(gateai, "seedance-2.0", mode="RESOLUTION_1080", duration=15))
    assert {a["param"]: (a["from"], a["to"], a["reason"]) for a in body["adjustments"]} == {
        "width": (1920, 1280, "resolution lowered to fit the remaining budget"),
        "height": (1080, 720, "resolution lowered to fit the remaining budget"),
        "mode": ("RESOLUTION_1080", "RESOLUTION_720", "resolution lowered to fit the remaining budget"),
    }
    assert body["cost"] == 1.85025 and body["remaining"] == 0.14975
    runtime.clock.advance(DAY)
    runtime.accounts.change(KEY, daily_budget=1.0)
    body = ok(generate(gateai, "seedance-2.0", mode="RESOLUTION_1080", duration=15))
    assert [(a["param"], a["to"]) for a in body["adjustments"]] == [
        ("width", 1280), ("height", 720), ("mode", "RESOLUTION_720"), ("duration", 8)]
    assert body["adjustments"][-1]["reason"] == "duration shortened to fit the remaining budget"
    assert body["cost"] == 0.9868 and body["remaining"] == 0.0132
    runtime.clock.advance(300)
    assert ok(gateai.get(body["url"]))["result"]


def test_nothing_fits_is_a_402(gateai: httpx.Client, runtime) -> None:
    runtime.accounts.change(KEY, daily_budget=0.5)
    assert ok(generate(gateai, "seedance-2.0", **P720, duration=4))["remaining"] == 0.0066
    body = assert_error(generate(gateai, "seedance-2.0", **P720, duration=4), 402, "BUDGET_EXCEEDED")
    assert body["details"] == {"cost": 0.4934, "daily_limit": 0.5, "used": 0.4934, "remaining": 0.0066,
                               "resets_at": isoformat(next_midnight(runtime))}
    assert ok(generate(gateai, "flux-schnell", quantity=1))  # a free model still runs
    me = ok(gateai.get("/api/me"))
    assert me["concurrency"]["used"] == 2  # the refused request holds no slot


def test_budget_resets_at_midnight_utc(gateai: httpx.Client, runtime) -> None:
    runtime.accounts.change(KEY, daily_budget=1.0)
    runtime.clock.set(next_midnight(runtime) - 600)  # 23:50 UTC
    ok(generate(gateai, "seedance-2.0", **P720, duration=8))
    assert used(gateai) == 0.9868
    runtime.clock.advance(599)  # 23:59:59 UTC = 02:59:59 in Turkey
    assert_error(generate(gateai, "seedance-2.0", **P720, duration=4), 402, "BUDGET_EXCEEDED")
    runtime.clock.advance(1)  # 00:00 UTC = 03:00 Turkey time
    assert ok(gateai.get("/credits"))["your_budget"] == {"daily_limit": 1, "used": 0, "remaining": 1}
    assert ok(generate(gateai, "seedance-2.0", **P720, duration=4))["remaining"] == 0.5066
    assert list(ok(gateai.get("/api/me"))["today_spending"]) == ["seedance-2.0"]
    assert ok(gateai.get("/api/me"))["today_spending"]["seedance-2.0"]["requests"] == 1


# --- rate limits ---------------------------------------------------------------------------------


def test_sixth_request_in_a_30s_sliding_window_is_429_with_retry_after(gateai: httpx.Client, runtime) -> None:
    for _ in range(5):
        ok(generate(gateai, "flux-schnell"))
        runtime.clock.advance(2)  # requests at t = 0, 2, 4, 6, 8; now t = 10
    assert_error(generate(gateai, prompt="x" * 1501), 400, "PROMPT_TOO_LONG")  # invalid ones do not count
    response = generate(gateai, "flux-schnell")
    body = assert_error(response, 429, "RATE_LIMITED")
    assert response.headers["retry-after"] == "20" and body["details"]["retry_after"] == 20
    assert body["details"]["limit"] == "requests_per_window"
    runtime.clock.advance(19.5)  # t = 29.5: the t=0 request is still inside the window
    assert generate(gateai, "flux-schnell").headers["retry-after"] == "1"
    runtime.clock.advance(0.5)  # t = 30: it has slid out
    assert ok(generate(gateai, "flux-schnell"))
    assert_error(generate(gateai, "flux-schnell"), 429, "RATE_LIMITED")
    runtime.clock.advance(2)  # t = 32: the t=2 request slid out
    assert ok(generate(gateai, "flux-schnell"))


def test_window_is_per_key(gateai: httpx.Client, gateai_url: str) -> None:
    for _ in range(5):
        ok(generate(gateai, "flux-schnell"))
    assert_error(generate(gateai, "flux-schnell"), 429, "RATE_LIMITED")
    other = httpx.Client(base_url=gateai_url, headers={"authorization": f"Bearer {OTHER_KEY}"})
    assert ok(generate(other, "flux-schnell"))


def test_sixth_in_flight_generation_is_429_until_a_slot_frees(gateai: httpx.Client, runtime) -> None:
    tasks = [ok(generate(gateai, "kling-2.5", takes=1800)) for _ in range(5)]
    runtime.clock.advance(30)
    response = generate(gateai, "flux-schnell")
    body = assert_error(response, 429, "RATE_LIMITED")
    assert body["details"]["limit"] == "concurrency" and response.headers["retry-after"] == "570"
    me = ok(gateai.get("/api/me"))
    assert me["concurrency"]["used"] == 5 and me["concurrency"]["available"] == 0
    assert {slot["taskId"] for slot in me["concurrency"]["active_slots"]} == {t["task_id"] for t in tasks}
    assert {slot["elapsed"] for slot in me["concurrency"]["active_slots"]} == {30}
    runtime.clock.advance(569)
    assert_error(generate(gateai, "flux-schnell"), 429, "RATE_LIMITED")
    runtime.clock.advance(1)  # 10 minutes: the slots auto-release, the generations go on
    me = ok(gateai.get("/api/me"))
    assert me["concurrency"]["used"] == 0 and len(me["active_tasks"]) == 5
    assert {t["elapsed"] for t in me["active_tasks"]} == {"600s"}
    assert ok(generate(gateai, "flux-schnell"))
    assert ok(gateai.get(tasks[0]["url"]))["status"] == "PROCESSING"


def test_a_slot_frees_when_its_generation_ends(gateai: httpx.Client, runtime) -> None:
    for _ in range(5):
        ok(generate(gateai, "flux-schnell", takes=40))
    runtime.clock.advance(30)
    assert_error(generate(gateai, "flux-schnell"), 429, "RATE_LIMITED")
    runtime.clock.advance(10)
    assert ok(generate(gateai, "flux-schnell"))


# --- the 20- and 40-minute rules -----------------------------------------------------------------


def test_unfinished_at_20_minutes_is_refunded_and_a_later_result_is_free(gateai: httpx.Client, runtime) -> None:
    created = ok(generate(gateai, "seedance-2.0", takes=1500, **P720, duration=4))
    assert created["cost"] == 0.4934 and used(gateai) == 0.4934
    runtime.clock.advance(1199)
    assert ok(gateai.get(created["url"]))["refunded"] is False and used(gateai) == 0.4934
    runtime.clock.advance(1)
    status = ok(gateai.get(created["url"]))
    assert (status["status"], status["cost"], status["refunded"]) == ("PROCESSING", 0, True)
    assert ok(gateai.get("/credits"))["your_budget"] == {"daily_limit": 100, "used": 0, "remaining": 100}
    runtime.clock.advance(300)
    status = ok(gateai.get(created["url"]))
    assert (status["status"], status["cost"], status["refunded"]) == ("FINISHED", 0, True)
    assert httpx.get(status["result"][0]).status_code == 200
    me = ok(gateai.get("/api/me"))
    assert me["recent_tasks"][0]["cost"] == 0 and me["today_spending"]["seedance-2.0"] == {"requests": 1, "cost": 0}


def test_unfinished_at_40_minutes_is_force_failed(gateai: httpx.Client, runtime) -> None:
    created = ok(generate(gateai, "seedance-2.0", takes=99_999, **P720, duration=4))
    runtime.clock.advance(2399)
    assert ok(gateai.get(created["url"]))["status"] == "PROCESSING"
    runtime.clock.advance(1)
    status = ok(gateai.get(created["url"]))
    assert status == {"task_id": created["task_id"], "status": "FAILED", "result": [], "model": "seedance-2.0",
                      "cost": 0, "refunded": True, "error": TIMEOUT_ERROR}
    assert TIMEOUT_ERROR == "Generation timed out (40 min hard limit)"
    assert used(gateai) == 0


def test_finishing_exactly_at_20_minutes_is_charged(gateai: httpx.Client, runtime) -> None:
    created = ok(generate(gateai, "seedance-2.0", takes=1200, **P720, duration=4))
    runtime.clock.advance(1200)
    status = ok(gateai.get(created["url"]))
    assert (status["status"], status["cost"], status["refunded"]) == ("FINISHED", 0.4934, False)


def test_an_upstream_failure_fails_the_task_and_refunds_it(gateai: httpx.Client, runtime) -> None:
    created = ok(generate(gateai, outcome="failed", takes=20, quality="high"))
    assert used(gateai) == 0.11
    runtime.clock.advance(20)
    status = ok(gateai.get(created["url"]))
    assert status["status"] == "FAILED" and status["error"].startswith("Generation failed") and status["cost"] == 0
    assert used(gateai) == 0
    assert_error(generate(gateai, takes=-1), 400, "INVALID_REQUEST", param="X-Mock-Duration")
    assert_error(generate(gateai, outcome="maybe"), 400, "INVALID_REQUEST", param="X-Mock-Outcome")


# --- account views -------------------------------------------------------------------------------


def test_credits_shape(gateai: httpx.Client) -> None:
    ok(generate(gateai, quality="high"))
    assert ok(gateai.get("/credits")) == {
        "your_budget": {"daily_limit": 100, "used": 0.11, "remaining": 99.89},
        "pool": {"total_accounts": 12, "locked": 0},
    }


def test_dashboard_lists_active_and_the_last_20_recent_tasks(gateai: httpx.Client, gateai_url: str, runtime) -> None:
    ids = []
    for batch in range(5):  # the first batch (2 tasks) all ends before any later one: 10-30 s each, 30 s apart
        for _ in range(5 if batch > 0 else 2):
            ids.append(ok(generate(gateai, "gpt-image-2", quantity=2))["task_id"])
        runtime.clock.advance(30)
    running = ok(generate(gateai, "seedance-2.0", **P720, duration=4))
    runtime.clock.advance(12)
    me = ok(httpx.get(gateai_url + "/api/me", params={"key": KEY}))
    assert me["budget"] == {"daily_limit": 100, "used": 0.6254, "remaining": 99.3746}
    assert me["active_tasks"] == [{"task_id": running["task_id"], "model": "seedance-2.0", "status": "PROCESSING",
                                   "cost": 0.4934, "elapsed": "12s"}]
    assert me["concurrency"] == {"used": 1, "max": 5, "available": 4, "active_slots": [
        {"taskId": running["task_id"], "model": "seedance-2.0", "elapsed": 12}]}
    recent = me["recent_tasks"]
    assert len(recent) == 20 and {t["task_id"] for t in recent} == set(ids[-20:])
    assert recent[0] == {"task_id": recent[0]["task_id"], "model": "gpt-image-2", "status": "FINISHED",
                         "cost": 0.006, "result_count": 2}
    assert me["today_spending"] == {"gpt-image-2": {"requests": 22, "cost": 0.132},
                                    "seedance-2.0": {"requests": 1, "cost": 0.4934}}
