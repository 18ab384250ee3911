"""``python -m benchmarks``: every issue-10 performance figure in one table.

Each row: the figure, its baseline measured in the same run, the ratio, the goal and
whether it is met (``-`` where a row is information, not a goal). Every time is the CPU
time of the benchmark's thread (``time.thread_time``): on a shared machine the time other
processes take the core is not the code's. Timings still depend on the machine; the
ratios are what to compare. ``--smoke`` runs small sizes only
(under a minute) for CI: it checks that every benchmark still runs, not the goals.
"""

from __future__ import annotations

import argparse
import logging
import os
import platform
import sys
import time
from datetime import date
from typing import Any

import numpy as np

from benchmarks import decision, implied_vol, lean_reads, modelled_run, replay_day

COLUMNS = ("goal", "figure", "value", "baseline", "ratio", "target", "met")


def machine() -> str:
    """One line: cores, CPU model, Python and numpy versions."""
    model = "unknown CPU"
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as f:
            model = next((line.split(":", 1)[1].strip() for line in f if line.startswith("model name")), model)
    except OSError:
        pass
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    return (f"nproc {os.cpu_count()}, {model}, Python {platform.python_version()}, numpy {np.__version__}, "
            f"load average {load:.2f}")


def render(rows: list[dict[str, Any]]) -> str:
    """A Markdown table of ``rows``."""
    def cell(row: dict[str, Any], col: str) -> str:
        v = row.get(col)
        if col == "met":
            return "-" if v is None else ("yes" if v else "**no**")
        return str(v)
    lines = ["| " + " | ".join(COLUMNS) + " |", "|" + "---|" * len(COLUMNS)]
    lines += ["| " + " | ".join(cell(r, c) for c in COLUMNS) + " |" for r in rows]
    return "\n".join(lines)


class _Counting(logging.Handler):
    """Counts the warnings the runs log (the MODELLED run's gate refusals, alerts and
    rejected marks: hundreds of lines that are not the benchmark's output)."""

    def __init__(self) -> None:
        super().__init__(logging.WARNING)
        self.count = 0

    def emit(self, record: logging.LogRecord) -> None:
        self.count += 1


def quiet_logs(path: str | None) -> _Counting:
    """Route the runs' log records away from the terminal: counted, and written to ``path``
    when given (a handler on the root logger: Python's last-resort stderr handler stays
    unused)."""
    counter = _Counting()
    root = logging.getLogger()
    root.addHandler(counter)
    if path:
        to_file = logging.FileHandler(path, mode="w", encoding="utf-8")
        to_file.setFormatter(logging.Formatter("%(levelname)s %(name)s: %(message)s"))
        root.addHandler(to_file)
    return counter


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m benchmarks", description=__doc__)
    ap.add_argument("--smoke", action="store_true", help="small sizes only (CI): checks the benchmarks run")
    ap.add_argument("--log", metavar="FILE", help="write the runs' warnings (gate refusals, alerts) to FILE")
    args = ap.parse_args(argv)
    logs = quiet_logs(args.log)
    start = time.perf_counter()
    rows: list[dict[str, Any]] = []
    if args.smoke:
        rows += implied_vol.run(n=20_000, baseline_n=200, repeats=2)
        rows += decision.run(repeats=2, sizes=(2_000,))
        rows += replay_day.run(sizes=(400,))
        rows += lean_reads.run()
        rows += modelled_run.run(date(2008, 9, 1), date(2008, 12, 31))
    else:
        rows += implied_vol.run()
        rows += decision.run()
        rows += replay_day.run()
        rows += lean_reads.run()
        rows += modelled_run.run()
    print(f"machine: {machine()}")
    print(render(rows))
    kept = f" in {args.log}" if args.log else ": --log FILE keeps them"
    print(f"({time.perf_counter() - start:.0f} s; {logs.count:,} warnings logged by the runs{kept})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
