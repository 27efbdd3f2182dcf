"""A clone needs nothing beside it: no tracked file reads the API docs from a sibling ``shared`` folder.

The facts the tests need from the docs live in ``tests/data/`` (``scripts/extract_doc_examples.py``
regenerates them from a docs folder given on its command line).
"""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
SUFFIXES = {".py", ".sh", ".toml", ".cfg", ".ini", ".yaml", ".yml", ".mjs", ".json"}
NAME = "sha" + "red"  # spelled in two parts so this file does not match itself
PATTERNS = [re.compile(r"\.\./" + NAME), re.compile("/" + NAME + "/"), re.compile(r"""["']""" + NAME + r"""["']""")]


def tracked_files() -> list[Path]:
    """Files git tracks (every file under the root when this is not a git checkout, e.g. an sdist)."""
    try:
        names = subprocess.run(["git", "ls-files"], cwd=ROOT, capture_output=True, text=True, check=True).stdout
        paths = [ROOT / name for name in names.splitlines()]
    except (OSError, subprocess.CalledProcessError):
        paths = [p for p in ROOT.rglob("*") if ".venv" not in p.parts and ".git" not in p.parts]
    return [p for p in paths if p.is_file() and (p.suffix in SUFFIXES or p.parent.name == "scripts"
                                                 or p.name == "Dockerfile")]


def test_no_tracked_file_reads_the_docs_beside_the_clone() -> None:
    offenders = []
    for path in tracked_files():
        for number, line in enumerate(path.read_text(encoding="utf-8", errors="replace").splitlines(), 1):
            if any(pattern.search(line) for pattern in PATTERNS):
                offenders.append(f"{path.relative_to(ROOT)}:{number}: {line.strip()[:100]}")
    assert not offenders, "\n".join(offenders)


def test_the_search_would_see_such_a_read() -> None:
    line = 'DOCS = Path(__file__).parents[2] / "' + NAME + '" / "api-docs"'
    assert any(pattern.search(line) for pattern in PATTERNS)
    assert any(pattern.search("open('../" + NAME + "/api-docs/x.md')") for pattern in PATTERNS)


def test_the_doc_examples_are_data_in_the_repository() -> None:
    from tests.doc_examples import DATA, json_objects

    assert DATA.is_relative_to(ROOT) and DATA.is_file()
    assert json_objects("skytells-predictions.txt")  # non-empty, read from tests/data
