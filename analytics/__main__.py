"""Command line: ``python -m analytics report <run folder> [--out FILE]``.

Writes the HTML report (default ``<run folder>/report.html``) and prints the key table.
Exit status 2 for a folder that is neither a replay output nor a LEAN backtest folder.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from analytics.crisis import render_crisis
from analytics.replay_input import InputError
from analytics.report import render_terminal, write_report


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m analytics", description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", required=True)
    rep = sub.add_parser("report", help="HTML report and key table of a replay or LEAN run folder")
    rep.add_argument("folder", type=Path)
    rep.add_argument("--out", type=Path, default=None, help="HTML file (default <folder>/report.html)")
    args = parser.parse_args(argv)
    try:
        path, report = write_report(args.folder, args.out)
    except (InputError, ValueError, KeyError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    print(render_terminal(report))
    summary_path = args.folder / "summary.json"
    if summary_path.is_file():
        summary = json.loads(summary_path.read_text())
        if summary.get("label") == "MODELLED":  # a MODELLED multi-year run: the crisis windows too
            print(render_crisis(summary))
    print(f"report: {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
