"""Start-up files: keys, rules, faults, outcomes and scenarios read from files when the server starts, like
WireMock's ``mappings/`` folder.

``--mappings PATH`` (repeatable; ``MOCKSERVER_MAPPINGS``, comma-separated) names folders (every ``.json``,
``.toml``, ``.yaml``/``.yml`` file inside, sorted by path) or single files; the TOML settings file may hold the
same sections beside its settings. One file::

    keys      = [{key = "sk-ci-0001", credits = 5.0, limits = {concurrency = 2}}]   # as POST /_mock/keys
    rules     = [{match = {model = "flux-pro"}, fault = {type = "error", status = 503}, times = 1}]
    faults    = [{type = "latency", seconds = 2}]                                   # as POST /_mock/faults
    outcomes  = [{status = "failed", error = "GPU on fire", match = {model = "veo-3.1"}}]
    [scenarios]
    slow-gpu  = [{fault = {type = "latency", seconds = 5}}]                         # as PUT /_mock/scenarios/{name}

Everything is validated before anything is applied; an error names the file, the entry and the field
(``mappings/ci.toml: keys[0].credits: credits must be >= 0``). A full ``POST /_mock/reset`` applies the files'
state again; ``POST /_mock/mappings/reload`` (or SIGHUP) re-reads them, then resets.
"""

from __future__ import annotations

import json
import tomllib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from mockserver.admin import keys as key_specs
from mockserver.admin.errors import bad_request, not_found
from mockserver.admin.rules import split_action
from mockserver.core.errors import ApiError
from mockserver.core.http import JSONResponse
from mockserver.core.rules.fields import RuleError
from mockserver.core.rules.registry import Rules
from mockserver.core.rules.targets import RuleTargets
from mockserver.core.vendor import REGISTRY
from mockserver.settings import field_names

SECTIONS = ("keys", "rules", "faults", "outcomes", "scenarios")
SUFFIXES = (".json", ".toml", ".yaml", ".yml")


class MappingError(ValueError):
    """A start-up file that cannot be read or holds an entry the control plane would refuse."""


@dataclass(frozen=True)
class Entry:
    """One entry of one section of one file."""

    source: str
    section: str
    where: str  # "keys[0]", "scenarios.slow-gpu"
    spec: Any


def files(paths: Iterable[str | Path]) -> list[Path]:
    """The files ``paths`` name: folders expanded to their mapping files (sorted), files as given."""
    found: list[Path] = []
    for raw in paths:
        path = Path(raw)
        if path.is_dir():
            found += sorted(p for p in path.rglob("*") if p.is_file() and p.suffix in SUFFIXES)
        elif path.is_file():
            found.append(path)
        else:
            raise MappingError(f"{path}: no such file or folder")
    return found


def _parse(path: Path) -> Any:
    text = path.read_text(encoding="utf-8")
    if path.suffix == ".toml":
        return tomllib.loads(text)
    if path.suffix in (".yaml", ".yml"):
        return yaml.safe_load(text)
    return json.loads(text)


def read(path: Path) -> list[Entry]:
    """The entries of one file (the settings file may hold settings beside the sections)."""
    try:
        data = _parse(path)
    except (OSError, ValueError, yaml.YAMLError) as exc:
        raise MappingError(f"{path}: cannot be parsed: {' '.join(str(exc).split())}") from None
    if not isinstance(data, dict):
        raise MappingError(f"{path}: must hold an object with any of the sections {', '.join(SECTIONS)}")
    unknown = sorted(set(data) - set(SECTIONS) - set(field_names()) - {"mockserver"})
    if unknown:
        raise MappingError(f"{path}: unknown section(s) {', '.join(unknown)}; known: {', '.join(SECTIONS)}")
    entries: list[Entry] = []
    for section in (s for s in SECTIONS if s in data):
        value = data[section]
        if section == "scenarios":
            if not isinstance(value, dict):
                raise MappingError(f"{path}: scenarios must be an object of name -> list of rules")
            entries += [Entry(str(path), section, f"scenarios.{name}", (name, rules)) for name, rules in value.items()]
        elif isinstance(value, list):
            entries += [Entry(str(path), section, f"{section}[{index}]", item) for index, item in enumerate(value)]
        else:
            raise MappingError(f"{path}: {section} must be a list")
    return entries


def load(paths: Iterable[str | Path], seed: int | None = None, targets: RuleTargets = REGISTRY,
         refused_faults: Mapping[str, str] | None = None) -> list[Entry]:
    """Read and validate every start-up file (raises :class:`MappingError` naming file, entry and field);
    ``targets``: what rules may name; ``refused_faults``: fault types the server cannot carry out."""
    entries: list[Entry] = []
    for path in files(paths):
        entries += read(path)
    scratch = Rules(seed, targets, refused_faults)  # rules are checked by adding them to a throwaway rule set
    for entry in entries:
        try:
            if entry.section == "keys":
                _check_key(entry.spec)
            else:
                _add_rule(scratch, entry)
        except ApiError as error:
            field = f".{error.param}" if error.param else ""
            raise MappingError(f"{entry.source}: {entry.where}{field}: {error.message}") from None
        except RuleError as error:
            raise MappingError(f"{entry.source}: {entry.where}: {error}") from None
    return entries


def _check_key(spec: Any) -> None:
    if not isinstance(spec, dict):
        raise ApiError(400, "INVALID_INPUT", "must be an object such as {key = \"sk-…\", credits = 5}")
    if spec.get("key") is None:
        raise ApiError(400, "INVALID_INPUT", "key is required", param="key")
    key_specs._unknown(spec, key_specs.CREATE_FIELDS)
    key_specs.parse_key(spec["key"])
    key_specs._number(spec, "credits")
    key_specs._number(spec, "daily_budget")
    key_specs._flag(spec, "suspended")
    key_specs.parse_limits(spec.get("limits"))


def _add_rule(rules: Rules, entry: Entry) -> None:
    if entry.section == "rules":
        rules.add(entry.spec)
    elif entry.section in ("faults", "outcomes"):
        rules.add(split_action(entry.spec, entry.section[:-1]))
    else:
        name, specs = entry.spec
        if not isinstance(specs, list):
            raise RuleError("must be a list of rules")
        rules.set_scenario(name, specs)


def apply(runtime: Any, entries: list[Entry]) -> None:
    """Put the entries' state into a runtime (keys created or changed, rules and scenarios added)."""
    for entry in entries:
        if entry.section == "keys":
            spec = dict(entry.spec)
            key = spec.pop("key")
            if runtime.accounts.find(key) is None:
                key_specs.create_key(runtime, entry.spec)
            else:
                key_specs.change_key(runtime, key, spec)
        else:
            _add_rule(runtime.rules, entry)


class StartupFiles:
    """The files a server was started with: applied at start and after every full reset; reloadable."""

    def __init__(self, paths: tuple[str, ...], seed: int | None, targets: RuleTargets = REGISTRY,
                 refused_faults: Mapping[str, str] | None = None) -> None:
        self.paths, self.seed, self.targets, self.refused_faults = paths, seed, targets, refused_faults
        self.entries = load(paths, seed, targets, refused_faults)

    def reload(self) -> int:
        """Read the files again (the old entries stay if they are broken); the number of entries."""
        self.entries = load(self.paths, self.seed, self.targets, self.refused_faults)
        return len(self.entries)

    def __call__(self, runtime: Any) -> None:
        apply(runtime, self.entries)


def install(runtime: Any) -> None:
    """Read the runtime's ``mappings`` (raises :class:`MappingError`) and apply them now and after each reset."""
    if not runtime.settings.mappings:
        return
    runtime.startup = StartupFiles(runtime.settings.mappings, runtime.settings.seed, runtime.rules.targets,
                                   runtime.rules.refused_faults)
    runtime.apply_startup()


def reload(runtime: Any) -> int:
    """Re-read the start-up files, then reset the server to them (raises :class:`MappingError`, nothing changed)."""
    if runtime.startup is None:
        raise not_found("This server has no start-up files (--mappings DIR or sections in the --config file)")
    count = runtime.startup.reload()
    runtime.reset()
    return count


def routes(runtime: Any) -> list[BaseRoute]:
    async def reload_files(request: Request) -> Response:
        try:
            count = reload(runtime)
        except MappingError as error:
            raise bad_request(str(error)) from None
        return JSONResponse({"reloaded": True, "files": [str(p) for p in files(runtime.startup.paths)],
                             "entries": count})

    return [Route("/mappings/reload", reload_files, methods=["POST"])]
