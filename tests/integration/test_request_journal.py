"""``/_mock/requests`` over real HTTP: what the journal records for both APIs (including injected faults and
SSE streams), its filters, count, lookup and clearing, and that keys never appear in full -- in the journal
or in the logs."""

from __future__ import annotations

import logging
from collections.abc import Iterator

import httpx
import pytest

from mockserver.core.accounts import mask_key
from mockserver.server import ServerThread
from tests.conftest import KEY, OTHER_KEY, START, make_settings


@pytest.fixture
def admin(server: ServerThread) -> Iterator[httpx.Client]:
    base = server.urls["skytells"].removesuffix("/v1") + "/_mock"
    with httpx.Client(base_url=base, timeout=30) as client:
        yield client


def entries(admin: httpx.Client, **filters: object) -> list[dict]:
    response = admin.get("/requests", params=filters)
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["count"] == len(body["data"])
    return body["data"]


def create_prediction(http: httpx.Client, model: str = "truefusion-pro") -> httpx.Response:
    return http.post("/predictions", json={"model": model, "input": {"prompt": "a red fox"}})


def test_skytells_request_is_recorded(admin: httpx.Client, http: httpx.Client) -> None:
    response = create_prediction(http)
    assert response.status_code == 201
    # only this request's entry: a stream left open by an earlier test on the session server may finish now
    [entry] = [e for e in entries(admin) if e["request_id"] == response.headers["x-request-id"]]
    assert (entry["api"], entry["method"], entry["path"], entry["status"]) == ("skytells", "POST", "/v1/predictions",
                                                                               201)
    assert entry["key"] == mask_key(KEY)
    assert entry["time"] == "2026-01-01T00:00:00.000000Z" and entry["epoch"] == START
    assert entry["latency_ms"] > 0 and entry["error"] is None
    assert entry["request_id"] == response.headers["x-request-id"]
    assert entry["request"]["headers"]["x-api-key"] == mask_key(KEY)
    assert entry["request"]["body"] == {"model": "truefusion-pro", "input": {"prompt": "a red fox"}}
    assert entry["response"]["body"]["id"] == response.json()["id"]
    assert entry["response"]["truncated"] is False and entry["response"]["bytes"] == len(response.content)
    assert admin.get(f"/requests/{entry['id']}").json() == entry
    assert admin.get(f"/requests/{entry['request_id']}").json()["id"] == entry["id"]


def test_gateai_request_is_recorded(admin: httpx.Client, gateai: httpx.Client) -> None:
    response = gateai.post("/api/generate", json={"model": "gpt-image-2", "params": {"prompt": "a fox"}})
    assert response.status_code == 200
    gateai.get("/api/me", params={"key": KEY})
    me, generate = entries(admin)
    assert (generate["api"], generate["method"], generate["path"], generate["status"]) == (
        "gateai", "POST", "/api/generate", 200)
    assert generate["request"]["headers"]["authorization"] == f"Bearer {mask_key(KEY)}"
    assert generate["response"]["body"]["task_id"] == response.json()["task_id"]
    assert me["path"] == "/api/me" and me["query"] == {"key": mask_key(KEY)} and me["key"] == mask_key(KEY)


def test_control_plane_requests_are_not_recorded(admin: httpx.Client, http: httpx.Client) -> None:
    admin.get("/clock")
    admin.get("/requests")
    http.get("/models")
    assert [e["path"] for e in entries(admin)] == ["/v1/models"]


def test_errors_and_unauthenticated_requests_are_recorded(admin: httpx.Client, skytells_url: str) -> None:
    httpx.get(f"{skytells_url}/models")
    httpx.get(f"{skytells_url}/predictions/nope", headers={"x-api-key": KEY})
    missing, no_key = entries(admin)
    assert no_key["status"] == 401 and no_key["key"] is None
    assert missing["status"] == 404 and missing["response"]["body"]["error_id"] == "PREDICTION_NOT_FOUND"


def test_filters_count_and_order(admin: httpx.Client, http: httpx.Client, gateai: httpx.Client, runtime) -> None:
    create_prediction(http)  # 201
    http.get("/predictions/nope")  # 404
    runtime.clock.advance(60)
    gateai.post("/api/generate", json={"model": "gpt-image-2", "params": {"prompt": "x"}})  # 200
    httpx.get(gateai.base_url.join("/credits"), headers={"x-api-key": OTHER_KEY})  # 200, other key
    assert len(entries(admin)) == 4
    assert [e["path"] for e in entries(admin, api="gateai")] == ["/credits", "/api/generate"]
    assert [e["status"] for e in entries(admin, status="4xx")] == [404]
    assert [e["status"] for e in entries(admin, status="201")] == [201]
    assert [e["path"] for e in entries(admin, path="/v1/predictions*")] == ["/v1/predictions/nope", "/v1/predictions"]
    assert [e["method"] for e in entries(admin, method="post")] == ["POST", "POST"]
    assert [e["path"] for e in entries(admin, key=OTHER_KEY)] == ["/credits"]
    assert len(entries(admin, key=KEY)) == 3
    assert len(entries(admin, since=START + 60)) == 2
    assert len(entries(admin, until="2026-01-01T00:00:30Z")) == 2
    assert [e["path"] for e in entries(admin, order="asc", limit=1)] == ["/v1/predictions"]
    listing = admin.get("/requests", params={"limit": 1}).json()
    assert listing["count"] == 1 and listing["total"] == 4
    assert admin.get("/requests/count").json() == {"count": 4}
    assert admin.get("/requests/count", params={"api": "skytells", "status": "2xx"}).json() == {"count": 1}


@pytest.mark.parametrize(("params", "param"), [
    ({"status": "4x"}, "status"), ({"api": "openai"}, "api"), ({"limit": "0"}, "limit"),
    ({"order": "sideways"}, "order"), ({"since": "yesterday"}, "since"), ({"colour": "red"}, "colour"),
])
def test_bad_filters_are_400(admin: httpx.Client, params: dict, param: str) -> None:
    response = admin.get("/requests", params=params)
    assert response.status_code == 400, response.text
    assert response.json()["error"]["param"] == param


def test_unknown_entry_is_404(admin: httpx.Client) -> None:
    response = admin.get("/requests/jr_999")
    assert response.status_code == 404 and response.json()["error"]["code"] == "NOT_FOUND"


def test_clear_one_key_then_all(admin: httpx.Client, http: httpx.Client, skytells_url: str) -> None:
    http.get("/models")
    httpx.get(f"{skytells_url}/models", headers={"x-api-key": OTHER_KEY})
    assert admin.delete("/requests", params={"key": KEY}).json() == {"deleted": 1}
    assert [e["key"] for e in entries(admin)] == [mask_key(OTHER_KEY)]
    assert admin.delete("/requests").json() == {"deleted": 1}
    assert entries(admin) == []


def test_per_key_reset_clears_that_keys_journal(admin: httpx.Client, http: httpx.Client, skytells_url: str) -> None:
    http.get("/models")
    httpx.get(f"{skytells_url}/models", headers={"x-api-key": OTHER_KEY})
    admin.post("/reset", json={"key": KEY})
    assert [e["key"] for e in entries(admin)] == [mask_key(OTHER_KEY)]


def test_sse_requests_get_an_event_count(admin: httpx.Client, http: httpx.Client) -> None:
    pid = create_prediction(http, model="truefusion-edge").json()["id"]  # already finished
    with http.stream("GET", f"/predictions/{pid}/stream", headers={"accept": "text/event-stream"}) as response:
        text = "".join(response.iter_text())
    received = text.count("event:")
    assert received >= 2  # status events, then done
    [stream] = entries(admin, path="*/stream")
    assert stream["events"] == received and stream["status"] == 200
    assert stream["response"]["headers"]["content-type"].startswith("text/event-stream")
    assert stream["response"]["body"].startswith("event: prediction")


def test_chat_stream_events_are_counted(admin: httpx.Client, http: httpx.Client) -> None:
    body = {"model": "deepbrain-router", "stream": True, "messages": [{"role": "user", "content": "Hi"}]}
    with http.stream("POST", "/chat/completions", json=body) as response:
        text = "".join(response.iter_text())
    received = sum(1 for line in text.splitlines() if line.startswith("data:"))
    [entry] = entries(admin, path="/v1/chat/completions")
    assert entry["events"] == received > 2


@pytest.mark.uvicorn_only
def test_injected_faults_are_recorded(admin: httpx.Client, http: httpx.Client) -> None:
    error_rule = admin.post("/rules", json={"match": {"route": "GET /v1/models"}, "times": 1,
                                            "fault": {"type": "error", "status": 503}}).json()
    reset_rule = admin.post("/rules", json={"match": {"route": "GET /v1/predictions"}, "times": 1,
                                            "fault": {"type": "reset"}}).json()
    assert http.get("/models").status_code == 503
    with pytest.raises(httpx.TransportError):
        http.get("/predictions")
    dropped, injected = entries(admin)
    assert injected["status"] == 503 and injected["rules"] == [error_rule["id"]]
    assert dropped["status"] is None and "reset" in dropped["error"] and dropped["rules"] == [reset_rule["id"]]
    assert [e["id"] for e in entries(admin, rule=error_rule["id"])] == [injected["id"]]


def test_big_bodies_are_capped_and_binary_ones_summarised(admin: httpx.Client, http: httpx.Client,
                                                          runtime) -> None:
    prompt = "word " * 5000  # 25 KB
    http.post("/chat/completions", json={"model": "deepbrain-router",
                                         "messages": [{"role": "user", "content": prompt}]})
    [chat] = entries(admin)
    assert chat["request"]["truncated"] is True and chat["request"]["bytes"] > 25_000
    assert isinstance(chat["request"]["body"], str) and len(chat["request"]["body"].encode()) <= 16 * 1024
    url = create_prediction(http, model="truefusion-edge").json()["output"]
    url = url[0] if isinstance(url, list) else url
    image = httpx.get(url)
    assert image.status_code == 200
    [file_entry] = entries(admin, path="/files/*")
    assert file_entry["response"]["body"] == {"bytes": len(image.content),
                                              "content_type": image.headers["content-type"]}


def test_keys_never_appear_unmasked(admin: httpx.Client, http: httpx.Client, gateai: httpx.Client,
                                    skytells_url: str, caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.DEBUG):
        create_prediction(http)
        gateai.post("/api/generate", json={"model": "gpt-image-2", "params": {"prompt": "x"}})
        gateai.get("/api/me", params={"key": KEY})
        httpx.get(f"{skytells_url}/models", headers={"authorization": f"Bearer {OTHER_KEY}"})
        logging.getLogger("mockserver").warning("a client sent x-api-key: %s", KEY)
        logging.getLogger("uvicorn.error").warning("GET /api/me?key=%s", OTHER_KEY)
    dump = admin.get("/requests").text + "".join(admin.get(f"/requests/{e['id']}").text for e in entries(admin))
    assert len(entries(admin)) == 4
    for key in (KEY, OTHER_KEY):
        assert key not in dump
        assert key not in caplog.text
    assert mask_key(KEY) in dump and mask_key(KEY) in caplog.text


def test_journal_size_bounds_the_ring() -> None:
    with ServerThread(make_settings(journal_size=3)) as small:
        base = small.urls["skytells"]
        for _ in range(5):
            httpx.get(f"{base}/models", headers={"x-api-key": KEY})
        listing = httpx.get(base.removesuffix("/v1") + "/_mock/requests").json()
    assert listing["total"] == 3
    assert [e["id"] for e in listing["data"]] == ["jr_5", "jr_4", "jr_3"]
    assert {e["key"] for e in listing["data"]} == {mask_key(KEY)}


@pytest.mark.uvicorn_only
def test_journal_size_0_keeps_no_journal_and_says_so() -> None:
    """``journal_size`` 0 (WireMock's ``--no-request-journal``): requests and faults are served as usual, nothing
    is recorded, and a read of the journal is a 409 ``JOURNAL_OFF`` rather than an empty list that would pass for
    "no such request"."""
    with ServerThread(make_settings(journal_size=0)) as off:
        base = off.urls["skytells"]
        control = base.removesuffix("/v1") + "/_mock"
        headers = {"x-api-key": KEY}
        made = httpx.post(f"{base}/predictions", headers=headers,
                          json={"model": "truefusion-pro", "input": {"prompt": "a fox"}})
        assert made.status_code == 201 and made.headers["x-request-id"].startswith("req_")
        assert httpx.get(f"{base}/predictions/{made.json()['id']}", headers=headers).json()["id"] == made.json()["id"]
        httpx.post(f"{control}/rules", json={"match": {"route": "GET /v1/models"}, "times": 1,
                                             "fault": {"type": "error", "status": 503}}).raise_for_status()
        httpx.post(f"{control}/rules", json={"match": {"route": "GET /v1/predictions"}, "times": 1,
                                             "fault": {"type": "reset"}}).raise_for_status()
        assert httpx.get(f"{base}/models", headers=headers).status_code == 503
        with pytest.raises(httpx.TransportError):
            httpx.get(f"{base}/predictions", headers=headers)
        assert httpx.get(f"{base}/predictions", headers=headers).status_code == 200
        assert len(off.runtime.journal) == 0
        for path in ("/requests", "/requests/count", "/requests/jr_1", f"/requests/{made.headers['x-request-id']}"):
            refused = httpx.get(control + path)
            assert refused.status_code == 409, path
            assert refused.json()["error"]["code"] == "JOURNAL_OFF"
            assert "journal_size 0" in refused.json()["error"]["message"]
        assert httpx.delete(f"{control}/requests").json() == {"deleted": 0}
