"""``python -m replay``: run the enabled strategies over LEAN-format data on disk.

Options follow the LEAN CLI's spelling: ``--parameter NAME VALUE`` (repeatable) overrides one
``config.json`` parameter and keeps the others. (``lean backtest --parameter`` instead replaces
the whole parameter set: lean-cli, lean/commands/backtest.py, ``backtest``; names it leaves out
take their defaults, which ``config.json`` holds as shipped.)
"""

from __future__ import annotations

import argparse
import json
import logging
import sys
from datetime import date
from pathlib import Path

from replay.engine import run_replay
from replay.faults import SYNTAX, FaultError, FaultKind, FaultPlan
from replay.lean_data.errors import DataError
from replay.summary import render_text, write_summary
from thetacore.parameters import ParameterError, load_parameters, read_config_parameters

ROOT = Path(__file__).resolve().parent.parent


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    ap = argparse.ArgumentParser(prog="python -m replay", description=__doc__)
    ap.add_argument("--start", type=date.fromisoformat, help="first day, yyyy-mm-dd (default: all the data)")
    ap.add_argument("--end", type=date.fromisoformat, help="last day, yyyy-mm-dd (default: all the data)")
    ap.add_argument("--data", type=Path, default=ROOT / "data", help="LEAN data folder (default: ./data)")
    ap.add_argument("--out", type=Path, default=ROOT / "out" / "replay", help="output folder for summary.json")
    ap.add_argument("--config", type=Path, default=ROOT / "config.json", help="LEAN project config.json")
    ap.add_argument("--parameter", nargs=2, action="append", default=[], metavar=("NAME", "VALUE"),
                    help="override a config.json parameter (repeatable)")
    ap.add_argument("--state", type=Path, help="risk-gate state file to resume from and save to "
                    "(default: save to OUT/state.json only); tripped limits survive restarts")
    ap.add_argument("--fault", action="append", default=[], metavar="KIND@TIME[/MINUTES]",
                    help=f"inject a fault (repeatable): {SYNTAX}; kinds: "
                    + ", ".join(k.value for k in FaultKind) + " (see replay/faults.py)")
    ap.add_argument("-v", "--verbose", action="store_true", help="log every decision")
    return ap.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    logging.basicConfig(level=logging.DEBUG if args.verbose else logging.WARNING,
                        format="%(levelname)s %(name)s: %(message)s")
    try:
        raw = read_config_parameters(args.config)
        raw.update(dict(args.parameter))
        params = load_parameters(raw)
        start, end = args.start, args.end
        if start and end and end < start:
            raise ParameterError(f"--end {end} is before --start {start}")
        plan = FaultPlan.parse(args.fault)
        saved = json.loads(args.state.read_text()) if args.state and args.state.exists() else None
        result = run_replay(params, args.data, start, end, saved, plan)
    except (ParameterError, DataError, FaultError) as exc:
        print(f"replay: error: {exc}", file=sys.stderr)
        return 2
    summary = write_summary(result, args.out)
    state_path = args.state or args.out / "state.json"
    state_path.write_text(json.dumps(summary["gate"]["state"], indent=2) + "\n")
    print(render_text(summary))
    print(f"summary: {args.out / 'summary.json'}")
    return 0 if summary["invariants"]["all_held"] else 1


if __name__ == "__main__":
    sys.exit(main())
