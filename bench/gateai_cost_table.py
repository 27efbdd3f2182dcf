"""Every cost the GateAI doc states, next to what the mock's ``POST /api/estimate`` answers for the same request.

Starts the mock in-process (free loopback ports, manual clock), sends one estimate per documented
figure over real HTTP and prints a Markdown report: the doc's example costs (Daily Budget list, Cost
Calculation table, endpoint examples), then every model's cost summary. "Match" compares at the doc's
own precision (the number of decimals it prints).

    python bench/gateai_cost_table.py [--output docs/gateai-costs.md]
"""

from __future__ import annotations

import argparse
import re
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path
from typing import Any

import httpx

from mockserver.gateai import catalog, pricing
from mockserver.gateai.catalog import Model
from mockserver.server import ServerThread
from mockserver.settings import Settings

KEY = "sk-bench-costs-0001"
SQUARE = {"width": 1024, "height": 1024, "quantity": 1}
REFERENCE = "https://example.com/cat.jpg"


@dataclass(frozen=True)
class Row:
    """One documented figure: where the doc states it, what it prices, and the request that stands for it."""

    source: str
    label: str
    documented: str  # as printed, e.g. "~$0.49"
    model: str
    params: dict[str, Any]
    times: int = 1  # the doc's figure covers this many such requests


# The doc's example costs. "Hailuo (720p, 6s)": the model offers 768p/1080p; 768p, the lower, is used.
EXAMPLES: list[Row] = [
    Row("Cost Calculation / Daily Budget", "GPT Image 2 — 1024×1024, LOW", "~$0.003", "gpt-image-2",
        {**SQUARE, "quality": "low"}),
    Row("Cost Calculation / Daily Budget", "GPT Image 2 — 1024×1024, HIGH", "~$0.11", "gpt-image-2",
        {**SQUARE, "quality": "high"}),
    Row("Cost Calculation / Daily Budget", "Ideogram 3.0 — TURBO", "~$0.01", "ideogram-v3.0", {"mode": "TURBO"}),
    Row("Cost Calculation / Daily Budget", "Seedance 2.0 — 720p, 4s", "~$0.49", "seedance-2.0",
        {"mode": "RESOLUTION_720", "duration": 4}),
    Row("Cost Calculation / Daily Budget", "Seedance 2.0 — 720p, 15s", "~$1.85", "seedance-2.0",
        {"mode": "RESOLUTION_720", "duration": 15}),
    Row("Cost Calculation / Daily Budget", "Seedance 2.0 — 1080p, 12s", "~$3.33", "seedance-2.0",
        {"mode": "RESOLUTION_1080", "duration": 12}),
    Row("Cost Calculation", "Seedance 2.0 — 1080p, 15s", "~$11.25", "seedance-2.0",
        {"mode": "RESOLUTION_1080", "duration": 15}),
    Row("Cost Calculation / Daily Budget", "Hailuo — 720p, 6s", "~$0.04", "hailuo-2_3",
        {"resolution": "768p", "durationSeconds": 6}),
    Row("GET /v1/models example", "gpt-image-2 — \"~$0.003/image (LOW)\"", "~$0.003", "gpt-image-2",
        {"quality": "low", "quantity": 1}),
    Row("GET /v1/models example", "seedance-2.0 — \"~$0.49/720p 4s\"", "~$0.49", "seedance-2.0",
        {"width": 1280, "height": 720, "duration": 4}),
    Row("GET /get/{task_id} and /api/estimate examples", "gpt-image-2 — cost 0.11 (HIGH)", "0.11",
        "gpt-image-2", {"quality": "high"}),
    Row("GET /api/me example", "seedance-2.0 — 2 requests, cost 3.70 (720p, 15s each)", "3.70", "seedance-2.0",
        {"mode": "RESOLUTION_720", "duration": 15}, times=2),
]

_PER_GENERATION = re.compile(r"~\$(\d+\.\d+) per generation")
_PER_IMAGE = re.compile(r"~\$(\d+\.\d+) per 1024×1024 image")
_POINT = re.compile(r"~\$(\d+\.\d+)/(\d+)p (\d+)s")


def base_params(model: Model) -> dict[str, Any]:
    """The smallest valid params: a prompt, and a reference URL for each required field without a default."""
    params: dict[str, Any] = {}
    if model.param("prompt") is not None:
        params["prompt"] = "A beautiful scene"
    for spec in model.params:
        if spec.required and not spec.has_default and spec.name not in params:
            params[spec.name] = REFERENCE
    return params


def summary_rows(model: Model) -> list[Row]:
    """The figures of one model's ``Cost:`` summary line, each as a request."""
    text = model.cost
    points = _POINT.findall(text)
    if points:
        return [Row("model summary", f"{model.id} — {short}p, {seconds}s", f"~${usd}", model.id,
                    {"width": round(int(short) * 16 / 9), "height": int(short), "duration": int(seconds)})
                for usd, short, seconds in points]
    match = _PER_IMAGE.search(text)
    if match:
        return [Row("model summary", f"{model.id} — per 1024×1024 image", f"~${match.group(1)}", model.id, SQUARE)]
    match = _PER_GENERATION.search(text)
    if match:
        return [Row("model summary", f"{model.id} — per generation (defaults)", f"~${match.group(1)}", model.id, {})]
    raise ValueError(f"{model.id}: cost summary {text!r} not understood")


def money(usd: float) -> str:
    return f"{usd:.6f}".rstrip("0").rstrip(".")


def decimals(documented: str) -> int:
    return len(documented.split(".")[1]) if "." in documented else 0


def at_precision(value: float, places: int) -> Decimal:
    return Decimal(str(value)).quantize(Decimal(1).scaleb(-places), rounding=ROUND_HALF_UP)


def measure(client: httpx.Client, row: Row) -> tuple[float, bool] | str:
    """``(measured cost, matches at the doc's precision)``, or the error when the mock refuses the request."""
    model = catalog.get(row.model)
    body = {"model": row.model, "type": model.type, "params": {**base_params(model), **row.params}}
    response = client.post("/api/estimate", json=body)
    if response.status_code == 400:
        return f"{response.json()['code']}: {response.json()['error']}"
    response.raise_for_status()
    measured = response.json()["cost"] * row.times
    documented = Decimal(row.documented.lstrip("~$"))
    places = decimals(row.documented)
    return measured, at_precision(measured, places) == documented


def table(client: httpx.Client, rows: list[Row], with_source: bool) -> tuple[list[str], int, list[str]]:
    """Markdown rows, how many match, and a footnote per documented request the mock refuses."""
    head = "| Source | Documented example | Doc | `/api/estimate` | Match |" if with_source else \
        "| Model — figure | Doc | `/api/estimate` | Match |"
    lines = [head, "|---" * (5 if with_source else 4) + "|"]
    matched = 0
    refused: list[str] = []
    for row in rows:
        outcome = measure(client, row)
        if isinstance(outcome, str):
            rule = pricing.cost(row.model, {**base_params(catalog.get(row.model)), **row.params})
            refused.append(f"{row.label}: the model refuses this request ({outcome}); its pricing rule alone "
                           f"(`pricing.cost`, not `/api/estimate`) gives ${rule:.4f}.")
            cells = [row.label, row.documented, f"refused (400) [{len(refused)}]", "n/a"]
            lines.append("| " + " | ".join(([row.source] if with_source else []) + cells) + " |")
            continue
        measured, ok = outcome
        matched += ok
        shown = "$" + money(measured)
        if row.times > 1:
            shown = f"{row.times} × ${money(measured / row.times)} = {shown}"
        cells = [row.label, row.documented, shown, "✓" if ok else "✗"]
        lines.append("| " + " | ".join(([row.source] if with_source else []) + cells) + " |")
    return lines, matched, refused


def report() -> str:
    settings = Settings(api_keys=(KEY,), seed=1, time_mode="manual")
    with ServerThread(settings) as server, httpx.Client(
        base_url=server.urls["gateai"], headers={"authorization": f"Bearer {KEY}"}, timeout=30
    ) as client:
        examples, ok_examples, _ = table(client, EXAMPLES, with_source=True)
        summaries = [row for model in catalog.all() for row in summary_rows(model)]
        models, ok_models, refused = table(client, summaries, with_source=False)
    return "\n".join([
        "# GateAI: documented costs vs `/api/estimate`",
        "",
        "Generated by `python bench/gateai_cost_table.py --output docs/gateai-costs.md`: the mock runs in-process",
        "and every figure below is measured with `POST /api/estimate` over HTTP, not typed. \"Match\" compares at",
        "the doc's own precision (the decimals it prints). The pricing rules live in `fixtures/gateai/models.json`",
        "(`pricing` per model, `notes` for every choice the doc left open); `mockserver/gateai/pricing.py` applies",
        "them.",
        "",
        "## The doc's example costs",
        "",
        *examples,
        "",
        f"{ok_examples} of {len(EXAMPLES)} match.",
        "",
        "Notes: Seedance 2.0 is priced pixel × duration at $0.12335 per second of 1280×720 (that one rate gives",
        "~$0.49, ~$1.85 and ~$3.33); the doc's 1080p 15s figure (~$11.25) does not follow any such rate (it would",
        "be ~$4.16), so the fixture pins it as an explicit price point. Hailuo has no 720p: the 768p request is",
        "shown (the model is priced per generation, so resolution and duration do not change the cost). The",
        "`/api/me` example's `gpt-image-2: 15 requests, $0.05` cannot be checked: the requests' parameters are not",
        "given (15 × the LOW price = $0.045).",
        "",
        "## Every model's cost summary",
        "",
        *models,
        "",
        f"{ok_models} of {len(summaries)} match; {len(refused)} cannot be requested as documented:",
        "",
        *(f"{index}. {note}" for index, note in enumerate(refused, 1)),
        "",
    ])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--output", type=Path, help="write the Markdown report here instead of stdout")
    args = parser.parse_args()
    text = report()
    if args.output:
        args.output.parent.mkdir(parents=True, exist_ok=True)
        args.output.write_text(text, encoding="utf-8")
        print(f"wrote {args.output}")
    else:
        print(text)


if __name__ == "__main__":
    main()
