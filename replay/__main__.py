"""``python -m replay``: run the enabled strategies over LEAN-format data on disk.

Options follow the LEAN CLI's spelling: ``--parameter NAME VALUE`` (repeatable) overrides one
``config.json`` parameter and keeps the others. (``lean backtest --parameter`` instead replaces
the whole parameter set: lean-cli, lean/commands/backtest.py, ``backtest``; names it leaves out
take their defaults, which ``config.json`` holds as shipped.)
"""

from __future__ import annotations

import argparse
import logging
import sys
from datetime import date, datetime
from functools import partial
from pathlib import Path

from replay.faults import SYNTAX, FaultError, FaultKind, FaultPlan
from replay.lean_data.errors import DataError
from replay.restart import run_with_restarts
from replay.schedule import NEW_YORK
from replay.state_file import atomic_write_text, read_state_file
from replay.summary import render_text, write_summary
from thetacore.durable_state import BookState, StateError, dump_state
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
    ap.add_argument("--state", type=Path, help="durable state file to resume from and keep saving to "
                    "(positions, working orders, the gate's book and trips, the simulated broker's "
                    "account); it must exist unless --fresh is given. Default: save to OUT/state.json, "
                    "which must not exist yet unless --fresh is given")
    ap.add_argument("--fresh", action="store_true", help="start without a saved state (a valid state file "
                    "at the state path is replaced; an invalid one is never overwritten)")
    ap.add_argument("--stop-after", type=stop_time, metavar="TIME",
                    help="stop after this minute as if killed (the state file is what was last saved; no "
                    "summary): yyyy-mm-ddThh:mm in New York time, or with an explicit offset "
                    "(2020-01-06T16:00+00:00) in that zone")
    ap.add_argument("--fault", action="append", default=[], metavar="KIND@TIME[/MINUTES]",
                    help=f"inject a fault (repeatable): {SYNTAX}; kinds: "
                    + ", ".join(k.value for k in FaultKind) + " (see replay/faults.py)")
    ap.add_argument("-v", "--verbose", action="store_true", help="log every decision")
    return ap.parse_args(argv)


def stop_time(text: str) -> datetime:
    """``--stop-after``: a naive time is New York wall-clock time (the replay's clock)."""
    t = datetime.fromisoformat(text)
    return t.replace(tzinfo=NEW_YORK) if t.tzinfo is None else t


def resume_point(args: argparse.Namespace) -> tuple[Path, BookState | None]:
    """The state path and the book to resume from (None: a fresh start).

    Raises:
        StateError: a missing ``--state`` file without ``--fresh``; an invalid state file
            (never overwritten, with or without ``--fresh``); ``OUT/state.json`` already there
            without ``--state`` or ``--fresh`` (a rerun into the same folder must not replace a
            saved state, a tripped one included).
    """
    path: Path = args.state or args.out / "state.json"
    if args.state is not None and not args.fresh:
        return path, read_state_file(path)
    if path.exists():
        read_state_file(path)  # an invalid file is evidence: refuse to replace it
        if not args.fresh:
            raise StateError("", f"{path} already holds a saved state: resume with --state {path}, or give "
                             "--fresh to start over and replace it", str(path))
        print(f"replay: --fresh: replacing the saved state in {path}", file=sys.stderr)
    return path, None


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
        state_path, book = resume_point(args)
        state_path.parent.mkdir(parents=True, exist_ok=True)
        save = partial(_save, state_path)
        result = run_with_restarts(params, args.data, start, end, plan, resume=book, save=save,
                                   stop_after_utc=args.stop_after, state_path=state_path)
    except (ParameterError, DataError, StateError, FaultError) as exc:
        print(f"replay: error: {exc}", file=sys.stderr)
        return 2
    if result.stopped_after_utc is not None:
        print(f"replay: stopped after {result.stopped_after_utc.isoformat()} (simulated kill); "
              f"state: {state_path} ({result.state_saves} saves)")
        return 0
    summary = write_summary(result, args.out)
    print(render_text(summary))
    print(f"summary: {args.out / 'summary.json'}")
    return 0 if summary["invariants"]["all_held"] else 1


def _save(path: Path, book: BookState) -> None:
    atomic_write_text(path, dump_state(book))


if __name__ == "__main__":
    sys.exit(main())
