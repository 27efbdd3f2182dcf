"""Only a vendor's HTTP edge speaks HTTP (issue 14), by an AST scan of every module of each vendor package:

* the domain raises domain errors (:mod:`mockserver.core.errors`, the job engine's, a vendor's own); only the
  modules of :data:`HTTP_EDGE` -- routes, the ``*_errors`` mappings, the error renderers and the body parsers at
  the boundary -- construct an :class:`~mockserver.core.errors.ApiError` (an HTTP status);
* only they see the request: no other module imports Starlette, reads ``query_params``, parses a query string or
  takes the client's base URL (:data:`HTTP_WORDS`); views get the URLs they print from the routes.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

from tests.architecture.test_import_graph import LAYERS, PACKAGE

#: The vendor packages (the vendors' layer).
VENDORS = tuple(sorted(LAYERS[2]))
#: The HTTP edge of each vendor (paths below ``mockserver/``): the only modules that construct an ``ApiError``.
HTTP_EDGE = frozenset({
    "skytells/routes.py",  # handlers, authentication, query parsing, links
    "skytells/errors.py",  # the two error formats, answers both APIs share
    "skytells/prediction_errors.py",  # the Predictions and Models APIs' answers to domain errors
    "skytells/prediction_body.py",  # POST /v1/predictions bodies against the contract
    "skytells/inference/routes.py",
    "skytells/inference/errors.py",  # the Inference API's answers to domain errors
    "gateai/routes.py",
    "gateai/errors.py",  # the error format
    "gateai/task_errors.py",  # GateAI's answers to domain errors
    "gateai/generate_body.py",  # /api/generate and /api/estimate bodies against the contract
})
#: Renderers that stream a response: they may use Starlette, never construct an ``ApiError``.
RENDERERS = frozenset({"skytells/inference/streaming.py"})
#: Names that read the request or the client's address: only the HTTP edge uses them.
HTTP_WORDS = frozenset({"query_params", "parse_qs", "parse_qsl", "urlencode", "public_base", "url_for", "base_url"})
HTTP_PACKAGES = ("starlette", "sse_starlette")


def vendor_modules() -> Iterator[tuple[str, ast.AST]]:
    """``(path below mockserver/, syntax tree)`` of every module of every vendor package."""
    for vendor in VENDORS:
        for path in sorted((PACKAGE / vendor).rglob("*.py")):
            yield path.relative_to(PACKAGE).as_posix(), ast.parse(path.read_text(encoding="utf-8"))


def api_errors_built(tree: ast.AST) -> list[int]:
    """Lines that call ``ApiError(...)`` (by name or as an attribute)."""
    return [node.lineno for node in ast.walk(tree) if isinstance(node, ast.Call)
            and ((isinstance(node.func, ast.Name) and node.func.id == "ApiError")
                 or (isinstance(node.func, ast.Attribute) and node.func.attr == "ApiError"))]


def http_uses(tree: ast.AST) -> list[str]:
    """What in ``tree`` touches HTTP: Starlette imports and :data:`HTTP_WORDS` (as names, attributes, imports)."""
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import | ast.ImportFrom):
            modules = [alias.name for alias in node.names] if isinstance(node, ast.Import) else [node.module or ""]
            found += [f"{node.lineno}: import {m}" for m in modules if m.split(".")[0] in HTTP_PACKAGES]
            found += [f"{node.lineno}: {a.name}" for a in node.names if a.name in HTTP_WORDS]
        elif isinstance(node, ast.Name) and node.id in HTTP_WORDS:
            found.append(f"{node.lineno}: {node.id}")
        elif isinstance(node, ast.Attribute) and node.attr in HTTP_WORDS:
            found.append(f"{node.lineno}: {node.attr}")
    return found


def test_only_the_http_edge_constructs_api_errors() -> None:
    found = [f"{path}:{line}" for path, tree in vendor_modules() if path not in HTTP_EDGE
             for line in api_errors_built(tree)]
    assert found == [], "raise a domain error (mockserver.core.errors) and map it in the vendor's *_errors module"


def test_only_the_http_edge_reads_the_request() -> None:
    found = [f"{path}:{use}" for path, tree in vendor_modules() if path not in HTTP_EDGE | RENDERERS
             for use in http_uses(tree)]
    assert found == [], "parse queries and build URLs in the routes; pass the domain values"


def test_the_allow_lists_name_existing_modules() -> None:
    assert VENDORS and all((PACKAGE / path).is_file() for path in HTTP_EDGE | RENDERERS)


def test_the_scans_see_what_they_must(tmp_path: Path) -> None:
    sample = tmp_path / "sample.py"
    sample.write_text("from starlette.requests import Request\nfrom mockserver.core import errors\n"
                      "def f(request):\n    page = request.query_params.get('page')\n"
                      "    raise errors.ApiError(400, 'X', page)\n", encoding="utf-8")
    tree = ast.parse(sample.read_text(encoding="utf-8"))
    assert api_errors_built(tree) == [5]
    assert http_uses(tree) == ["1: import starlette.requests", "4: query_params"]
    clean = ast.parse("from mockserver.core.errors import InvalidInput\nraise InvalidInput('page', 'bad')\n")
    assert api_errors_built(clean) == [] and http_uses(clean) == []
