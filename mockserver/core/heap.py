"""Collections of the young generations at a steady pace while a server process serves.

CPython starts a young collection when *allocations minus deallocations* of tracked objects pass a threshold. A
serving mock keeps that difference near zero while its young generation grows: each request adds a journal entry
and frees the one that falls out of the bounded journal (an old object), each create at a key's retention cap adds
a record and evicts one. So young collections came rarely and walked tens of thousands of objects, and the middle
generation's hundreds of thousands (5-12 ms and 50-92 ms of CPU, measured with gc callbacks under ``wrk`` once a
key's store was full). Collecting the two young generations every :data:`REQUESTS_PER_COLLECTION` requests keeps
each pass to what those requests left alive (3-7 ms of CPU measured the same way; an effect on a GET's wall-clock
p99 was not shown through the noise of a shared 2-core machine).
"""

from __future__ import annotations

import gc

#: Requests between two collections of the young generations in a serving process.
REQUESTS_PER_COLLECTION = 1000


class Pacer:
    """Counts requests; every ``every``-th collects generations 0 and 1 (``every`` 0: never, the default)."""

    __slots__ = ("every", "left")

    def __init__(self, every: int = 0) -> None:
        self.every = every
        self.left = every

    def start(self, every: int = REQUESTS_PER_COLLECTION) -> None:
        self.every = self.left = every

    def tick(self) -> None:
        if self.every:
            self.left -= 1
            if self.left <= 0:
                self.left = self.every
                gc.collect(1)


#: The process's pacer: off (a server in a thread of a test process leaves the collector alone) until the serving
#: process turns it on (:func:`mockserver.server.settle_heap`).
PACER = Pacer()
