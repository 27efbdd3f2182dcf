"""The hook by which a request's journal entry is recorded before its connection is dropped.

:class:`mockserver.core.exchange.Exchange` records an entry when the response's last chunk is sent;
a fault that drops the connection instead (:func:`mockserver.core.rules.faults.drop`) calls
:func:`commit_journal` first, so a client that sees the reset already finds the request in the journal.
A module of its own because the faults sit below the journal in the import graph.
"""

from __future__ import annotations

from collections.abc import Callable

from starlette.types import Scope

#: Where a request's commit callback rides in ``scope["state"]`` (called with the exception, if any).
COMMIT_STATE = "journal_commit"
Commit = Callable[[BaseException | None], None]


def set_commit(scope: Scope, commit: Commit) -> None:
    scope.setdefault("state", {})[COMMIT_STATE] = commit


def commit_journal(scope: Scope) -> None:
    """Record this request's journal entry now, as it stands (no-op outside the journal)."""
    commit: Commit | None = scope.get("state", {}).get(COMMIT_STATE)
    if commit is not None:
        commit(None)
