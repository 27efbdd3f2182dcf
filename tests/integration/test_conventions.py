"""Conventions users of Prism / WireMock / Mockoon expect: CORS, /openapi.json, start-up files (validated,
reloadable), --version, serve --help, a bind error naming the port, and a cheap ``mockserver health``."""

from __future__ import annotations

import json
import re
import signal
import socket
import subprocess
import sys
from contextlib import closing
from pathlib import Path

import httpx
import pytest
import yaml
from openapi_spec_validator import validate

from mockserver.admin.mappings import MappingError
from mockserver.app import build
from mockserver.cli import main
from mockserver.server import ServerThread
from mockserver.settings import from_sources
from tests.conftest import KEY, make_settings
from tests.serve_banner import banner

PREFLIGHT = {"Origin": "http://localhost:3000", "Access-Control-Request-Method": "POST",
             "Access-Control-Request-Headers": "content-type,x-api-key"}


def test_api_routes_answer_browser_preflights_and_carry_the_origin_header() -> None:
    with ServerThread(make_settings()) as server:
        root = server.urls["gateai"]
        preflight = httpx.options(server.urls["skytells"] + "/predictions", headers=PREFLIGHT)
        simple = httpx.get(root + "/v1/models", headers={"Origin": "http://localhost:3000"})
        control = httpx.options(root + "/_mock/clock", headers=PREFLIGHT)
        control_get = httpx.get(root + "/_mock/clock", headers={"Origin": "http://localhost:3000"})
    assert preflight.status_code == 200 and preflight.headers["access-control-allow-origin"] == "*"
    assert "POST" in preflight.headers["access-control-allow-methods"]
    assert "x-api-key" in preflight.headers["access-control-allow-headers"].lower()
    assert simple.status_code == 200 and simple.headers["access-control-allow-origin"] == "*"
    assert "retry-after" in simple.headers["access-control-expose-headers"].lower()
    assert "access-control-allow-origin" not in {**control.headers, **control_get.headers}  # control plane: off


def test_cors_is_configurable_and_can_be_switched_off(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MOCKSERVER_CORS_ORIGINS", "off")
    assert from_sources().cors_origins == ()
    with ServerThread(make_settings(cors_origins=())) as server:
        off = httpx.get(server.urls["gateai"] + "/v1/models", headers={"Origin": "http://a.test"})
    with ServerThread(make_settings(cors_origins=("http://app.test",), cors_control_plane=True)) as server:
        root = server.urls["gateai"]
        allowed = httpx.get(root + "/v1/models", headers={"Origin": "http://app.test"})
        other = httpx.get(root + "/v1/models", headers={"Origin": "http://evil.test"})
        control = httpx.options(root + "/_mock/clock", headers={**PREFLIGHT, "Origin": "http://app.test"})
    assert "access-control-allow-origin" not in off.headers
    assert allowed.headers["access-control-allow-origin"] == "http://app.test"
    assert "access-control-allow-origin" not in other.headers
    assert control.status_code == 200 and control.headers["access-control-allow-origin"] == "http://app.test"


@pytest.mark.parametrize("api", ["skytells", "gateai"])
def test_each_api_port_serves_its_contract_as_openapi_json_and_yaml(api: str) -> None:
    with ServerThread(make_settings()) as server:
        root = server.urls[api].removesuffix("/v1")
        as_json = httpx.get(root + "/openapi.json")
        as_yaml = httpx.get(root + "/openapi.yaml")
    assert as_json.status_code == 200 and as_json.headers["content-type"].startswith("application/json")
    document = as_json.json()
    validate(document)  # a valid OpenAPI document (openapi-spec-validator)
    assert document["openapi"].startswith("3.1") and ("/v1/predictions" in document["paths"]) == (api == "skytells")
    assert yaml.safe_load(as_yaml.text) == document


MAPPING = {
    "keys": [{"key": "sk-startup-0001", "credits": 7.5, "limits": {"concurrency": 2}}],
    "outcomes": [{"status": "failed", "error": "GPU on fire", "match": {"model": "flux-pro"}}],
    "scenarios": {"slow": [{"fault": {"type": "latency", "latency_ms": 1000}}]},
}


def test_start_up_files_are_applied_at_start_and_after_a_reset(tmp_path: Path) -> None:
    (tmp_path / "ci.json").write_text(json.dumps(MAPPING))
    (tmp_path / "more.toml").write_text('[[rules]]\nmatch = {model = "veo-3.1"}\nfault = {type = "error", '
                                        'status = 503}\n')
    with ServerThread(make_settings(mappings=(str(tmp_path),))) as server:
        control = server.urls["gateai"] + "/_mock"
        key = httpx.get(f"{control}/keys/sk-startup-0001").json()
        rules = httpx.get(f"{control}/rules").json()["data"]
        scenarios = httpx.get(f"{control}/scenarios").json()["data"]
        httpx.post(f"{control}/reset")
        again = httpx.get(f"{control}/rules").json()["data"]
    assert key["credits"] == 7.5 and key["limits"]["concurrency"] == 2
    assert len(rules) == len(again) >= 2 and [s["name"] for s in scenarios] == ["slow"]


@pytest.mark.parametrize("http_server", ["uvicorn", "granian"])
def test_sighup_reloads_the_start_up_files(tmp_path: Path, http_server: str) -> None:
    path = tmp_path / "keys.json"
    path.write_text(json.dumps({"keys": [{"key": "sk-startup-0001", "credits": 1}]}))
    command = [sys.executable, "-m", "mockserver.cli", "serve", "--skytells-port", "0", "--gateai-port", "0",
               "--mappings", str(path), "--server", http_server]
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        control = re.search(r"control plane +: (\S+) ", banner(process)).group(1)  # type: ignore[union-attr]
        assert httpx.get(f"{control}/keys/sk-startup-0001", timeout=10).json()["credits"] == 1
        path.write_text(json.dumps({"keys": [{"key": "sk-startup-0001", "credits": 2}]}))
        process.send_signal(signal.SIGHUP)
        credits = [httpx.get(f"{control}/keys/sk-startup-0001", timeout=10).json()["credits"] for _ in range(200)]
        assert credits[-1] == 2  # reloaded while the server kept answering
    finally:
        process.terminate()
        process.wait(20)


def test_a_start_up_file_naming_a_fault_granian_cannot_do_stops_the_start(tmp_path: Path) -> None:
    path = tmp_path / "rules.json"
    path.write_text(json.dumps({"rules": [{"fault": {"type": "empty"}}]}))
    result = subprocess.run([sys.executable, "-m", "mockserver.cli", "serve", "--skytells-port", "0",
                             "--gateai-port", "0", "--mappings", str(path), "--server", "granian"],
                            capture_output=True, text=True, timeout=60)
    assert result.returncode == 2 and "bad start-up files" in result.stderr
    assert f"{path}: rules[0]" in result.stderr and "--server uvicorn" in result.stderr


def test_start_up_files_reload_and_broken_ones_name_file_and_field(tmp_path: Path) -> None:
    path = tmp_path / "keys.json"
    path.write_text(json.dumps({"keys": [{"key": "sk-startup-0001", "credits": 1}]}))
    with ServerThread(make_settings(mappings=(str(path),))) as server:
        control = server.urls["gateai"] + "/_mock"
        path.write_text(json.dumps({"keys": [{"key": "sk-startup-0001", "credits": 2}]}))
        reloaded = httpx.post(f"{control}/mappings/reload")
        after = httpx.get(f"{control}/keys/sk-startup-0001").json()["credits"]
        path.write_text(json.dumps({"keys": [{"key": "sk-startup-0001", "credits": -3}]}))
        broken = httpx.post(f"{control}/mappings/reload")
        kept = httpx.get(f"{control}/keys/sk-startup-0001").json()["credits"]
    assert reloaded.status_code == 200 and reloaded.json()["entries"] == 1 and after == 2
    assert broken.status_code == 400 and kept == 2
    assert f"{path}: keys[0].credits: credits must be >= 0" in broken.text


@pytest.mark.parametrize(("content", "expected"), [
    ('{"keys": [{"key": "sk-x", "credit": 1}]}', "keys[0].credit: unknown field"),
    ('{"rules": [{"fault": {"type": "nonsense"}}]}', "rules[0]: "),
    ('{"kees": []}', "unknown section(s) kees"),
    ('{"keys": [', "cannot be parsed"),
])
def test_broken_start_up_files_stop_the_start_with_file_and_field(tmp_path: Path, content: str,
                                                                  expected: str) -> None:
    path = tmp_path / "broken.json"
    path.write_text(content)
    with pytest.raises(MappingError, match=r"broken\.json: ") as raised:
        build(make_settings(mappings=(str(path),)))
    assert expected in str(raised.value)


def test_the_settings_file_may_hold_start_up_sections(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    config = tmp_path / "mock.toml"
    config.write_text('credits = 3.0\n\n[[keys]]\nkey = "sk-from-config"\ncredits = 9.0\n')
    settings = from_sources(config, env={})
    assert settings.credits == 3.0 and settings.mappings == (str(config),)
    mock = build(settings.replace(api_keys=(KEY,)))
    assert mock.runtime.accounts.find("sk-from-config") is not None
    config.write_text('[[keys]]\nkey = "sk-from-config"\ncredits = "lots"\n')
    assert main(["serve", "--config", str(config), "--skytells-port", "0", "--gateai-port", "0"]) == 2
    assert "keys[0].credits: credits must be a number" in capsys.readouterr().err


def test_version_and_help_show_defaults_and_variables(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as done:
        main(["--version"])
    assert done.value.code == 0 and capsys.readouterr().out.startswith("mockserver ")
    with pytest.raises(SystemExit):
        main(["serve", "--help"])
    text = " ".join(capsys.readouterr().out.split())
    for flag, default, env in [("--skytells-port", "8080", "MOCKSERVER_SKYTELLS_PORT"),
                               ("--time-mode", "realtime", "MOCKSERVER_TIME_MODE"),
                               ("--cors-origins", "*", "MOCKSERVER_CORS_ORIGINS")]:
        assert flag in text and f"default: {default}; env {env}" in text


def free_port() -> int:
    with closing(socket.socket()) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def test_cannot_bind_names_the_port(capsys: pytest.CaptureFixture[str]) -> None:
    with closing(socket.socket()) as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen(1)
        port = taken.getsockname()[1]
        code = main(["serve", "--skytells-port", str(port), "--gateai-port", "0"])
    err = capsys.readouterr().err
    assert code == 2 and f"cannot bind 127.0.0.1:{port}" in err and len(err.strip().splitlines()) == 1


def test_health_reads_the_flags_and_environment_serve_reads(monkeypatch: pytest.MonkeyPatch,
                                                            capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.delenv("MOCKSERVER_CONFIG", raising=False)
    with ServerThread(make_settings()) as server:
        ports = [server.urls[api].split(":")[2].split("/")[0] for api in ("skytells", "gateai")]
        by_flags = main(["health", "--skytells-port", ports[0], "--gateai-port", ports[1]])
        monkeypatch.setenv("MOCKSERVER_SKYTELLS_PORT", ports[0])
        monkeypatch.setenv("MOCKSERVER_GATEAI_PORT", ports[1])
        by_env = main(["health"])
        wrong = main(["health", "--gateai-port", str(free_port())])
    out = capsys.readouterr().out
    assert (by_flags, by_env, wrong) == (0, 0, 1)
    assert f"ok   http://127.0.0.1:{ports[0]}/_mock/health" in out


def test_health_asks_the_path_the_server_serves() -> None:
    from mockserver.cli import HEALTH_PATH
    from mockserver.core.health import PATH

    assert HEALTH_PATH == PATH


def test_health_imports_no_media_or_harness_library() -> None:
    done = subprocess.run([sys.executable, "-X", "importtime", "-m", "mockserver.cli", "health", "--skytells-port",
                           str(free_port()), "--gateai-port", str(free_port()), "--timeout", "0.5"],
                          capture_output=True, text=True, timeout=60)
    imported = {line.split("|")[-1].strip().split(".")[0] for line in done.stderr.splitlines() if "|" in line}
    assert done.returncode == 1  # nothing listens there
    assert not imported & {"numpy", "av", "PIL", "schemathesis", "hypothesis", "httpx", "starlette", "uvicorn"}
