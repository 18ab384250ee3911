"""Command line: ``python -m analytics report <run folder> [--out FILE]`` and
``python -m analytics entries <run folder or summary.json>... [--label NAME]...``.

``report`` writes the HTML report (default ``<run folder>/report.html``) and prints the key
table; ``entries`` prints the entries-per-month tables of one or more replay runs side by side
(:mod:`analytics.entries`). Exit status 2 for a folder that is neither a replay output nor a
LEAN backtest folder (``entries``: not a replay ``summary.json``).
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from analytics.crisis import render_crisis
from analytics.entries import count_entries, render_markdown
from analytics.replay_input import InputError, read_summary
from analytics.report import render_terminal, write_report


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m analytics", description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", required=True)
    rep = sub.add_parser("report", help="HTML report and key table of a replay or LEAN run folder")
    rep.add_argument("folder", type=Path)
    rep.add_argument("--out", type=Path, default=None, help="HTML file (default <folder>/report.html)")
    ent = sub.add_parser("entries", help="entries possible per month of replay runs (summary.json)")
    ent.add_argument("runs", type=Path, nargs="+", help="replay output folders or summary.json files")
    ent.add_argument("--label", action="append", default=[], help="a name per run, in order (default: folder name)")
    ent.add_argument("--top", type=int, default=4, help="refusal codes shown per strategy and run")
    args = parser.parse_args(argv)
    if args.command == "entries":
        return _entries(args.runs, args.label, args.top)
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


def _entries(runs: list[Path], labels: list[str], top: int) -> int:
    """Print :func:`analytics.entries.render_markdown` of ``runs``; 2 on a bad input."""
    if labels and len(labels) != len(runs):
        print(f"error: {len(labels)} --label for {len(runs)} run(s)", file=sys.stderr)
        return 2
    counted = []
    for i, run in enumerate(runs):
        path = run if run.suffix == ".json" else run / "summary.json"
        try:
            summary = read_summary(path)
            counted.append((labels[i] if labels else (path.parent.name or str(path)), count_entries(summary)))
        except (InputError, ValueError, KeyError) as exc:
            print(f"error: {exc}" if isinstance(exc, InputError) else f"error: {path}: {exc}", file=sys.stderr)
            return 2
    print(render_markdown(counted, top))
    return 0


if __name__ == "__main__":
    sys.exit(main())
