"""Time mockserver.core.media.render for each format (informational; nothing is asserted).

Every repetition uses a fresh seed, so the LRU cache never hides the rendering cost.

    python bench/media_render.py [--reps N]
"""

from __future__ import annotations

import argparse
import statistics
import time
from typing import Any

from mockserver.core.media import MediaSpec, render

CASES: list[tuple[str, dict[str, Any]]] = [
    ("png 1024x1024", {"format": "png"}),
    ("jpg 1024x1024", {"format": "jpg"}),
    ("webp 1024x1024", {"format": "webp"}),
    ("png 1344x768", {"format": "png", "width": 1344, "height": 768}),
    ("wav 5 s", {"format": "wav"}),
    ("pcm 5 s 24 kHz", {"format": "pcm", "sample_rate": 24000}),
    ("mp3 5 s", {"format": "mp3"}),
    ("mp3 30 s", {"format": "mp3", "seconds": 30.0}),
    ("mp4 5 s 8 fps (640x640)", {"format": "mp4"}),
    (
        "mp4 10 s 24 fps (1920x1080 -> 640x360)",
        {"format": "mp4", "seconds": 10.0, "fps": 24, "width": 1920, "height": 1080},
    ),
    ("glb cube", {"format": "glb"}),
]


def main() -> None:
    """Render each case ``--reps`` times with fresh seeds and print median/min ms and size."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--reps", type=int, default=5)
    args = parser.parse_args()
    render(MediaSpec("png", width=16, height=16, label="warm-up"))  # font loading, codec init
    seed = 1_000
    print(f"{'case':42} {'median ms':>10} {'min ms':>8} {'bytes':>10}")
    for name, fields in CASES:
        times, size = [], 0
        for _ in range(args.reps):
            seed += 1
            spec = MediaSpec(**fields, seed=seed, label="A watercolour fox in a snowy forest")
            start = time.perf_counter()
            size = len(render(spec))
            times.append((time.perf_counter() - start) * 1000)
        print(f"{name:42} {statistics.median(times):10.1f} {min(times):8.1f} {size:10d}")


if __name__ == "__main__":
    main()
