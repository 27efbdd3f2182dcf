"""The one error of the JSON-Schema instance generator: a schema no instance can be generated for."""

from __future__ import annotations


class SchemaProblem(Exception):
    """A schema no instance can be generated for.

    ``path`` is a JSON-pointer-ish location inside the schema without the leading slash
    (``"properties/city/type"``; ``""`` is the schema itself); ``message`` is human text.
    """

    def __init__(self, path: str, message: str) -> None:
        super().__init__(f"{path or '(root)'}: {message}")
        self.path = path
        self.message = message


def join(path: str, *parts: object) -> str:
    """``path`` extended by ``parts`` (pointer escaping of ``~`` and ``/`` applied)."""
    escaped = [str(p).replace("~", "~0").replace("/", "~1") for p in parts]
    return "/".join([path, *escaped]) if path else "/".join(escaped)
