"""Sliding windows and concurrency slots in Redis: each check-and-take is one Lua script, so a limit holds
across every server process sharing the store (7 concurrent requests against 5 slots admit exactly 5)."""

from __future__ import annotations

from typing import Any

import orjson
import redis

from mockserver.core.limits import Decision
from mockserver.core.shared_store import scripts
from mockserver.core.shared_store.connection import translated


@translated
class RedisLimits:
    """The :class:`mockserver.core.limits.LimitLedger` of a :class:`~mockserver.core.shared_store.store.RedisStore`."""

    def __init__(self, client: redis.Redis, prefix: str) -> None:
        self.client, self.prefix = client, prefix
        self._hit = client.register_script(scripts.WINDOW_HIT)
        self._acquire = client.register_script(scripts.SLOT_ACQUIRE)

    def window_hit(self, name: str, who: str, limit: int, window: float, now: float) -> Decision:
        allowed, retry, used = self._hit(args=[self.prefix, f"{name}:{who}", who, limit, repr(float(window)),
                                               repr(float(now))])
        return Decision(bool(allowed), retry_after=float(retry), used=int(used), limit=limit)

    def window_used(self, name: str, who: str, window: float, now: float) -> int:
        return int(self.client.zcount(f"{self.prefix}w:{name}:{who}", f"({now - window!r}", "+inf"))

    def slot_acquire(self, name: str, who: str, slot_id: str, limit: int, now: float, release_at: float | None,
                     info: dict[str, Any]) -> Decision:
        slot = orjson.dumps({"acquired_at": now, "release_at": release_at, **info}, default=str)
        allowed, retry, used = self._acquire(args=[self.prefix, f"{name}:{who}", who, limit, repr(float(now)),
                                                   "" if release_at is None else repr(float(release_at)),
                                                   slot_id, slot])
        return Decision(bool(allowed), retry_after=float(retry), used=int(used), limit=limit)

    def slot_release(self, name: str, who: str, slot_id: str) -> None:
        pipe = self.client.pipeline()
        pipe.zrem(f"{self.prefix}c:{name}:{who}", slot_id)
        pipe.hdel(f"{self.prefix}ci:{name}:{who}", slot_id)
        pipe.execute()

    def slots_active(self, name: str, who: str, now: float) -> dict[str, dict]:
        ids = self.client.zrangebyscore(f"{self.prefix}c:{name}:{who}", f"({now!r}", "+inf")
        if not ids:
            return {}
        slots = self.client.hmget(f"{self.prefix}ci:{name}:{who}", ids)
        return {slot_id.decode(): orjson.loads(slot) for slot_id, slot in zip(ids, slots, strict=True) if slot}

    def clear(self, owner: str | None) -> None:
        """Forget the windows and slots of ``owner`` (None: everyone's)."""
        if owner is not None:
            names = self.client.smembers(f"{self.prefix}l:{owner}")
            self.client.unlink(f"{self.prefix}l:{owner}", *names)
            return
        for pattern in ("w:*", "c:*", "ci:*", "l:*"):
            names = list(self.client.scan_iter(match=self.prefix + pattern, count=1000))
            if names:
                self.client.unlink(*names)
