"""Redis going away while the mock serves: requests get the API's own 503 (no hang, no 500), and service
resumes when Redis is back (with persistence, with the same state)."""

from __future__ import annotations

import httpx

from mockserver.server import ServerThread
from tests.conftest import KEY, make_settings
from tests.redis_server import free_port, start_redis, stop_redis


def test_a_store_outage_is_a_503_in_each_apis_format_and_service_resumes(tmp_path) -> None:
    port = free_port()
    redis_process = start_redis(str(tmp_path), port, persist=True)
    server = ServerThread(make_settings(store=f"redis://127.0.0.1:{port}/0")).start()
    skytells = httpx.Client(base_url=server.urls["skytells"], headers={"x-api-key": KEY}, timeout=30)
    gateai = httpx.Client(base_url=server.urls["gateai"], headers={"authorization": f"Bearer {KEY}"}, timeout=30)
    control = httpx.Client(base_url=server.urls["skytells"].removesuffix("/v1") + "/_mock", timeout=30)
    try:
        made = skytells.post("/predictions", json={"model": "truefusion-pro", "input": {"prompt": "x"}}).json()
        stop_redis(redis_process)

        down = skytells.get(f"/predictions/{made['id']}")
        assert down.status_code == 503 and down.headers["retry-after"] == "1", down.text
        assert down.json()["error"]["error_id"] == "SERVICE_UNAVAILABLE"  # the Skytells shape
        gate_down = gateai.get("/credits")
        assert gate_down.status_code == 503 and gate_down.json()["code"] == "SERVICE_UNAVAILABLE"  # GateAI's
        assert control.get("/clock").status_code == 200  # reading the time goes on from the last anchor read
        moved = control.post("/clock/advance", json={"seconds": 60})
        assert moved.status_code == 503 and moved.json()["error"]["code"] == "SERVICE_UNAVAILABLE"  # control plane

        redis_process = start_redis(str(tmp_path), port, persist=True)
        back = skytells.get(f"/predictions/{made['id']}")
        assert back.status_code == 200 and back.json()["id"] == made["id"]
        assert gateai.get("/credits").status_code == 200
        assert control.post("/clock/advance", json={"seconds": 60}).status_code == 200
    finally:
        for client in (skytells, gateai, control):
            client.close()
        server.stop()
        stop_redis(redis_process)
