"""The exchange's stamping pass also tells a stream of server-sent events by the response's first Content-Type."""

from __future__ import annotations

import pytest

from mockserver.core.exchange import stamp


@pytest.mark.parametrize(("headers", "events"), [
    ([], False),
    ([(b"content-type", b"application/json")], False),
    ([(b"content-type", b"text/event-stream")], True),
    ([(b"Content-Type", b"Text/Event-Stream; charset=utf-8")], True),
    ([(b"x-content-type", b"text/event-stream")], False),
    ([(b"content-type", b"application/json"), (b"content-type", b"text/event-stream")], False),  # the first counts
    ([(b"vary", b"Accept"), (b"content-type", b"text/event-stream")], True),
])
@pytest.mark.parametrize("vary", [False, True])
def test_stamp_reports_an_event_stream_by_its_first_content_type(headers: list[tuple[bytes, bytes]], events: bool,
                                                                 vary: bool) -> None:
    message = {"type": "http.response.start", "status": 200, "headers": list(headers)}
    assert stamp(message, b"req_1", vary) is events
    assert (b"x-request-id", b"req_1") in message["headers"]
