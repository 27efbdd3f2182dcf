"""Generation pacing on the mock clock: time to first token, then tokens per second.

``Settings.time_to_first_token`` (seconds) and ``Settings.tokens_per_second`` (0 = unlimited)
are both 0 by default, so CI answers at once. Token ``i`` (from 0) is ready at
``time_to_first_token + i / tokens_per_second`` after the request started; a stream sends each
delta when it is ready and a plain request answers when the last token is. Waits are on the mock
clock: in ``instant`` mode they collapse, in ``manual`` mode they end when the clock is advanced
(or, as ``await: true`` does, after ``await_timeout`` real seconds so nothing hangs forever).
"""

from __future__ import annotations

from mockserver.core.runtime import Runtime


def ready_at(index: int, time_to_first_token: float, tokens_per_second: float) -> float:
    """Seconds after the start at which token ``index`` is ready."""
    rate = 0.0 if tokens_per_second <= 0 else index / tokens_per_second
    return max(time_to_first_token, 0.0) + rate


def finish_at(token_count: int, time_to_first_token: float, tokens_per_second: float) -> float:
    """Seconds after the start at which a reply of ``token_count`` tokens is complete."""
    return ready_at(max(token_count - 1, 0), time_to_first_token, tokens_per_second)


class Pacer:
    """Waits for one request, measured from when it started."""

    def __init__(self, runtime: Runtime) -> None:
        self.runtime = runtime
        self.start = runtime.clock.now()
        settings = runtime.settings
        self.ttft = settings.time_to_first_token
        self.tps = settings.tokens_per_second

    @property
    def instant(self) -> bool:
        return (self.ttft <= 0 and self.tps <= 0) or self.runtime.clock.collapses_durations

    async def until(self, offset: float) -> None:
        if self.instant or offset <= 0:
            return
        clock = self.runtime.clock
        max_real = self.runtime.settings.await_timeout if clock.mode == "manual" else None
        await clock.sleep_until(self.start + offset, max_real=max_real, client=True)

    async def token(self, index: int) -> None:
        await self.until(ready_at(index, self.ttft, self.tps))

    async def finished(self, token_count: int) -> None:
        await self.until(finish_at(token_count, self.ttft, self.tps))
