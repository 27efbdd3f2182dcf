"""A small Python client for the control plane (``/_mock/…``).

    from mockserver.admin.client import MockControl

    mock = MockControl("http://127.0.0.1:8080")      # either API port's root
    mock.reset()
    mock.clock.advance(60)                            # virtual seconds; webhooks due by then are sent
    mock.rules.fault("error", status=503, times=2, match={"route": "POST /v1/chat/completions"})
    mock.rules.outcome(status="failed", error="GPU on fire", match={"model": "flux-pro"})
    mock.requests.list(path="/v1/predictions*", status="2xx")
    mock.webhooks.secret("sk-…")

Every method raises :class:`ControlPlaneError` (status, code, message) when the mock refuses.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

import httpx

TOKEN_HEADER = "X-Mock-Admin-Token"


class ControlPlaneError(Exception):
    """A control-plane call the mock refused."""

    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(f"{status} {code}: {message}")
        self.status = status
        self.code = code
        self.message = message


def _clean(params: Mapping[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in params.items() if v is not None}


class _Section:
    def __init__(self, control: MockControl) -> None:
        self._control = control

    def _call(self, method: str, path: str, **kwargs: Any) -> Any:
        return self._control.call(method, path, **kwargs)


class Clock(_Section):
    """The virtual clock every timer of the mock runs on."""

    def get(self) -> dict[str, Any]:
        """``{"now": iso, "epoch": seconds, "mode": ..., "speed": ...}``."""
        return self._call("GET", "/clock")

    def now(self) -> float:
        return float(self.get()["epoch"])

    def advance(self, seconds: float, settle: bool = True) -> dict[str, Any]:
        """Move time forward; with ``settle`` (default) webhook deliveries due by then have been tried."""
        return self._call("POST", "/clock/advance", json={"seconds": seconds, "settle": settle})

    def set(self, when: float | str | datetime, settle: bool = True) -> dict[str, Any]:
        """Jump to an absolute time (epoch seconds, ISO 8601 or an aware datetime); never backwards."""
        value: float | str = when.isoformat() if isinstance(when, datetime) else when
        return self._call("POST", "/clock/set", json={"time": value, "settle": settle})

    def mode(self, mode: str | None = None, speed: float | None = None, *,
             autojump: float | bool | None = False) -> dict[str, Any]:
        """Switch between ``manual``, ``realtime`` (times ``speed``) and ``instant``.

        ``autojump`` (manual mode): real seconds a waiting client waits before time jumps to the moment it
        waits for; ``None`` turns it off; ``False`` (default) leaves it as it is.
        """
        body: dict[str, Any] = _clean({"mode": mode, "speed": speed})
        if autojump is not False:
            body["autojump"] = autojump
        return self._call("POST", "/clock/mode", json=body)


class Keys(_Section):
    """API keys: Skytells credits, GateAI daily budget, suspension, custom limits."""

    def list(self) -> list[dict[str, Any]]:
        return self._call("GET", "/keys")["data"]

    def create(self, key: str | None = None, *, credits: float | None = None, daily_budget: float | None = None,
               suspended: bool | None = None, limits: Mapping[str, Any] | None = None) -> dict[str, Any]:
        body = _clean({"key": key, "credits": credits, "daily_budget": daily_budget, "suspended": suspended,
                       "limits": dict(limits) if limits is not None else None})
        return self._call("POST", "/keys", json=body)

    def get(self, key: str) -> dict[str, Any]:
        return self._call("GET", f"/keys/{key}")

    def update(self, key: str, **changes: Any) -> dict[str, Any]:
        """Change ``credits``, ``add_credits``, ``daily_budget``, ``suspended`` or ``limits``."""
        return self._call("PATCH", f"/keys/{key}", json=changes)

    def delete(self, key: str) -> dict[str, Any]:
        return self._call("DELETE", f"/keys/{key}")


class Rules(_Section):
    """Scripted outcomes and injected faults (global, or grouped into named scenarios)."""

    def add(self, spec: Mapping[str, Any]) -> dict[str, Any]:
        """Register one rule: ``{"match": {...}, "fault" | "outcome": {...}, "times", "probability", "seed"}``."""
        return self._call("POST", "/rules", json=dict(spec))

    def fault(self, type: str, *, match: Mapping[str, Any] | None = None, times: int | None = None,
              probability: float | None = None, seed: int | None = None, scenario: str | None = None,
              **fields: Any) -> dict[str, Any]:
        """A fault rule of any registered fault type, its fields as keywords (the built-in types are listed in
        :mod:`mockserver.core.rules.faults`: ``latency``, ``error``, ``rate_limit``, ``reset``, ``empty``,
        ``sse_cut``; a type a test registers works the same)."""
        return self.add(_clean({"match": match, "times": times, "probability": probability, "seed": seed,
                                "scenario": scenario, "fault": {"type": type, **fields}}))

    def outcome(self, *, match: Mapping[str, Any] | None = None, times: int | None = None,
                probability: float | None = None, seed: int | None = None, scenario: str | None = None,
                **fields: Any) -> dict[str, Any]:
        """An outcome rule: ``status``/``error`` (jobs fail), ``duration``, ``output``, ``reply``, ``replies``."""
        return self.add(_clean({"match": match, "times": times, "probability": probability, "seed": seed,
                                "scenario": scenario, "outcome": fields}))

    def list(self) -> list[dict[str, Any]]:
        return self._call("GET", "/rules")["data"]

    def get(self, rule_id: str) -> dict[str, Any]:
        return self._call("GET", f"/rules/{rule_id}")

    def remove(self, rule_id: str) -> None:
        self._call("DELETE", f"/rules/{rule_id}")

    def clear(self) -> None:
        """Remove every rule and scenario."""
        self._call("DELETE", "/rules")

    def scenario(self, name: str, rules: list[Mapping[str, Any]]) -> str:
        """Define (or replace) a named scenario; send ``X-Mock-Scenario: <name>`` to use it. Returns the name."""
        self._call("PUT", f"/scenarios/{name}", json={"rules": [dict(r) for r in rules]})
        return name

    def remove_scenario(self, name: str) -> None:
        self._call("DELETE", f"/scenarios/{name}")


class Requests(_Section):
    """The request journal: every API request the mock answered, keys masked."""

    def list(self, **filters: Any) -> list[dict[str, Any]]:
        """Filters: ``api``, ``method``, ``path`` (glob), ``status`` (``404`` or ``4xx``), ``key``, ``since``,
        ``until``, ``rule``, ``limit``, ``order``."""
        return self._call("GET", "/requests", params=_clean(filters))["data"]

    def count(self, **filters: Any) -> int:
        return int(self._call("GET", "/requests/count", params=_clean(filters))["count"])

    def get(self, entry_id: str) -> dict[str, Any]:
        return self._call("GET", f"/requests/{entry_id}")

    def clear(self, key: str | None = None) -> None:
        self._call("DELETE", "/requests", params=_clean({"key": key}))


class Webhooks(_Section):
    """Webhook deliveries and signing secrets."""

    def deliveries(self, **filters: Any) -> list[dict[str, Any]]:
        """Filters: ``prediction_id``, ``key``, ``status``."""
        return self._call("GET", "/webhooks", params=_clean(filters))["data"]

    def secret(self, key: str) -> str:
        """The Standard Webhooks secret (``whsec_…``) deliveries for ``key``'s predictions are signed with."""
        return self._call("GET", "/webhooks/secret", params={"key": key})["secret"]

    def settle(self) -> None:
        """Wait until no delivery is due at the clock's now and none is in flight."""
        self._call("POST", "/webhooks/settle")

    def clear(self) -> None:
        self._call("DELETE", "/webhooks")


class MockControl:
    """The control plane of one running mock (either API port: both share one state)."""

    def __init__(self, base_url: str, admin_token: str | None = None, timeout: float = 30.0,
                 client: httpx.Client | None = None) -> None:
        root = base_url.rstrip("/")
        if root.endswith("/v1"):
            root = root[:-3]
        self.base_url = root
        headers = {TOKEN_HEADER: admin_token} if admin_token else {}
        self._http = client or httpx.Client(base_url=root + "/_mock", headers=headers, timeout=timeout)
        self.clock = Clock(self)
        self.keys = Keys(self)
        self.rules = Rules(self)
        self.requests = Requests(self)
        self.webhooks = Webhooks(self)

    def call(self, method: str, path: str, **kwargs: Any) -> Any:
        response = self._http.request(method, path, **kwargs)
        if response.status_code >= 400:
            try:
                error = response.json()["error"]
                code, message = error.get("code", "ERROR"), error.get("message", response.text)
            except (ValueError, KeyError, TypeError, AttributeError):
                code, message = "ERROR", response.text
            raise ControlPlaneError(response.status_code, code, message)
        if not response.content:
            return None
        return response.json()

    def health(self) -> dict[str, Any]:
        return self.call("GET", "/health")

    def reset(self, key: str | None = None) -> dict[str, Any]:
        """Forget all state (or one key's): traffic, rules, journal, webhooks; the clock restarts on a full reset."""
        return self.call("POST", "/reset", json=_clean({"key": key}))

    def close(self) -> None:
        self._http.close()

    def __enter__(self) -> MockControl:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
