"""The string formats the contracts assert (own checks: no optional jsonschema extras needed)."""

from __future__ import annotations

import json
import re
from datetime import date

from jsonschema import FormatChecker

FORMATS = FormatChecker(formats=())

_SCHEME = re.compile(r"^[A-Za-z][A-Za-z0-9+.\-]*:\S+$")
_DATE_TIME = re.compile(
    r"^(\d{4})-(\d{2})-(\d{2})[Tt](\d{2}):(\d{2}):(\d{2})(\.\d+)?([Zz]|[+-]\d{2}:\d{2})$")
_UUID = re.compile(r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$")


@FORMATS.checks("uri")
def is_uri(value: object) -> bool:
    """An absolute URI: a scheme, then no whitespace."""
    return not isinstance(value, str) or bool(_SCHEME.match(value))


@FORMATS.checks("date-time")
def is_date_time(value: object) -> bool:
    """RFC 3339 ``date-time`` (any number of fractional digits)."""
    if not isinstance(value, str):
        return True
    match = _DATE_TIME.match(value)
    if not match:
        return False
    year, month, day, hour, minute, second = (int(part) for part in match.groups()[:6])
    try:
        date(year, month, day)
    except ValueError:
        return False
    return hour < 24 and minute < 60 and second < 61


@FORMATS.checks("date")
def is_date(value: object) -> bool:
    if not isinstance(value, str):
        return True
    try:
        return date.fromisoformat(value).isoformat() == value
    except ValueError:
        return False


@FORMATS.checks("uuid")
def is_uuid(value: object) -> bool:
    return not isinstance(value, str) or bool(_UUID.match(value))


@FORMATS.checks("json")
def is_json(value: object) -> bool:
    """JSON text (tool-call arguments, structured replies): a string that parses as JSON."""
    if not isinstance(value, str):
        return True
    try:
        json.loads(value)
    except ValueError:
        return False
    return True
