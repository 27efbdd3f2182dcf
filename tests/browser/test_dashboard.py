"""The dashboard in a real headless Chromium against a running mock (see conftest.py)."""

from __future__ import annotations

import os
import shutil
import subprocess
from collections.abc import Iterator

import httpx
import pytest

from tests.browser.conftest import Dashboard
from tests.conftest import KEY
from tests.integration.webhook_receiver import Receiver

try:
    from playwright.sync_api import expect
except ImportError:  # the browser fixture skips every test (fails them in CI)
    expect = None

IMAGE = {"model": "truefusion-pro", "input": {"prompt": "a red fox in the snow"}}


def create_prediction(http: httpx.Client, **extra: object) -> str:
    response = http.post("/predictions", json={**IMAGE, **extra})
    assert response.status_code == 201, response.text
    return response.json()["id"]


def test_a_prediction_made_through_the_api_appears(dashboard: Dashboard, http: httpx.Client) -> None:
    page = dashboard.open("jobs")
    expect(page.locator("#view-jobs")).to_contain_text("No predictions or tasks yet")
    pid = create_prediction(http)
    card = page.locator(f'[data-job="{pid}"]')
    expect(card).to_be_visible()  # the live view picks it up on its next poll
    expect(card).to_contain_text("pending")
    expect(card.locator(".timeline li")).to_have_count(4)  # pending, starting, processing, succeeded
    expect(card.locator(".timeline li.reached")).to_have_count(1)
    dashboard.tab("traffic")
    expect(page.locator("#view-traffic tbody")).to_contain_text("POST /v1/predictions")


def test_advancing_the_clock_from_the_ui_finishes_it_with_its_image(dashboard: Dashboard, http: httpx.Client,
                                                                  gateai: httpx.Client, skytells_url: str) -> None:
    pid = create_prediction(http)
    task = gateai.post("/api/generate", json={"model": "gpt-image-2", "type": "image", "params": {"prompt": "a fox"}})
    assert task.status_code == 200, task.text
    page = dashboard.open("time")
    expect(page.locator("#view-time .big-clock")).to_contain_text("2026-01-01 00:00:00")
    page.get_by_role("button", name="+10 min").click()
    expect(page.locator("#clock-badge")).to_contain_text("2026-01-01 00:10:00")
    expect(page.locator("#view-time .big-clock")).to_contain_text("00:10:00")
    dashboard.screenshot("time")
    dashboard.tab("jobs")
    card = page.locator(f'[data-job="{pid}"]')
    expect(card).to_contain_text("succeeded")
    expect(card.locator(".timeline li.reached")).to_have_count(4)
    image = card.locator("img")
    expect(image).to_be_visible()
    page.wait_for_function("img => img.complete && img.naturalWidth > 0", arg=image.element_handle())
    assert http.get(f"/predictions/{pid}").json()["status"] == "succeeded"
    task_card = page.locator(f'[data-job="{task.json()["task_id"]}"]')
    expect(task_card).to_contain_text("FINISHED")
    expect(task_card.locator("img")).to_be_visible()
    root = skytells_url.removesuffix("/v1")
    looked = httpx.get(root + "/_mock/requests/count", params={"path": "/files/*"}).json()["count"]
    assert looked == 0  # the dashboard's own media are not journaled
    dashboard.screenshot("jobs")


def test_a_fault_rule_made_in_the_ui_fails_the_next_api_call(dashboard: Dashboard, http: httpx.Client) -> None:
    page = dashboard.open("rules")
    form = page.get_by_role("form", name="Inject a fault")
    form.get_by_label("Fault type").select_option("error")
    form.get_by_label("Status").fill("503")
    form.get_by_label("Match route").fill("GET /v1/models")
    form.get_by_label("Times").fill("1")
    form.get_by_role("button", name="Add fault").click()
    rules = page.locator("#view-rules tbody")
    expect(rules).to_contain_text('"status":503')
    assert http.get("/models").status_code == 503
    assert http.get("/models").status_code == 200  # times: 1
    dashboard.tab("rules")
    expect(rules.locator("tr").first.locator("td").nth(4)).to_have_text("1")  # fired once


def test_bad_json_in_the_rule_form_shows_the_control_plane_error_next_to_it(dashboard: Dashboard,
                                                                           skytells_url: str) -> None:
    page = dashboard.open("rules")
    editor = page.get_by_label("Rule (JSON)")
    error = page.locator("#" + editor.get_attribute("aria-describedby"))
    page.get_by_role("button", name="Outcome: next prediction fails").click()
    page.get_by_role("button", name="Add rule").click()
    expect(page.locator("#view-rules tbody tr")).to_have_count(1)
    for text in ('{"fault": {"type": "error", }', '{"fault": {"type": "meltdown"}}'):
        said = httpx.post(skytells_url.removesuffix("/v1") + "/_mock/rules", content=text,
                          headers={"content-type": "application/json"})
        assert said.status_code == 400
        editor.fill(text)
        page.get_by_role("button", name="Add rule").click()
        expect(error).to_have_text(said.json()["error"]["message"])
        expect(editor).to_have_attribute("aria-invalid", "true")
    expect(page.locator("#view-rules tbody tr")).to_have_count(1)  # nothing was added
    dashboard.screenshot("rules")
    page.get_by_role("button", name="Fault: 503 once").click()
    page.get_by_role("button", name="Add rule").click()
    expect(error).to_be_empty()
    expect(page.locator("#view-rules tbody tr")).to_have_count(2)


def test_scenarios_are_defined_and_deleted_from_the_ui(dashboard: Dashboard, http: httpx.Client) -> None:
    page = dashboard.open("rules")
    page.get_by_label("Scenario name").fill("flaky")
    rules = page.get_by_label("Rules (JSON array)")
    rules.fill('{"not": "an array"}')
    page.get_by_role("button", name="Save scenario").click()
    expect(page.locator("#" + rules.get_attribute("aria-describedby"))).to_contain_text("array of rules")
    rules.fill('[{"fault": {"type": "error", "status": 502}}]')
    page.get_by_role("button", name="Save scenario").click()
    expect(page.locator("#view-rules details", has_text="flaky")).to_be_visible()
    assert http.get("/models", headers={"X-Mock-Scenario": "flaky"}).status_code == 502
    assert http.get("/models").status_code == 200
    page.locator("#view-rules details summary", has_text="flaky").click()
    page.get_by_role("button", name="Delete scenario flaky").click()
    expect(page.locator("#view-rules")).to_contain_text("No scenarios.")
    assert http.get("/models", headers={"X-Mock-Scenario": "flaky"}).status_code == 400


def test_clock_mode_changes_and_bad_values_are_refused_next_to_their_field(dashboard: Dashboard) -> None:
    page = dashboard.open("time")
    speed = page.get_by_label("Speed (realtime ×)")
    page.get_by_label("Mode", exact=True).select_option("realtime")
    speed.fill("-3")
    page.get_by_role("button", name="Change mode").click()
    expect(page.locator("#" + speed.get_attribute("aria-describedby"))).to_contain_text("speed must be a number > 0")
    speed.fill("60")
    page.get_by_role("button", name="Change mode").click()
    expect(page.locator("#clock-badge")).to_contain_text("realtime ×60")
    page.get_by_label("Mode", exact=True).select_option("manual")
    page.get_by_role("button", name="Change mode").click()
    expect(page.locator("#clock-badge")).to_contain_text("manual")
    when = page.get_by_label("Time (ISO 8601 or epoch seconds)")
    when.fill("2020-01-01T00:00:00Z")
    page.get_by_role("button", name="Set clock").click()
    expect(page.locator("#" + when.get_attribute("aria-describedby"))).to_contain_text("only moves forward")
    when.fill("2030-01-01T00:00:00Z")
    page.get_by_role("button", name="Set clock").click()
    expect(page.locator("#clock-badge")).to_contain_text("2030-01-01 00:00:00")
    custom = page.get_by_label("Seconds", exact=True)
    custom.fill("soon")
    page.get_by_role("button", name="Advance", exact=True).click()
    expect(page.locator("#" + custom.get_attribute("aria-describedby"))).to_contain_text("seconds must be a number")


def test_audio_video_and_3d_outputs_get_players_and_a_download(dashboard: Dashboard, http: httpx.Client,
                                                                gateai: httpx.Client) -> None:
    song = http.post("/predictions", json={"model": "beatfusion-2.0", "input": {"lyrics": "[verse] hey"}})
    clip = http.post("/predictions", json={"model": "truefusion-video", "input": {"prompt": "the sea"}})
    example = gateai.get("/v1/models/rodin-v2").json()["example"]
    mesh = gateai.post("/api/generate", json=example)
    assert (song.status_code, clip.status_code, mesh.status_code) == (201, 201, 200), mesh.text
    page = dashboard.open("time")
    page.get_by_role("button", name="+1 day").click()
    expect(page.locator("#clock-badge")).to_contain_text("2026-01-02")
    dashboard.tab("jobs")
    audio = page.locator(f'[data-job="{song.json()["id"]}"] audio')
    expect(audio).to_have_attribute("controls", "")
    expect(page.locator(f'[data-job="{clip.json()["id"]}"] video')).to_have_attribute("controls", "")
    model = page.locator(f'[data-job="{mesh.json()["task_id"]}"]')
    expect(model).to_contain_text("FINISHED")
    expect(model.locator('a[download$=".glb"]')).to_be_visible()
    expect(model.locator("img")).to_have_attribute("alt", "Preview of rodin-v2 output 1")
    fetched = page.evaluate("async (src) => (await fetch(src)).status", audio.get_attribute("src"))
    assert fetched == 200


def test_opening_a_journal_entry_shows_the_whole_exchange(dashboard: Dashboard, http: httpx.Client) -> None:
    with http.stream("POST", "/chat/completions", json={"model": "gpt-5", "stream": True, "max_tokens": 3,
                                                       "messages": [{"role": "user", "content": "Say hi"}]}) as reply:
        assert reply.status_code == 200
        reply.read()
    create_prediction(http)
    page = dashboard.open("traffic")
    page.get_by_role("button", name="Open POST /v1/chat/completions (200)").click()
    exchange = page.locator("#exchange")
    expect(exchange).to_contain_text("POST /v1/chat/completions")
    expect(exchange).to_contain_text("Request headers")
    expect(exchange).to_contain_text('"content": "Say hi"')  # the request body, pretty-printed
    events = httpx.get(dashboard.root + "/_mock/requests", params={"path": "/v1/chat/*"}).json()["data"][0]["events"]
    expect(exchange).to_contain_text(f"Server-sent events ({events})")
    expect(exchange.locator("ol.sse li")).to_have_count(events)
    expect(exchange.locator("ol.sse li").last).to_contain_text("[DONE]")
    expect(exchange).to_contain_text("sk-t…0001")  # the key as the journal masks it
    assert KEY not in exchange.inner_text()
    exchange.locator("ol.sse li summary").nth(1).click()  # an event opens to its pretty-printed data
    expect(exchange.locator("ol.sse li").nth(1).locator("pre")).to_contain_text('"object": "chat.completion.chunk"')
    dashboard.screenshot("traffic", full_page=False)
    page.get_by_role("button", name="Open POST /v1/predictions (201)").click()
    expect(exchange).to_contain_text('"prompt": "a red fox in the snow"')
    command = page.evaluate("""async () => {
        const {curl} = await import("./ui/static/views/traffic.js");
        const entries = await (await fetch("requests?path=/v1/predictions")).json();
        return curl(entries.data[0]);
    }""")
    assert "$MOCK_API_KEY" in command and "/v1/predictions" in command
    if shutil.which("curl"):  # the copied command really repeats the request
        ran = subprocess.run(["bash", "-c", command + " -s -o /dev/null -w '%{http_code}'"], capture_output=True,
                             text=True, env={**os.environ, "MOCK_API_KEY": KEY}, timeout=30)
        assert ran.stdout == "201", ran


def test_the_traffic_filters_use_the_journal_query(dashboard: Dashboard, http: httpx.Client) -> None:
    http.get("/models")
    http.get("/predictions/nope")
    page = dashboard.open("traffic")
    expect(page.locator("#view-traffic tbody tr")).to_have_count(2)
    page.get_by_label("Status").fill("4xx")
    page.get_by_role("button", name="Filter").click()
    expect(page.locator("#view-traffic tbody tr")).to_have_count(1)
    expect(page.locator("#view-traffic tbody")).to_contain_text("/v1/predictions/nope")
    page.get_by_label("Status").fill("teapot")
    page.get_by_role("button", name="Filter").click()
    status = page.get_by_label("Status")
    expect(page.locator("#" + status.get_attribute("aria-describedby"))).to_contain_text("status must be")


@pytest.fixture
def failing_receiver() -> Iterator[Receiver]:
    receiver = Receiver(status=500).start()
    yield receiver
    receiver.stop()


def test_accounts_and_webhooks(dashboard: Dashboard, http: httpx.Client, gateai: httpx.Client,
                               failing_receiver: Receiver) -> None:
    generated = gateai.post("/api/generate", json={"model": "gpt-image-2", "type": "image",
                                                   "params": {"prompt": "a fox"}})
    assert generated.status_code == 200, generated.text
    page = dashboard.open("accounts")
    owner = page.locator("#view-accounts tbody tr", has_text=KEY)
    expect(owner).to_contain_text("1 of 5 slots")
    expect(owner.get_by_role("meter").first).to_have_attribute("aria-valuenow", str(generated.json()["cost"]))
    page.get_by_label("Credits ($)").fill("-1")
    page.get_by_role("button", name="Create key").click()
    credits = page.get_by_label("Credits ($)")
    expect(page.locator("#" + credits.get_attribute("aria-describedby"))).to_have_text("credits must be >= 0")
    page.get_by_label("Key (empty: generated)").fill("sk-team-b-0001")
    credits.fill("2.5")
    page.get_by_role("button", name="Create key").click()
    expect(page.locator("#view-accounts tbody")).to_contain_text("sk-team-b-0001")
    expect(page.locator("#view-accounts tbody tr", has_text="sk-team-b-0001")).to_contain_text("$2.5")
    dashboard.screenshot("accounts")

    create_prediction(http, webhook={"url": failing_receiver.url, "events": ["prediction.succeeded"]})
    dashboard.tab("time")
    page.get_by_role("button", name="+10 min").click()
    expect(page.locator("#clock-badge")).to_contain_text("00:10:00")
    dashboard.tab("webhooks")
    delivery = page.locator("#view-webhooks article", has_text="prediction.succeeded").first
    expect(delivery).to_contain_text("pending")  # the receiver answered 500: a retry is scheduled
    expect(delivery.locator("tbody tr").first).to_contain_text("500")
    expect(delivery).to_contain_text("next retry2026-01-01 00:10:0")
    delivery.locator("summary").click()
    expect(delivery.locator("pre")).to_contain_text('"status": "succeeded"')
    expect(page.locator("#view-webhooks")).to_contain_text("whsec_")
    dashboard.screenshot("webhooks")


def test_narrow_window_and_keyboard(dashboard: Dashboard, http: httpx.Client) -> None:
    create_prediction(http)
    page = dashboard.page
    page.set_viewport_size({"width": 380, "height": 800})
    for view in ("traffic", "jobs", "time", "accounts", "rules", "webhooks"):
        dashboard.open(view)
        wide = page.evaluate("document.documentElement.scrollWidth")
        assert wide <= 380, f"{view}: the page scrolls sideways ({wide} px) on a 380 px window"
        if view == "jobs":
            dashboard.screenshot("narrow-jobs", full_page=False)
    dashboard.open("traffic")
    page.locator("#tab-traffic").focus()
    page.keyboard.press("ArrowRight")
    expect(page.locator("#tab-jobs")).to_be_focused()
    expect(page.locator("#tab-jobs")).to_have_attribute("aria-selected", "true")
    expect(page.locator("#view-jobs")).to_be_visible()


def test_a_token_protected_server_asks_for_the_token(browser: object) -> None:
    from mockserver.server import ServerThread
    from tests.conftest import make_settings

    with ServerThread(make_settings(admin_token="s3cret")) as server:
        context = browser.new_context(viewport={"width": 1280, "height": 860})  # type: ignore[attr-defined]
        page = context.new_page()
        page.goto(server.urls["skytells"].removesuffix("/v1") + "/_mock/ui#accounts")
        token = page.get_by_label("Admin token")
        expect(token).to_be_focused()
        token.fill("wrong")
        page.get_by_role("button", name="Use token").click()
        expect(page.locator("#token-error")).to_have_text("That token was refused.")
        token.fill("s3cret")
        page.get_by_role("button", name="Use token").click()
        expect(page.locator("#token-form")).to_be_hidden()
        expect(page.locator("#view-accounts tbody")).to_contain_text(KEY)
        context.close()
