"""``python -m replay``: run the enabled strategies over LEAN-format data on disk.

Options follow the LEAN CLI's spelling: ``--parameter NAME VALUE`` (repeatable) overrides one
``config.json`` parameter and keeps the others. (``lean backtest --parameter`` instead replaces
the whole parameter set: lean-cli, lean/commands/backtest.py, ``backtest``; names it leaves out
take their defaults, which ``config.json`` holds as shipped.)

The window is ``--start``/``--end`` only. ``backtest_start``/``backtest_end`` are LEAN's
backtest window (``main.py``): given with ``--parameter`` they are refused (exit 2, naming
``--start``/``--end``); moved in ``config.json`` they are reported as not used.
"""

from __future__ import annotations

import argparse
import json
import logging
import sys
import tempfile
from dataclasses import fields
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
from thetacore.events import EventFileError
from thetacore.parameters import ParameterError, Parameters, load_parameters, read_config_parameters

ROOT = Path(__file__).resolve().parent.parent
EXIT_OK, EXIT_INVARIANT_BROKEN, EXIT_BAD_INPUT = 0, 1, 2
EXIT_CODES = """exit codes:
  0 ran, and every invariant in summary.json held
  1 an invariant broke (summary.json "invariants"; the run's output is still written)
  2 bad input: a malformed option, parameter, config.json, data or events file, or an
    output folder that cannot be written; one line "replay: error: ..." on stderr names
    it, and nothing was traded
"""
_WINDOW = ("backtest_start", "backtest_end")


class OutputError(ValueError):
    """An output path cannot be written; the message names the option and the path."""


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    ap = argparse.ArgumentParser(prog="python -m replay", description=__doc__, epilog=EXIT_CODES,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
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
    ap.add_argument("--chains", choices=("data", "modelled"), default="data",
                    help="data: the LEAN data's option chains, minute by minute (default); modelled: a daily "
                    "run of every family except 0DTE on MODELLED chains over the REAL SPY path 1999-2021, "
                    "one decision at each close, everything labelled MODELLED (replay/modelled_run.py; "
                    "docs/modelled-chains.md)")
    ap.add_argument("--operator-clear-after", type=int, metavar="DAYS",
                    help="--chains modelled only: a MODELLED operator clears a drawdown stop or flatten step "
                    "that has held DAYS trading days on a flat book, as an operator's clear_limits would "
                    "(audit-logged, alerted, summary.json operator_clears; the clear re-bases the drawdown "
                    "peak to the latest NLV). Default: off, no operator (replay/operator_policy.py)")
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
            raise OutputError(f"{path} already holds a saved state: resume with --state {path}, or give "
                              "--fresh to start over and replace it")
        print(f"replay: --fresh: replacing the saved state in {path}", file=sys.stderr)
    return path, None


def main(argv: list[str] | None = None) -> int:
    """Run the replay; returns the exit code (see ``EXIT_CODES``)."""
    try:
        args = parse_args(argv)
    except SystemExit as exc:  # argparse printed the usage error (or the help) already
        return exc.code if isinstance(exc.code, int) else EXIT_BAD_INPUT
    logging.basicConfig(level=logging.DEBUG if args.verbose else logging.WARNING,
                        format="%(levelname)s %(name)s: %(message)s")
    try:
        raw = read_config_parameters(args.config)
        given = dict(args.parameter)
        refuse_window_parameters(given)
        raw.update(given)
        params = load_parameters(raw)
        start, end = args.start, args.end
        if start and end and end < start:
            raise ParameterError(f"--end {end} is before --start {start}")
        plan = FaultPlan.parse(args.fault)
        if start is None or end is None:
            note_unused_window(params, args.config)
        check_output_folder(args.out, "--out")
        if args.chains == "modelled":
            return run_modelled_cli(params, args)
        if args.operator_clear_after is not None:
            raise ParameterError("--operator-clear-after is a policy of the daily MODELLED run only "
                                 "(--chains modelled); the minute replay has no MODELLED operator")
        if args.state is not None:
            check_output_folder(args.state.parent, "--state", create=False)
        state_path, book = resume_point(args)
        save = partial(_save, state_path)
        result = run_with_restarts(params, args.data, start, end, plan, resume=book, save=save,
                                   stop_after_utc=args.stop_after, state_path=state_path)
    except (ParameterError, DataError, EventFileError, OutputError, StateError, FaultError) as exc:
        print(f"replay: error: {exc}", file=sys.stderr)
        return EXIT_BAD_INPUT
    if result.stopped_after_utc is not None:
        print(f"replay: stopped after {result.stopped_after_utc.isoformat()} (simulated kill); "
              f"state: {state_path} ({result.state_saves} saves)")
        return EXIT_OK
    summary = write_summary(result, args.out)
    print(render_text(summary))
    print(f"summary: {args.out / 'summary.json'}")
    return EXIT_OK if summary["invariants"]["all_held"] else EXIT_INVARIANT_BROKEN


def run_modelled_cli(params: Parameters, args: argparse.Namespace) -> int:
    """``--chains modelled``: the daily MODELLED run into ``--out`` (no state file, faults or
    restarts in this mode: a refusal names them)."""
    from replay.modelled_run import label_summary, render_modelled, run_modelled
    from replay.operator_policy import OperatorClearPolicy
    from replay.summary import build_summary

    if args.state is not None or args.fault or args.stop_after is not None:
        raise ParameterError("--chains modelled runs without --state, --fault or --stop-after")
    try:
        operator = None if args.operator_clear_after is None else OperatorClearPolicy(args.operator_clear_after)
    except ValueError as exc:
        raise ParameterError(str(exc)) from exc
    result = run_modelled(params, args.data, args.start, args.end, operator=operator)
    summary = label_summary(build_summary(result), result)
    atomic_write_text(args.out / "summary.json", json.dumps(summary, indent=1, default=str) + "\n")
    print(render_modelled(summary))
    print(f"summary: {args.out / 'summary.json'} [MODELLED]")
    return EXIT_OK if summary["invariants"]["all_held"] else EXIT_INVARIANT_BROKEN


def refuse_window_parameters(given: dict[str, str]) -> None:
    """Refuse ``--parameter backtest_start/backtest_end``: the replay's window is ``--start``/``--end``.

    Raises:
        ParameterError: naming the parameter and the option to use instead.
    """
    for name in _WINDOW:
        if name in given:
            option = "--start" if name == "backtest_start" else "--end"
            raise ParameterError(f"--parameter {name} sets LEAN's backtest window (main.py), which the replay "
                                 f"does not read: give the replay's window with --start/--end "
                                 f"(here {option} {given[name]})")


def note_unused_window(params: Parameters, config: Path) -> None:
    """Say on stderr, in one line, that a ``config.json`` backtest window moved from the
    shipped one is not the replay's (it runs ``--start``/``--end``, default all the data)."""
    default = {f.name: f.default for f in fields(Parameters) if f.name in _WINDOW}
    if all(getattr(params, name) == default[name] for name in _WINDOW):
        return
    print(f"replay: note: {config}: backtest_start {params.backtest_start} / backtest_end "
          f"{params.backtest_end} are LEAN's backtest window and are not used by the replay, "
          f"which runs --start/--end (default: all the data)", file=sys.stderr)


def check_output_folder(folder: Path, option: str, *, create: bool = True) -> None:
    """Make sure a file can be written in ``folder`` (created first when ``create``), before any run.

    Raises:
        OutputError: naming ``option`` and the folder, with the system's reason.
    """
    if folder.exists() and not folder.is_dir():
        raise OutputError(f"{option} {folder}: exists and is not a folder")
    if not create and not folder.is_dir():
        raise OutputError(f"{option} {folder}: no such folder")
    try:
        folder.mkdir(parents=True, exist_ok=True)
        with tempfile.NamedTemporaryFile(dir=folder, prefix=".write-check-"):
            pass
    except OSError as exc:
        raise OutputError(f"{option} {folder}: cannot write there ({exc.strerror or exc})") from exc


def _save(path: Path, book: BookState) -> None:
    atomic_write_text(path, dump_state(book))


if __name__ == "__main__":
    sys.exit(main())
