"""Reading the start-up banner of a ``mockserver serve`` subprocess."""

from __future__ import annotations

import subprocess


def banner(process: subprocess.Popen) -> str:
    """The lines ``process`` printed up to and including its ``control plane`` line (its stdout is a text pipe)."""
    lines = []
    for line in process.stdout:  # type: ignore[union-attr]
        lines.append(line)
        if "control plane" in line:
            break
    return "".join(lines)
