"""The Skytells API v1 as a vendor plug-in (:class:`mockserver.core.vendor.Vendor`).

Light to import (the CLI's ``health`` reads it): the app and its libraries load when the app is built.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from mockserver.core.vendor import JobReader, LimitSpec, SettingSpec, Vendor, VendorApp, VendorJobs

if TYPE_CHECKING:
    from mockserver.core.accounts import Account
    from mockserver.core.runtime import Runtime


def _build(runtime: Runtime) -> VendorApp:
    from mockserver.skytells.app import build

    return build(runtime)


def _effective_limits(runtime: Runtime, account: Account) -> dict[str, Any]:
    return {"rate_limit_per_minute": account.limits.get("rate_limit_per_minute",
                                                        runtime.settings.rate_limit_per_minute)}


def _account_view(runtime: Runtime, account: Account) -> dict[str, Any]:
    return {"credits": account.credits}


def _prediction_reader(runtime: Runtime) -> JobReader:
    from mockserver.skytells.prediction_reader import PredictionReader

    return PredictionReader(runtime)


def _usage(runtime: Runtime, key: str) -> dict[str, Any]:
    from mockserver.skytells import ratelimit

    return ratelimit.usage(runtime, key)


def _rate_limit(value: int | None) -> str | None:
    return "rate_limit_per_minute must be at least 1 (or unset)" if value is not None and value < 1 else None


def _pacing(value: float) -> str | None:
    return "time_to_first_token and tokens_per_second must not be negative" if value < 0 else None


SETTINGS = (
    SettingSpec("safety_terms", tuple[str, ...], ("nsfw", "gore"), "comma-separated terms the safety checker flags"),
    SettingSpec("jailbreak_terms", tuple[str, ...], ("ignore all previous instructions",),
                "comma-separated phrases the Inference API refuses as jailbreaks (403)"),
    SettingSpec("rate_limit_per_minute", int | None, None,
                "Skytells requests per key per minute before 429 (default: unlimited)", _rate_limit),
    SettingSpec("time_to_first_token", float, 0.0, "Inference API: seconds before the first token (default 0 = "
                "instant)", _pacing),
    SettingSpec("tokens_per_second", float, 0.0, "Inference API: generation speed (default 0 = instant)", _pacing),
)

VENDOR = Vendor(
    name="skytells",
    title="Skytells API",
    default_port=8080,
    build=_build,
    base_path="/v1",
    contract="skytells",
    settings=SETTINGS,
    outcome_requests=frozenset({("POST", "/v1/predictions"), ("POST", "/v1/predict"),
                                ("POST", "/v1/chat/completions"), ("POST", "/v1/responses")}),
    limits={"rate_limit_per_minute": LimitSpec(True, 1, 1_000_000, "Skytells requests per minute (429 beyond)")},
    effective_limits=_effective_limits,
    account_view=_account_view,
    jobs=(VendorJobs(kind="prediction", stored="prediction", reader=_prediction_reader),),
    usage=_usage,
)
