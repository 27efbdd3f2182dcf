"""Client-supplied regular expressions (``match.prompt``), compiled with RE2: linear time by construction.

A pattern comes from any client (a control-plane rule, or an ``X-Mock-Scenario`` header), so Python's
backtracking ``re`` would let ``(a|aa)+$`` stall the event loop for seconds. RE2 (``google-re2``) has no
backtracking: a search is linear in the text (a 10 MB prompt: ~7 ms). Measured against the ``regex``
package with ``timeout=``: that one still spends its whole timeout on the event loop for each such
pattern and request (100 ms at ``timeout=0.1``), RE2 0.2 ms. The price: RE2 has no look-around and no
back-references; such a pattern is refused when the rule is made, with RE2's reason.
"""

from __future__ import annotations

from typing import Protocol

import re2

#: Refuse patterns whose compiled program would need more memory than this (RE2's own budget).
MAX_PROGRAM_BYTES = 8 << 20


class Pattern(Protocol):
    """What the mock uses of a compiled pattern."""

    pattern: str

    def search(self, text: str) -> object | None: ...


class PatternError(ValueError):
    """A pattern RE2 cannot compile (bad syntax, look-around, back-reference, too large)."""


def _options() -> re2.Options:
    options = re2.Options()
    options.log_errors = False  # a bad client pattern is the client's 400, not a line on the server's stderr
    options.max_mem = MAX_PROGRAM_BYTES
    return options


def compile_pattern(text: str) -> Pattern:
    """``text`` compiled with RE2 (Python ``re`` syntax minus look-around and back-references)."""
    try:
        return re2.compile(text, _options())
    except re2.error as exc:
        reason = exc.args[0].decode("utf-8", "replace") if exc.args and isinstance(exc.args[0], bytes) else str(exc)
        raise PatternError(reason) from None
