"""Collections of the young generations at a steady pace while a server process serves.

CPython starts a young collection when *allocations minus deallocations* of tracked objects pass a threshold. A
serving mock keeps that difference near zero while its young generation grows: each request adds a journal entry
and frees the one that falls out of the bounded journal (an old object), each create at a key's retention cap adds
a record and evicts one. So young collections came rarely and walked tens of thousands of objects, and the middle
generation's hundreds of thousands (5-12 ms and 50-92 ms of CPU, measured with gc callbacks under ``wrk`` once a
key's store was full). Collecting the two young generations every :data:`REQUESTS_PER_COLLECTION` requests keeps
each pass to what those requests left alive, walked while it is still in the processor's caches: every 200 GETs
under ``wrk -c50`` a pass holds the loop 0.35 ms (median; max 3.8 ms), where every 1,000 it held it 2.6 ms (max
5.5 ms), and the collector's time per request was lower too (370 against 419 ms over about 15 s of load; every 100
and 50 requests, 417 and 578 ms: a pass's fixed cost takes over).

Full collections walk every object that is not frozen -- the journal, the store, the kept views: 65-130 ms of wall
time once a key's store is full (gc callbacks under ``wrk``), with the loop held all that time. CPython starts one
when the objects promoted to the oldest generation since the last reach a quarter of it, which under steady traffic
(every request promotes its journal entry, every create its record) comes every few tens of thousands of requests,
in the middle of a load test. :class:`IdleCollector` runs the full collection when the process has served no request
for a while instead, and the serving thresholds (:data:`mockserver.server.GC_THRESHOLDS`) leave CPython's own for
sustained traffic only, as a bound on what a full collection may have to free.
"""

from __future__ import annotations

import asyncio
import gc

#: Requests between two collections of the young generations in a serving process.
REQUESTS_PER_COLLECTION = 200


class Pacer:
    """Counts requests; every ``every``-th collects generations 0 and 1 (``every`` 0: never, the default)."""

    __slots__ = ("every", "left", "ticks")

    def __init__(self, every: int = 0) -> None:
        self.every = every
        self.left = every
        self.ticks = 0  # requests counted so far (what the idle collector watches)

    def start(self, every: int = REQUESTS_PER_COLLECTION) -> None:
        self.every = self.left = every

    def tick(self) -> None:
        self.ticks += 1
        if self.every:
            self.left -= 1
            if self.left <= 0:
                self.left = self.every
                gc.collect(1)


#: The process's pacer: off (a server in a thread of a test process leaves the collector alone) until the serving
#: process turns it on (:func:`mockserver.server.settle_heap`).
PACER = Pacer()


#: Seconds without a request after which the idle collector runs a full collection.
IDLE_SECONDS = 0.25
#: Collections of the middle generation since the last full one (each promotes what it kept to the oldest
#: generation) before an idle process collects everything: a process whose only activity is housekeeping (a
#: webhook retry, a render) is not walked in full again and again.
PROMOTIONS_BEFORE_IDLE_COLLECTION = 5


class IdleCollector:
    """A full collection once ``pacer`` counted no request for a whole check period and enough was promoted."""

    __slots__ = ("pacer", "seen")

    def __init__(self, pacer: Pacer) -> None:
        self.pacer = pacer
        self.seen = pacer.ticks

    def check(self) -> bool:
        """Collect everything if no request came since the last check; whether it did."""
        idle = self.pacer.ticks == self.seen
        self.seen = self.pacer.ticks
        if not idle or gc.get_count()[2] < PROMOTIONS_BEFORE_IDLE_COLLECTION:
            return False
        gc.collect()
        return True

    async def run(self, seconds: float | None = None) -> None:
        """Check every ``seconds`` (default :data:`IDLE_SECONDS`; real time: housekeeping of the process, not a
        timer of the APIs), forever."""
        while True:
            await asyncio.sleep(seconds or IDLE_SECONDS)
            self.check()
