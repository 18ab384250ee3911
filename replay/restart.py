"""The ``restart`` fault: the replay process dies at a minute and a new one resumes from its
state file (issue 8 item 5, on helper A's durable state: :mod:`replay.durable`,
:mod:`thetacore.durable_state`).

``restart@T`` runs the replay up to and including the minute before ``T`` and stops there as
if killed (:func:`replay.engine.run_replay` ``stop_after_utc``: no final save, the last save
stands). The state is then read back from the state file (or, without a file, from the last
text saved) with :func:`thetacore.durable_state.load_state`, and a new run resumes from it at
the minute after its ``clock_utc``, with the same fault plan (faults already applied stay
applied; the windows go on). Each restart is recorded in :attr:`FaultPlan.restarts`: the
trips in force when the process died, those in the restored gate before the start
reconciliation adds anything (:meth:`FaultPlan.attach`), whether the state file loaded, and the
minute the run resumed after. :mod:`replay.invariants` reports ``trips_preserved`` and
``state_file_valid`` from them.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

from replay.engine import ReplayResult, run_replay
from replay.faults import FaultKind, FaultPlan
from replay.market import OptionMarket
from thetacore.durable_state import BookState, StateError, dump_state, load_state
from thetacore.parameters import Parameters


def run_with_restarts(params: Parameters, data_root: Path | str, start: date | None, end: date | None,
                      plan: FaultPlan, *, saved_state: dict[str, Any] | None = None, resume: BookState | None = None,
                      save: Any = None, stop_after_utc: datetime | None = None, state_path: Path | None = None,
                      market_cache: dict[tuple[Any, ...], OptionMarket] | None = None) -> ReplayResult:
    """:func:`replay.engine.run_replay` with ``plan``'s faults, dying and resuming at each restart.

    Args:
        saved_state: a gate-only state for the first run (library use; later runs resume).
        resume, save, stop_after_utc: as :func:`run_replay` (``save`` receives every book saved).
        state_path: the state file ``save`` writes; a restart reads it back from there.

    Returns:
        The result of the last run (its broker, strategies and gate hold the whole history;
        ``result.faults`` is ``plan``). A run that stops for ``stop_after_utc`` or that loses
        its state at a restart (the file does not load) is returned as it stands.
    """
    source = str(state_path) if state_path is not None else "state saved in memory"
    last: list[str] = []

    def keep(book: BookState) -> None:
        last[:] = [dump_state(book)]
        if save is not None:
            save(book)

    def run(book: BookState | None, stop: datetime | None) -> ReplayResult:
        return run_replay(params, data_root, start, end, saved_state if book is None else None, resume=book,
                          save=keep, stop_after_utc=stop, state_source=source, faults=plan, market_cache=market_cache)

    book = resume
    for fault in sorted(plan.of(FaultKind.RESTART), key=lambda f: f.at_utc):
        if stop_after_utc is not None and fault.at_utc > stop_after_utc:
            break
        dies_after = fault.at_utc - timedelta(minutes=1)
        part = run(book, dies_after)
        if part.stopped_after_utc is None:
            return part  # the data ended before the restart minute: the fault never applied
        assert part.session is not None
        record: dict[str, Any] = {"fault": fault.text, "died_after_utc": dies_after.isoformat(),
                                  "trips_before": sorted(part.session.gate.state.tripped)}
        plan.restarts.append(record)
        text = state_path.read_text() if state_path is not None and state_path.exists() else (last[0] if last else "")
        try:
            book = load_state(text, source)
        except StateError as exc:
            record.update(state_file_valid=False, trips_preserved=False, problem=str(exc))
            return part
        clock = book.clock_utc.isoformat() if book.clock_utc else None
        record.update(state_file_valid=True, resumed_after_utc=clock)
        plan.note(fault, fault.at_utc, f"process killed after {dies_after:%H:%M}Z; resumed from the state of {clock}")
    return run(book, stop_after_utc)

