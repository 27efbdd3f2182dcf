"""GateAI's task and account views, read from the records as of a moment.

Views only read: they never write to the store and never render media. URL prefixes come from the routes.
"""

from __future__ import annotations

from typing import Any

from mockserver.core.view_cache import CachedView, ViewCache, phase_window, split_window
from mockserver.gateai.budget import POOL_LOCKED, POOL_TOTAL_ACCOUNTS
from mockserver.gateai.tasks import FAILED, FINISHED, RECENT_TASKS, Created, Tasks, money, result_count


class TaskViews:
    """Renders tasks, the budget and the dashboard (read only).

    A task's view depends on the clock only through its phase and whether its refund is due, so the latest views
    are kept per (task, files URL) with their JSON bytes and reused while the record is the same object and the
    clock inside that span (:mod:`mockserver.core.view_cache`).
    """

    def __init__(self, tasks: Tasks) -> None:
        self.tasks = tasks
        self._cache = ViewCache()

    def generate_view(self, created: Created, url: str) -> dict[str, Any]:
        """``{task_id, url, status, cost, remaining, adjustments?}`` (``url``: where the task is read)."""
        record = created.record
        body: dict[str, Any] = {
            "task_id": record["id"],
            "url": url,
            "status": self.tasks.state(record).status,
            "cost": money(record["cost"]),
            "remaining": created.budget.remaining,
        }
        if created.adjustments:
            body["adjustments"] = created.adjustments
        return body

    def view(self, record: dict[str, Any], files_base: str, now: float | None = None) -> dict[str, Any]:
        """``GET /get/{task_id}``: ``{task_id, status, result, model, cost, refunded, glb_urls?, error?}``."""
        return self.cached(record, files_base, now).view

    def encoded(self, record: dict[str, Any], files_base: str, now: float | None = None) -> bytes:
        """:meth:`view` as compact JSON, encoded once per cached view."""
        return self.cached(record, files_base, now).json()

    def cached(self, record: dict[str, Any], files_base: str, now: float | None = None) -> CachedView:
        """The task's view, cached while the record is the same object and the clock in the same phase (and on
        the same side of its refund)."""
        now = self.tasks.runtime.clock.now() if now is None else now
        key = (record["id"], files_base)
        hit = self._cache.lookup(key, record, now)
        if hit is not None:
            return hit
        window = split_window(phase_window(self.tasks.engine.timeline(record), now), now, (record["refund_at"],))
        return self._cache.keep(key, record, window, self.render(record, files_base, now))

    def render(self, record: dict[str, Any], files_base: str, now: float) -> dict[str, Any]:
        """The task's view as of ``now``, rendered anew."""
        status = self.tasks.state(record, now).status
        finished = status == FINISHED
        given = record.get("given_result")
        result = [files_base + name for name in record["files"]] if given is None else given
        body: dict[str, Any] = {
            "task_id": record["id"],
            "status": status,
            "result": result if finished else [],
            "model": record["model"],
            "cost": self.tasks.cost_now(record, now),
            "refunded": self.tasks.refunded(record, now),
        }
        if record["model_type"] == "3d":
            glb = [files_base + name for name in record["glb_files"]] if given is None else [
                url for url in given if isinstance(url, str) and url.lower().split("?")[0].endswith(".glb")]
            body["glb_urls"] = glb if finished else []
        if status == FAILED:
            body["error"] = record["error"]
        return body

    # -- account views -------------------------------------------------------------------

    def credits(self, owner: str) -> dict[str, Any]:
        """``GET /credits``."""
        return {
            "your_budget": self.tasks.budget.status(owner).as_json(),
            "pool": {"total_accounts": POOL_TOTAL_ACCOUNTS, "locked": POOL_LOCKED},
        }

    def dashboard(self, owner: str) -> dict[str, Any]:
        """``GET /api/me``: budget, concurrency, active and recent tasks, today's spending per model."""
        now = self.tasks.runtime.clock.now()
        slots = sorted(self.tasks.slots.active(owner).items(), key=lambda item: item[1]["acquired_at"])
        concurrency = self.tasks.limits(owner).concurrency
        active: list[dict[str, Any]] = []
        finished: list[tuple[float, dict[str, Any]]] = []
        for record in self.tasks.engine.scan(owner):
            state = self.tasks.state(record, now)
            if not state.terminal:
                active.append({
                    "task_id": record["id"],
                    "model": record["model"],
                    "status": state.status,
                    "cost": self.tasks.cost_now(record, now),
                    "elapsed": f"{int(now - record['created_at'])}s",
                })
            else:
                finished.append((state.entered_at, {
                    "task_id": record["id"],
                    "model": record["model"],
                    "status": state.status,
                    "cost": self.tasks.cost_now(record, now),
                    "result_count": result_count(record) if state.status == FINISHED else 0,
                }))
        finished.sort(key=lambda item: item[0], reverse=True)
        return {
            "budget": self.tasks.budget.status(owner, now).as_json(),
            "concurrency": {
                "used": len(slots),
                "max": concurrency,
                "available": max(concurrency - len(slots), 0),
                "active_slots": [
                    {"taskId": slot_id, "model": slot.get("model"), "elapsed": int(now - slot["acquired_at"])}
                    for slot_id, slot in slots
                ],
            },
            "active_tasks": active,
            "recent_tasks": [item for _, item in finished[:RECENT_TASKS]],
            "today_spending": self.tasks.budget.spending_today(owner, now),
        }
