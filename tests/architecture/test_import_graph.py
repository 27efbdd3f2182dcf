"""The package's shape stays as designed (issue 14), by an AST scan of every module of ``mockserver``:

* the import graph between its top-level parts (``mockserver.core``, ``mockserver.admin``, ``mockserver.app``, …)
  has no cycle, and each part imports only the layers below it (:data:`LAYERS`);
* the core imports no vendor, admin, settings, assembly or harness module, and names no vendor in code;
* the control plane (``mockserver.admin``) imports no vendor package, and neither it nor the modules that put the
  server together (:data:`LOOP_OVER_VENDORS`) name a vendor in code: they loop over the registry;
* the harness reaches the server only over HTTP: it imports the spec and the control plane's HTTP client;
* no function is longer than :data:`MAX_FUNCTION_LINES` lines (:data:`LONG_FUNCTIONS` lists the ones still
  being split, by their owners' branches: the list only shrinks).

Imports inside functions count as much as top-level ones, and so do ``if TYPE_CHECKING:`` imports.
"""

from __future__ import annotations

import ast
import graphlib
from collections.abc import Iterator
from pathlib import Path

import pytest

from mockserver.core.vendor import REGISTRY

ROOT = Path(__file__).resolve().parents[2]
PACKAGE = ROOT / "mockserver"
MAX_FUNCTION_LINES = 60

#: Bottom to top: a part may import its own layer's modules only from itself, and any part of a lower layer.
LAYERS: tuple[frozenset[str], ...] = tuple(frozenset(layer) for layer in (
    {"spec"},  # contract documents, loading, validation, pricing facts
    {"core"},  # the neutral engine: runtime, store, clock, jobs, journal, rules, faults, media
    {"skytells", "gateai"},  # the vendors (each a plug-in: mockserver/<vendor>/vendor.py)
    {"vendors", "settings"},  # the installed vendors' list; settings (the server's + each vendor's section)
    {"admin"},  # the control plane (/_mock routes) and its HTTP client
    {"assembly"},  # a vendor's app: its routes, the core's middleware and the control plane
    {"app"},  # one runtime, every installed vendor's app
    {"server_granian"},  # granian's embedded server with uvicorn.Server's surface (serve --server granian)
    {"server"},  # uvicorn (or granian) listeners
    {"pytest_plugin", "cli"},  # entry points
))
#: The harness checks any base URL over HTTP: it stands beside the server, on the spec and the control client.
HARNESS_MAY_IMPORT = frozenset({"spec", "harness", "admin.client"})
#: What the core may never import.
ABOVE_CORE = ("admin", "settings", "vendors", "assembly", "app", "server", "server_granian", "cli", "harness",
              "pytest_plugin")
#: Modules above the vendors that reach them through the registry only (a folder: every module in it).
LOOP_OVER_VENDORS = ("admin", "app.py", "assembly.py", "server.py", "server_granian.py", "pytest_plugin.py")
#: Functions over the limit that are being split on other branches of issue 14 (path, qualified name): remove an
#: entry once its function is short. The test fails for an entry that no longer exceeds the limit.
LONG_FUNCTIONS: frozenset[tuple[str, str]] = frozenset()


def module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def is_module(name: str) -> bool:
    relative = Path(*name.split("."))
    return (ROOT / relative).with_suffix(".py").exists() or (ROOT / relative / "__init__.py").exists()


def imported(path: Path, module: str | None = None) -> Iterator[str]:
    """Every module ``path`` imports (``from a import b``: ``a.b`` when ``b`` is a module); relative imports are
    resolved from ``module`` (default: the module ``path`` is)."""
    module = module or module_name(path)
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            yield from (alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                parent = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join([*parent, *([node.module] if node.module else [])])
            for alias in node.names:
                yield f"{base}.{alias.name}" if is_module(f"{base}.{alias.name}") else base


def part(module: str) -> str | None:
    """``mockserver.core.store`` -> ``core``; None outside the package (and for the package root)."""
    names = module.split(".")
    return names[1] if names[0] == "mockserver" and len(names) > 1 else None


def edges() -> set[tuple[str, str, str]]:
    """``(importing part, imported part, importing file:imported module)`` for imports between parts."""
    found = set()
    for path in PACKAGE.rglob("*.py"):
        source = part(module_name(path))
        for target in imported(path):
            if target.split(".")[0] != "mockserver":
                continue
            assert part(target) is not None, f"{path.relative_to(ROOT)} imports the package root {target}"
            if part(target) != source:
                found.add((source, part(target), f"{path.relative_to(ROOT)}: {target}"))  # type: ignore[arg-type]
    return found


def layer_of(name: str) -> int:
    return next(index for index, layer in enumerate(LAYERS) if name in layer)


def layer_breaks(found: set[tuple[str, str, str]]) -> list[str]:
    """Imports that go sideways or upwards between the layers, or out of the harness' allowance."""
    broken = []
    for source, target, where in sorted(found):
        module = where.partition(": ")[2].removeprefix("mockserver.")
        if source == "harness":
            allowed = any(module == name or module.startswith(name + ".") for name in HARNESS_MAY_IMPORT)
        elif target == "harness":
            allowed = source == "cli"  # the ``check`` sub-command only
        else:
            allowed = layer_of(target) < layer_of(source)
        if not allowed:
            broken.append(f"{source} -> {target} ({where})")
    return broken


def test_every_part_of_the_package_has_a_layer() -> None:
    parts = {part(module_name(path)) for path in PACKAGE.rglob("*.py")} - {None, "harness"}
    assert parts == set().union(*LAYERS)


def test_the_parts_import_each_other_without_a_cycle() -> None:
    graph: dict[str, set[str]] = {}
    for source, target, _ in edges():
        graph.setdefault(source, set()).add(target)
    graphlib.TopologicalSorter(graph).prepare()  # raises CycleError naming the cycle


def test_each_part_imports_only_the_layers_below_it() -> None:
    assert layer_breaks(edges()) == []


def test_the_core_imports_nothing_above_it() -> None:
    forbidden = {*ABOVE_CORE, *REGISTRY.names()}
    assert [where for source, target, where in edges() if source == "core" and target in forbidden] == []


def _code_words(tree: ast.AST) -> Iterator[tuple[int, str]]:
    """Names, attributes, arguments, definitions and string constants (docstrings are documentation: skipped)."""
    docstrings = {id(node.body[0].value) for node in ast.walk(tree)
                  if isinstance(node, ast.Module | ast.ClassDef | ast.FunctionDef | ast.AsyncFunctionDef)
                  and node.body and isinstance(node.body[0], ast.Expr)
                  and isinstance(node.body[0].value, ast.Constant)}
    for node in ast.walk(tree):
        if isinstance(node, ast.Constant) and isinstance(node.value, str) and id(node) not in docstrings:
            yield node.lineno, node.value
        elif isinstance(node, ast.Name):
            yield node.lineno, node.id
        elif isinstance(node, ast.Attribute):
            yield node.lineno, node.attr
        elif isinstance(node, ast.arg):
            yield node.lineno, node.arg
        elif isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
            yield node.lineno, node.name


def vendor_mentions(folder: Path, vendors: tuple[str, ...]) -> list[str]:
    """Vendor names in the code of ``folder`` (a folder: every module in it; or one module)."""
    found = []
    for path in sorted(folder.rglob("*.py")) if folder.is_dir() else [folder]:
        for line, word in _code_words(ast.parse(path.read_text(encoding="utf-8"))):
            if any(vendor in word.lower() for vendor in vendors):
                found.append(f"{path.relative_to(folder if folder.is_dir() else folder.parent)}:{line}: {word!r}")
    return found


def test_the_core_names_no_vendor() -> None:
    assert REGISTRY.names()  # the scan looks for every installed vendor's name
    assert vendor_mentions(PACKAGE / "core", REGISTRY.names()) == []


def test_the_control_plane_imports_no_vendor() -> None:
    vendors = set(REGISTRY.names())
    assert vendors and [where for source, target, where in edges() if source == "admin" and target in vendors] == []


def test_the_control_plane_and_the_assembly_name_no_vendor() -> None:
    assert {name: vendor_mentions(PACKAGE / name, REGISTRY.names()) for name in LOOP_OVER_VENDORS} == {
        name: [] for name in LOOP_OVER_VENDORS}


def long_functions() -> dict[tuple[str, str], int]:
    """``{(path, qualified name): lines}`` of every function over the limit."""
    found: dict[tuple[str, str], int] = {}

    def visit(node: ast.AST, prefix: str, path: str) -> None:
        for child in ast.iter_child_nodes(node):
            if isinstance(child, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
                name = f"{prefix}{child.name}"
                if not isinstance(child, ast.ClassDef):
                    lines = (child.end_lineno or child.lineno) - child.lineno + 1
                    if lines > MAX_FUNCTION_LINES:
                        found[(path, name)] = lines
                visit(child, name + ".", path)

    for path in PACKAGE.rglob("*.py"):
        visit(ast.parse(path.read_text(encoding="utf-8")), "", str(path.relative_to(ROOT)))
    return found


def test_no_function_is_longer_than_the_limit() -> None:
    found = long_functions()
    assert {name: lines for name, lines in found.items() if name not in LONG_FUNCTIONS} == {}
    assert set(found) >= LONG_FUNCTIONS, f"split already, drop from LONG_FUNCTIONS: {LONG_FUNCTIONS - set(found)}"


# -- the scans themselves see what they must --------------------------------------------------------------------


def test_the_scan_sees_relative_function_level_and_type_checking_imports(tmp_path: Path) -> None:
    sample = tmp_path / "sample.py"
    sample.write_text("from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    from mockserver.admin import keys\n"
                      "def f():\n    from ..settings import Settings\n    from . import clock\n")
    names = set(imported(sample, module="mockserver.core.sample"))
    assert {"mockserver.admin.keys", "mockserver.settings", "mockserver.core.clock"} <= names
    assert {part(name) for name in names if name.startswith("mockserver")} == {"admin", "settings", "core"}


def test_a_layer_break_and_a_cycle_are_seen() -> None:
    assert layer_breaks({("core", "admin", "mockserver/core/x.py: mockserver.admin.routes")})
    assert layer_breaks({("harness", "skytells", "mockserver/harness/x.py: mockserver.skytells.catalog")})
    assert not layer_breaks({("harness", "admin", "mockserver/harness/x.py: mockserver.admin.client")})
    with pytest.raises(graphlib.CycleError):
        graphlib.TopologicalSorter({"core": {"admin"}, "admin": {"core"}}).prepare()


def test_a_vendor_name_in_code_is_seen_and_a_docstring_is_not(tmp_path: Path) -> None:
    (tmp_path / "sample.py").write_text('"""Skytells is documented here."""\nAPIS = ("skytells",)\n'
                                        'def f(gateai_key):\n    """GateAI too."""\n')
    found = vendor_mentions(tmp_path, ("skytells", "gateai"))
    assert sorted(found) == ["sample.py:2: 'skytells'", "sample.py:3: 'gateai_key'"]
    assert vendor_mentions(tmp_path / "sample.py", ("skytells",)) == ["sample.py:2: 'skytells'"]
