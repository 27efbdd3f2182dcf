"""The clock's one shared value: an :class:`~mockserver.core.clock.Anchor` under ``<prefix>clock``.

Every process reads it on every "what time is it" (one ``GET``), changes it in an optimistic transaction
(``WATCH``/``MULTI``) and announces each change on the channel of the same name, which every process listens to
so its waiters (``await: true``, status streams, webhook retries) look at the clock again. The first process to
start sets it; later ones join the clock as it is. Wall time is epoch seconds (``time.time``): processes on
several hosts need synchronised clocks (NTP).
"""

from __future__ import annotations

import contextlib
import logging
import threading
from collections.abc import Callable

import orjson
import redis

from mockserver.core.clock import Anchor

LOG = logging.getLogger("mockserver.store")


def _dump(anchor: Anchor) -> bytes:
    return orjson.dumps({"virtual": anchor.virtual, "wall": anchor.wall, "mode": anchor.mode,
                         "speed": anchor.speed, "autojump": anchor.autojump})


def _load(raw: bytes) -> Anchor:
    return Anchor(**orjson.loads(raw))


class RedisAnchor:
    """An :class:`~mockserver.core.clock.AnchorCell` in Redis."""

    def __init__(self, client: redis.Redis, prefix: str, initial: Anchor) -> None:
        self.client, self.name = client, f"{prefix}clock"
        client.set(self.name, _dump(initial), nx=True)  # join a running clock; start one if there is none

    def load(self) -> Anchor:
        raw = self.client.get(self.name)
        if raw is None:
            raise LookupError(f"the shared clock {self.name} is gone (was the store flushed?)")
        return _load(raw)

    def change(self, update: Callable[[Anchor], Anchor | None]) -> Anchor:
        with self.client.pipeline() as pipe:
            while True:
                try:
                    pipe.watch(self.name)
                    current = _load(pipe.get(self.name))
                    new = update(current)
                    if new is None:
                        pipe.unwatch()
                        return current
                    pipe.multi()
                    pipe.set(self.name, _dump(new))
                    pipe.publish(self.name, b"changed")
                    pipe.execute()
                    return new
                except redis.WatchError:
                    continue


class ClockListener:
    """A daemon thread calling ``notify`` whenever any process changes the shared clock."""

    def __init__(self, client: redis.Redis, prefix: str, notify: Callable[[], None]) -> None:
        self._client, self._channel = client, f"{prefix}clock"
        self._pubsub = client.pubsub(ignore_subscribe_messages=True)
        self._pubsub.subscribe(self._channel)
        self._notify = notify
        self._stopped = threading.Event()
        self._thread = threading.Thread(target=self._run, name="mockserver-clock-listener", daemon=True)
        self._thread.start()

    def _run(self) -> None:
        while not self._stopped.is_set():
            try:
                message = self._pubsub.get_message(timeout=1.0)
            except (redis.RedisError, OSError, ValueError) as exc:
                if self._stopped.is_set():
                    return
                LOG.warning("shared clock: listening failed (%s); retrying", exc)
                self._stopped.wait(1.0)
                continue
            if message is not None:
                self._notify()

    def close(self) -> None:
        self._stopped.set()
        with contextlib.suppress(redis.RedisError, OSError):
            self._client.publish(self._channel, b"closing")  # ends the wait at once (others just look again)
        self._thread.join(5)
        with contextlib.suppress(redis.RedisError, OSError):
            self._pubsub.close()
