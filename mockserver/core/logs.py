"""API keys never reach a log line in full: a :class:`logging.Filter` that masks them.

Anything that looks like a key is replaced by :func:`~mockserver.core.accounts.mask_key`'s form
(``sk-t…0001#3f2a1c``): ``sk-…`` tokens, the token after ``Bearer``, and the value of ``key=`` /
``api_key=`` / ``x-api-key:``. The filter rewrites the record itself (message, arguments and the
formatted traceback), so every handler downstream -- uvicorn's, the CLI's, pytest's ``caplog`` --
sees the masked text.

Logger filters only see records logged *on that logger*, not those propagating from child loggers,
so :func:`install` puts the filter on the named loggers, on every existing logger below them, and on
their handlers (which do see propagated records).
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterable

from mockserver.core.accounts import mask_key

#: Loggers the CLI and the test server thread mask ("" is the root logger).
LOGGERS = ("", "mockserver", "uvicorn", "uvicorn.error", "uvicorn.access", "uvicorn.asgi")

_PATTERNS = (
    re.compile(r"(?i)(\bbearer\s+)([^\s\"',;]+)"),
    re.compile(r"(?i)(\bx-api-key[\"']?\s*[:=]\s*[\"']?)([^\s\"',;&}]+)"),
    re.compile(r"(?i)(key=)([^\s\"',;&#]+)"),
    re.compile(r"()(\bsk-[A-Za-z0-9_\-]{4,})"),
)
_MASK_MARK = "…"  # mask_key's output contains it; an already masked value is left alone


def _mask_value(match: re.Match[str]) -> str:
    prefix, value = match.group(1), match.group(2)
    if _MASK_MARK in value or value.startswith("#"):
        return match.group(0)
    return prefix + mask_key(value)


def mask_secrets(text: str) -> str:
    """``text`` with everything that looks like an API key masked (idempotent)."""
    if not text:
        return text
    for pattern in _PATTERNS:
        text = pattern.sub(_mask_value, text)
    return text


class KeyMaskFilter(logging.Filter):
    """Masks API keys in a record's message and traceback; never drops a record."""

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except Exception:  # a broken format string: leave it for the handler to report
            return True
        masked = mask_secrets(message)
        if masked != message or record.args:
            record.msg, record.args = masked, None
        if record.exc_info and not record.exc_text:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = mask_secrets(record.exc_text)
        if record.stack_info:
            record.stack_info = mask_secrets(record.stack_info)
        return True


def _add(target: logging.Filterer, mask: KeyMaskFilter) -> None:
    if not any(isinstance(existing, KeyMaskFilter) for existing in target.filters):
        target.addFilter(mask)


def install(names: Iterable[str] = LOGGERS) -> KeyMaskFilter:
    """Mask keys on the named loggers, every existing logger below them, and all their handlers.

    Idempotent; call it again after something (uvicorn's config) replaces handlers.
    """
    mask = KeyMaskFilter()
    roots = list(names)
    existing = [name for name in logging.Logger.manager.loggerDict
                if any(name.startswith(root + ".") for root in roots if root)]
    for name in [*roots, *existing]:
        logger = logging.getLogger(name or None)
        _add(logger, mask)
        for handler in logger.handlers:
            _add(handler, mask)
    return mask
