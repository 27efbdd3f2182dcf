"""The GateAI Core API as a vendor plug-in (:class:`mockserver.core.vendor.Vendor`).

Light to import (the CLI's ``health`` reads it): the app and its libraries load when the app is built.
"""

from __future__ import annotations

from dataclasses import asdict
from typing import TYPE_CHECKING, Any

from mockserver.core.vendor import JobReader, LimitSpec, Vendor, VendorApp, VendorJobs

if TYPE_CHECKING:
    from mockserver.core.accounts import Account
    from mockserver.core.runtime import Runtime


def _build(runtime: Runtime) -> VendorApp:
    from mockserver.gateai.app import build

    return build(runtime)


def _effective_limits(runtime: Runtime, account: Account) -> dict[str, Any]:
    from mockserver.gateai import catalog
    from mockserver.gateai.tasks import GenerateLimits

    limits = asdict(GenerateLimits.of(account.limits))
    if limits["max_prompt_length"] is None:
        limits["max_prompt_length"] = catalog.limits().prompt_max_chars
    return limits


def _account_view(runtime: Runtime, account: Account) -> dict[str, Any]:
    from mockserver.core.clock import isoformat
    from mockserver.gateai.budget import Budget

    budget = Budget(runtime).status(account.key)
    return {"daily_budget": {**budget.as_json(), "resets_at": isoformat(budget.resets_at)}}


def _task_reader(runtime: Runtime) -> JobReader:
    from mockserver.gateai.task_reader import TaskReader

    return TaskReader(runtime)


def _usage(runtime: Runtime, key: str) -> dict[str, Any]:
    from mockserver.gateai.usage import usage

    return usage(runtime, key)


VENDOR = Vendor(
    name="gateai",
    title="GateAI API",
    default_port=8081,
    build=_build,
    contract="gateai",
    query_key_paths=frozenset({"/api/me"}),
    outcome_requests=frozenset({("POST", "/api/generate")}),
    limits={
        "concurrency": LimitSpec(True, 1, 10_000, "GateAI generations in flight at once (429 beyond)"),
        "requests_per_window": LimitSpec(True, 1, 1_000_000, "GateAI generate requests per window"),
        "window_seconds": LimitSpec(False, 0.001, 86_400, "length of that window in (virtual) seconds"),
        "max_prompt_length": LimitSpec(True, 1, 10_000_000, "longest GateAI prompt (400 PROMPT_TOO_LONG)"),
    },
    effective_limits=_effective_limits,
    account_view=_account_view,
    jobs=(VendorJobs(kind="task", stored="gateai_task", reader=_task_reader),),
    usage=_usage,
)
