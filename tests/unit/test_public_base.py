"""``public_base``: worked out once per scheme, Host header, server and mount -- the same text as the URL form."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st
from starlette.requests import Request

from mockserver.core.asgi import public_base

hosts = st.none() | st.sampled_from([b"127.0.0.1:8000", b"example.com", b"[::1]:80", b"a/b", b"a?b#c", b"x:y"]) \
    | st.binary(max_size=12)
servers = st.none() | st.tuples(st.sampled_from(["127.0.0.1", "::1", "h"]), st.integers(1, 65535))


def from_url(request: Request) -> str:
    return str(request.url.replace(path=request.scope.get("root_path", ""), query="", fragment="")).rstrip("/")


@given(st.sampled_from(["http", "https"]), hosts, servers, st.sampled_from(["", "/skytells", "/a b"]),
       st.text(max_size=10), st.text(alphabet="ab=&?#/%", max_size=6))
def test_public_base_is_the_url_without_path_or_query(scheme: str, host: bytes | None,
                                                       server: tuple[str, int] | None, root: str, path: str,
                                                       query: str) -> None:
    scope = {"type": "http", "scheme": scheme, "server": server, "path": f"{root}/{path}", "root_path": root,
             "query_string": query.encode(), "headers": [(b"host", host)] if host is not None else []}
    assert public_base(Request(scope)) == from_url(Request(scope))
