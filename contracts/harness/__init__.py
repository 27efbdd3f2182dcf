"""The contract-testing harness: schemathesis (examples, coverage, fuzzing, stateful) plus Hypothesis state
machines of documented behaviour, against any base URL of the Skytells API v1 or the GateAI Core API.

    from contracts.harness import Options, run
    result = run(Options(api="skytells", base_url="http://127.0.0.1:8080/v1", api_key="sk-…"))
    assert result.exit_code == 0, [f.headline() for f in result.findings]
"""

from contracts.harness.findings import Finding, PhaseStats, RunResult
from contracts.harness.harness import run
from contracts.harness.options import Options

__all__ = ["Finding", "Options", "PhaseStats", "RunResult", "run"]
