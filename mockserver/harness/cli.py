"""``mockserver check`` (also ``python -m mockserver.harness``): run the contract harness against a base URL.

Exit codes: 0 no violation; 1 contract violations; 2 the harness could not run (bad options, unreachable
target, errors); 3 refused or stopped by the spend guard (the plan exceeds ``--max-spend``, or a paid request
would have).
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from mockserver.harness import EXTRA_INSTALL, lacks_extra, report
from mockserver.harness.options import APIS, PHASES, Options

DEFAULT_REPORT_PATHS = {"junit": "contract-report-{api}.xml", "json": "contract-report-{api}.json"}
MISSING_EXTRA = f"mockserver check needs the harness extra: {EXTRA_INSTALL}"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """The ``check`` options (shared with ``mockserver check``)."""
    parser.add_argument("--api", required=True, choices=APIS, help="which API to check")
    parser.add_argument("--base-url", required=True,
                        help="the API's base URL (Skytells: …/v1, e.g. http://127.0.0.1:8080/v1; GateAI: the root)")
    parser.add_argument("--api-key", required=True, help="the API key to test with")
    parser.add_argument("--other-api-key", default=None,
                        help="a second key for owner-only checks (against the mock one is created via /_mock/keys)")
    parser.add_argument("--max-examples", type=int, default=20,
                        help="examples per operation and schemathesis phase; programs per behaviour check (20)")
    parser.add_argument("--seed", type=int, default=0, help="seed of every generator (0): the same seed, the same run")
    parser.add_argument("--phases", default=",".join(PHASES),
                        help=f"comma-separated subset of {','.join(PHASES)} (default: all)")
    parser.add_argument("--checks", default="",
                        help="comma-separated behaviour checks to run (default: all of the API's)")
    parser.add_argument("--operations", action="append", default=[],
                        help="only this schemathesis operation, e.g. 'GET /v1/models' (repeatable; default: all)")
    parser.add_argument("--steps", type=int, default=12, help="steps per behaviour program (12)")
    parser.add_argument("--read-only", action="store_true",
                        help="send GET requests only (schemathesis GET operations, read-only behaviour checks)")
    parser.add_argument("--max-spend", type=float, default=None,
                        help="US dollars the run may spend at most: refuse a plan that may cost more, and stop "
                             "before any request that would exceed it (required against a real endpoint unless "
                             "--read-only)")
    parser.add_argument("--timeout", type=float, default=120.0,
                        help="real seconds the behaviour checks may wait for time to pass on a real endpoint (120)")
    parser.add_argument("--request-timeout", type=float, default=30.0, help="seconds per request (30)")
    parser.add_argument("--admin-token", default=None, help="the mock's control-plane token, if it needs one")
    parser.add_argument("--report", action="append", choices=report.FORMATS, default=[],
                        help="also write a report: junit or json (repeatable)")
    parser.add_argument("--report-path", action="append", default=[],
                        help="where to write the report(s), in --report order "
                             "(default contract-report-<api>.xml / .json)")
    parser.add_argument("--plan-only", action="store_true",
                        help="print the plan and exit without sending anything paid")
    parser.add_argument("--quiet", action="store_true", help="no progress lines")


def options_from(args: argparse.Namespace) -> Options:
    phases = tuple(p.strip() for p in args.phases.split(",") if p.strip())
    checks = tuple(c.strip() for c in args.checks.split(",") if c.strip())
    return Options(api=args.api, base_url=args.base_url, api_key=args.api_key, other_api_key=args.other_api_key,
                   max_examples=args.max_examples, seed=args.seed, phases=phases, read_only=args.read_only,
                   max_spend=args.max_spend, timeout=args.timeout, request_timeout=args.request_timeout,
                   steps=args.steps, admin_token=args.admin_token, machines=checks,
                   operations=tuple(args.operations))


def check_command(args: argparse.Namespace) -> int:
    try:
        from mockserver.harness import harness
        from mockserver.harness.progress import choose
    except ModuleNotFoundError as exc:  # a server-only install: one clear line, not a traceback
        if not lacks_extra(exc):
            raise
        print(MISSING_EXTRA, file=sys.stderr)
        return 2
    try:
        options = options_from(args)
        if args.plan_only:
            options = options.replace(max_spend=0.0 if options.max_spend is None else options.max_spend)
    except ValueError as exc:
        print(f"mockserver check: {exc}", file=sys.stderr)
        return 2
    paths = list(args.report_path)
    if len(paths) > len(args.report):
        print("mockserver check: more --report-path than --report", file=sys.stderr)
        return 2
    progress = (lambda line: None) if args.quiet else harness._stderr
    try:
        if args.plan_only:
            return plan_only(options)
        result = harness.run(options, progress=progress, display=choose(progress, args.quiet))
    except ValueError as exc:
        print(f"mockserver check: {exc}", file=sys.stderr)
        return 2
    except Exception as exc:  # whatever a target answers: one clear line, never a traceback
        print(f"mockserver check: cannot run against {options.base_url}: {one_line(exc)}", file=sys.stderr)
        return 2
    print()
    print(report.summary(result))
    for index, fmt in enumerate(args.report):
        path = paths[index] if index < len(paths) else DEFAULT_REPORT_PATHS[fmt].format(api=options.api)
        written = report.write(result, fmt, path)
        print(f"{fmt} report: {written}")
    for finding in result.findings:
        if finding.details:
            print(f"\n--- {finding.headline()}\n{finding.details}")
    return result.exit_code


def one_line(exc: BaseException) -> str:
    """``ExceptionName: first line of its message``."""
    text = str(exc).strip().splitlines()
    return f"{type(exc).__name__}: {text[0]}" if text else type(exc).__name__


def plan_only(options: Options) -> int:
    """Print the plan (free requests only) and exit 0, or 3 when ``--max-spend`` would refuse it."""
    from mockserver.harness import harness
    from mockserver.harness.apis import harness_api
    from mockserver.harness.behaviour.common import Context
    from mockserver.harness.runner import load_schema, operation_labels
    from mockserver.harness.spend import SpendGuard
    from mockserver.harness.target import Target

    target = Target.open(options, drive=False)
    try:
        ctx = Context(target=target, prices=harness_api(options.api).prices(target.client()), guard=SpendGuard(0.0),
                      options=options)
        labels = operation_labels(load_schema(options, target)) if options.st_phases else []
        plan = harness.make_plan(options, target, ctx, labels)
    finally:
        target.close()
    print(plan.render())
    refusal = plan.refusal()
    if refusal is not None:
        print(f"refused: {refusal}")
        return 3
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="mockserver check", description="contract-test a Skytells or GateAI API")
    add_arguments(parser)
    return check_command(parser.parse_args(argv))


if __name__ == "__main__":
    sys.exit(main())
