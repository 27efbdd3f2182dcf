"""The contract-testing harness: schemathesis (examples, coverage, fuzzing, stateful) plus Hypothesis state
machines of documented behaviour, against any base URL of the Skytells API v1 or the GateAI Core API.

    from mockserver.harness import Options, run
    result = run(Options(api="skytells", base_url="http://127.0.0.1:8080/v1", api_key="sk-…"))
    assert result.exit_code == 0, [f.headline() for f in result.findings]

Names are imported lazily, so ``mockserver serve`` (whose CLI knows the ``check`` options) does not load
schemathesis. The harness' own dependencies come with the ``harness`` extra (``pip install 'mockserver[harness]'``);
a server-only install imports this package and the pytest plugin, and says what to install when a check runs.
"""

from __future__ import annotations

from typing import Any

__all__ = ["EXTRA_MODULES", "Finding", "Options", "PhaseStats", "RunResult", "lacks_extra", "run"]

#: The top-level import names the ``harness`` extra adds to the server's dependencies.
EXTRA_MODULES = frozenset({"schemathesis", "hypothesis", "rich"})
EXTRA_INSTALL = "pip install 'mockserver[harness]'"


def lacks_extra(error: ModuleNotFoundError) -> bool:
    """True when ``error`` is a package of the ``harness`` extra missing (a server-only install)."""
    return (error.name or "").partition(".")[0] in EXTRA_MODULES


def __getattr__(name: str) -> Any:
    if name == "run":
        from mockserver.harness.harness import run

        return run
    if name == "Options":
        from mockserver.harness.options import Options

        return Options
    if name in ("Finding", "PhaseStats", "RunResult"):
        from mockserver.harness import findings

        return getattr(findings, name)
    raise AttributeError(name)
