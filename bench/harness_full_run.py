"""The full contract harness against the mock, both APIs: wall time, example counts, violations.

    python bench/harness_full_run.py [--max-examples 20] [--seed 0] [--steps 12] [--report-dir DIR]

Starts the mock in-process (manual clock, seeded), runs every schemathesis phase (examples, coverage,
fuzzing, stateful) and every behaviour check for Skytells and then GateAI, prints each run's summary table
and a closing line per API: wall seconds, schemathesis test cases, behaviour programs, requests, violations.
Exit code: 0 when both runs are clean.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from mockserver.harness import harness, report
from mockserver.harness.options import Options
from mockserver.server import ServerThread
from mockserver.settings import Settings

KEY = "sk-bench-harness-0001"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--max-examples", type=int, default=20)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--steps", type=int, default=12)
    parser.add_argument("--report-dir", default=None, help="write contract-report-<api>.json/.xml here")
    args = parser.parse_args()
    settings = Settings(api_keys=(KEY,), seed=20260101, time_mode="manual", start_time=1_767_225_600.0,
                        await_timeout=5.0)
    lines = []
    worst = 0
    with ServerThread(settings) as server:
        for api in ("skytells", "gateai"):
            options = Options(api=api, base_url=server.urls[api], api_key=KEY, max_examples=args.max_examples,
                              seed=args.seed, steps=args.steps)
            started = time.perf_counter()
            result = harness.run(options, progress=lambda line: None)
            wall = time.perf_counter() - started
            print(report.summary(result), flush=True)
            for finding in result.findings:
                print(f"\n--- {finding.headline()}\n{finding.details[:2000]}")
            if args.report_dir:
                for fmt, suffix in (("json", "json"), ("junit", "xml")):
                    report.write(result, fmt, Path(args.report_dir) / f"contract-report-{api}.{suffix}")
            lines.append(f"{api}: {wall:.1f} s wall, {result.examples('schemathesis')} schemathesis cases, "
                         f"{result.examples('behaviour')} behaviour programs, {result.requests()} requests, "
                         f"{len(result.findings)} violations, exit {result.exit_code}")
            worst = max(worst, result.exit_code)
    print("\n" + "\n".join(lines))
    return worst


if __name__ == "__main__":
    sys.exit(main())
