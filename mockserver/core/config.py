"""The settings the core reads, as a protocol: the core takes values, never imports the settings module.

:class:`mockserver.settings.Settings` satisfies it (as does any object with these attributes); vendors read
their own settings from the same object (``runtime.settings``).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Protocol


class CoreSettings(Protocol):
    """What the core's machinery is configured with (see :mod:`mockserver.settings` for each meaning)."""

    host: str
    api_keys: tuple[str, ...]
    accept_any_key: bool
    credits: float
    daily_budget: float
    seed: int | None
    time_mode: str
    speed: float
    autojump: float | None
    start_time: float | None
    store: str  # "memory", or a shared store's URL (redis://host:port/db)
    max_records: int | None
    max_key_bytes: int | None
    max_store_bytes: int | None
    ttl: float | None
    render_workers: int
    render_threads: bool
    render_cache_bytes: int
    max_body_bytes: int
    max_control_body_bytes: int
    max_json_depth: int
    max_header_bytes: int
    admin_token: str | None
    journal_size: int
    webhook_max_attempts: int
    webhook_backoff: float
    webhook_timeout: float
    webhook_concurrency: int
    webhook_receiver_concurrency: int
    webhook_key_concurrency: int
    webhook_hosts: tuple[str, ...]
    webhook_lease: float
    cors_origins: tuple[str, ...]
    cors_control_plane: bool

    @property
    def refused_faults(self) -> Mapping[str, str]:
        """Fault types the HTTP server in use cannot carry out, each with why (rules naming one are refused)."""
        ...
