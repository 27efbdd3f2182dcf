"""``mockserver`` command line: ``serve`` (and, later, ``check``)."""

from __future__ import annotations

import argparse
import contextlib
import dataclasses
import logging
import re
import sys
import typing
from collections.abc import Sequence

from mockserver import settings as settings_module
from mockserver.core.vendor import REGISTRY
from mockserver.settings import ENV_PREFIX, Settings

_HELP = {
    "host": "interface to bind (default 127.0.0.1)",
    "single_port": "serve every API on the first API's port, each under its prefix",
    "api_keys": "comma-separated API keys (the first is the default key)",
    "accept_any_key": "accept any sk-… key, creating its account on first use",
    "credits": "starting Skytells credits per key (US dollars)",
    "daily_budget": "GateAI daily budget per key (US dollars)",
    "seed": "seed for ids, durations, generated text and media (reproducible runs)",
    "time_mode": "realtime | manual | instant",
    "speed": "virtual seconds per real second in realtime mode",
    "autojump": "manual mode: after this many real seconds, a client waiting on the clock (await:true, paced "
                "streams) makes it jump to the moment it waits for (default: never)",
    "start_time": "virtual start time, epoch seconds (default: now)",
    "max_records": "retention: at most this many stored objects per key and kind (the key's oldest go first)",
    "max_key_bytes": "retention: stored objects per key, in bytes of their JSON (default 64 MiB; the key's oldest go "
                     "first, other keys are never touched)",
    "max_store_bytes": "retention: stored objects of all keys, in bytes of their JSON (default 512 MiB; the key "
                       "holding the most loses its oldest first)",
    "render_workers": "worker processes rendering output files (default 2)",
    "render_threads": "render output files in threads rather than worker processes (lighter; large renders then "
                      "slow the event loop)",
    "render_cache_bytes": "rendered output files kept in memory for re-download (default 256 MiB)",
    "ttl": "retention: forget objects older than this many (virtual) seconds",
    "max_body_bytes": "largest accepted API request body (413 beyond; enforced while the body streams)",
    "max_control_body_bytes": "largest accepted control-plane (/_mock) request body",
    "max_json_depth": "deepest nesting accepted in a JSON body (400 beyond)",
    "max_header_bytes": "largest accepted request headers (431 beyond)",
    "await_timeout": "longest real-time wait for await:true before answering as-is",
    "public_url": "base URL put into links (default: as the client reached the server)",
    "admin_token": "token for the control plane from non-loopback callers",
    "log_level": "critical | error | warning | info | debug | trace (default info)",
    "shutdown_grace": "on SIGTERM, real seconds status streams and await:true requests get to answer (default 5)",
    "store": "where state lives: memory (this process), or redis://host:port/db shared by every server process "
             "using it (predictions, accounts, limits, the clock); Redis must answer at start-up",
    "workers": "server processes sharing the ports (needs --store redis://...: each has its own runtime on the "
               "shared store, webhook deliveries included)",
    "journal_size": "requests kept in the request journal (GET /_mock/requests), oldest dropped first; 0 turns "
                    "the journal off (load tests: a GET costs about a fifth less CPU)",
    "webhook_max_attempts": "webhook attempts per event before it is given up (default 12)",
    "webhook_backoff": "first webhook retry delay in virtual seconds; doubles up to 1 h, with jitter (default 5)",
    "webhook_timeout": "real seconds one webhook attempt may take before it counts as a timeout (default 10)",
    "webhook_concurrency": "webhook attempts in flight at once, server-wide (default 16)",
    "webhook_receiver_concurrency": "webhook attempts in flight at once per receiver, scheme://host:port (default 4)",
    "webhook_key_concurrency": "webhook attempts in flight at once per API key (default 8)",
    "webhook_hosts": "comma-separated hosts webhooks may be sent to (default: any host except the reserved "
                     "example domains such as example.com, *.test, *.invalid)",
    "webhook_lease": "with a shared store: real seconds a process holds a subject's webhook deliveries without "
                     "renewing; a killed process's deliveries are taken over after it (default 5)",
    "cors_origins": "comma-separated origins browsers may call the APIs from ('*': any; 'off': no CORS headers)",
    "cors_control_plane": "CORS on the control plane (/_mock) too (default: API routes only)",
    "mappings": "comma-separated folders or files of start-up keys, rules, faults, outcomes and scenarios "
                "(.json/.toml/.yaml); POST /_mock/mappings/reload or SIGHUP re-reads them",
}
#: ``mockserver.core.health.PATH``, spelled here so ``health`` imports nothing of the server (a test pins it).
HEALTH_PATH = "/_mock/health"


def health_fields() -> tuple[str, ...]:
    """Settings ``health`` reads from its flags, like ``serve`` (the rest comes from --config and the environment)."""
    return ("host", *(vendor.port_setting for vendor in REGISTRY.all()), "single_port")


def _vendors_line() -> str:
    return " + ".join(vendor.title.removesuffix(" API") for vendor in REGISTRY.all())


def _version() -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("mockserver")
    except PackageNotFoundError:
        return "unknown"


def _help(name: str) -> str:
    """A setting's help: what it does, its default and its environment variable."""
    default = next(f.default for f in dataclasses.fields(Settings) if f.name == name)
    shown = ",".join(default) if isinstance(default, tuple) else default
    described = _HELP.get(name) or settings_module.help_of(name) or name.replace("_", " ")
    text = re.sub(r"\s*\(default [^:)]*\)", "", described)  # said below
    if "(default" in text:  # the text says the default in words
        return f"{text} (env {ENV_PREFIX}{name.upper()})"
    return f"{text} (default: {shown if shown not in ('', None) else 'none'}; env {ENV_PREFIX}{name.upper()})"


def _setting_flag(parser: argparse.ArgumentParser, name: str, hints: dict[str, object]) -> None:
    flag = "--" + name.replace("_", "-")
    if name == "api_keys":
        parser.add_argument("--api-key", dest="api_keys", action="append", help=_help(name))
    elif hints[name] is bool:
        parser.add_argument(flag, dest=name, action="store_const", const=True, default=None, help=_help(name))
    else:
        parser.add_argument(flag, dest=name, default=None, help=_help(name))


def _parser(argv: Sequence[str] = ()) -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="mockserver", description=f"{_vendors_line()} API emulator")
    parser.add_argument("--version", action="version", version=f"mockserver {_version()}")
    commands = parser.add_subparsers(dest="command", required=True)
    serve = commands.add_parser("serve", help="start the mock server (defaults need no configuration)",
                                description="Settings come from defaults < the TOML --config file < MOCKSERVER_* "
                                            "environment variables < these flags.")
    serve.add_argument("--config", help="TOML settings file (env MOCKSERVER_CONFIG)")
    hints = typing.get_type_hints(Settings)
    for name in settings_module.field_names():
        _setting_flag(serve, name, hints)
    health = commands.add_parser("health", help="exit 0 if the local server answers its health checks",
                                 description="Reads the same --config file, MOCKSERVER_* variables and host/port "
                                             "flags as serve.")
    health.add_argument("--config", help="TOML settings file (env MOCKSERVER_CONFIG)")
    for name in health_fields():
        _setting_flag(health, name, hints)
    health.add_argument("--timeout", type=float, default=3.0, help="seconds per health request (default: 3)")
    if argv_command(argv) in (None, "check"):  # the harness' options only when they can be needed
        from mockserver.harness.cli import add_arguments as add_check_arguments

        check = commands.add_parser("check", help="contract-test an API (the mock or a real one) against its "
                                                  "OpenAPI contract and its documented behaviour")
        add_check_arguments(check)
    return parser


def argv_command(argv: Sequence[str]) -> str | None:
    """The sub-command named on a command line (None when there is none yet, e.g. ``--help``)."""
    return next((arg for arg in argv if arg in ("serve", "health", "check")), None)


def health_command(args: argparse.Namespace) -> int:
    """Check ``/_mock/health`` on each API's port (from the same settings ``serve`` reads; stdlib HTTP only,
    so a Docker HEALTHCHECK costs one small process)."""
    import urllib.request

    try:
        settings = settings_module.from_sources(args.config, overrides=_overrides(args, health_fields()))
    except (ValueError, OSError) as exc:
        print(f"mockserver: bad settings: {exc}", file=sys.stderr)
        return 2
    host = "127.0.0.1" if settings.host in ("0.0.0.0", "::", "") else settings.host
    host = f"[{host}]" if ":" in host else host
    vendors = REGISTRY.all()
    if settings.single_port:
        urls = [f"http://{host}:{settings.port_of(vendors[0])}{vendor.prefix}{HEALTH_PATH}" for vendor in vendors]
    else:
        urls = [f"http://{host}:{settings.port_of(vendor)}{HEALTH_PATH}" for vendor in vendors]
    failures = 0
    for url in urls:
        try:
            with urllib.request.urlopen(url, timeout=args.timeout) as response:
                ok = response.status == 200
        except (OSError, ValueError):
            ok = False
        print(f"{'ok  ' if ok else 'FAIL'} {url}")
        failures += not ok
    return 1 if failures else 0


def _overrides(args: argparse.Namespace, names: Sequence[str] | None = None) -> dict[str, object]:
    values = {name: getattr(args, name, None) for name in (names or settings_module.field_names())}
    if values.get("api_keys"):
        keys: list[str] = []
        for item in values["api_keys"]:  # type: ignore[union-attr]
            keys.extend(part.strip() for part in item.split(",") if part.strip())
        values["api_keys"] = tuple(keys)
    return values


def _control_plane_line(urls: dict[str, str], settings: Settings, admin_token: str | None) -> str:
    first = next((vendor for vendor in REGISTRY.all() if vendor.name in urls), None)
    root = "" if first is None else urls[first.name].removesuffix(first.base_path)
    if admin_token is None:
        access = "loopback callers only"
    elif settings.admin_token:
        access = "send the configured admin token as X-Mock-Admin-Token"
    else:  # made at start-up because the server is reachable beyond loopback: the only place it is shown
        access = f"X-Mock-Admin-Token: {admin_token}"
    return f"  control plane         : {root}/_mock ({access})"


def _announce(urls: dict[str, str], settings: Settings, admin_token: str | None = None) -> None:
    lines = [
        "mockserver is up",
        *(f"  {vendor.title + ' base URL':<22}: {urls.get(vendor.name, '-')}" for vendor in REGISTRY.all()),
        f"  default API key       : {settings.default_api_key}",
        f"  time mode             : {settings.time_mode} (speed {settings.speed})"
        + (f", autojump after {settings.autojump:g} s" if settings.autojump is not None else "")
        + (f", seed {settings.seed}" if settings.seed is not None else ""),
        *([f"  HTTP server           : granian (no {' / '.join(settings.refused_faults)} faults: --server "
           f"uvicorn has them)"] if settings.server == "granian" else []),
        *(["  request journal       : off (--journal-size 0: nothing recorded, /_mock/requests answers 409)"]
          if settings.journal_size == 0 else []),
        _control_plane_line(urls, settings, admin_token),
    ]
    print("\n".join(lines), flush=True)


def serve_command(args: argparse.Namespace) -> int:
    import asyncio

    from mockserver.admin.mappings import MappingError
    from mockserver.app import build
    from mockserver.core import logs
    from mockserver.core.store import StoreUnavailable
    from mockserver.server import event_loop_factory, plan, serve

    try:
        settings = settings_module.from_sources(args.config, overrides=_overrides(args))
    except (ValueError, OSError) as exc:
        print(f"mockserver: bad settings: {exc}", file=sys.stderr)
        return 2
    from uvicorn.config import LOG_LEVELS  # also registers the TRACE level name with logging

    logging.basicConfig(level=LOG_LEVELS[settings.log_level.lower()], format="%(levelname)s %(name)s: %(message)s")
    logs.install()  # API keys are masked in every log line (serve() installs it again over uvicorn's handlers)
    try:
        serving = plan(build(settings))
    except MappingError as exc:
        print(f"mockserver: bad start-up files: {exc}", file=sys.stderr)
        return 2
    except StoreUnavailable as exc:
        print(f"mockserver: {exc} (start Redis, or drop --store / MOCKSERVER_STORE for the in-memory store)",
              file=sys.stderr)
        return 2
    except OSError as exc:  # the message names host and port (server._bind)
        ports = [vendor.port_setting for vendor in REGISTRY.all()]
        flags = " / ".join("--" + name.replace("_", "-") for name in ports)
        variables = " / ".join(ENV_PREFIX + name.upper() for name in ports)
        print(f"mockserver: {exc.strerror or exc} (is another server using that port? choose another with "
              f"{flags} or {variables})", file=sys.stderr)
        return 2
    if settings.workers > 1:
        from mockserver.server import serve_workers

        urls, token = serving.base_urls(), serving.mock.runtime.admin_token
        return serve_workers(serving, settings.workers, settings.log_level, lambda: _announce(urls, settings, token))
    _announce(serving.base_urls(), settings, serving.mock.runtime.admin_token)
    # uvloop where installed (asyncio.run would always take asyncio's loop)
    with contextlib.suppress(KeyboardInterrupt), asyncio.Runner(loop_factory=event_loop_factory()) as runner:
        runner.run(serve(serving, log_level=settings.log_level))
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    args = _parser(argv).parse_args(argv)
    if args.command == "serve":
        return serve_command(args)
    if args.command == "health":
        return health_command(args)
    if args.command == "check":
        from mockserver.harness.cli import check_command

        return check_command(args)
    return 2


if __name__ == "__main__":
    sys.exit(main())
