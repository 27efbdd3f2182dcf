"""The request journal: every API request the mock answered, for tests and debugging.

Each request's :class:`~mockserver.core.exchange.Exchange` records it, outside the rule pipeline
(:mod:`mockserver.core.pipeline`), so the journal also sees injected errors, added latency and dropped
connections. For each API request (``/_mock…`` paths are the
mock's own and are not recorded) it keeps: method, path, query, the API, the key (masked; the raw key
is kept privately as the entry's *owner* so entries can be filtered and cleared per key), status,
real latency, the request id, request headers (auth masked), the first :data:`BODY_CAP` bytes of the
request and response bodies, the scripted rules that fired and, for server-sent events, the number of
events. A request answered with no response at all has status ``None`` and an ``error``.

Recording is cheap on the hot path: an entry keeps references -- the raw request and response headers, the
raw query string, the body chunks up to the cap -- and SSE events are counted line by line; headers are
decoded and masked, the query parsed, and bodies decoded (JSON, text, or a binary summary) only when an
entry is read. :class:`Journal` is a thread-safe ring buffer (oldest entries dropped). On a shared store the
journal is :class:`~mockserver.core.shared_store.journal.RedisJournal`, written at commit time, read the same way.
"""

from __future__ import annotations

import fnmatch
import re
import threading
from collections import deque
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any, ClassVar
from urllib.parse import parse_qsl

from mockserver.core.accounts import mask_key
from mockserver.core.bodies import BodyError, parse_json
from mockserver.core.clock import isoformat

DEFAULT_SIZE = 5000
BODY_CAP = 16 * 1024
#: Request headers whose values are credentials (masked in the journal).
SECRET_HEADERS = frozenset({"authorization", "x-api-key", "x-mock-admin-token", "cookie", "proxy-authorization"})
_TEXT_MEDIA = re.compile(r"^(text/.*|application/(json|.*\+json|xml|.*\+xml|x-www-form-urlencoded|x-ndjson|"
                         r"javascript|problem\+json))$")
_STATUS = re.compile(r"^([1-5])(\d\d|xx)$")


# -- capturing -------------------------------------------------------------------------------------


class BodyCapture:
    """The first ``cap`` bytes of a body as it streams, and its total size.

    Chunks are kept by reference (``bytes`` do not change) and joined only when :attr:`head` is read, so
    recording a response costs no copy on the request's path; a body of one chunk (most) keeps just that chunk.
    """

    __slots__ = ("cap", "first", "kept", "rest", "size")

    def __init__(self, cap: int = BODY_CAP) -> None:
        self.cap = cap
        self.first = b""  # the first chunk kept
        self.rest: list[bytes] | None = None  # the chunks kept after it, if any
        self.kept = 0
        self.size = 0

    def feed(self, chunk: bytes) -> None:
        if chunk:
            room = self.cap - self.kept
            if room > 0:
                piece = chunk if len(chunk) <= room else chunk[:room]
                if not isinstance(piece, bytes):
                    piece = bytes(piece)
                if not self.kept:
                    self.first = piece
                elif self.rest is None:
                    self.rest = [piece]
                else:
                    self.rest.append(piece)
                self.kept += len(piece)
            self.size += len(chunk)

    @property
    def head(self) -> bytes:
        """The captured bytes (at most ``cap``)."""
        if self.rest:
            self.first, self.rest = b"".join([self.first, *self.rest]), None
        return self.first

    @property
    def truncated(self) -> bool:
        return self.size > self.kept


class _NoBody(BodyCapture):
    """The request body of a request that sent none: shared, never fed (a request's capture is made when a body
    chunk arrives)."""

    __slots__ = ()

    def feed(self, chunk: bytes) -> None:
        raise TypeError("the shared empty body capture is never fed")


#: What an entry's ``request_body`` is until the request sends a byte.
NO_BODY: BodyCapture = _NoBody(0)


class KeyMasker:
    """Replaces every known API key in a text by its masked form (one regex pass, longest key first)."""

    def __init__(self, keys: Iterable[str | None]) -> None:
        known = sorted({key for key in keys if key}, key=len, reverse=True)
        self._pattern = re.compile("|".join(map(re.escape, known))) if known else None

    def __call__(self, text: str) -> str:
        if self._pattern is None:
            return text
        return self._pattern.sub(lambda match: mask_key(match.group(0)), text)


def render_body(capture: BodyCapture, content_type: str | None, secret: str | KeyMasker | None = None) -> Any:
    """A captured body for the journal: strict JSON parsed, else text, else ``{"bytes", "content_type"}``.

    ``secret`` -- the request's raw key, or a :class:`KeyMasker` of every known key -- is replaced by its
    masked form wherever it appears. JSON that the APIs would refuse (NaN, a lone surrogate, too deep) is
    shown as text, so no stored body can break a later read of the journal.
    """
    if capture.size == 0:
        return None
    media = (content_type or "").split(";")[0].strip().lower()
    summary = {"bytes": capture.size, "content_type": content_type or None}
    if media and not _TEXT_MEDIA.match(media):
        return summary
    data = capture.head
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        if not (capture.truncated and exc.start >= len(data) - 3):  # not just a character cut by the cap
            return summary
        text = data[:exc.start].decode("utf-8")
    if isinstance(secret, KeyMasker):
        text = secret(text)
    elif secret and secret in text:
        text = text.replace(secret, mask_key(secret))
    if not capture.truncated and (media.endswith("json") or text.lstrip()[:1] in ("{", "[")):
        try:
            return parse_json(text.encode())
        except BodyError:
            pass
    return text


# -- entries ---------------------------------------------------------------------------------------


#: Headers as the ASGI messages carry them (kept raw, by reference, until an entry is read).
RawHeaders = Sequence[tuple[bytes, bytes]]


@dataclass(slots=True)
class Entry:
    """One journaled request. ``owner`` is the raw key (never shown); :meth:`as_json` is the public view.

    ``query``, ``request_headers`` and ``response_headers`` may be raw (the query string's bytes, the header
    pairs) as the middleware records them; they are rendered (parsed, masked) on first read. The id
    (``jr_<number>``) is rendered when read.
    """

    epoch: float
    api: str
    method: str
    path: str
    query: dict[str, str | list[str]] | bytes
    owner: str | None
    request_id: str | None
    request_headers: dict[str, str] | RawHeaders
    request_body: BodyCapture
    request_type: str | None
    status: int | None = None
    error: str | None = None
    latency_ms: float = 0.0
    response_headers: dict[str, str] | RawHeaders = field(default_factory=dict)
    response_body: BodyCapture = field(default_factory=BodyCapture)
    events: int | None = None
    rule_ids: tuple[str, ...] = ()
    scenario: str | None = None
    number: int = 0  # the journal's sequence number: the id is ``jr_<number>``

    @property
    def id(self) -> str:
        return f"jr_{self.number}"

    def as_json(self, masker: KeyMasker | None = None) -> dict[str, Any]:
        """The public view; ``masker`` (default: this entry's own key) masks keys in the bodies."""
        secret: str | KeyMasker | None = masker or self.owner
        self._render_raw()
        assert isinstance(self.request_headers, dict) and isinstance(self.response_headers, dict)
        response_type = self.response_headers.get("content-type")
        return {
            "id": self.id,
            "time": isoformat(self.epoch),
            "epoch": self.epoch,
            "api": self.api,
            "method": self.method,
            "path": self.path,
            "query": self.query,
            "key": mask_key(self.owner) if self.owner else None,
            "status": self.status,
            "error": self.error,
            "latency_ms": round(self.latency_ms, 3),
            "request_id": self.request_id,
            "rules": list(self.rule_ids),
            "scenario": self.scenario,
            "events": self.events,
            "request": {
                "headers": self.request_headers,
                "body": render_body(self.request_body, self.request_type, secret),
                "bytes": self.request_body.size,
                "truncated": self.request_body.truncated,
            },
            "response": {
                "headers": self.response_headers,
                "body": render_body(self.response_body, response_type, secret),
                "bytes": self.response_body.size,
                "truncated": self.response_body.truncated,
            },
        }

    def _render_raw(self) -> None:
        """Parse and mask what the middleware kept raw (once; each assignment is atomic)."""
        if not isinstance(self.request_headers, dict):
            headers = _headers(self.request_headers)
            self.request_type = headers.get("content-type")
            self.request_headers = {name: _mask_header(name, value) for name, value in headers.items()}
        if not isinstance(self.response_headers, dict):
            self.response_headers = _headers(self.response_headers)
        if not isinstance(self.query, dict):
            self.query = _query(parse_qsl(self.query.decode("latin-1"), keep_blank_values=True))


# -- filters ---------------------------------------------------------------------------------------


def parse_status(text: str) -> tuple[int, int]:
    """``"404"`` -> (404, 404); ``"4xx"`` -> (400, 499). ValueError otherwise."""
    match = _STATUS.match(text.strip().lower())
    if not match:
        raise ValueError(f"status must be a status code such as 404 or a class such as 4xx, got {text!r}")
    if match.group(2) == "xx":
        low = int(match.group(1)) * 100
        return low, low + 99
    code = int(text.strip())
    return code, code


@dataclass(frozen=True)
class Query:
    """Which entries to return; unset fields match everything."""

    api: str | None = None
    method: str | None = None
    path: str | None = None  # a glob on the path: "/v1/predictions*"
    status: tuple[int, int] | None = None  # inclusive range, from parse_status
    key: str | None = None  # the raw key, matched against each entry's owner
    since: float | None = None  # virtual epoch seconds, inclusive
    until: float | None = None
    rule: str | None = None
    limit: int | None = None
    newest_first: bool = True

    def matches(self, entry: Entry) -> bool:
        if self.api is not None and entry.api != self.api:
            return False
        if self.method is not None and entry.method != self.method.upper():
            return False
        if self.path is not None and not fnmatch.fnmatchcase(entry.path, self.path):
            return False
        if self.status is not None and (entry.status is None or not self.status[0] <= entry.status <= self.status[1]):
            return False
        if self.key is not None and entry.owner != self.key:
            return False
        if self.since is not None and entry.epoch < self.since:
            return False
        if self.until is not None and entry.epoch > self.until:
            return False
        return self.rule is None or self.rule in entry.rule_ids


def entry_number(entry_id: str) -> int | None:
    """N of an entry id ``jr_N`` as the journal writes it (None for anything else)."""
    digits = entry_id.removeprefix("jr_")
    if entry_id.startswith("jr_") and digits.isascii() and digits.isdigit() and digits == str(int(digits)):
        return int(digits)
    return None


class Journal:
    """A bounded, thread-safe log of requests; the oldest entries are dropped beyond ``size``."""

    def __init__(self, size: int = DEFAULT_SIZE, body_cap: int = BODY_CAP) -> None:
        self.size = size
        self.body_cap = body_cap
        self._entries: deque[Entry] = deque(maxlen=size)
        self._lock = threading.Lock()
        self._seq = 0

    #: Whether :meth:`add_soon` gathers entries to write them together (a shared journal: one round trip for all
    #: the requests that end in one turn of the event loop); this process's journal adds at once.
    batched: ClassVar[bool] = False

    async def add_soon(self, entry: Entry) -> Entry:
        """:meth:`add`, awaited (a batched journal writes ``entry`` with the others of this turn of the loop)."""
        return self.add(entry)

    def add(self, entry: Entry) -> Entry:
        """Record ``entry``, giving it the next id (``jr_1``, ``jr_2``, …)."""
        with self._lock:
            self._seq += 1
            entry.number = self._seq
            self._entries.append(entry)
        return entry

    def _snapshot(self) -> list[Entry]:
        with self._lock:
            return list(self._entries)

    def find(self, query: Query = Query()) -> list[Entry]:
        """Matching entries, newest first unless ``query.newest_first`` is False; at most ``query.limit``."""
        entries: Iterable[Entry] = self._snapshot()
        if query.newest_first:
            entries = reversed(entries)  # type: ignore[call-overload]
        found: list[Entry] = []
        for entry in entries:
            if query.matches(entry):
                found.append(entry)
                if query.limit is not None and len(found) >= query.limit:
                    break
        return found

    def count(self, query: Query = Query()) -> int:
        return sum(1 for entry in self._snapshot() if query.matches(entry))

    def get(self, entry_id: str) -> Entry | None:
        """An entry by its id, or by the request id it carried (``req_…``)."""
        number = entry_number(entry_id)
        for entry in reversed(self._snapshot()):
            if entry.number == number or entry.request_id == entry_id:
                return entry
        return None

    def clear(self, owner: str | None = None) -> int:
        """Forget every entry (or one key's); returns how many were dropped. Ids restart after a full clear."""
        with self._lock:
            before = len(self._entries)
            if owner is None:
                self._entries.clear()
                self._seq = 0
            else:
                kept = [entry for entry in self._entries if entry.owner != owner]
                self._entries = deque(kept, maxlen=self.size)
            return before - len(self._entries)

    def forget_local(self) -> None:
        """Forget what this process holds after another process reset the shared state: here, everything."""
        self.clear()

    def __len__(self) -> int:
        with self._lock:
            return len(self._entries)

    def owners(self) -> set[str]:
        """Every key that made a journaled request (they stay masked even after the key is deleted)."""
        return {entry.owner for entry in self._snapshot() if entry.owner}


# -- rendering --------------------------------------------------------------------------------


def _headers(raw: Iterable[tuple[bytes, bytes]]) -> dict[str, str]:
    out: dict[str, str] = {}
    for name, value in raw:
        key, text = name.decode("latin-1").lower(), value.decode("latin-1")
        out[key] = f"{out[key]}, {text}" if key in out else text
    return out


def _mask_header(name: str, value: str) -> str:
    if name not in SECRET_HEADERS:
        return value
    scheme, _, token = value.partition(" ")
    if token.strip() and name in ("authorization", "proxy-authorization"):
        return f"{scheme} {mask_key(token.strip())}"
    return mask_key(value.strip())


def _query(pairs: list[tuple[str, str]]) -> dict[str, str | list[str]]:
    out: dict[str, str | list[str]] = {}
    for name, value in pairs:
        if "key" in name.lower() and value:
            value = mask_key(value)
        if name in out:
            previous = out[name]
            out[name] = [*previous, value] if isinstance(previous, list) else [previous, value]
        else:
            out[name] = value
    return out
