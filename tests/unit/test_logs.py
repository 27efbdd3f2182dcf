"""API keys are masked in log records (mockserver.core.logs)."""

from __future__ import annotations

import logging

import pytest

from mockserver.core.accounts import mask_key
from mockserver.core.logs import KeyMaskFilter, install, mask_secrets

KEY = "sk-live-abcdef123456"


@pytest.mark.parametrize(("text", "expected"), [
    (f"using {KEY} now", f"using {mask_key(KEY)} now"),
    (f"Authorization: Bearer {KEY}", f"Authorization: Bearer {mask_key(KEY)}"),
    ("Authorization: bearer team-token-42", f"Authorization: bearer {mask_key('team-token-42')}"),
    ("GET /api/me?key=abcdefgh12345&x=1", f"GET /api/me?key={mask_key('abcdefgh12345')}&x=1"),
    ("x-api-key: plainkey99", f"x-api-key: {mask_key('plainkey99')}"),
    ("{'x-api-key': 'plainkey99'}", f"{{'x-api-key': '{mask_key('plainkey99')}'}}"),
    ("task-1234 and risk-free words stay", "task-1234 and risk-free words stay"),
    ("nothing secret here", "nothing secret here"),
])
def test_mask_secrets(text: str, expected: str) -> None:
    assert mask_secrets(text) == expected
    assert KEY not in mask_secrets(text)


def test_masking_is_idempotent() -> None:
    once = mask_secrets(f"Bearer {KEY} and key={KEY}")
    assert mask_secrets(once) == once


def record(msg: str, *args: object, exc: bool = False) -> logging.LogRecord:
    exc_info = None
    if exc:
        try:
            raise ValueError(f"bad key {KEY}")
        except ValueError:
            import sys

            exc_info = sys.exc_info()
    return logging.LogRecord("mockserver.test", logging.ERROR, __file__, 1, msg, args, exc_info)


def test_filter_masks_message_arguments_and_traceback() -> None:
    item = record("request from %s with %r", KEY, {"auth": f"Bearer {KEY}"}, exc=True)
    assert KeyMaskFilter().filter(item) is True
    text = logging.Formatter("%(message)s").format(item)
    assert KEY not in text
    assert mask_key(KEY) in text
    assert "ValueError: bad key" in text


def test_filter_leaves_clean_records_alone() -> None:
    item = record("%d requests", 3)
    KeyMaskFilter().filter(item)
    assert item.getMessage() == "3 requests"


class Collect(logging.Handler):
    def __init__(self) -> None:
        super().__init__()
        self.lines: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.lines.append(self.format(record))


def test_install_reaches_child_loggers_and_handlers(caplog: pytest.LogCaptureFixture) -> None:
    child = logging.getLogger("mockserver.unit_test_child")
    uvicorn_error = logging.getLogger("uvicorn.error")  # uvicorn's config may stop it propagating to root
    collected = Collect()
    uvicorn_error.addHandler(collected)
    # Other libraries of the test session (litellm) add their own redacting filters to loggers; only ours is tested.
    foreign = [f for f in uvicorn_error.filters if not isinstance(f, KeyMaskFilter)]
    for found in foreign:
        uvicorn_error.removeFilter(found)
    try:
        install()
        install()  # idempotent
        assert sum(isinstance(f, KeyMaskFilter) for f in child.filters) == 1
        assert any(isinstance(f, KeyMaskFilter) for f in collected.filters)
        with caplog.at_level(logging.INFO), caplog.at_level(logging.INFO, logger="uvicorn.error"):
            child.info("child saw %s", KEY)
            uvicorn_error.info("uvicorn saw Bearer %s", KEY)
        assert KEY not in caplog.text
        assert mask_key(KEY) in caplog.text
        assert collected.lines == [f"uvicorn saw Bearer {mask_key(KEY)}"]
    finally:
        uvicorn_error.removeHandler(collected)
        for found in foreign:
            uvicorn_error.addFilter(found)
