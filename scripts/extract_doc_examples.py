"""Regenerate ``tests/data/doc_examples.json`` from the API docs: every JSON object each doc shows.

    python scripts/extract_doc_examples.py DOCS_DIR [--output tests/data/doc_examples.json]

For each doc file (``*.md``, ``*.txt``) the file holds the top-level JSON objects that parse, in document
order, twice: ``strict`` (as written) and ``lenient`` (trailing commas such as ``{"a": 1, }`` dropped first, a
slip some examples have). The tests read that file, never the docs, so a clone needs nothing beside it.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from pathlib import Path
from typing import Any

DEFAULT_OUTPUT = Path(__file__).resolve().parents[1] / "tests" / "data" / "doc_examples.json"


def _balanced_end(text: str, start: int) -> int:
    """Index of the ``}`` closing the object opened at ``start`` (strings respected), or -1."""
    depth, in_string, escaped = 0, False, False
    for index in range(start, len(text)):
        char = text[index]
        if in_string:
            if escaped:
                escaped = False
            elif char == "\\":
                escaped = True
            elif char == '"':
                in_string = False
        elif char == '"':
            in_string = True
        elif char == "{":
            depth += 1
        elif char == "}":
            depth -= 1
            if depth == 0:
                return index
    return -1


def json_objects(text: str, lenient: bool = False) -> list[dict[str, Any]]:
    """Every top-level non-empty JSON object in ``text`` that parses, in document order."""
    if lenient:
        text = re.sub(r",(\s*[}\]])", r"\1", text)
    found, index = [], 0
    while (index := text.find("{", index)) >= 0:
        end = _balanced_end(text, index)
        try:
            value = json.loads(text[index:end + 1]) if end > 0 else None
        except ValueError:
            value = None
        if isinstance(value, dict) and value:
            found.append(value)
            index = end + 1
        else:
            index += 1
    return found


def extract(docs: Path) -> dict[str, dict[str, list[dict[str, Any]]]]:
    """``{file name: {"strict": [...], "lenient": [...]}}`` for every doc file in ``docs``."""
    result = {}
    for path in sorted(p for p in docs.iterdir() if p.suffix in (".md", ".txt")):
        text = path.read_text(encoding="utf-8")
        result[path.name] = {"strict": json_objects(text), "lenient": json_objects(text, lenient=True)}
    return result


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("docs_dir", type=Path, help="the folder holding the API docs")
    parser.add_argument("--output", type=Path, default=DEFAULT_OUTPUT, help="where to write the JSON")
    args = parser.parse_args(argv)
    if not args.docs_dir.is_dir():
        print(f"extract_doc_examples: {args.docs_dir} is not a folder", file=sys.stderr)
        return 2
    data = extract(args.docs_dir)
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(json.dumps(data, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
    counts = ", ".join(f"{name}: {len(v['strict'])}/{len(v['lenient'])}" for name, v in data.items())
    print(f"wrote {args.output} ({counts})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
