"""What an API personality (a *vendor*) plugs into the neutral core, and the one registry of installed vendors.

A vendor is a :class:`Vendor` descriptor: its name (rules' and the journal's ``api``), default port, mount prefix
in single-port mode, how its app is built on a :class:`~mockserver.core.runtime.Runtime` (routes and error
renderer), where its requests carry the API key, the requests a scripted outcome shapes, its per-key limits and
account fields, its contract document, and what the control plane's dashboard shows of it (its kinds of job, read
by a :class:`JobReader`, and a key's limits in use). The core never names a vendor: it reads these values from
:data:`REGISTRY`, which :mod:`mockserver.vendors` fills from the ``mockserver.vendors`` entry points (a test may
install a vendor for a while with :meth:`Registry.installed`).
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from importlib.metadata import EntryPoint, entry_points
from typing import TYPE_CHECKING, Any, Protocol

if TYPE_CHECKING:
    from starlette.routing import BaseRoute

    from mockserver.core.accounts import Account
    from mockserver.core.asgi import ErrorRenderer
    from mockserver.core.front import Express, ExpressWrite
    from mockserver.core.jobs import JobState
    from mockserver.core.runtime import Runtime

#: The entry-point group listing installed vendors (each entry: a :class:`Vendor` or a sequence of them).
ENTRY_POINTS = "mockserver.vendors"
#: Where the package's own list is (``module:attribute``, as its entry point says) when no entry point is found:
#: a source tree run without being installed (``PYTHONPATH=.``) has no package metadata.
OWN_LIST = "mockserver.vendors:INSTALLED"


@dataclass(frozen=True)
class LimitSpec:
    """One per-key limit a control-plane client may set (``PATCH /_mock/keys/{key}`` ``limits``)."""

    integer: bool
    minimum: float
    maximum: float
    meaning: str


@dataclass(frozen=True)
class SettingSpec:
    """One setting a vendor adds to the server's settings (a field, a flag and an env var)."""

    name: str
    type: Any
    default: Any
    help: str
    check: Callable[[Any], str | None] | None = None  # a problem with a value (None: fine)


@dataclass(frozen=True)
class ShownJob:
    """What the control plane's job list (``GET /_mock/jobs``) shows of one job, as its vendor reads the record."""

    object: dict[str, Any]  # the job as its API renders it now
    timeline: Sequence[tuple[str, float]]  # (status, virtual time entered) of every step, in order
    cost: Any
    refunded: bool
    given: Any = None  # a scripted output (the URLs in it are shown as links)
    files: Sequence[str] = ()  # names of its output files (shown once it has ended without an error)


class JobReader(Protocol):
    """A vendor's read-only access to its jobs of one kind on one runtime (no write, no render)."""

    def state(self, record: dict[str, Any], now: float) -> JobState: ...

    def show(self, record: dict[str, Any], api_base: str, now: float) -> ShownJob:
        """``api_base``: the API's root URL as the caller reached it (links in ``object`` start there)."""
        ...


@dataclass(frozen=True)
class VendorJobs:
    """One kind of job a vendor runs, as the control plane lists it."""

    kind: str  # the job list's ``kind`` ("prediction")
    stored: str  # the store kind its records are kept under
    reader: Callable[[Runtime], JobReader]  # built once per runtime, when first needed


@dataclass
class VendorApp:
    """What a vendor's builder hands the assembly: its routes, its error format, and its API object."""

    routes: list[BaseRoute]
    render: ErrorRenderer
    api: object = None
    #: The answer to its hottest request without the router's layers, or a decline (see
    #: :data:`mockserver.core.front.Express`).
    express: Express | None = None
    #: The answer to its hottest write from a body the server read whole, or a decline (see
    #: :class:`mockserver.core.front.ExpressWrite`).
    express_write: ExpressWrite | None = None


@dataclass(frozen=True)
class Vendor:
    """One API personality, as the core, the assembly, the settings, the CLI and the control plane see it."""

    name: str
    title: str  # "Skytells API": CLI help and start-up lines
    default_port: int
    build: Callable[[Runtime], VendorApp]
    mount: str = ""  # single-port mode prefix; default "/<name>"
    base_path: str = ""  # what an SDK's base URL adds to the root ("/v1")
    contract: str | None = None  # the spec document served at /openapi.json (mockserver.spec.loader)
    query_key_paths: frozenset[str] = frozenset()  # paths that also take the API key as ``?key=``
    outcome_requests: frozenset[tuple[str, str]] = frozenset()  # (METHOD, path) a scripted outcome shapes
    settings: tuple[SettingSpec, ...] = ()
    limits: Mapping[str, LimitSpec] = field(default_factory=dict)
    effective_limits: Callable[[Runtime, Account], dict[str, Any]] | None = None
    account_view: Callable[[Runtime, Account], dict[str, Any]] | None = None  # fields of a key view
    jobs: tuple[VendorJobs, ...] = ()  # the kinds of job it runs (``GET /_mock/jobs``)
    usage: Callable[[Runtime, str], dict[str, Any]] | None = None  # a key's limits in use now (read only)

    @property
    def prefix(self) -> str:
        return self.mount or "/" + self.name

    @property
    def port_setting(self) -> str:
        return f"{self.name}_port"

    def takes_query_key(self, path: str) -> bool:
        return path in self.query_key_paths


class Registry:
    """The installed vendors, in a stable order (entry points first, then temporary test installs)."""

    def __init__(self, source: Callable[[], list[Vendor]] | None = None) -> None:
        self._source = source or _from_entry_points
        self._vendors: dict[str, Vendor] | None = None
        self._outcomes: frozenset[tuple[str, str, str]] | None = None
        self._lock = threading.RLock()

    def _loaded(self) -> dict[str, Vendor]:
        if self._vendors is None:
            with self._lock:
                if self._vendors is None:
                    self._vendors = {vendor.name: vendor for vendor in self._source()}
        return self._vendors

    def all(self) -> tuple[Vendor, ...]:
        return tuple(self._loaded().values())

    def names(self) -> tuple[str, ...]:
        return tuple(self._loaded())

    def get(self, name: str) -> Vendor | None:
        return self._loaded().get(name)

    def outcome_requests(self) -> frozenset[tuple[str, str, str]]:
        """``(api, METHOD, path)`` of every request a scripted outcome means something for."""
        if self._outcomes is None:
            self._outcomes = frozenset((vendor.name, method, path) for vendor in self.all()
                                       for method, path in vendor.outcome_requests)
        return self._outcomes

    @contextmanager
    def installed(self, vendor: Vendor) -> Iterator[Vendor]:
        """``vendor`` is installed inside the block (tests: a toy vendor on the same build path)."""
        vendors = self._loaded()
        if vendor.name in vendors:
            raise ValueError(f"a vendor named {vendor.name!r} is already installed")
        vendors[vendor.name] = vendor
        self._outcomes = None
        try:
            yield vendor
        finally:
            vendors.pop(vendor.name, None)
            self._outcomes = None


def _from_entry_points() -> list[Vendor]:
    entries = list(entry_points(group=ENTRY_POINTS)) or [EntryPoint("own", OWN_LIST, ENTRY_POINTS)]
    found: list[Vendor] = []
    for entry in entries:
        loaded = entry.load()
        found.extend(loaded if isinstance(loaded, list | tuple) else [loaded])
    return found


#: The one registry of installed vendors.
REGISTRY = Registry()
