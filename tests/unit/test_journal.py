"""The request journal without HTTP: capture caps, masking, SSE counting, the gateway's recording, filters, the ring.

The journal's own tests (filters, ring, clearing, the entries the gateway records) run on both journals: this process's
ring and the Redis one (:mod:`mockserver.core.shared_store.journal`, on the session's real ``redis-server``).
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable
from types import SimpleNamespace
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st
from starlette.responses import PlainTextResponse

from mockserver.core.accounts import mask_key
from mockserver.core.clock import Clock
from mockserver.core.front import Gateway
from mockserver.core.journal import (
    BodyCapture,
    Entry,
    Journal,
    Query,
    parse_status,
    render_body,
)
from mockserver.core.randomness import Randomness
from mockserver.core.request_facts import facts_of, no_query_key
from mockserver.core.rules.faults import Reset
from mockserver.core.rules.select import Selection
from mockserver.core.shared_store.journal import RedisJournal
from mockserver.core.vendor import REGISTRY
from mockserver.settings import Settings

KEY = "sk-unit-secret-0001"
OTHER = "sk-unit-secret-0002"
START = 1_767_225_600.0


MakeJournal = Callable[[int], Journal]


@pytest.fixture(params=["memory", "redis"])
def make_journal(request: pytest.FixtureRequest) -> MakeJournal:
    """Builds an empty journal of a given size: in memory, or in the session's Redis (emptied for the test)."""
    if request.param == "memory":
        return lambda size: Journal(size=size)
    client = request.getfixturevalue("redis_client")
    return lambda size: RedisJournal(client, size=size)


# -- capture and rendering -------------------------------------------------------------------------


def capture(data: bytes, cap: int = 16 * 1024, chunk: int = 1000) -> BodyCapture:
    body = BodyCapture(cap)
    for i in range(0, len(data), chunk):
        body.feed(data[i:i + chunk])
    return body


def test_capture_keeps_the_first_cap_bytes_and_counts_all() -> None:
    body = capture(b"x" * 40_000)
    assert len(body.head) == 16 * 1024
    assert body.size == 40_000
    assert body.truncated
    rendered = render_body(body, "text/plain")
    assert rendered == "x" * 16 * 1024


@given(chunks=st.lists(st.binary(max_size=40), max_size=12), cap=st.integers(0, 200),
       reads=st.lists(st.integers(0, 12), max_size=3))
def test_capture_keeps_what_its_chunks_joined_start_with(chunks: list[bytes], cap: int, reads: list[int]) -> None:
    body, whole = BodyCapture(cap), b"".join(chunks)
    for number, chunk in enumerate(chunks):
        if number in reads:  # reading the head on the way changes nothing
            assert body.head == b"".join(chunks[:number])[:cap]
        body.feed(chunk)
    assert (body.head, body.size, body.truncated) == (whole[:cap], len(whole), len(whole) > cap)
    assert body.head == whole[:cap]  # read twice


def test_small_json_body_is_parsed_and_not_truncated() -> None:
    body = capture(json.dumps({"model": "flux", "n": 2}).encode())
    assert not body.truncated
    assert render_body(body, "application/json") == {"model": "flux", "n": 2}


def test_truncated_json_is_kept_as_text() -> None:
    data = json.dumps({"prompt": "a" * 20_000}).encode()
    body = capture(data)
    rendered = render_body(body, "application/json")
    assert isinstance(rendered, str) and rendered.startswith('{"prompt": "aaa')
    assert len(rendered) == 16 * 1024


def test_a_character_cut_by_the_cap_is_dropped_not_a_binary_summary() -> None:
    data = "é".encode() * 10  # 2 bytes each; a cap of 7 cuts the 4th character in half
    body = capture(data, cap=7, chunk=3)
    assert render_body(body, "text/plain; charset=utf-8") == "ééé"


def test_binary_bodies_are_summarised() -> None:
    body = capture(b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 10)
    assert render_body(body, "image/png") == {"bytes": body.size, "content_type": "image/png"}
    undeclared = capture(b"\xff\xfe\x00garbage")
    assert render_body(undeclared, None) == {"bytes": undeclared.size, "content_type": None}
    multipart = capture(b"--b\r\ncontent-disposition: form-data\r\n\r\nabc\r\n--b--")
    assert render_body(multipart, "multipart/form-data; boundary=b")["bytes"] == multipart.size


def test_empty_body_is_none() -> None:
    assert render_body(BodyCapture(), "application/json") is None


def test_the_request_key_is_masked_inside_bodies() -> None:
    body = capture(json.dumps({"echo": f"key is {KEY}"}).encode())
    rendered = render_body(body, "application/json", secret=KEY)
    assert rendered == {"echo": f"key is {mask_key(KEY)}"}


# -- SSE counting ----------------------------------------------------------------------------------


STREAM = (b"event: prediction\r\ndata: {\"a\": 1}\r\n\r\n"
          b": ping\r\n\r\n"
          b"data: two\n\n"
          b"event: done\r\ndata: {}\r\n\r\n")


# -- the middleware --------------------------------------------------------------------------------


def fake_runtime(size: int = 100) -> SimpleNamespace:
    return SimpleNamespace(clock=Clock(mode="manual", start=START), journal=Journal(size=size))


def scope_for(method: str = "POST", path: str = "/v1/predictions", query: bytes = b"",
              headers: list[tuple[bytes, bytes]] | None = None) -> dict[str, Any]:
    return {"type": "http", "method": method, "path": path, "query_string": query, "root_path": "",
            "headers": headers if headers is not None else [(b"x-api-key", KEY.encode()),
                                                            (b"content-type", b"application/json")],
            "state": {"request_id": "req_test"}}


def run(app: Any, scope: dict[str, Any], body: bytes = b"", runtime: SimpleNamespace | None = None,
        api: str = "skytells") -> tuple[SimpleNamespace, list[dict[str, Any]]]:
    runtime = runtime or fake_runtime()
    sent: list[dict[str, Any]] = []
    messages = [{"type": "http.request", "body": body, "more_body": False}]

    async def receive() -> dict[str, Any]:
        return messages.pop(0) if messages else {"type": "http.disconnect"}

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    vendor = REGISTRY.get(api)
    takes_query_key = vendor.takes_query_key if vendor is not None else no_query_key
    serving = SimpleNamespace(**vars(runtime), rng=Randomness(1), settings=Settings())
    gateway = Gateway(app, serving, api, {}, crash, no_render, no_render, takes_query_key)  # type: ignore[arg-type]
    asyncio.run(gateway(scope, receive, send))
    return runtime, sent


async def crash(request: Any, exc: Exception) -> Any:
    return PlainTextResponse("crashed", status_code=500)


def no_render(error: Any, path: str, request_id: str) -> dict[str, Any]:
    raise AssertionError("no error expected")


def json_app(status: int = 201, payload: Any = None, selection: Selection | None = None) -> Any:
    async def app(scope: dict[str, Any], receive: Any, send: Any) -> None:
        request = await receive()
        if selection is not None:
            facts_of(scope).selection = selection
        body = json.dumps(payload if payload is not None else {"echo": json.loads(request["body"] or b"null")})
        await send({"type": "http.response.start", "status": status,
                    "headers": [(b"content-type", b"application/json")]})
        await send({"type": "http.response.body", "body": body.encode()})

    return app


def only_entry(runtime: SimpleNamespace) -> dict[str, Any]:
    entries = runtime.journal.find()
    assert len(entries) == 1
    return entries[0].as_json()


def test_middleware_records_a_json_exchange_with_masked_credentials() -> None:
    scope = scope_for(query=b"page=2&key=" + KEY.encode(),
                      headers=[(b"authorization", f"Bearer {KEY}".encode()), (b"content-type", b"application/json"),
                               (b"x-mock-admin-token", b"hunter2-token")])
    runtime, sent = run(json_app(selection=Selection(rule_ids=("rule_3",), scenario="s1")), scope,
                        body=b'{"model": "flux"}')
    assert sent[0]["status"] == 201  # the response passes through untouched
    entry = only_entry(runtime)
    assert entry["id"] == "jr_1"
    assert (entry["api"], entry["method"], entry["path"], entry["status"]) == ("skytells", "POST", "/v1/predictions",
                                                                               201)
    assert entry["time"] == "2026-01-01T00:00:00.000000Z" and entry["epoch"] == START
    assert entry["key"] == mask_key(KEY)
    assert entry["query"] == {"page": "2", "key": mask_key(KEY)}
    assert entry["request"]["headers"]["authorization"] == f"Bearer {mask_key(KEY)}"
    assert entry["request"]["headers"]["x-mock-admin-token"] == mask_key("hunter2-token")
    assert entry["request"]["body"] == {"model": "flux"}
    assert entry["response"]["body"] == {"echo": {"model": "flux"}}
    assert entry["request_id"] == dict(sent[0]["headers"])[b"x-request-id"].decode()  # the id the client got
    assert entry["rules"] == ["rule_3"] and entry["scenario"] == "s1"
    assert entry["latency_ms"] >= 0 and entry["error"] is None and entry["events"] is None
    assert KEY not in json.dumps(entry) and "hunter2-token" not in json.dumps(entry)
    assert runtime.journal.find(Query(key=KEY))[0].owner == KEY  # the raw key stays private, for filtering


def test_mock_paths_are_not_recorded() -> None:
    runtime, _ = run(json_app(200, {"ok": True}), scope_for("GET", "/_mock/requests"))
    assert len(runtime.journal) == 0


def test_gateai_me_key_comes_from_the_query() -> None:
    scope = scope_for("GET", "/api/me", query=b"key=" + KEY.encode(), headers=[])
    runtime, _ = run(json_app(200, {"budget": {}}), scope, api="gateai")
    assert runtime.journal.find(Query(key=KEY))[0].as_json()["key"] == mask_key(KEY)


def test_sse_responses_get_an_event_count() -> None:
    async def app(scope: dict[str, Any], receive: Any, send: Any) -> None:
        await send({"type": "http.response.start", "status": 200,
                    "headers": [(b"content-type", b"text/event-stream; charset=utf-8")]})
        for i in range(0, len(STREAM), 5):
            await send({"type": "http.response.body", "body": STREAM[i:i + 5], "more_body": True})
        await send({"type": "http.response.body", "body": b"", "more_body": False})

    runtime, _ = run(app, scope_for("GET", "/v1/predictions/abc/stream"))
    entry = only_entry(runtime)
    assert entry["events"] == 3
    assert entry["response"]["bytes"] == len(STREAM)
    assert entry["response"]["body"].startswith("event: prediction")


def test_a_request_dropped_by_a_reset_fault_has_no_status_and_an_error() -> None:
    async def app(scope: dict[str, Any], receive: Any, send: Any) -> None:
        facts_of(scope).selection = Selection(fault=Reset(), rule_ids=("rule_1",))

    runtime, _ = run(app, scope_for())
    entry = only_entry(runtime)
    assert entry["status"] is None
    assert "connection reset" in entry["error"]
    assert entry["rules"] == ["rule_1"]


def test_an_unexpected_exception_is_journaled_as_the_500_it_becomes() -> None:
    runtime = fake_runtime()

    async def app(scope: dict[str, Any], receive: Any, send: Any) -> None:
        raise RuntimeError("boom")

    with pytest.raises(RuntimeError):
        run(app, scope_for(), runtime=runtime)
    entry = only_entry(runtime)
    assert entry["status"] == 500 and entry["error"] == "unhandled RuntimeError: boom"


def test_a_response_cut_mid_body_is_marked() -> None:
    async def app(scope: dict[str, Any], receive: Any, send: Any) -> None:
        await send({"type": "http.response.start", "status": 200, "headers": [(b"content-type", b"text/plain")]})
        await send({"type": "http.response.body", "body": b"partial", "more_body": True})

    runtime, _ = run(app, scope_for("GET", "/files/x"))
    entry = only_entry(runtime)
    assert entry["status"] == 200 and "cut off" in entry["error"]


def test_large_bodies_are_capped_while_streaming() -> None:
    big = json.dumps({"prompt": "z" * 50_000}).encode()
    runtime, _ = run(json_app(200, {"ok": True}), scope_for(), body=big)
    entry = only_entry(runtime)
    assert entry["request"]["truncated"] is True
    assert entry["request"]["bytes"] == len(big)
    assert len(entry["request"]["body"]) == 16 * 1024


# -- the journal: filters, ring, clearing ----------------------------------------------------------


def entry(api: str = "skytells", method: str = "GET", path: str = "/v1/models", status: int | None = 200,
          owner: str | None = KEY, epoch: float = START, rules: tuple[str, ...] = ()) -> Entry:
    return Entry(epoch=epoch, api=api, method=method, path=path, query={}, owner=owner, request_id=None,
                 request_headers={}, request_body=BodyCapture(), request_type=None, status=status, rule_ids=rules)


@pytest.fixture
def journal(make_journal: MakeJournal) -> Journal:
    journal = make_journal(100)
    journal.add(entry())
    journal.add(entry(method="POST", path="/v1/predictions", status=201, epoch=START + 10))
    journal.add(entry(api="gateai", method="POST", path="/api/generate", status=429, owner=OTHER,
                      epoch=START + 20, rules=("rule_1",)))
    journal.add(entry(path="/v1/predictions/abc", status=404, epoch=START + 30))
    journal.add(entry(api="gateai", path="/api/me", status=None, owner=None, epoch=START + 40))
    return journal


def ids(entries: list[Entry]) -> list[str]:
    return [e.id for e in entries]


def test_newest_first_by_default_and_oldest_first_on_request(journal: Journal) -> None:
    assert ids(journal.find()) == ["jr_5", "jr_4", "jr_3", "jr_2", "jr_1"]
    assert ids(journal.find(Query(newest_first=False, limit=2))) == ["jr_1", "jr_2"]
    assert ids(journal.find(Query(limit=2))) == ["jr_5", "jr_4"]


@pytest.mark.parametrize(("query", "expected"), [
    (Query(api="gateai"), ["jr_5", "jr_3"]),
    (Query(method="post"), ["jr_3", "jr_2"]),
    (Query(path="/v1/predictions*"), ["jr_4", "jr_2"]),
    (Query(status=parse_status("4xx")), ["jr_4", "jr_3"]),
    (Query(status=parse_status("201")), ["jr_2"]),
    (Query(key=KEY), ["jr_4", "jr_2", "jr_1"]),
    (Query(key=OTHER), ["jr_3"]),
    (Query(since=START + 10, until=START + 30), ["jr_4", "jr_3", "jr_2"]),
    (Query(rule="rule_1"), ["jr_3"]),
    (Query(api="skytells", status=parse_status("2xx"), key=KEY), ["jr_2", "jr_1"]),
])
def test_filters(journal: Journal, query: Query, expected: list[str]) -> None:
    assert ids(journal.find(query)) == expected
    assert journal.count(query) == len(expected)


def test_get_by_id_or_request_id(journal: Journal) -> None:
    journal.add(Entry(epoch=START, api="skytells", method="GET", path="/x", query={}, owner=None,
                      request_id="req_abc", request_headers={}, request_body=BodyCapture(), request_type=None))
    assert journal.get("jr_2").path == "/v1/predictions"
    assert journal.get("req_abc").id == "jr_6"
    assert journal.get("jr_99") is None


@pytest.mark.parametrize("text", ["4x", "600", "abc", "4xxx", ""])
def test_bad_status_filters_are_refused(text: str) -> None:
    with pytest.raises(ValueError, match="status"):
        parse_status(text)


def test_the_ring_keeps_only_the_newest_entries(make_journal: MakeJournal) -> None:
    journal = make_journal(3)
    for _ in range(5):
        journal.add(entry())
    assert len(journal) == 3
    assert ids(journal.find()) == ["jr_5", "jr_4", "jr_3"]


def test_clearing_one_key_keeps_the_others(journal: Journal) -> None:
    assert journal.clear(KEY) == 3
    assert ids(journal.find()) == ["jr_5", "jr_3"]
    journal.add(entry())
    assert journal.find()[0].id == "jr_6"  # ids stay unique after a per-key clear
    assert journal.clear() == 3
    assert len(journal) == 0
    assert journal.add(entry()).id == "jr_1"  # and restart after a full clear


def test_raw_parts_are_rendered_masked_on_first_read() -> None:
    body = BodyCapture()
    for chunk in (b'{"a":', bytearray(b'"x"}')):  # a mutable chunk is copied, bytes are kept by reference
        body.feed(chunk)
    entry = Entry(epoch=START, api="skytells", method="POST", path="/x", query=f"key={KEY}&a=1&a=2".encode(),
                  owner=KEY, request_id=None, request_body=body, request_type=None,
                  request_headers=((b"X-Api-Key", KEY.encode()), (b"content-type", b"application/json")),
                  response_headers=((b"content-type", b"text/plain"), (b"x-extra", b"1"), (b"X-Extra", b"2")))
    view = entry.as_json()
    assert view["request"]["headers"] == {"x-api-key": mask_key(KEY), "content-type": "application/json"}
    assert view["request"]["body"] == {"a": "x"} and view["request"]["bytes"] == 9
    assert view["query"] == {"key": mask_key(KEY), "a": ["1", "2"]}
    assert view["response"]["headers"] == {"content-type": "text/plain", "x-extra": "1, 2"}
    assert entry.as_json() == view  # rendered once, read again


# -- the Redis journal: what it gives back, across processes ---------------------------------------


def _binary_app(scope: dict[str, Any], receive: Any, send: Any) -> Any:
    async def app(scope: dict[str, Any], receive: Any, send: Any) -> None:
        await send({"type": "http.response.start", "status": 200, "headers": [(b"content-type", b"image/png"),
                                                                               (b"x-note", "é".encode("latin-1"))]})
        await send({"type": "http.response.body", "body": bytes(range(256)) * 3})

    return app(scope, receive, send)


@pytest.mark.parametrize(("app", "scope", "body"), [
    (json_app(selection=Selection(rule_ids=("rule_3",), scenario="s1")),
     scope_for(query=b"page=2&key=" + KEY.encode()), b'{"model": "flux", "note": "' + KEY.encode() + b'"}'),
    (json_app(201, {"z": "\u00e9\u6f22 \U0001f98a"}), scope_for(), json.dumps({"p": "z" * 40_000}).encode()),
    (_binary_app, scope_for("GET", "/files/x.png", headers=[(b"x-api-key", KEY.encode())]), b""),
], ids=["json", "capped-unicode", "binary"])
def test_the_redis_journal_gives_back_what_the_memory_journal_does(redis_client, app, scope, body) -> None:
    memory, _ = run(app, dict(scope, state={"request_id": "req_1"}), body=body)
    shared = SimpleNamespace(clock=memory.clock, journal=RedisJournal(redis_client))
    run(app, dict(scope, state={"request_id": "req_1"}), body=body, runtime=shared)
    expected, [got] = only_entry(memory), [e.as_json() for e in RedisJournal(redis_client).find()]
    for view in (expected, got):
        view.pop("latency_ms")
    assert got == expected


def test_processes_share_one_journal_and_its_clearing(redis_client) -> None:
    one, other = RedisJournal(redis_client, size=4), RedisJournal(redis_client, size=4)
    one.add(entry())
    other.add(entry(owner=OTHER))
    one.add(entry(path="/v1/predictions"))
    assert ids(other.find()) == ["jr_3", "jr_2", "jr_1"] and other.owners() == {KEY, OTHER}
    assert other.get("jr_3").path == "/v1/predictions"
    assert other.clear(KEY) == 2  # one key's entries, for every process
    assert ids(one.find()) == ["jr_2"] and one.count(Query(key=KEY)) == 0
    for _ in range(5):
        other.add(entry())
    assert len(one) == 4 and ids(one.find(Query(limit=2))) == ["jr_8", "jr_7"]  # one bound for all
    assert one.clear() == 4 and len(other) == 0 and other.add(entry()).id == "jr_1"


def test_requests_ending_in_one_turn_of_the_loop_are_written_by_one_script_call(redis_client) -> None:
    journal, calls = RedisJournal(redis_client, size=4), []
    script = journal._add
    journal._add = lambda args: calls.append(args[2]) or script(args=args)  # type: ignore[method-assign]

    async def requests() -> list[Entry]:
        return await asyncio.gather(*(journal.add_soon(entry(path=f"/v1/p{n}")) for n in range(6)))

    written = asyncio.run(requests())
    assert calls == [6] and ids(written) == [f"jr_{n}" for n in range(1, 7)]
    assert [e.path for e in journal.find()] == ["/v1/p5", "/v1/p4", "/v1/p3", "/v1/p2"]  # the window of 4
    assert len(journal) == 4


def test_a_batch_the_store_could_not_take_is_left_unrecorded_and_the_requests_go_on(redis_client) -> None:
    import redis

    journal = RedisJournal(redis_client)

    def away(args: list[Any]) -> None:
        raise redis.ConnectionError("gone")

    journal._add = away  # type: ignore[method-assign]

    async def requests() -> list[Entry]:
        return await asyncio.gather(*(journal.add_soon(entry()) for _ in range(3)))

    assert [e.number for e in asyncio.run(requests())] == [0, 0, 0]
