"""Fair shares of the delivery slots: per receiver (scheme, host and port), per key, and server-wide.

A dead or hanging receiver -- or one key's many receivers -- cannot take every server-wide slot and
delay other keys' deliveries.
"""

from __future__ import annotations

import asyncio

import httpx


class Slots:
    """The semaphores an attempt takes, created in the running event loop."""

    def __init__(self, concurrency: int, receiver_concurrency: int, key_concurrency: int) -> None:
        self.receiver_concurrency = receiver_concurrency
        self.key_concurrency = key_concurrency
        self._server = asyncio.Semaphore(concurrency)
        self._by_receiver: dict[str, asyncio.Semaphore] = {}
        self._by_key: dict[str, asyncio.Semaphore] = {}

    def for_delivery(self, url: str, owner: str) -> tuple[asyncio.Semaphore, asyncio.Semaphore, asyncio.Semaphore]:
        """The receiver's, the key's and the server-wide slots, to be taken in that order."""
        parsed = httpx.URL(url)
        receiver = f"{parsed.scheme}://{parsed.host}:{parsed.port or ''}"
        by_receiver = self._by_receiver.setdefault(receiver, asyncio.Semaphore(self.receiver_concurrency))
        by_key = self._by_key.setdefault(owner, asyncio.Semaphore(self.key_concurrency))
        return by_receiver, by_key, self._server
