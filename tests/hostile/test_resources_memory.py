"""Memory bounded by bytes (issue 12, item 5).

* retention is per key, by count and by bytes: one key's traffic evicts only that key's records; over the
  store-wide budget the heaviest key loses first; the record just written always stays;
* a GateAI upload keeps its size and digest, not its bytes; a chunked ``/api/upload`` over the limit is a
  413 after reading at most the limit (plus one chunk), not the whole body.
"""

from __future__ import annotations

import asyncio
import io
from typing import Any

import pytest
from PIL import Image

from mockserver import settings as settings_module
from mockserver.app import build
from mockserver.core.store import MemoryStore, Retention
from mockserver.gateai.uploads import KIND as UPLOAD_KIND
from tests.conftest import KEY, make_settings


def _record(n: int, pad: int = 0) -> dict[str, Any]:
    return {"n": n, "pad": "x" * pad}


def test_one_keys_many_records_never_evict_another_keys() -> None:
    store = MemoryStore(Retention(max_records=50))
    store.put("prediction", "b-only", _record(0), owner="B")
    for n in range(500):
        store.put("prediction", f"a{n}", _record(n), owner="A")
    assert len(list(store.scan("prediction", owner="A"))) == 50
    assert store.get("prediction", "b-only") is not None
    assert [r["n"] for r in store.scan("prediction", owner="A")][:2] == [499, 498]  # A's oldest went


def test_retention_by_bytes_evicts_only_the_offending_key() -> None:
    store = MemoryStore(Retention(max_records=None, max_key_bytes=20_000))
    for n in range(3):
        store.put("prediction", f"b{n}", _record(n, 1_000), owner="B")
    for n in range(100):
        store.put("prediction", f"a{n}", _record(n, 1_000), owner="A")
    records_a, bytes_a = store.usage("A")
    assert bytes_a <= 20_000 and 10 <= records_a < 20
    assert store.usage("B")[0] == 3 and all(store.get("prediction", f"b{n}") for n in range(3))
    big = _record(-1, 50_000)  # larger than the whole budget: kept (the newest write always stays), alone
    store.put("prediction", "a-big", big, owner="A")
    assert store.get("prediction", "a-big") is big and store.usage("A")[0] == 1


def test_the_store_wide_budget_takes_from_the_heaviest_key_first() -> None:
    store = MemoryStore(Retention(max_records=None, max_store_bytes=30_000))
    for n in range(5):
        store.put("prediction", f"b{n}", _record(n, 1_000), owner="B")
    for n in range(60):
        store.put("prediction", f"a{n}", _record(n, 1_000), owner="A")
    assert store.usage()[1] <= 30_000
    assert store.usage("B")[0] == 5  # the light key kept everything


def test_an_update_counts_its_new_size() -> None:
    store = MemoryStore(Retention(max_records=None, max_key_bytes=10_000))
    store.put("prediction", "old", _record(0, 100), owner="A")
    store.put("prediction", "new", _record(1, 100), owner="A")
    store.update("prediction", "new", lambda record: {**record, "pad": "y" * 9_900})
    assert store.get("prediction", "old") is None and store.get("prediction", "new") is not None
    assert store.usage("A")[1] <= 10_000


def test_accounts_and_limit_windows_are_never_evicted() -> None:
    store = MemoryStore(Retention(max_records=1, max_key_bytes=1_000))
    store.put("account", "A", {"key": "A"})
    store.put("gateai_ledger", "A", {"entries": []}, owner="A")
    for n in range(20):
        store.put("prediction", f"a{n}", _record(n, 500), owner="A")
    assert store.get("account", "A") and store.get("gateai_ledger", "A")


def test_byte_budgets_are_settings_with_env_vars() -> None:
    env = {"MOCKSERVER_MAX_KEY_BYTES": "1048576", "MOCKSERVER_MAX_STORE_BYTES": "none",
           "MOCKSERVER_RENDER_WORKERS": "3", "MOCKSERVER_RENDER_CACHE_BYTES": "0"}
    loaded = settings_module.from_sources(env=env)
    assert (loaded.max_key_bytes, loaded.max_store_bytes, loaded.render_workers) == (1_048_576, None, 3)
    with pytest.raises(ValueError, match="max_key_bytes"):
        settings_module.from_sources(env={"MOCKSERVER_MAX_KEY_BYTES": "0"})


# -- uploads ----------------------------------------------------------------------------------------


def _png() -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (8, 8), (1, 2, 3)).save(out, "PNG")
    return out.getvalue()


def _multipart(payload: bytes, boundary: str = "xyz") -> bytes:
    return (f"--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"a.png\"\r\n"
            f"Content-Type: image/png\r\n\r\n").encode() + payload + f"\r\n--{boundary}--\r\n".encode()


async def _call(app: Any, chunks: Any) -> tuple[int, int]:
    """POST chunks to /api/upload through the ASGI app (no Content-Length); (status, bytes the app read)."""
    read = 0
    status = 0
    iterator = iter(chunks)

    async def receive() -> dict[str, Any]:
        nonlocal read
        chunk = next(iterator, None)
        if chunk is None:
            return {"type": "http.request", "body": b"", "more_body": False}
        read += len(chunk)
        return {"type": "http.request", "body": chunk, "more_body": True}

    async def send(message: dict[str, Any]) -> None:
        nonlocal status
        if message["type"] == "http.response.start":
            status = message["status"]

    scope = {"type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1", "method": "POST",
             "scheme": "http", "path": "/api/upload", "raw_path": b"/api/upload", "query_string": b"",
             "root_path": "", "client": ("127.0.0.1", 5000), "server": ("127.0.0.1", 80),
             "headers": [(b"host", b"127.0.0.1"), (b"authorization", f"Bearer {KEY}".encode()),
                         (b"content-type", b"multipart/form-data; boundary=xyz"),
                         (b"transfer-encoding", b"chunked")]}
    await app(scope, receive, send)
    return status, read


def test_a_chunked_upload_stops_reading_at_the_limit() -> None:
    limit = 256 * 1024
    mock = build(make_settings(max_body_bytes=limit))
    head = _multipart(_png())[:200]
    chunks = (head if n == 0 else b"\0" * 65536 for n in range(1600))  # ~100 MB offered
    status, read = asyncio.run(_call(mock.apps["gateai"], chunks))
    assert status == 413
    assert read <= limit + 65536 + len(head)


def test_an_upload_keeps_its_size_and_digest_not_its_bytes() -> None:
    mock = build(make_settings())
    status, _ = asyncio.run(_call(mock.apps["gateai"], [_multipart(_png())]))
    assert status == 200
    (record,) = list(mock.runtime.store.scan(UPLOAD_KIND, owner=KEY))
    assert record["size"] == len(_png()) and len(record["sha256"]) == 64
    assert "data" not in record and all(len(str(value)) < 200 for value in record.values())
