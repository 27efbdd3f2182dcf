"""A compiled fast path in front of a jsonschema validator: conforming instances pass in microseconds.

Request bodies are checked on every create (the contract's shape, the model's ``input_schema``), and the pure
Python ``jsonschema`` validator spends most of its time resolving ``$ref``\\s. :class:`CheckedValidator` first
asks ``jsonschema-rs`` (a Rust validator, already installed with schemathesis) whether the instance conforms;
only a refused instance goes through the Python validator, so every error -- its message, path and order -- is
exactly what the Python validator reports.

The fast verdict must never be looser than the Python one, so the schema is rewritten before compiling:

- ``format``: only the formats of the Python validator's :class:`~jsonschema.FormatChecker` are checked, by the
  very same Python functions (renamed ``mockserver:<format>``, so no built-in Rust format applies); formats the
  checker does not know are ignored, as the Python validator ignores them.
- ``pattern``: checked by a Python ``re.search`` (as ``jsonschema`` does), through a format of its own, since
  Rust's regex dialect differs (``\\s``, ``$`` before a final newline).

Anything the rewrite does not cover (``patternProperties``, ``propertyNames``, a format function that refuses a
non-string) leaves the validator on the Python path alone.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from typing import Any

import jsonschema_rs
from jsonschema import FormatChecker
from jsonschema.exceptions import ValidationError
from jsonschema.protocols import Validator

#: Keywords whose value is one schema, a list of schemas, or a name -> schema map (JSON Schema 2020-12).
_ONE = ("additionalProperties", "items", "contains", "not", "if", "then", "else", "unevaluatedItems",
        "unevaluatedProperties", "additionalItems")
_MANY = ("allOf", "anyOf", "oneOf", "prefixItems")
_MAP = ("properties", "$defs", "definitions", "dependentSchemas")
#: Keywords whose regexes or names the rewrite does not translate.
_UNSUPPORTED = ("patternProperties", "propertyNames", "$dynamicRef", "$recursiveRef")
_NON_STRINGS: tuple[Any, ...] = (None, True, 0, 1.5, [], {})


class Unsupported(ValueError):
    """The schema uses something the fast path cannot check exactly as the Python validator does."""


class _Rewrite:
    """Rewrites schemas for jsonschema-rs and collects the Python functions their formats name."""

    def __init__(self, checker: FormatChecker | None) -> None:
        self.checker = checker
        self.formats: dict[str, Callable[[str], bool]] = {}
        if checker is not None:
            for name in checker.checkers:
                if not all(checker.conforms(value, name) for value in _NON_STRINGS):
                    raise Unsupported(f"format {name!r} refuses non-strings; jsonschema-rs checks strings only")

    def _format(self, name: str) -> str | None:
        if self.checker is None or name not in self.checker.checkers:
            return None
        renamed = f"mockserver:{name}"
        checker = self.checker
        self.formats.setdefault(renamed, lambda value: checker.conforms(value, name))
        return renamed

    def _pattern(self, pattern: str) -> str:
        renamed = f"mockserver-pattern:{pattern}"
        if renamed not in self.formats:
            compiled = re.compile(pattern)
            self.formats[renamed] = lambda value: compiled.search(value) is not None
        return renamed

    def schema(self, node: Any) -> Any:
        """One schema (a dict or a boolean), rewritten."""
        if not isinstance(node, dict):
            return node
        out: dict[str, Any] = {}
        extra: list[dict[str, Any]] = []
        for key, value in node.items():
            if key in _UNSUPPORTED:
                raise Unsupported(key)
            if key == "format":
                renamed = self._format(value) if isinstance(value, str) else None
                if renamed is not None:
                    extra.append({"format": renamed})
            elif key == "pattern" and isinstance(value, str):
                extra.append({"format": self._pattern(value)})
            elif key in _ONE:
                out[key] = self.schema(value)
            elif key in _MANY and isinstance(value, list):
                out[key] = [self.schema(item) for item in value]
            elif key in _MAP and isinstance(value, dict):
                out[key] = {name: self.schema(item) for name, item in value.items()}
            else:
                out[key] = value  # data (enum, const, default, ...) or a keyword without subschemas
        if extra:
            out["allOf"] = [*out.get("allOf", []), *extra]
        return out

    def document(self, node: Any) -> Any:
        """An OpenAPI document: every ``schema`` value and every ``schemas`` map rewritten as schemas."""
        if isinstance(node, list):
            return [self.document(item) for item in node]
        if not isinstance(node, dict):
            return node
        out: dict[str, Any] = {}
        for key, value in node.items():
            if key == "schema":
                out[key] = self.schema(value)
            elif key == "schemas" and isinstance(value, dict):
                out[key] = {name: self.schema(item) for name, item in value.items()}
            else:
                out[key] = self.document(value)
        return out


class CompiledDocument:
    """An OpenAPI document rewritten once for jsonschema-rs; compiles fast checks of its schemas by pointer."""

    def __init__(self, uri: str, doc: dict[str, Any], checker: FormatChecker | None) -> None:
        self.uri = uri
        self.rewrite = _Rewrite(checker)
        self.registry = jsonschema_rs.Registry([(uri, self.rewrite.document(doc))], draft=jsonschema_rs.Draft202012)

    def check(self, pointer: str) -> Any:
        """A jsonschema-rs validator of ``#<pointer>`` (raises when it cannot be compiled)."""
        return jsonschema_rs.Draft202012Validator({"$ref": f"{self.uri}#{pointer}"}, registry=self.registry,
                                                  formats=self.rewrite.formats, validate_formats=True)


def compile_schema(schema: Any, checker: FormatChecker | None) -> Any:
    """A jsonschema-rs validator agreeing with ``Draft202012Validator(schema, format_checker=checker)`` on
    every instance it accepts (raises :class:`Unsupported` or jsonschema-rs' error when it cannot)."""
    rewrite = _Rewrite(checker)
    rewritten = rewrite.schema(schema)
    return jsonschema_rs.Draft202012Validator(rewritten, formats=rewrite.formats, validate_formats=True)


class CheckedValidator:
    """A Python ``jsonschema`` validator with a compiled yes/no in front (see the module docstring).

    ``iter_errors`` and ``is_valid`` answer exactly as the Python validator does; every other attribute is the
    Python validator's own.
    """

    def __init__(self, slow: Validator, fast: Any | None) -> None:
        self.slow = slow
        self.fast = fast

    def _passes(self, instance: Any) -> bool:
        if self.fast is None:
            return False
        try:
            return bool(self.fast.is_valid(instance))
        except Exception:  # e.g. a lone surrogate jsonschema-rs cannot take: the slow path decides
            return False

    def iter_errors(self, instance: Any) -> Iterator[ValidationError]:
        if self._passes(instance):
            return iter(())
        return self.slow.iter_errors(instance)

    def is_valid(self, instance: Any) -> bool:
        return self._passes(instance) or self.slow.is_valid(instance)

    def __getattr__(self, name: str) -> Any:
        return getattr(self.slow, name)


def checked(slow: Validator, compile_fast: Callable[[], Any]) -> CheckedValidator:
    """``slow`` behind the fast check ``compile_fast()`` builds; on the Python path alone if that fails."""
    try:
        fast = compile_fast()
    except Exception:  # Unsupported, or a schema jsonschema-rs refuses: no fast path
        fast = None
    return CheckedValidator(slow, fast)
