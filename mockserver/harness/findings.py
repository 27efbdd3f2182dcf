"""What a harness run found: violations (findings), errors, skipped checks, counts and spend."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

#: Where a finding comes from.
SCHEMATHESIS = "schemathesis"
BEHAVIOUR = "behaviour"


@dataclass(frozen=True)
class Finding:
    """One contract violation, named by the check, the operation and (when known) the field."""

    source: str  # SCHEMATHESIS or BEHAVIOUR
    check: str  # e.g. "response_schema_conformance", "lifecycle.terminal_is_final"
    operation: str  # e.g. "GET /v1/predictions/{id}"
    message: str  # one clear sentence
    field: str | None = None  # JSON path of the offending field, e.g. "status" or "metadata.billing.credits_used"
    phase: str = ""  # "examples", "coverage", "fuzzing", "stateful" or the behaviour machine's name
    details: str = ""  # how to reproduce: a curl command, a minimal program, a response excerpt

    def headline(self) -> str:
        where = f" field '{self.field}'" if self.field else ""
        return f"[{self.check}] {self.operation}{where}: {self.message}"

    def as_json(self) -> dict[str, Any]:
        return {"source": self.source, "check": self.check, "operation": self.operation, "field": self.field,
                "message": self.message, "phase": self.phase, "details": self.details}


@dataclass
class PhaseStats:
    """How much one phase (a schemathesis phase or a behaviour machine) did."""

    name: str
    source: str
    examples: int = 0  # test cases (schemathesis) or generated programs (behaviour)
    requests: int = 0  # HTTP requests sent
    checks_passed: int = 0
    checks_failed: int = 0
    seconds: float = 0.0
    status: str = "passed"  # passed | failed | skipped | error | stopped
    note: str = ""

    def as_json(self) -> dict[str, Any]:
        return {"name": self.name, "source": self.source, "examples": self.examples, "requests": self.requests,
                "checks_passed": self.checks_passed, "checks_failed": self.checks_failed,
                "seconds": round(self.seconds, 3), "status": self.status, "note": self.note}


@dataclass
class RunResult:
    """Everything a harness run produced."""

    api: str
    base_url: str
    target_kind: str  # "mock" (control plane answered) or "remote"
    seed: int
    findings: list[Finding] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)  # the harness could not run something (not a violation)
    phases: list[PhaseStats] = field(default_factory=list)
    plan_lines: list[str] = field(default_factory=list)
    spent: float = 0.0  # what the run sent, estimated: actual costs where responses say, else worst-case estimates
    planned: float | None = None  # the plan's worst-case bound (None: the run stopped before planning)
    stopped: str | None = None  # why the run stopped early (spend limit), if it did
    seconds: float = 0.0

    @property
    def ok(self) -> bool:
        return not self.findings and not self.errors and self.stopped is None

    @property
    def exit_code(self) -> int:
        """0 clean; 1 violations found; 3 stopped by the spend guard; 2 the harness hit errors."""
        if self.findings:
            return 1
        if self.stopped is not None:
            return 3
        if self.errors:
            return 2
        return 0

    def examples(self, source: str | None = None) -> int:
        return sum(p.examples for p in self.phases if source is None or p.source == source)

    def requests(self) -> int:
        return sum(p.requests for p in self.phases)

    def as_json(self) -> dict[str, Any]:
        return {
            "api": self.api, "base_url": self.base_url, "target": self.target_kind, "seed": self.seed,
            "ok": self.ok, "exit_code": self.exit_code, "seconds": round(self.seconds, 3),
            "examples": self.examples(), "requests": self.requests(), "spent_usd": round(self.spent, 6),
            "planned_usd": None if self.planned is None else round(self.planned, 6),
            "stopped": self.stopped, "plan": self.plan_lines,
            "phases": [p.as_json() for p in self.phases],
            "findings": [f.as_json() for f in self.findings],
            "errors": self.errors,
        }
