"""State shared by several server processes through Redis (``--store redis://host:port/db``).

:class:`SharedState` connects once at start-up (a clear :class:`~mockserver.core.store.StoreUnavailable` if
Redis does not answer) and gives the runtime its pieces: the :class:`~.store.RedisStore` (records, retention,
atomic balances, sliding windows and slots), the clock's shared anchor, and the shared id sequences.
"""

from __future__ import annotations

from collections.abc import Callable

from mockserver.core.clock import Anchor
from mockserver.core.shared_store.clock import ClockListener, RedisAnchor
from mockserver.core.shared_store.connection import connect
from mockserver.core.shared_store.store import RedisStore
from mockserver.core.store import Retention

__all__ = ["SharedState"]

PREFIX = "mockserver:"


class SharedState:
    """One connection to the shared store and what the runtime builds from it."""

    def __init__(self, url: str, prefix: str = PREFIX) -> None:
        self.url, self.prefix = url, prefix
        self.client = connect(url)
        self._listener: ClockListener | None = None

    def store(self, retention: Retention, now: Callable[[], float]) -> RedisStore:
        return RedisStore(self.client, retention, now=now, prefix=self.prefix)

    def anchor(self, initial: Anchor) -> RedisAnchor:
        """The clock's cell (for ``Clock(cell=...)``): the running shared clock, or ``initial`` if none runs."""
        return RedisAnchor(self.client, self.prefix, initial)

    def listen(self, notify: Callable[[], None]) -> None:
        """Call ``notify`` (the clock's) whenever any process changes the shared clock."""
        if self._listener is None:
            self._listener = ClockListener(self.client, self.prefix, notify)

    def close(self) -> None:
        if self._listener is not None:
            self._listener.close()
            self._listener = None
        self.client.close()
