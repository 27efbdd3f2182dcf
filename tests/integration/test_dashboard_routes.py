"""The dashboard's page and the control-plane routes made for it: ``/_mock/ui``, ``/_mock/jobs``,
``/_mock/usage`` and ``/_mock/files/{name}`` (the browser tests drive the page itself: tests/browser)."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from mockserver.admin.dashboard import media_of
from mockserver.server import ServerThread
from tests.conftest import KEY, OTHER_KEY, make_settings

UI = Path(__file__).resolve().parents[2] / "mockserver" / "admin" / "ui"
IMAGE = {"model": "truefusion-pro", "input": {"prompt": "a fox"}}


@pytest.fixture
def mock(skytells_url: str) -> Iterator[httpx.Client]:
    """The control plane of the session server."""
    with httpx.Client(base_url=skytells_url.removesuffix("/v1") + "/_mock", timeout=30) as client:
        yield client


def test_the_page_loads_with_only_this_origin_allowed(mock: httpx.Client) -> None:
    for path in ("/ui", "/ui/"):
        page = mock.get(path)
        assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
        assert '<base href="/_mock/">' in page.text
        policy = page.headers["content-security-policy"]
        assert "default-src 'self'" in policy and "script-src 'self'" in policy and "http" not in policy


def test_every_module_the_page_imports_is_served(mock: httpx.Client) -> None:
    scripts = sorted(path.relative_to(UI).as_posix() for path in UI.rglob("*.js"))
    assert {"app.js", "api.js", "dom.js", "views/traffic.js", "views/jobs.js"} <= set(scripts)
    for script in scripts:
        text = (UI / script).read_text()
        assert not re.search(r"https?://", text), f"{script} names another origin"
        served = mock.get(f"/ui/static/{script}")
        assert served.status_code == 200, script
        assert "javascript" in served.headers["content-type"]
    assert mock.get("/ui/static/style.css").headers["content-type"].startswith("text/css")
    assert mock.get("/ui/static/../routes.py").status_code == 404
    assert mock.get("/ui/static/nope.js").status_code == 404


def test_jobs_lists_predictions_and_tasks_of_every_key(http: httpx.Client, gateai: httpx.Client,
                                                       gateai_url: str, mock: httpx.Client) -> None:
    pid = http.post("/predictions", json=IMAGE).json()["id"]
    other = httpx.post(gateai_url + "/api/generate", headers={"authorization": f"Bearer {OTHER_KEY}"},
                       json={"model": "gpt-image-2", "type": "image", "params": {"prompt": "a fox"}}).json()
    listed = mock.get("/jobs").json()
    assert listed["count"] == listed["total"] == 2
    by_id = {job["id"]: job for job in listed["data"]}
    prediction, task = by_id[pid], by_id[other["task_id"]]
    assert (prediction["kind"], prediction["key"], prediction["status"]) == ("prediction", KEY, "pending")
    assert (task["kind"], task["key"], task["status"], task["cost"]) == ("task", OTHER_KEY, "PROCESSING", other["cost"])
    assert [step["status"] for step in prediction["timeline"]] == ["pending", "starting", "processing", "succeeded"]
    assert [step["reached"] for step in prediction["timeline"]] == [True, False, False, False]
    assert prediction["outputs"] == [] and prediction["object"]["id"] == pid
    assert [job["id"] for job in mock.get("/jobs", params={"kind": "task"}).json()["data"]] == [other["task_id"]]
    assert [job["id"] for job in mock.get("/jobs", params={"key": KEY}).json()["data"]] == [pid]
    assert mock.get("/jobs", params={"status": "succeeded"}).json()["total"] == 0


def test_finished_jobs_list_their_files_served_without_journaling(http: httpx.Client, mock: httpx.Client) -> None:
    pid = http.post("/predictions", json=IMAGE).json()["id"]
    mock.post("/clock/advance", json={"seconds": 600})
    job = mock.get("/jobs").json()["data"][0]
    assert job["status"] == "succeeded" and job["cost"] > 0
    assert all(step["reached"] for step in job["timeline"])
    [output] = job["outputs"]
    assert output["media"] == "image" and output["url"] == f"files/{output['name']}"
    assert job["object"]["output"][0].endswith("/files/" + output["name"])  # as the API renders it
    before = mock.get("/requests/count").json()["count"]
    image = mock.get("/" + output["url"])
    assert image.status_code == 200 and image.headers["content-type"] == output["content_type"]
    assert image.content[:4] == b"RIFF"  # webp
    assert mock.get("/requests/count").json()["count"] == before  # looking is not traffic
    assert mock.get("/files/nope.png").status_code == 404
    assert http.get(f"/predictions/{pid}").json()["output"]


@pytest.mark.parametrize(("query", "param"), [({"kind": "video"}, "kind"), ({"limit": "0"}, "limit"),
                                              ({"limit": "x"}, "limit"), ({"colour": "red"}, "colour")])
def test_jobs_refuses_filters_it_cannot_use(mock: httpx.Client, query: dict[str, str], param: str) -> None:
    refused = mock.get("/jobs", params=query)
    assert refused.status_code == 400
    assert refused.json()["error"]["param"] == param


def test_usage_shows_slots_and_window_without_using_them(gateai: httpx.Client, mock: httpx.Client) -> None:
    created = gateai.post("/api/generate", json={"model": "gpt-image-2", "type": "image", "params": {"prompt": "x"}})
    assert created.status_code == 200
    for _ in range(2):  # reading twice changes nothing
        mine = next(u for u in mock.get("/usage").json()["data"] if u["key"] == KEY)
        assert mine["gateai"]["concurrency"]["used"] == 1
        assert mine["gateai"]["concurrency"]["active_slots"][0]["task_id"] == created.json()["task_id"]
        assert mine["gateai"]["window"]["used"] == 1
        assert mine["skytells"]["rate_limit_per_minute"] is None
    mock.post("/clock/advance", json={"seconds": 3600})
    mine = next(u for u in mock.get("/usage").json()["data"] if u["key"] == KEY)
    assert (mine["gateai"]["concurrency"]["used"], mine["gateai"]["window"]["used"]) == (0, 0)


def test_with_an_admin_token_the_page_loads_but_its_data_needs_the_token() -> None:
    with ServerThread(make_settings(admin_token="s3cret")) as server:
        root = server.urls["skytells"].removesuffix("/v1") + "/_mock"
        assert httpx.get(root + "/ui").status_code == 200  # the page holds no data: it asks for the token
        assert httpx.get(root + "/ui/static/app.js").status_code == 200
        for path in ("/jobs", "/usage", "/requests", "/files/x.png"):
            assert httpx.get(root + path).status_code == 401
            assert httpx.get(root + path, headers={"x-mock-admin-token": "wrong"}).status_code == 403
        assert httpx.get(root + "/jobs", headers={"x-mock-admin-token": "s3cret"}).status_code == 200


def test_single_port_mode_serves_the_page_under_each_api_prefix() -> None:
    with ServerThread(make_settings(single_port=True)) as server:
        root = server.urls["skytells"].removesuffix("/v1")
        page = httpx.get(root + "/_mock/ui")
        assert page.status_code == 200 and '<base href="/skytells/_mock/">' in page.text
        assert httpx.get(root + "/_mock/ui/static/app.js").status_code == 200
        assert httpx.get(root + "/_mock/jobs").json()["data"] == []


@pytest.mark.parametrize(("content_type", "media"), [("image/webp", "image"), ("audio/mpeg", "audio"),
                                                     ("video/mp4", "video"), ("model/gltf-binary", "model"),
                                                     ("application/json", "file")])
def test_media_of(content_type: str, media: str) -> None:
    assert media_of(content_type) == media


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.dictionaries(st.sampled_from(["kind", "key", "status", "limit", "x"]),
                       st.text(st.characters(codec="utf-8", exclude_categories=["Cs"]), max_size=12), max_size=4))
def test_no_jobs_query_is_a_server_error(mock: httpx.Client, params: dict[str, str]) -> None:
    answer = mock.get("/jobs", params=params)
    assert answer.status_code in (200, 400), answer.text
    if answer.status_code == 400:
        assert answer.json()["error"]["param"] in params
