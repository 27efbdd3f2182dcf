"""One harness run: open the target, price it, print the plan, then schemathesis and the behaviour machines."""

from __future__ import annotations

import sys
import time
from collections.abc import Callable

import httpx

from mockserver.harness.apis import harness_api
from mockserver.harness.behaviour.common import Context, HarnessMachine, run_machine
from mockserver.harness.findings import BEHAVIOUR, PhaseStats, RunResult
from mockserver.harness.options import Options
from mockserver.harness.progress import Display, Meter
from mockserver.harness.runner import load_schema, operation_labels, run_schemathesis
from mockserver.harness.spend import PlanItem, SpendGuard, SpendPlan
from mockserver.harness.target import Target

Printer = Callable[[str], None]


def machines_for(api: str) -> tuple[type[HarnessMachine], ...]:
    return harness_api(api).machines()


def selected_machines(options: Options) -> list[type[HarnessMachine]]:
    machines = list(machines_for(options.api))
    if options.machines:
        unknown = set(options.machines) - {m.name for m in machines}
        if unknown:
            raise ValueError(f"unknown behaviour check(s) {', '.join(sorted(unknown))}; "
                             f"known: {', '.join(m.name for m in machines)}")
        machines = [m for m in machines if m.name in options.machines]
    return machines


def make_plan(options: Options, target: Target, ctx: Context, labels: list[str]) -> SpendPlan:
    """What runs and its worst-case cost: computed from free requests only."""
    prices = ctx.prices
    plan = SpendPlan(options.api, target.base_url, target.kind, options.read_only, options.max_spend)
    plan.budget_cap = prices.budget_cap
    st_phases = options.st_phases
    if st_phases:
        plan.lines.append(f"schemathesis phases: {', '.join(st_phases)}; {len(labels)} operations; "
                          f"up to {options.max_examples} examples per operation and phase; seed {options.seed}")
        # coverage is bounded like fuzzing (budget.CoverageBudget); a stateful scenario may call one operation
        # at every step; examples sends the few the contract has
        per_operation = options.max_examples * sum(p in st_phases for p in ("coverage", "fuzzing"))
        per_operation += options.max_examples * max(options.steps, 2) if "stateful" in st_phases else 0
        per_operation += 2 if "examples" in st_phases else 0
        for label in labels:
            method, _, path = label.partition(" ")
            if prices.paid(method, path):
                plan.items.append(PlanItem(f"schemathesis {label}", per_operation, prices.worst_cost(path)))
    if options.runs_behaviour:
        for machine in selected_machines(options):
            reason = machine.applicable(ctx)
            if reason is not None:
                plan.lines.append(f"behaviour {machine.name}: skipped ({reason})")
                continue
            plan.lines.append(f"behaviour {machine.name}: {options.max_examples} programs x {options.steps} steps "
                              f"-- {machine.description}")
            paid = round(options.max_examples * options.steps * machine.paid_per_step)
            if paid:
                plan.items.append(PlanItem(f"behaviour {machine.name}", paid, machine.cost_per_paid_request(ctx)))
    return plan


def _stderr(line: str) -> None:
    print(line, file=sys.stderr, flush=True)


def run(options: Options, *, out: Printer = print, progress: Printer = _stderr,
        display: Display | None = None) -> RunResult:
    """Run the whole harness against one API and return what it found (``result.exit_code`` for a CLI).

    ``display`` shows each phase's counters while it runs (:mod:`mockserver.harness.progress`; default none).
    """
    display = display or Display()
    started = time.monotonic()
    result = RunResult(options.api, options.base_url, "?", options.seed)
    target = Target.open(options)
    result.target_kind = target.kind
    try:
        try:
            prices = harness_api(options.api).prices(target.client())
        except (httpx.HTTPError, ValueError, KeyError, TypeError) as exc:
            result.errors.append(f"cannot read prices from {options.base_url}: {type(exc).__name__}: {exc}")
            return result
        guard = SpendGuard(options.max_spend)
        ctx = Context(target=target, prices=prices, guard=guard, options=options)
        labels = operation_labels(load_schema(options, target)) if options.st_phases else []
        plan = make_plan(options, target, ctx, labels)
        result.plan_lines = plan.render().splitlines()
        result.planned = plan.worst_case
        out(plan.render())
        refusal = plan.refusal()
        if refusal is not None:
            result.stopped = refusal
            return result
        if options.st_phases:
            outcome = run_schemathesis(options, target, prices, guard, progress, display)
            result.findings.extend(outcome.findings)
            result.phases.extend(outcome.phases)
            result.errors.extend(outcome.errors)
            result.stopped = outcome.stopped
        if options.runs_behaviour and result.stopped is None:
            run_behaviour(options, ctx, result, progress, display)
        result.spent = guard.spent
        return result
    finally:
        result.seconds = time.monotonic() - started
        target.close()


def run_behaviour(options: Options, ctx: Context, result: RunResult, progress: Printer,
                  display: Display | None = None) -> None:
    display = display or Display()
    for machine in selected_machines(options):
        progress(f"[behaviour] {machine.name} ...")
        examples, requests = ctx.examples, ctx.target.requests_sent
        display.start(Meter(f"[behaviour] {machine.name}", cases=lambda e=examples: ctx.examples - e,
                            requests=lambda r=requests: ctx.target.requests_sent - r, unit="programs"))
        try:
            outcome = run_machine(machine, ctx, max_examples=options.max_examples, steps=options.steps,
                                  seed=options.seed)
        finally:
            display.stop()
        stats = PhaseStats(name=machine.name, source=BEHAVIOUR, examples=outcome.examples,
                           requests=outcome.requests, seconds=outcome.seconds)
        if outcome.finding is not None:
            stats.status, stats.checks_failed = "failed", 1
            result.findings.append(outcome.finding)
            progress(f"  FAIL {outcome.finding.headline()}")
        elif outcome.error is not None:
            stats.status, stats.note = "error", outcome.error.splitlines()[0]
            result.errors.append(outcome.error)
        elif outcome.stopped is not None:
            stats.status, stats.note = "stopped", outcome.stopped
            result.stopped = outcome.stopped
        elif outcome.skipped is not None:
            stats.status, stats.note = "skipped", outcome.skipped
        result.phases.append(stats)
        progress(f"[behaviour] {machine.name}: {stats.examples} programs, {stats.requests} requests "
                 f"({stats.status}{': ' + stats.note if stats.note else ''})")
        if result.stopped is not None:
            return
    if ctx.target.is_mock:
        ctx.target.prepare_example()  # leave the mock clean
