"""The knobs of one harness run (shared by the CLI, the pytest plugin and the tests)."""

from __future__ import annotations

from dataclasses import dataclass, field, replace

from mockserver.harness.apis import HARNESS_APIS

APIS = tuple(HARNESS_APIS)
#: schemathesis phases, then the behaviour state machines.
ST_PHASES = ("examples", "coverage", "fuzzing", "stateful")
PHASES = (*ST_PHASES, "behaviour")


@dataclass(frozen=True)
class Options:
    """One run against one API."""

    api: str
    base_url: str  # Skytells: ``…/v1`` (as the SDKs take it); GateAI: the root
    api_key: str
    other_api_key: str | None = None  # a second key for owner-only checks (made via the mock's /_mock/keys if absent)
    max_examples: int = 20  # per schemathesis operation and phase; programs per behaviour machine
    seed: int = 0
    phases: tuple[str, ...] = PHASES
    read_only: bool = False  # only GET requests: schemathesis GET operations, read-only behaviour checks
    max_spend: float | None = None  # US dollars; None = no limit (refused against a real endpoint)
    timeout: float = 120.0  # real seconds the behaviour checks may wait for time to pass on a real endpoint
    request_timeout: float = 30.0
    steps: int = 12  # steps per behaviour program
    admin_token: str | None = None  # control plane token of a mock bound to a non-loopback address
    machines: tuple[str, ...] = ()  # only these behaviour machines (default: all of the API)
    operations: tuple[str, ...] = ()  # only these schemathesis operations ("GET /v1/models")
    workers: int = 1
    extra: dict[str, object] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if self.api not in APIS:
            raise ValueError(f"api must be one of {', '.join(APIS)}, not {self.api!r}")
        unknown = [p for p in self.phases if p not in PHASES]
        if unknown:
            raise ValueError(f"unknown phase(s) {', '.join(unknown)}; known: {', '.join(PHASES)}")
        if self.max_examples < 1:
            raise ValueError("max_examples must be at least 1")
        if self.max_spend is not None and self.max_spend < 0:
            raise ValueError("max_spend must be >= 0")

    @property
    def st_phases(self) -> tuple[str, ...]:
        return tuple(p for p in self.phases if p in ST_PHASES)

    @property
    def runs_behaviour(self) -> bool:
        return "behaviour" in self.phases

    def replace(self, **changes: object) -> Options:
        return replace(self, **changes)
