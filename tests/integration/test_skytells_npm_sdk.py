"""The official npm ``skytells`` SDK (1.0.0, TypeScript/JavaScript) against the mock, unchanged but for ``baseUrl``.

Each test runs ``node tests/node/sdk_check.mjs <scenario>`` against the live session server and judges the one
JSON object it prints. The SDK itself never polls or sleeps; the server's ``await: true`` hold is released by the
script advancing the virtual clock through ``POST /_mock/clock/advance``, so nothing here waits on wall time.

Node and npm are needed (see ``tests/node_runtime.py``: ``npm ci`` installs ``tests/node/node_modules``, Node 22
included, from the committed lockfile when it is missing or stale); without npm the module is skipped, except
under CI (``CI`` set), where it fails.
"""

from __future__ import annotations

import json
import os
import subprocess
from typing import Any

import httpx
import pytest
from standardwebhooks import Webhook

from mockserver.server import ServerThread
from tests.conftest import KEY, OTHER_KEY, make_settings
from tests.node_runtime import NODE_DIR, node_executable

SCRIPT = NODE_DIR / "sdk_check.mjs"
SDK_VERSION = "1.0.0"
SCENARIO_TIMEOUT = 120  # seconds; a scenario takes well under one (a bound, never an assertion)


@pytest.fixture(scope="session")
def node() -> str:
    """Node >= 22 (the lockfile's own, see tests/node_runtime.py), with the locked SDK installed beside the script."""
    return node_executable()


def run_scenario(node: str, server: ServerThread, name: str) -> dict[str, Any]:
    base = server.urls["skytells"]
    env = {**os.environ, "MOCK_BASE_URL": base, "MOCK_API_KEY": KEY, "MOCK_OTHER_API_KEY": OTHER_KEY,
           "MOCK_CONTROL_URL": base.removesuffix("/v1")}
    done = subprocess.run([node, str(SCRIPT), name], cwd=NODE_DIR, env=env, capture_output=True, text=True,
                          timeout=SCENARIO_TIMEOUT, check=False)
    assert done.returncode == 0, f"scenario {name} failed ({done.returncode}):\n{done.stderr}"
    return json.loads(done.stdout)


@pytest.fixture
def scenario(node: str, server: ServerThread):
    return lambda name: run_scenario(node, server, name)


def files_root(server: ServerThread) -> str:
    return server.urls["skytells"].removesuffix("/v1") + "/files/"


def is_webp(data: bytes) -> bool:
    return data[:4] == b"RIFF" and data[8:12] == b"WEBP"


def sdk_error(result: dict[str, Any]) -> dict[str, Any]:
    """The error an ``attempt`` recorded, checked to be a SkytellsError."""
    assert result["ok"] is False, f"expected the SDK to throw, it returned {result.get('value')!r}"
    error = result["error"]
    assert error["isSkytellsError"] and error["isError"] and error["name"] == "SkytellsError"
    return error


def balance(runtime) -> float:
    return runtime.accounts.get(KEY).credits


# -- surface and models ------------------------------------------------------------------


def test_public_surface_is_what_these_tests_cover(scenario) -> None:
    surface = scenario("surface")
    assert surface["exports"] == ["API_BASE_URL", "PredictionStatus", "SkytellsClient", "SkytellsError", "createClient"]
    assert surface["methods"] == ["cancelPrediction", "deletePrediction", "getPrediction", "listModels", "predict",
                                  "streamPrediction"]
    assert surface["createClientGivesClient"] is True and surface["constructedClientWorks"] == 39
    assert surface["apiBaseUrl"] == "https://api.skytells.ai/v1"
    # "started" is the SDK's own; the mock (like the docs) never reports it as a status.
    assert set(surface["predictionStatuses"]) == {"pending", "starting", "processing", "succeeded", "failed",
                                                  "cancelled", "started"}
    assert surface["errorDefaults"]["httpStatus"] == 0


def test_list_models(scenario) -> None:
    models = scenario("models")
    assert models["count"] == 39
    assert {"truefusion-pro", "gpt-5", "beatfusion-2.0", "veo-3.1", "mera"} <= set(models["namespaces"])
    assert models["types"] == ["audio", "image", "text", "video"]
    assert models["missingTypedFields"] == []  # name, namespace, type, status: the SDK's Model type
    assert models["statuses"] == ["operational"]
    assert models["withInputSchema"] == 0  # the SDK has no fields option; schemas are opt-in on the API
    pro = models["truefusionPro"]
    assert (pro["pricing"]["amount"], pro["pricing"]["currency"], pro["pricing"]["unit"]) == (0.05, "USD", "image")
    assert pro["billable"] is True


# -- predictions -------------------------------------------------------------------------


def test_predict_then_get_until_succeeded_with_real_files(scenario, server: ServerThread, runtime) -> None:
    before = balance(runtime)
    result = scenario("lifecycle")
    created, pending, done = result["created"], result["pending"], result["done"]
    assert created["status"] == "pending" and created["output"] is None
    assert created["input"] == {"prompt": "A red fox", "num_outputs": 2}
    assert pending["id"] == created["id"] and pending["status"] == "pending"
    assert done["status"] == "succeeded" and result["succeededIsEnum"] is True
    assert done["urls"]["get"] == server.urls["skytells"] + f"/predictions/{created['id']}"
    assert done["metrics"]["image_count"] == 2 and done["metrics"]["predict_time"] > 0
    assert done["metadata"]["billing"]["credits_used"] == pytest.approx(0.10)
    assert balance(runtime) == pytest.approx(before - 0.10)
    outputs, stored = done["output"], done["metadata"]["storage"]["files"]
    assert len(outputs) == 2 and all(url.startswith(files_root(server)) and url.endswith(".webp") for url in outputs)
    for seen, entry in zip(result["files"], stored, strict=True):  # fetched by node
        assert seen["status"] == 200 and seen["contentType"] == "image/webp" == entry["type"]
        assert seen["size"] == entry["size"] and is_webp(bytes.fromhex(seen["head"]))
    image = httpx.get(outputs[0])  # and by Python
    assert image.status_code == 200 and is_webp(image.content) and len(image.content) == stored[0]["size"]


def test_predict_with_await_returns_the_finished_prediction(scenario, server: ServerThread) -> None:
    result = scenario("awaited")
    done = result["done"]
    assert done["status"] == "succeeded" and done["model"] == {"name": "beatfusion-2.0", "type": "audio"}
    assert isinstance(done["output"], str) and done["output"].startswith(files_root(server))
    assert done["output"].endswith(".mp3") and done["completed_at"] is not None
    assert result["file"]["contentType"] == "audio/mpeg" and bytes.fromhex(result["file"]["head"])[:3] == b"ID3"
    audio = httpx.get(done["output"])
    assert audio.content[:3] == b"ID3" and len(audio.content) == done["metadata"]["storage"]["files"][0]["size"]
    fast = result["fast"]  # a fast model finishes inside the create request, without await
    assert fast["status"] == "succeeded" and fast["metrics"]["predict_time"] > 0 and len(fast["output"]) == 1


def test_stream_flag_and_stream_prediction(scenario, server: ServerThread) -> None:
    result = scenario("stream")
    created, early, late = result["created"], result["early"], result["late"]
    assert created["stream"] is True and created["urls"]["stream"].endswith(f"/predictions/{created['id']}/stream")
    assert early["id"] == created["id"] and early["status"] == "pending" and early["stream"] is True
    assert late["status"] == "succeeded" and late["output"][0].startswith(files_root(server))
    assert is_webp(bytes.fromhex(result["file"]["head"])) and result["file"]["status"] == 200


def test_webhook_option_is_kept_checked_and_delivered(scenario, server: ServerThread, runtime) -> None:
    result = scenario("webhook")
    created = result["created"]
    assert created["webhook"] == {"url": result["receiverUrl"] + "/hooks/skytells",
                                  "events": ["prediction.succeeded", "prediction.failed"]}
    [delivery] = result["received"]  # only the subscribed transition: succeeded
    assert delivery["method"] == "POST" and delivery["path"] == "/hooks/skytells"
    assert delivery["headers"]["content-type"].startswith("application/json")
    payload = Webhook(runtime.webhooks.secret_for(KEY)).verify(delivery["body"], delivery["headers"])
    assert payload["id"] == created["id"] and payload["status"] == "succeeded"
    assert payload["output"][0].startswith(files_root(server)) and delivery["headers"]["webhook-id"]
    error = sdk_error(result["unknownEvent"])
    assert error["errorId"] == "INVALID_PARAMETER" and error["httpStatus"] == 400
    assert "prediction.exploded" in error["message"]


def test_cancel_and_delete(scenario, runtime) -> None:
    before = balance(runtime)
    result = scenario("cancelDelete")
    cancelled = result["cancelled"]
    assert cancelled["status"] == "cancelled" and cancelled["output"] is None
    assert cancelled["metadata"]["billing"]["credits_used"] == 0 and cancelled["completed_at"] is not None
    assert result["stillCancelled"]["status"] == "cancelled"  # an hour later
    again = sdk_error(result["cancelAgain"])
    assert again["errorId"] == "INVALID_PARAMETER" and again["httpStatus"] == 400 and "cancelled" in again["message"]
    assert result["deleted"]["id"] == cancelled["id"]
    for gone in (result["getDeleted"], result["deleteAgain"]):
        error = sdk_error(gone)
        assert error["errorId"] == "PREDICTION_NOT_FOUND" and error["httpStatus"] == 404
    # a finished prediction cannot be cancelled; deleting it removes its files
    finished = result["finished"]
    assert finished["status"] == "succeeded" and result["fileBefore"]["status"] == 200
    cancel_finished = sdk_error(result["cancelFinished"])
    assert cancel_finished["errorId"] == "INVALID_PARAMETER" and "succeeded" in cancel_finished["message"]
    assert result["deletedFinished"]["id"] == finished["id"] and result["deletedFinished"]["status"] == "succeeded"
    assert result["deletedFinished"]["metadata"]["data_available"] is False
    assert result["fileAfter"]["status"] == 404 and httpx.get(finished["output"][0]).status_code == 404
    # a running prediction is cancelled by delete
    assert result["deletedRunning"]["status"] == "cancelled"
    # the cancelled ones were refunded: only the finished image was paid for
    assert balance(runtime) == pytest.approx(before - finished["metadata"]["billing"]["credits_used"])


def test_other_keys_predictions_are_not_found(scenario) -> None:
    result = scenario("ownership")
    for call in ("get", "stream", "cancel", "delete"):
        error = sdk_error(result[call])
        assert error["errorId"] == "PREDICTION_NOT_FOUND" and error["httpStatus"] == 404, call
    assert result["stillMine"]["status"] == "pending"


def test_failed_prediction_is_returned_not_thrown(scenario) -> None:
    result = scenario("failed")
    failed = result["failed"]
    assert result["created"]["status"] == "pending"
    assert failed["status"] == "failed" and failed["output"] is None
    assert "safety" in failed["error"] and failed["response"] == failed["error"]
    assert failed["metadata"]["billing"]["credits_used"] == 0


# -- errors ------------------------------------------------------------------------------


def test_errors_surface_error_id_message_and_status(scenario) -> None:
    result = scenario("errors")
    expected = {
        "badKey": ("UNAUTHORIZED", 401, "Invalid API key"),
        "noKey": ("UNAUTHORIZED", 401, "x-api-key"),
        "badInput": ("INVALID_INPUT", 400, "num_outputs"),
        "missingInput": ("INVALID_INPUT", 400, "input is required"),
        "missingModel": ("INVALID_PARAMETER", 400, "model is required"),
        "unknownModel": ("MODEL_NOT_FOUND", 404, "truefusion-nope"),
        "textModel": ("INVALID_PARAMETER", 400, "/v1/chat/completions"),
        "badAwait": ("INVALID_PARAMETER", 400, "await must be a boolean"),
        "getUnknown": ("PREDICTION_NOT_FOUND", 404, "was not found"),
        "streamUnknown": ("PREDICTION_NOT_FOUND", 404, "was not found"),
        "cancelUnknown": ("PREDICTION_NOT_FOUND", 404, "was not found"),
        "deleteUnknown": ("PREDICTION_NOT_FOUND", 404, "was not found"),
    }
    for case, (error_id, status, text) in expected.items():
        error = sdk_error(result[case])
        assert (error["errorId"], error["httpStatus"]) == (error_id, status), case
        assert text in error["message"], case
        assert error["details"], case  # the mock's error.details string
    assert "Did you mean" in sdk_error(result["unknownModel"])["details"]
    # The SDK's own errors, from the transport rather than from a mock error body:
    network = sdk_error(result["network"])
    assert network["errorId"] == "NETWORK_ERROR" and network["httpStatus"] == 0
    non_json = sdk_error(result["nonJson"])
    assert non_json["errorId"] == "SERVER_ERROR" and non_json["httpStatus"] == 200
    assert non_json["message"] == "Server responded with non-JSON content (image/webp)"


@pytest.mark.parametrize(("change", "predict_error", "models_error"), [
    ({"credits": 0.02}, ("INSUFFICIENT_CREDITS", 402), None),
    ({"credits": 0.0}, ("PAYMENT_REQUIRED", 402), None),
    ({"suspended": True}, ("ACCOUNT_SUSPENDED", 401), ("ACCOUNT_SUSPENDED", 401)),
])
def test_account_errors(scenario, runtime, change, predict_error, models_error) -> None:
    runtime.accounts.change(KEY, **change)
    result = scenario("account")
    error = sdk_error(result["predict"])
    assert (error["errorId"], error["httpStatus"]) == predict_error
    if models_error is None:
        assert result["models"]["ok"] is True and len(result["models"]["value"]) == 39
    else:
        error = sdk_error(result["models"])
        assert (error["errorId"], error["httpStatus"]) == models_error


def test_timeout_option_aborts_a_held_request(scenario) -> None:
    result = scenario("timeout")
    held = sdk_error(result["held"])
    assert held["errorId"] == "REQUEST_TIMEOUT" and held["httpStatus"] == 408
    assert held["message"] == "Request timed out after 1500ms"
    assert result["created"] == 1  # the request reached the mock; the server held it, the SDK gave up
    assert result["quick"] == 39


def test_rate_limit_surfaces_as_rate_limit_exceeded(node: str) -> None:
    with ServerThread(make_settings(rate_limit_per_minute=2)) as limited:
        calls = run_scenario(node, limited, "rateLimit")["calls"]
    assert calls[0] == {"ok": True, "value": 39} and calls[1] == {"ok": True, "value": 39}
    error = sdk_error(calls[2])
    assert error["errorId"] == "RATE_LIMIT_EXCEEDED" and error["httpStatus"] == 429
    assert calls[3] == {"ok": True, "value": 39}  # 61 clock seconds later
