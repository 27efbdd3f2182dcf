"""State shared by several server processes through Redis (``--store redis://host:port/db``).

:class:`SharedState` connects once at start-up (a clear :class:`~mockserver.core.store.StoreUnavailable` if
Redis does not answer) and gives the runtime its pieces: the :class:`~.store.RedisStore` (records, retention,
atomic balances, sliding windows and slots), the clock's shared anchor, and the shared id sequences.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable

from mockserver.core.clock import Anchor
from mockserver.core.shared_store.clock import ClockListener, RedisAnchor
from mockserver.core.shared_store.connection import GONE, connect
from mockserver.core.shared_store.store import RedisStore
from mockserver.core.shared_store.tracking import TrackedReads
from mockserver.core.store import Retention

__all__ = ["SharedState"]

PREFIX = "mockserver:"


class SharedState:
    """One connection to the shared store and what the runtime builds from it."""

    def __init__(self, url: str, prefix: str = PREFIX) -> None:
        self.url, self.prefix = url, prefix
        self.client = connect(url)
        #: the store's and the clock's client: short commands over one connection, no pool on the hot path
        self.hot = connect(url, single=True)
        self._listener: ClockListener | None = None
        self._anchors: list[RedisAnchor] = []
        #: what the store's reads over ``hot`` keep, while Redis tracks them (one per connection)
        self.tracked = TrackedReads(self.hot)

    def store(self, retention: Retention, now: Callable[[], float]) -> RedisStore:
        return RedisStore(self.hot, retention, now=now, prefix=self.prefix, tracked=self.tracked)

    def anchor(self, initial: Anchor) -> RedisAnchor:
        """The clock's cell (for ``Clock(cell=...)``): the running shared clock, or ``initial`` if none runs."""
        anchor = RedisAnchor(self.hot, self.prefix, initial)
        self._anchors.append(anchor)
        return anchor

    def listen(self, notify: Callable[[], None]) -> None:
        """Call ``notify`` (the clock's) whenever any process changes the shared clock."""
        if self._listener is None:
            self._listener = ClockListener(self.client, self.prefix, lambda: self._changed(notify))

    def _changed(self, notify: Callable[[], None]) -> None:
        for anchor in self._anchors:
            anchor.stale()
        notify()

    def settle(self) -> None:
        """Return once every process on the store can see this process's changes so far.

        Redis writes what a change announces (a subscription's message, a tracked record's invalidation) in the
        same turn of its event loop as its reply to the change, sometimes just after it; a command answered after
        that reply comes in a later turn. So one round trip here, before a change's answer goes out, means a
        client that has the answer finds the change announced to every process. (An API request's journal entry,
        written before its last chunk, does the same for the changes an API request makes.)
        """
        with contextlib.suppress(*GONE):  # away: the change itself failed, there is nothing to settle
            self.hot.ping()

    def close(self) -> None:
        if self._listener is not None:
            self._listener.close()
            self._listener = None
        for anchor in self._anchors:
            anchor.close()
        self.tracked.close()
        self.hot.close()
        self.client.close()
