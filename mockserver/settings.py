"""One immutable Settings object, from defaults < TOML file < ``MOCKSERVER_*`` env < CLI flags.

The fields are the server's own (:class:`BaseSettings`) plus, for every installed vendor
(:data:`mockserver.core.vendor.REGISTRY`), its port (``<name>_port``) and its own settings section
(:attr:`mockserver.core.vendor.Vendor.settings`).
"""

from __future__ import annotations

import dataclasses
import importlib.util
import os
import tomllib
import types
import typing
from collections.abc import Mapping
from dataclasses import dataclass, field, fields, make_dataclass
from pathlib import Path
from typing import Any

from mockserver.core.clock import MAX_EPOCH, MAX_SPEED, MIN_EPOCH, TIME_MODES, in_range
from mockserver.core.store import SHARED_SCHEMES
from mockserver.core.vendor import REGISTRY, Vendor

DEFAULT_API_KEY = "sk-mock-0000000000000000"
#: uvicorn's log levels ("trace" is below debug: every byte on the wire).
LOG_LEVELS = ("critical", "error", "warning", "info", "debug", "trace")
#: The HTTP servers ``serve`` runs the apps on: uvicorn (httptools + uvloop, every fault type) or granian (HTTP in
#: Rust: more requests per core, but no way for an app to drop a connection: no ``reset`` / ``empty`` faults).
SERVERS = ("uvicorn", "granian")
#: The fault types a rule cannot name under granian (mockserver/server_granian.py).
GRANIAN_REFUSED_FAULTS = ("reset", "empty")


@dataclass(frozen=True)
class BaseSettings:
    """What configures a server run apart from the vendors' sections. Every field is also a flag and an env var."""

    host: str = "127.0.0.1"
    single_port: bool = False
    api_keys: tuple[str, ...] = (DEFAULT_API_KEY,)
    accept_any_key: bool = False
    credits: float = 100.0
    daily_budget: float = 100.0
    seed: int | None = None
    time_mode: str = "realtime"
    speed: float = 1.0
    autojump: float | None = None  # manual mode: real seconds a waiting client waits before time jumps (clock.py)
    start_time: float | None = None
    store: str = "memory"  # or redis://host:port/db: state shared by every process using it (core/shared_store)
    server: str = "uvicorn"  # uvicorn | granian (faster; no reset/empty faults): the HTTP server (SERVERS)
    workers: int = 1  # server processes on the same ports; more than one needs a shared store
    max_records: int | None = 10_000  # per key and kind of object (predictions, tasks, uploads, ...)
    max_key_bytes: int | None = 64 * 1024 * 1024  # stored objects per key, measured as their JSON length
    max_store_bytes: int | None = 512 * 1024 * 1024  # all keys together; the key holding the most loses first
    ttl: float | None = None
    render_workers: int = 2  # worker processes rendering output files (core.render_pool)
    render_threads: bool = False  # render in threads, not processes (lighter; large renders then slow the loop)
    render_cache_bytes: int = 256 * 1024 * 1024  # rendered files kept for re-download
    max_body_bytes: int = 10 * 1024 * 1024
    max_control_body_bytes: int = 2 * 1024 * 1024  # control-plane (/_mock) request bodies
    max_json_depth: int = 64  # nesting levels of a JSON body (the deepest documented body has 11)
    max_header_bytes: int = 64 * 1024  # request line target + headers; beyond: 431
    await_timeout: float = 55.0  # below both SDKs' 60 s client timeout: an awaited create answers in time
    public_url: str | None = None
    admin_token: str | None = None
    log_level: str = "info"  # critical | error | warning | info | debug | trace
    shutdown_grace: float = 5.0  # on SIGTERM: real seconds for streams and await:true requests to answer
    journal_size: int = 5000
    webhook_max_attempts: int = 12
    webhook_backoff: float = 5.0
    webhook_timeout: float = 10.0
    webhook_concurrency: int = 16
    webhook_receiver_concurrency: int = 4  # attempts in flight per receiver (scheme://host:port)
    webhook_key_concurrency: int = 8  # attempts in flight per API key
    webhook_hosts: tuple[str, ...] = ()
    webhook_lease: float = 5.0  # shared store: real seconds a process holds a subject's deliveries unrenewed
    cors_origins: tuple[str, ...] = ("*",)  # origins the API routes answer browsers from; () or "off": no CORS
    cors_control_plane: bool = False  # CORS on /_mock too (with cors_origins)
    mappings: tuple[str, ...] = ()  # start-up files: folders or files of keys, rules, scenarios (admin/mappings.py)

    def __post_init__(self) -> None:
        if self.time_mode not in TIME_MODES:
            raise ValueError(f"time_mode must be one of {', '.join(TIME_MODES)}")
        if not 0 < self.speed <= MAX_SPEED:
            raise ValueError(f"speed must be positive and at most {MAX_SPEED:g}")
        if self.start_time is not None and not in_range(self.start_time):
            raise ValueError(f"start_time must be epoch seconds from {MIN_EPOCH:g} to {MAX_EPOCH:g}")
        if self.autojump is not None and self.autojump < 0:
            raise ValueError("autojump must not be negative (or unset)")
        if self.store != "memory" and not self.store.startswith(SHARED_SCHEMES):
            raise ValueError(f"store must be memory or a Redis URL ({', '.join(SHARED_SCHEMES)}...), "
                             f"got {self.store!r}")
        if self.server not in SERVERS:
            raise ValueError(f"server must be one of {', '.join(SERVERS)}")
        if self.server == "granian" and importlib.util.find_spec("granian") is None:
            raise ValueError("server granian needs the granian package (pip install granian; a dependency of "
                             "mockserver, but a platform without its wheel may lack it)")
        if self.workers < 1:
            raise ValueError("workers must be at least 1")
        if self.workers > 1 and self.store == "memory":
            raise ValueError("workers > 1 needs a shared store (--store redis://host:port/db): with the in-memory "
                             "store every worker would be a separate mock")
        if self.credits < 0 or self.daily_budget < 0:
            raise ValueError("credits and daily_budget must not be negative")
        if self.log_level.lower() not in LOG_LEVELS:
            raise ValueError(f"log_level must be one of {', '.join(LOG_LEVELS)}")
        if not 0 <= self.shutdown_grace <= 600:
            raise ValueError("shutdown_grace must be between 0 and 600 seconds")
        if self.render_workers < 1:
            raise ValueError("render_workers must be at least 1")
        for name in ("max_records", "max_key_bytes", "max_store_bytes"):
            value = getattr(self, name)
            if value is not None and value < 1:
                raise ValueError(f"{name} must be at least 1 (or unset)")
        if self.render_cache_bytes < 0:
            raise ValueError("render_cache_bytes must not be negative")
        if min(self.max_body_bytes, self.max_control_body_bytes, self.max_header_bytes) < 1:
            raise ValueError("max_body_bytes, max_control_body_bytes and max_header_bytes must be positive")
        if not 1 <= self.max_json_depth <= 1000:
            raise ValueError("max_json_depth must be between 1 and 1000")
        if self.journal_size < 0:
            raise ValueError("journal_size must be 0 (no journal) or more")
        if min(self.webhook_max_attempts, self.webhook_concurrency, self.webhook_receiver_concurrency,
               self.webhook_key_concurrency) < 1:
            raise ValueError("webhook_max_attempts and webhook_*concurrency must be at least 1")
        if min(self.webhook_backoff, self.webhook_timeout, self.webhook_lease) <= 0:
            raise ValueError("webhook_backoff, webhook_timeout and webhook_lease must be positive")
        if not self.api_keys and not self.accept_any_key:
            raise ValueError("at least one API key is needed (or accept_any_key)")
        for vendor in REGISTRY.all():
            for spec in vendor.settings:
                problem = spec.check(getattr(self, spec.name, spec.default)) if spec.check else None
                if problem:
                    raise ValueError(problem)

    @property
    def refused_faults(self) -> dict[str, str]:
        """Fault types the chosen server cannot carry out, with why (granian gives an app no connection to drop)."""
        if self.server != "granian":
            return {}
        return {kind: f"fault type {kind} drops the connection, which this server cannot do: it runs on granian "
                      f"(--server granian); start it with --server uvicorn for {kind} faults"
                for kind in GRANIAN_REFUSED_FAULTS}

    @property
    def default_api_key(self) -> str:
        return self.api_keys[0] if self.api_keys else DEFAULT_API_KEY

    def replace(self, **changes: Any) -> Settings:
        return dataclasses.replace(self, **changes)  # type: ignore[return-value]

    def port_of(self, vendor: Vendor) -> int:
        """The port ``vendor`` is served on (its ``<name>_port`` setting, else its default port)."""
        return int(getattr(self, vendor.port_setting, vendor.default_port))


def _vendor_fields() -> list[tuple[str, Any, Any]]:
    """Each installed vendor's port and settings section, as dataclass fields."""
    made: list[tuple[str, Any, Any]] = []
    for vendor in REGISTRY.all():
        made.append((vendor.port_setting, int, field(default=vendor.default_port)))
        made.extend((spec.name, spec.type, field(default=spec.default)) for spec in vendor.settings)
    return made


#: The settings of this installation: the server's own and every vendor's section (vendors installed later,
#: such as a test's toy vendor, use their default port unless a port is given to the server directly).
Settings = make_dataclass("Settings", _vendor_fields(), bases=(BaseSettings,), frozen=True)
Settings.__module__ = __name__
Settings.__doc__ = "Everything that configures a server run. Every field is also a flag and an env var."


ENV_PREFIX = "MOCKSERVER_"
#: Sections of the TOML settings file that are start-up state, not settings (mockserver/admin/mappings.py).
MAPPING_SECTIONS = ("keys", "rules", "faults", "outcomes", "scenarios")
#: Values of a list setting that mean "none" (``--cors-origins off``).
OFF = ("off", "none", "false", "no")
_HINTS = typing.get_type_hints(Settings)


def field_names() -> list[str]:
    """Every setting, as the CLI lists them: the host, each vendor's port, the server's own, each vendor's section."""
    ports = [vendor.port_setting for vendor in REGISTRY.all() if vendor.port_setting in _HINTS]
    sections = [spec.name for vendor in REGISTRY.all() for spec in vendor.settings if spec.name in _HINTS]
    rest = [f.name for f in fields(BaseSettings) if f.name != "host"]
    return ["host", *ports, *rest, *sections]


def help_of(name: str) -> str | None:
    """A vendor setting's help text (ports and sections); None for the server's own settings."""
    for vendor in REGISTRY.all():
        if name == vendor.port_setting:
            return f"port of the {vendor.title} (default {vendor.default_port})"
        for spec in vendor.settings:
            if spec.name == name:
                return spec.help
    return None


def _base_type(hint: Any) -> Any:
    """``int | None`` -> int; ``tuple[str, ...]`` -> tuple."""
    if isinstance(hint, types.UnionType) or typing.get_origin(hint) is typing.Union:
        inner = [arg for arg in typing.get_args(hint) if arg is not type(None)]
        return _base_type(inner[0])
    return typing.get_origin(hint) or hint


def coerce(name: str, value: Any) -> Any:
    """Turn a TOML/env/flag value into the type of field ``name``."""
    hint = _HINTS[name]
    base = _base_type(hint)
    nullable = isinstance(hint, types.UnionType) and type(None) in typing.get_args(hint)
    if isinstance(value, str):
        text = value.strip()
        if nullable and text.lower() in ("", "none", "null"):
            return None
        if base is bool:
            if text.lower() in ("1", "true", "yes", "on"):
                return True
            if text.lower() in ("0", "false", "no", "off"):
                return False
            raise ValueError(f"{name}: expected a boolean, got {value!r}")
        if base is tuple:
            if text.lower() in OFF:
                return ()
            return tuple(part.strip() for part in text.split(",") if part.strip())
        if base in (int, float):
            try:
                return base(text)
            except ValueError:
                raise ValueError(f"{name}: expected a number, got {value!r}") from None
        return text
    if base is tuple and isinstance(value, list | tuple):
        return tuple(str(v) for v in value)
    if base is float and isinstance(value, int) and not isinstance(value, bool):
        return float(value)
    return value


def from_sources(
    config_file: str | os.PathLike[str] | None = None,
    env: Mapping[str, str] | None = None,
    overrides: Mapping[str, Any] | None = None,
) -> Settings:
    """Build Settings: defaults, then the TOML file, then the environment, then ``overrides``."""
    env = os.environ if env is None else env
    values: dict[str, Any] = {}
    config_mappings: tuple[str, ...] = ()
    config_file = config_file or env.get(ENV_PREFIX + "CONFIG")
    if config_file:
        document = tomllib.loads(Path(config_file).read_text())
        data = {k: v for k, v in document.get("mockserver", document).items() if k not in MAPPING_SECTIONS}
        unknown = set(data) - set(field_names())
        if unknown:
            raise ValueError(f"unknown settings in {config_file}: {', '.join(sorted(unknown))}")
        values.update({name: coerce(name, value) for name, value in data.items()})
        if any(section in document for section in MAPPING_SECTIONS):  # start-up state beside the settings
            config_mappings = (str(config_file),)
    for name in field_names():
        raw = env.get(ENV_PREFIX + name.upper())
        if raw is not None:
            values[name] = coerce(name, raw)
    for name, value in (overrides or {}).items():
        if value is not None:
            values[name] = coerce(name, value)
    if config_mappings:
        values["mappings"] = (*config_mappings, *values.get("mappings", ()))
    return Settings(**values)
