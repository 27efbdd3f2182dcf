"""The facts of one API request, computed once and shared by the journal, the rules, the faults and the handlers.

:func:`facts_of` makes them on first use and keeps them in ``scope["state"]`` (every later layer reads the same
object): the API, method, path below any mount, the API key (one rule: :func:`api_key_in`, with the vendor's
``?key=`` paths), and -- filled in by the rule pipeline at the matched route -- the route template, the body
bytes read ahead, the body parsed once as JSON, the model and prompt rules match on, and the rules' selection.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qsl

from starlette.types import Scope

from mockserver.core.bodies import BodyError, parse_json

if TYPE_CHECKING:  # the rules read these facts
    from mockserver.core.rules.select import Selection

#: Where the facts ride in ``scope["state"]``.
STATE_KEY = "mock_request"
#: Which paths take the API key as ``?key=`` (a vendor's rule; by default none).
QueryKeyRule = Callable[[str], bool]


def path_below_mount(scope: Scope) -> str:
    """The request path below any mount prefix (``/<mount>/v1/models`` -> ``/v1/models``)."""
    path: str = scope.get("path", "")
    root = scope.get("root_path", "")
    return path[len(root):] if root and path.startswith(root) else path


def no_query_key(path: str) -> bool:
    """The default rule: no path takes the key as ``?key=``."""
    return False


def api_key_in(headers: Mapping[str, str], query_key: str | None = None) -> str | None:
    """The API key a request presents: ``x-api-key``, else ``Authorization: Bearer``, else ``query_key``.

    ``headers`` is looked up by lower-case name (Starlette's ``Headers`` or a lower-cased dict).
    """
    return key_from(headers.get("x-api-key"), headers.get("authorization"), query_key)


def key_from(api_key: str | None, authorization: str | None, query_key: str | None = None) -> str | None:
    """The key of :func:`api_key_in` from the ``x-api-key`` and ``Authorization`` values (None: absent)."""
    key = (api_key or "").strip()
    if key:
        return key
    scheme, _, token = (authorization or "").partition(" ")
    if scheme.lower() == "bearer" and token.strip():
        return token.strip()
    return query_key.strip() if query_key and query_key.strip() else None


#: Where :func:`header_index` keeps its index in the scope, and the size of the request's head beside it.
HEADERS_KEY = "mockserver.headers"
HEAD_SIZE_KEY = "mockserver.head_size"


def header_index(scope: Scope) -> dict[bytes, bytes]:
    """The request's headers by lower-case name (the first value of each), made once per request.

    Several layers look headers up (CORS, the key, the scenario, the host, the body limits); one pass over them
    serves all, and measures the head for :func:`head_size` on the way.
    """
    index: dict[bytes, bytes] | None = scope.get(HEADERS_KEY)
    if index is None:
        index = {}
        size = len(scope.get("raw_path") or b"")
        for name, value in scope.get("headers", ()):
            index.setdefault(name.lower(), value)
            size += len(name) + len(value) + 4
        scope[HEADERS_KEY] = index
        scope[HEAD_SIZE_KEY] = size
    return index


def head_size(scope: Scope) -> int:
    """The size of the request line's target and headers (as ``name: value\\r\\n`` lines)."""
    header_index(scope)
    size: int = scope[HEAD_SIZE_KEY]
    return size


class ScopeHeaders:
    """Lower-case header lookup on an ASGI scope (the first value of a name)."""

    def __init__(self, scope: Scope) -> None:
        self.scope = scope

    def get(self, name: str, default: str | None = None) -> str | None:
        value = header_index(self.scope).get(name.encode())
        return default if value is None else value.decode("latin-1")


def request_key(scope: Scope, takes_query_key: QueryKeyRule = no_query_key) -> str | None:
    """The one rule for a request's API key: headers first, then ``?key=`` where ``takes_query_key(path)``
    (:func:`key_from`; a non-blank ``x-api-key`` is taken at once, as it wins over the rest)."""
    index = header_index(scope)
    api_key = index.get(b"x-api-key")
    if api_key is not None:
        key = api_key.decode("latin-1").strip()
        if key:
            return key
    query_key = None
    if takes_query_key is not no_query_key and takes_query_key(path_below_mount(scope)):
        pairs = parse_qsl(scope.get("query_string", b"").decode("latin-1"), keep_blank_values=True)
        query_key = next((value for name, value in pairs if name == "key"), None)
    authorization = index.get(b"authorization")
    return key_from(None, None if authorization is None else authorization.decode("latin-1"), query_key)


_UNPARSED = object()


@dataclass(eq=False)
class RequestFacts:
    """What one request is, as every layer sees it (and what rules match on)."""

    api: str
    method: str
    path: str  # below any mount prefix, e.g. "/v1/predictions"
    route: str | None = None  # the route template, e.g. "/v1/predictions/{id}"
    key: str | None = None
    model: str | None = None
    prompt: str | None = None
    body: bytes | None = None  # the body when it was read ahead (complete and within the limit)
    selection: Selection | None = None  # what the rules chose for this request, once chosen
    _json: Any = _UNPARSED
    _json_depth: int | None = None

    def json(self, max_depth: int) -> Any:
        """The read-ahead body parsed as strict JSON (once per depth); None when there is none or it is not JSON."""
        if self._json is _UNPARSED or self._json_depth != max_depth:
            self._json, self._json_depth = None, max_depth
            if self.body and self.body.strip():
                try:
                    self._json = parse_json(self.body, max_depth)
                except BodyError:
                    self._json = None
        return self._json


def facts_of(scope: Scope, api: str = "", takes_query_key: QueryKeyRule = no_query_key,
             path: str | None = None) -> RequestFacts:
    """This request's facts: made (key included) by the first layer that asks, then shared (``path``: the path
    below the mount, when the caller has it)."""
    state = scope.setdefault("state", {})
    facts = state.get(STATE_KEY)
    if facts is None:
        facts = RequestFacts(api, scope.get("method", "GET").upper(), path_below_mount(scope) if path is None else path,
                             None, request_key(scope, takes_query_key))
        state[STATE_KEY] = facts
    return facts


def known_facts(scope: Scope) -> RequestFacts | None:
    """The facts if some layer made them (None outside the API apps, e.g. in a unit test)."""
    state = scope.get("state")
    return state.get(STATE_KEY) if state else None


def key_of(scope: Scope) -> str | None:
    """A request's API key: its facts' when a layer made them already, else :func:`request_key`'s (headers only)."""
    facts = known_facts(scope)
    return facts.key if facts is not None else request_key(scope)
