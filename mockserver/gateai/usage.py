"""A key's GateAI limits in use now, read only (the control plane's ``GET /_mock/usage``)."""

from __future__ import annotations

from typing import Any

from mockserver.core.clock import isoformat
from mockserver.core.runtime import Runtime
from mockserver.gateai.tasks import Tasks


def usage(runtime: Runtime, key: str) -> dict[str, Any]:
    """``{concurrency: {used, max, active_slots}, window: {used, max, window_seconds}}``: the generation slots
    held (oldest first) and the generate-window hits, against the key's own limits."""
    tasks = Tasks(runtime)
    limits = tasks.limits(key)
    now = runtime.clock.now()
    slots = sorted(tasks.slots.active(key).items(), key=lambda item: item[1]["acquired_at"])
    return {
        "concurrency": {"used": len(slots), "max": limits.concurrency,
                        "active_slots": [{"task_id": slot_id, "model": slot.get("model"),
                                          "acquired_at": isoformat(slot["acquired_at"]),
                                          "elapsed": round(now - slot["acquired_at"], 3)}
                                         for slot_id, slot in slots]},
        "window": {"used": tasks.window_for(limits).used(key), "max": limits.requests_per_window,
                   "window_seconds": limits.window_seconds},
    }
