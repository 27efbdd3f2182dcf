"""List-page latency against the number of stored predictions of one key, and bytes per stored prediction.

In-process (no HTTP, so the figures are the server's own work): one key creates predictions through the
Predictions domain (real creates: varied prompts, output files registered, instant time), then the first list
page is read the way ``GET /v1/predictions`` reads it -- the domain's page, each record's view, the JSON
encoding -- and, with ``--filters``, the same with ``status=succeeded`` and a ``from``/``to`` day range.

Bytes per stored prediction is the growth of traced memory (tracemalloc) from an empty server to
``--memory`` predictions, divided by their number: the record, its files' recipes and every index entry.

    python bench/list_scale.py [--sizes 1000,1000000] [--memory 20000] [--repeat 200] [--clone] [--filters]

Reports a table; nothing is asserted (issue 15's target: list page at 1M / at 1k < 1.5, < 2 KB per
prediction).
"""

from __future__ import annotations

import argparse
import gc
import itertools
import json
import statistics
import sys
import time
import tracemalloc
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from mockserver.core.jobs.engine import changed
from mockserver.core.runtime import Runtime
from mockserver.settings import Settings
from mockserver.skytells.catalog import Catalog
from mockserver.skytells.prediction_body import parse_create
from mockserver.skytells.predictions import Predictions
from mockserver.skytells.routes import links_for

KEY = "sk-bench-list-scale"
START = 1_767_225_600.0  # 2026-01-01T00:00:00Z
MODELS = ("truefusion-edge", "truefusion-pro", "truefusion-2-optima")


def server() -> Predictions:
    """An empty server: one key with ample credits, instant time, no retention limits."""
    settings = Settings(api_keys=(KEY,), credits=1e12, seed=7, time_mode="instant", start_time=START,
                        max_records=None, max_key_bytes=None, max_store_bytes=None)
    return Predictions(Runtime.from_settings(settings), Catalog.load())


def fill(domain: Predictions, count: int, done: int = 0) -> None:
    """Create predictions ``done`` .. ``count`` (varied prompts and models), a clock second apart."""
    catalog = domain.catalog
    for index in range(done, count):
        body = {"model": MODELS[index % len(MODELS)], "input": {"prompt": f"a lighthouse at dusk, take {index}"}}
        domain.create(KEY, parse_create(body, catalog))
        domain.runtime.clock.advance(1.0)


def clone_fill(domain: Predictions, count: int, done: int) -> None:
    """Predictions ``done`` .. ``count`` as copies of the real ones under fresh ids and times (fast; they share
    their inputs and files, so they only count for latency, never for the bytes figure)."""
    store, clock = domain.runtime.store, domain.runtime.clock
    models = list(itertools.islice(store.scan("prediction", owner=KEY), 1000))
    for index in range(done, count):
        record = changed(models[index % len(models)], id=f"clone-{index:08d}", created_at=clock.now())
        store.put("prediction", record["id"], record, owner=KEY)
        clock.advance(1.0)


def page_us(domain: Predictions, repeat: int, **filters: Any) -> float:
    """Median µs to read, render and encode the first list page (what the list route does)."""
    links = links_for("http://127.0.0.1:8000/v1")
    samples = []
    for _ in range(repeat):
        began = time.perf_counter()
        records, pagination = domain.list(KEY, **filters)
        json.dumps({"data": [domain.views.view(r, links) for r in records], "pagination": pagination})
        samples.append((time.perf_counter() - began) * 1e6)
    return statistics.median(samples)


def day_range() -> dict[str, float]:
    """``from``/``to`` = the first day of the run, as the route turns them into timestamps."""
    first = datetime.fromtimestamp(START, UTC)
    return {"created_from": first.timestamp(), "created_to": first.timestamp() + 86_399.999999}


def bytes_per_prediction(count: int) -> float:
    gc.collect()
    tracemalloc.start()
    before = tracemalloc.get_traced_memory()[0]
    domain = server()
    baseline = tracemalloc.get_traced_memory()[0]
    fill(domain, count)
    gc.collect()
    after = tracemalloc.get_traced_memory()[0]
    tracemalloc.stop()
    del before
    return (after - baseline) / count


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", default="1000,1000000", help="stored predictions at which to time a page")
    parser.add_argument("--memory", type=int, default=20_000, help="predictions created for the bytes figure")
    parser.add_argument("--repeat", type=int, default=200, help="page reads per size (the median is reported)")
    parser.add_argument("--clone", action="store_true",
                        help="past the first 1,000 real creates, fill with copies (fast; for the 1M row)")
    parser.add_argument("--filters", action="store_true", help="also time status= and from/to pages")
    args = parser.parse_args()
    sizes = sorted(int(size) for size in args.sizes.split(","))

    if args.memory:
        print(f"bytes per stored prediction (tracemalloc, {args.memory:,} creates): "
              f"{bytes_per_prediction(args.memory):,.0f}")
    domain = server()
    done = 0
    rows = []
    for size in sizes:
        began = time.perf_counter()
        if args.clone and done >= 1000:
            clone_fill(domain, size, done)
        else:
            fill(domain, size, done)
        fill_s = time.perf_counter() - began
        done = size
        row = {"stored": size, "page_us": page_us(domain, args.repeat), "fill_s": fill_s}
        if args.filters:
            row["status_us"] = page_us(domain, max(args.repeat // 10, 5), status="succeeded")
            row["range_us"] = page_us(domain, max(args.repeat // 10, 5), **day_range())
        rows.append(row)
        print(" | ".join(f"{k}={v:,.1f}" if isinstance(v, float) else f"{k}={v:,}" for k, v in row.items()),
              flush=True)
    if len(rows) > 1:
        print(f"list page at {rows[-1]['stored']:,} / at {rows[0]['stored']:,}: "
              f"{rows[-1]['page_us'] / rows[0]['page_us']:.2f}x")


if __name__ == "__main__":
    main()
