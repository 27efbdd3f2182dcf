"""Compact job records: fields at their default are left out of the stored dict.

A prediction record has 19 fields, most of them at a default (not cancelled, no error, no webhook, ...). A dict
of more than ten keys takes 464 bytes, of up to ten 272, so leaving the defaults out saves ~190 bytes on every
stored job. :class:`CompactRecord` is still a dict (JSON-compatible, ``orjson`` encodes it as one); reading a
left-out field gives its default, with ``[]`` and ``.get`` alike. An in-memory store keeps the compact dict
itself; a store that keeps JSON (shared by several processes) is given :meth:`CompactRecord.full`, so what it
reads back is a complete plain record, and the readers (which use ``[]`` and ``.get``) cannot tell the two apart.
"""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType
from typing import Any, ClassVar

_ABSENT = object()


def _is_default(defaults: Mapping[str, Any], key: str, value: Any) -> bool:
    default = defaults.get(key, _ABSENT)
    # same type too: 0 is not the default False, nor 1.0 the default True
    return default is not _ABSENT and (value is default or (type(value) is type(default) and value == default))


class CompactRecord(dict):  # type: ignore[type-arg]
    """A job record without its fields at their default (``DEFAULTS``, set by each subclass -- a module-level
    class with ``__slots__ = ()``, so records stay dict-sized and pickle)."""

    __slots__ = ()
    DEFAULTS: ClassVar[Mapping[str, Any]] = MappingProxyType({})

    def __missing__(self, key: str) -> Any:
        try:
            return self.DEFAULTS[key]
        except KeyError:
            raise KeyError(key) from None

    def get(self, key: str, default: Any = None) -> Any:  # type: ignore[override]
        value = dict.get(self, key, _ABSENT)
        if value is _ABSENT:
            return self.DEFAULTS.get(key, default)
        return value

    @classmethod
    def compact(cls, record: Mapping[str, Any]) -> CompactRecord:
        """``record`` without the fields at their default."""
        defaults = cls.DEFAULTS
        return cls({key: value for key, value in record.items() if not _is_default(defaults, key, value)})

    def set_unless_default(self, fields: Mapping[str, Any]) -> None:
        """Set those of ``fields`` that are not at their default (a new record's optional fields)."""
        defaults = self.DEFAULTS
        for key, value in fields.items():  # _is_default inlined: a create sets seven fields this way
            default = defaults.get(key, _ABSENT)
            if default is _ABSENT or not (value is default or (type(value) is type(default) and value == default)):
                self[key] = value

    def full(self) -> dict[str, Any]:
        """A plain dict with every field (the defaults filled in)."""
        return {**self.DEFAULTS, **self}

    def replaced(self, **changes: Any) -> CompactRecord:
        """A copy with ``changes`` applied (still compact)."""
        return self.compact({**self, **changes})

