"""Control-plane routes for server state and time: reset, and the virtual clock."""

from __future__ import annotations

import math
from datetime import datetime
from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from mockserver.admin.bodies import optional_json
from mockserver.admin.errors import bad_request
from mockserver.core.clock import MAX_EPOCH, MAX_SPEED, MIN_EPOCH, TIME_MODES, UNSET, ClockState, in_range, isoformat
from mockserver.core.http import JSONResponse
from mockserver.core.runtime import Runtime


def parse_time(value: Any, name: str) -> float:
    """Epoch seconds, or an ISO 8601 timestamp (``Z`` or an offset; naive means UTC), within the clock's range."""
    when = _parse_time(value, name)
    if not in_range(when):
        raise bad_request(f"{name} must be between {isoformat(MIN_EPOCH)} and {isoformat(MAX_EPOCH)}", param=name)
    return when


def _parse_time(value: Any, name: str) -> float:
    if isinstance(value, bool):
        raise bad_request(f"{name} must be epoch seconds or an ISO 8601 time", param=name)
    if isinstance(value, int | float):
        return float(value)
    if isinstance(value, str):
        text = value.strip().replace("Z", "+00:00")
        try:
            parsed = datetime.fromisoformat(text)
        except ValueError:
            raise bad_request(f"{name} is not an ISO 8601 time: {value!r}", param=name) from None
        if parsed.tzinfo is None:
            from datetime import UTC

            parsed = parsed.replace(tzinfo=UTC)
        return parsed.timestamp()
    raise bad_request(f"{name} must be epoch seconds or an ISO 8601 time", param=name)


def clock_json(state: ClockState) -> dict[str, Any]:
    return {"now": isoformat(state.now), "epoch": state.now, "mode": state.mode, "speed": state.speed,
            "autojump": state.autojump}


def routes(runtime: Runtime) -> list[BaseRoute]:
    """``POST /reset`` and the clock's routes (below ``/_mock``)."""
    return [reset_route(runtime), *clock_routes(runtime)]


def reset_route(runtime: Runtime) -> Route:
    """``POST /reset`` (``{"key": …}`` or ``?key=``: that key only)."""

    async def reset(request: Request) -> Response:
        body = await optional_json(request)
        key = body.get("key", request.query_params.get("key"))
        if key is not None and (not isinstance(key, str) or not key):
            raise bad_request("key must be an API key string", param="key")
        runtime.reset(key)
        return JSONResponse({"reset": "key" if key else "all", "clock": clock_json(runtime.clock.state())})

    return Route("/reset", reset, methods=["POST"])


def clock_routes(runtime: Runtime) -> list[BaseRoute]:
    """Read the virtual clock, move it forward, set it, and change its mode."""
    clock = runtime.clock

    async def read_clock(request: Request) -> Response:
        return JSONResponse(clock_json(clock.state()))

    async def advance(request: Request) -> Response:
        body = await optional_json(request)
        seconds = body.get("seconds")
        if isinstance(seconds, bool) or not isinstance(seconds, int | float) or not math.isfinite(seconds) \
                or seconds < 0:
            raise bad_request("seconds must be a number >= 0 (the clock only moves forward)", param="seconds")
        if not in_range(clock.now() + seconds):
            raise bad_request(f"seconds would move the clock past {isoformat(MAX_EPOCH)}", param="seconds")
        clock.advance(float(seconds))
        if body.get("settle"):
            await runtime.webhooks.settle()
        return JSONResponse(clock_json(clock.state()))

    async def set_clock(request: Request) -> Response:
        body = await optional_json(request)
        if "time" not in body:
            raise bad_request("time is required (epoch seconds or ISO 8601)", param="time")
        when = parse_time(body["time"], "time")
        try:
            clock.set(when)
        except ValueError:
            raise bad_request(f"time {isoformat(when)} is before the clock's now {isoformat(clock.now())}; "
                              "the clock only moves forward (POST /_mock/reset restarts it)", param="time") from None
        if body.get("settle"):
            await runtime.webhooks.settle()
        return JSONResponse(clock_json(clock.state()))

    async def configure(request: Request) -> Response:
        body = await optional_json(request)
        mode, speed = body.get("mode"), body.get("speed")
        if mode is not None and mode not in TIME_MODES:
            raise bad_request(f"mode must be one of {', '.join(TIME_MODES)}", param="mode")
        if speed is not None and (isinstance(speed, bool) or not isinstance(speed, int | float)
                                  or not 0 < speed <= MAX_SPEED):
            raise bad_request(f"speed must be a number > 0 and <= {MAX_SPEED:g}", param="speed")
        autojump = body.get("autojump", UNSET)  # null turns it off; absent leaves it as it is
        try:
            state = clock.configure(mode=mode, speed=speed, autojump=autojump)
        except ValueError as error:  # mode and speed are checked above: only autojump is left
            raise bad_request(str(error), param="autojump") from None
        return JSONResponse(clock_json(state))

    return [
        Route("/clock", read_clock, methods=["GET"]),
        Route("/clock/advance", advance, methods=["POST"]),
        Route("/clock/set", set_clock, methods=["POST"]),
        Route("/clock/mode", configure, methods=["POST"]),
    ]
