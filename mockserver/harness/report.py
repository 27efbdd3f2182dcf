"""Reports of a run: a readable summary table, JUnit XML (one test case per phase/machine and finding), JSON."""

from __future__ import annotations

import json
from pathlib import Path
from xml.etree import ElementTree as ET

from mockserver.harness.findings import RunResult

FORMATS = ("junit", "json")


def summary(result: RunResult) -> str:
    """A fixed-width table of phases and machines, then the findings, errors and the verdict."""
    header = f"{'phase / check':<34} {'source':<12} {'examples':>8} {'requests':>8} {'failed':>6} {'secs':>7}  status"
    lines = [f"Contract check: {result.api} at {result.base_url} ({result.target_kind}, seed {result.seed})",
             header, "-" * len(header)]
    for phase in result.phases:
        note = f" ({phase.note})" if phase.note else ""
        lines.append(f"{phase.name:<34} {phase.source:<12} {phase.examples:>8} {phase.requests:>8} "
                     f"{phase.checks_failed:>6} {phase.seconds:>7.1f}  {phase.status}{note}")
    lines.append("-" * len(header))
    lines.append(f"{'total':<34} {'':<12} {result.examples():>8} {result.requests():>8} "
                 f"{len(result.findings):>6} {result.seconds:>7.1f}")
    lines.append(spend_line(result))
    if result.findings:
        lines.append("")
        lines.append(f"{len(result.findings)} violation(s):")
        lines.extend(f"  {index}. {finding.headline()}" for index, finding in enumerate(result.findings, 1))
    if result.errors:
        lines.append("")
        lines.append(f"{len(result.errors)} error(s) running the harness:")
        lines.extend(f"  - {error.splitlines()[0]}" for error in result.errors)
    if result.stopped:
        lines.append("")
        lines.append(f"stopped early: {result.stopped}")
    verdict = {0: "PASSED", 1: "FAILED: contract violations", 2: "ERROR: the harness could not run everything",
               3: "STOPPED by the spend guard"}[result.exit_code]
    lines.append("")
    lines.append(f"{verdict} (exit code {result.exit_code})")
    return "\n".join(lines)


def spend_line(result: RunResult) -> str:
    """The run's money in one line: the plan's bound beside an estimate of what was sent."""
    planned = "-" if result.planned is None else f"${result.planned:.4f}"
    mock = "; the mock's money is not real" if result.target_kind == "mock" else ""
    return (f"spend: planned bound {planned} (worst case, before the run); sent ${result.spent:.4f} "
            f"(estimate: costs the API reported, else worst-case estimates){mock}")


def junit(result: RunResult) -> str:
    """JUnit XML: one suite per source; a passing case per phase/machine, a failing case per finding."""
    suites = ET.Element("testsuites", name=f"contracts-{result.api}", tests="0", failures="0", errors="0",
                        time=f"{result.seconds:.3f}")
    by_source: dict[str, ET.Element] = {}
    counts: dict[str, list[int]] = {}

    def suite(source: str) -> ET.Element:
        if source not in by_source:
            by_source[source] = ET.SubElement(suites, "testsuite", name=f"{result.api}.{source}")
            counts[source] = [0, 0, 0, 0]  # tests, failures, errors, skipped
        return by_source[source]

    failing = {(f.source, f.phase) for f in result.findings}
    for phase in result.phases:
        case = ET.SubElement(suite(phase.source), "testcase", classname=f"{result.api}.{phase.source}",
                             name=phase.name, time=f"{phase.seconds:.3f}")
        counts[phase.source][0] += 1
        if phase.status == "skipped":
            ET.SubElement(case, "skipped", message=phase.note or "skipped")
            counts[phase.source][3] += 1
        elif phase.status == "error":
            ET.SubElement(case, "error", message=phase.note or "error")
            counts[phase.source][2] += 1
        elif (phase.source, phase.name) in failing:
            ET.SubElement(case, "failure", message=f"{phase.checks_failed or 'some'} check(s) failed; see below")
            counts[phase.source][1] += 1
    for finding in result.findings:
        name = f"{finding.check} {finding.operation}" + (f" [{finding.field}]" if finding.field else "")
        case = ET.SubElement(suite(finding.source), "testcase", classname=f"{result.api}.{finding.source}", name=name)
        failure = ET.SubElement(case, "failure", message=finding.headline(), type=finding.check)
        failure.text = finding.details or finding.message
        counts[finding.source][0] += 1
        counts[finding.source][1] += 1
    for index, error in enumerate(result.errors):
        case = ET.SubElement(suite("harness"), "testcase", classname=f"{result.api}.harness", name=f"error {index + 1}")
        ET.SubElement(case, "error", message=error.splitlines()[0]).text = error
        counts["harness"][0] += 1
        counts["harness"][2] += 1
    if result.stopped:
        case = ET.SubElement(suite("harness"), "testcase", classname=f"{result.api}.harness", name="spend guard")
        ET.SubElement(case, "error", message=result.stopped)
        counts["harness"][0] += 1
        counts["harness"][2] += 1
    totals = [0, 0, 0, 0]
    for source, element in by_source.items():
        tests, failures, errors, skipped = counts[source]
        element.set("tests", str(tests))
        element.set("failures", str(failures))
        element.set("errors", str(errors))
        element.set("skipped", str(skipped))
        totals = [a + b for a, b in zip(totals, counts[source], strict=True)]
    suites.set("tests", str(totals[0]))
    suites.set("failures", str(totals[1]))
    suites.set("errors", str(totals[2]))
    ET.indent(suites)
    return ET.tostring(suites, encoding="unicode", xml_declaration=True) + "\n"


def as_json(result: RunResult) -> str:
    return json.dumps(result.as_json(), indent=2, ensure_ascii=False) + "\n"


def write(result: RunResult, fmt: str, path: str | Path) -> Path:
    """Write the ``fmt`` report (``junit`` or ``json``) to ``path``."""
    if fmt not in FORMATS:
        raise ValueError(f"unknown report format {fmt!r}; expected one of {', '.join(FORMATS)}")
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(junit(result) if fmt == "junit" else as_json(result), encoding="utf-8")
    return target
