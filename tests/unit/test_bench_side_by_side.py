"""The pure parts of bench/side_by_side.py: its wrk script's result line, parsing wrk's output, the medians, and
the bare app replaying captured bodies byte for byte (plain and as server-sent events)."""

from __future__ import annotations

import argparse
import json
import re
from pathlib import Path

import pytest
from starlette.applications import Starlette
from starlette.testclient import TestClient

from bench.bare_app import _routes
from bench.side_by_side import (
    RESULT_PREFIX,
    Route,
    _arguments,
    bare_of,
    lua_script,
    median_result,
    mock_command,
    paired_ratios,
    parse_wrk,
    sse_chunks,
    stat_cpu_ticks,
    table,
)

WRK_TEXT = """Running 3s test @ http://127.0.0.1:41234/v1/predictions/abc
  1 threads and 50 connections
  Thread Stats   Avg      Stdev     Max   +/- Stdev
    Latency     4.10ms    1.02ms  21.40ms   91.00%
    Req/Sec    12.20k   400.00    12.90k    70.00%
  36600 requests in 3.00s, 60.12MB read
Requests/sec:  12200.00
Transfer/sec:     20.04MB
"""


def _lua_result_line(script: str, values: list[float]) -> str:
    """What the script's ``done`` writes, formatting ``values`` as Lua's string.format would (%.0f)."""
    literal = re.search(r'string\.format\("(.*?)\\n",', script)
    assert literal is not None, script
    return literal.group(1).replace('\\"', '"') % tuple(values)


def test_the_scripts_result_line_parses_into_the_figures() -> None:
    route = Route("chat", "skytells", "POST", "/v1/chat/completions", {"model": "gpt-5", "stream": True},
                  key="sk-x", headers={"accept": "text/event-stream"})
    script = lua_script(route)
    assert 'wrk.method = "POST"' in script and 'wrk.headers["x-api-key"] = "sk-x"' in script
    assert f"[==[{json.dumps(route.body)}]==]" in script
    assert 'wrk.headers["content-type"] = "application/json"' in script
    # requests, duration_us, p50_us, p99_us, then connect, read, write, status, timeout errors
    line = _lua_result_line(script, [36600, 3_000_000, 4100, 9870, 0, 1, 0, 5, 2])
    figures = parse_wrk(WRK_TEXT + line + "\n")
    assert figures == {"rps": 12200.0, "p50_ms": 4.1, "p99_ms": 9.87, "errors": 8, "requests": 36600}


def test_a_get_script_sends_no_body_and_gateai_authenticates_with_bearer() -> None:
    script = lua_script(Route("get", "gateai", "GET", "/get/t", key="sk-y"))
    assert "wrk.body" not in script and "content-type" not in script
    assert 'wrk.headers["authorization"] = "Bearer sk-y"' in script


def test_output_without_the_result_line_is_an_error_naming_it() -> None:
    with pytest.raises(ValueError, match=RESULT_PREFIX.strip()):
        parse_wrk("unable to connect to 127.0.0.1:1 Connection refused\n")


def test_medians_over_rounds_and_errors_summed() -> None:
    runs = [{"rps": rps, "p50_ms": 1.0, "p99_ms": p99, "errors": errors}
            for rps, p99, errors in ((100, 9, 0), (300, 1, 2), (200, 5, 1))]
    assert median_result(runs) == {"rps": 200, "p50_ms": 1.0, "p99_ms": 5, "errors": 3, "rounds": 3}


def test_paired_ratios_are_taken_round_by_round() -> None:
    route = Route("GET prediction", "skytells", "GET", "/v1/predictions/x")
    runs = {("mock", route.name): [{"cpu_us": 100.0}, {"cpu_us": 200.0}, {"cpu_us": 90.0}],
            ("mock (base)", route.name): [{"cpu_us": 125.0}, {"cpu_us": 250.0}, {"cpu_us": 100.0}]}
    text = paired_ratios(runs, "mock", "mock (base)", [route])
    # a ratio of medians would say 100/125 = 0.8 too, but the rounds' own ratios are 0.8, 0.8 and 0.9
    assert text.splitlines()[1] == "- GET prediction: 0.800 (0.800-0.900, 3 rounds)"


def test_the_table_rates_each_server_against_bare_on_uvicorn_and_on_its_own_stack() -> None:
    get = Route("GET prediction", "skytells", "GET", "/v1/predictions/x")
    chat = Route("chat", "skytells", "POST", "/v1/chat/completions")
    figures = {"bare Starlette": 20_000, "bare Starlette (granian)": 30_000, "mock": 10_000,
               "mock (granian)": 15_000}
    results = {(server, route.name): {"rps": rps / (2 if route is chat else 1), "p99_ms": 5.0, "cpu_us": 50.0,
                                      "errors": 0} for server, rps in figures.items() for route in (get, chat)}
    args = argparse.Namespace(server_core=0, wrk_core=1, connections=50, rounds=3, duration=3.0)
    rows = {tuple(cell.strip() for cell in line.split("|")[1:3]): [cell.strip() for cell in line.split("|")[5:7]]
            for line in table(results, list(figures), [get, chat], args).splitlines() if line.startswith("| ")}
    assert rows[("GET prediction", "mock (granian)")] == ["0.75", "0.50"]  # to bare GET on uvicorn, to bare on granian
    assert rows[("chat", "mock (granian)")] == ["0.38", "0.50"]
    assert rows[("chat", "mock")] == ["0.25", "0.50"]
    assert rows[("GET prediction", "bare Starlette (granian)")] == ["1.50", "–"]


def test_cpu_ticks_are_read_after_the_command_name_whatever_it_holds() -> None:
    stat = "4242 (python3 (x) y) S 4200 4242 4242 0 -1 4194560 500 0 0 0 731 69 0 0 20 0 3 0 815727 5246976"
    assert stat_cpu_ticks(stat) == (4200, 800)


def test_event_streams_are_split_per_event_and_other_bodies_kept_whole() -> None:
    stream = b'data: {"a": 1}\n\ndata: {"b": 2}\n\ndata: [DONE]\n\n'
    chunks = sse_chunks(stream, "text/event-stream; charset=utf-8")
    assert chunks == ['data: {"a": 1}\n\n', 'data: {"b": 2}\n\n', "data: [DONE]\n\n"]
    assert "".join(chunks).encode() == stream
    assert sse_chunks(b'{"x": "\n\n"}', "application/json") == ['{"x": "\n\n"}']


def test_the_bare_app_replays_each_body_byte_for_byte(tmp_path: Path) -> None:
    canned = [{"method": "POST", "path": "/v1/chat/completions", "status": 200,
               "content_type": "text/event-stream", "chunks": ["data: 1\n\n", "data: [DONE]\n\n"]},
              {"method": "GET", "path": "/v1/chat/completions", "status": 201, "content_type": "application/json",
               "chunks": ['{"id": "x"}']}]
    bodies = tmp_path / "bodies.json"
    bodies.write_text(json.dumps(canned))
    with TestClient(Starlette(routes=_routes(str(bodies)))) as client:
        streamed = client.post("/v1/chat/completions")
        plain = client.get("/v1/chat/completions")
    assert streamed.status_code == 200 and streamed.content == b"data: 1\n\ndata: [DONE]\n\n"
    assert streamed.headers["content-type"].startswith("text/event-stream")
    assert plain.status_code == 201 and plain.content == b'{"id": "x"}'


def test_a_varied_route_sends_a_different_body_with_each_request_through_real_wrk(tmp_path: Path) -> None:
    """wrk runs the script against a loopback server recording bodies: each is the route's JSON with its own number."""
    import http.server
    import shutil
    import subprocess
    import threading

    if shutil.which("wrk") is None:
        pytest.skip("wrk is not installed (apt-get install wrk; CI installs it)")
    bodies: list[bytes] = []

    class Recorder(http.server.BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def do_POST(self) -> None:
            bodies.append(self.rfile.read(int(self.headers["content-length"])))
            self.send_response(200)
            self.send_header("content-length", "2")
            self.end_headers()
            self.wfile.write(b"{}")

        def log_message(self, *args: object) -> None:
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Recorder)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    route = Route("varied", "skytells", "POST", "/v1/chat/completions",
                  {"messages": [{"role": "user", "content": "hi {n}, 100% sure"}]}, vary=True)
    script = tmp_path / "varied.lua"
    script.write_text(lua_script(route))
    try:
        done = subprocess.run(["wrk", "-t1", "-c2", "-d1s", "-s", str(script), f"http://127.0.0.1:{server.server_port}/"],
                              capture_output=True, text=True, timeout=60, check=True)
    finally:
        server.shutdown()
    assert parse_wrk(done.stdout)["requests"] >= 2
    contents = [json.loads(body)["messages"][0]["content"] for body in bodies]
    assert len(set(contents)) == len(contents) >= 2
    assert all(re.fullmatch(r"hi \d+, 100% sure", content) for content in contents), contents[:3]


def test_the_mock_without_a_journal_runs_serve_with_journal_size_0_against_bare_on_uvicorn() -> None:
    assert _arguments(["--journal-off"]).journal_off and not _arguments([]).journal_off
    command = mock_command(8000, 8001, extra=("--journal-size", "0"))
    assert command[command.index("serve"):][-2:] == ["--journal-size", "0"]
    assert "--journal-size" not in mock_command(8000, 8001)
    assert bare_of("mock (journal off)") == "bare Starlette" and bare_of("mock (granian)") != "bare Starlette"
