"""Media rendering off the event loop: a bounded pool of worker processes.

Encoding a large image, a long MP3 or a video takes from tens of milliseconds to seconds of CPU.
Done on the event loop it froze both ports (issue 12). Threads are not enough: measured with three
concurrent renders on 2 cores, the loop's worst lag was 229 ms for 8192x8192 PNGs and 115 ms for
30 s MP3s under a thread pool (numpy synthesis and zlib hold the GIL in stretches), and 31-43 ms
under a process pool. So renders run in ``workers`` processes (started lazily, with ``spawn`` so
no lock held by a server thread is inherited); ``processes=False`` (setting ``render_threads``) uses
threads instead (tests, or a platform without process support).

Equal specs rendering at the same time share one job, and finished bytes go into the parent's
byte-bounded cache (:func:`mockserver.core.media.set_cache_budget`).
"""

from __future__ import annotations

import asyncio
import multiprocessing
import os
import threading
import time
from collections.abc import Callable
from concurrent.futures import Executor, ProcessPoolExecutor, ThreadPoolExecutor
from concurrent.futures.process import BrokenProcessPool

from mockserver.core import media

Renderer = Callable[[media.MediaSpec], bytes]


class RenderPool:
    """``await pool.render(spec)``: the file's bytes, rendered by a worker, never on the loop."""

    def __init__(self, workers: int = 2, processes: bool = True, renderer: Renderer = media.render) -> None:
        if workers < 1:
            raise ValueError("render workers must be at least 1")
        self.workers = workers
        self.processes = processes
        self.renderer = renderer
        self._executor: Executor | None = None
        self._lock = threading.Lock()
        self._pending: dict[media.MediaSpec, asyncio.Future[bytes]] = {}

    def _pool(self) -> Executor:
        with self._lock:
            if self._executor is None:
                if self.processes:
                    context = multiprocessing.get_context("spawn")
                    self._executor = ProcessPoolExecutor(self.workers, mp_context=context,
                                                         initializer=exit_with_parent, initargs=(os.getpid(),))
                else:
                    self._executor = ThreadPoolExecutor(self.workers, thread_name_prefix="render")
            return self._executor

    async def render(self, spec: media.MediaSpec) -> bytes:
        """The bytes of ``spec`` (cached, shared with concurrent requests for the same spec)."""
        cached = media.cached(spec)
        if cached is not None:
            return cached
        pending = self._pending.get(spec)
        if pending is None:
            loop = asyncio.get_running_loop()
            pending = asyncio.ensure_future(loop.run_in_executor(self._pool(), self.renderer, spec))
            self._pending[spec] = pending
            pending.add_done_callback(lambda done: self._finished(spec, done))
        return await asyncio.shield(pending)

    def _finished(self, spec: media.MediaSpec, done: asyncio.Future[bytes]) -> None:
        self._pending.pop(spec, None)
        if done.cancelled():
            return
        if isinstance(done.exception(), BrokenProcessPool):  # a worker died (e.g. killed): start afresh next time
            self.close()
        elif done.exception() is None:
            media.remember(spec, done.result())

    def close(self) -> None:
        """Stop the workers now (renders in flight are abandoned).

        Worker processes are terminated, not only told to stop: after ``shutdown(wait=False)`` alone a spawned
        worker outlived the server that had exited (seen after SIGTERM, still idle minutes later).
        """
        with self._lock:
            executor, self._executor = self._executor, None
        if executor is None:
            return
        running = getattr(executor, "_processes", None) or {}  # ProcessPoolExecutor's workers by pid
        processes = list(running.values())
        executor.shutdown(wait=False, cancel_futures=True)
        for process in processes:
            process.terminate()
        for process in processes:
            process.join(5)


def exit_with_parent(parent: int, every: float = 1.0) -> None:
    """In a render worker: end the process once ``parent`` (the server) is gone, however the server ended.

    A server that exits without closing its pool (seen after SIGTERM with status streams served) would
    otherwise leave its workers idle, holding their memory, for good.
    """

    def watch() -> None:
        while os.getppid() == parent:
            time.sleep(every)
        os._exit(0)

    threading.Thread(target=watch, name="exit-with-parent", daemon=True).start()
