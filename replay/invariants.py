"""The invariants a replay run must keep, faults or not (issue 8 item 5), for ``summary.json``.

Each check compares two independent records of the run, never a record with itself:

* ``no_position_lost_or_duplicated``: per position id, the units the broker holds for it (its
  *order history*, filled entries minus filled closes, as far as the ledger's holdings still
  carry every leg: a position settled at expiry or gone from the broker has none) against the
  units the strategies' book holds open (OPEN/CLOSING). Lost: the broker holds units the book
  does not; duplicated: the book holds units the broker does not, or one position id is in two
  strategies. A close of some of a position's legs only (LT112 closes its naked puts and its
  debit spread apart) leaves the position's units; the holdings then decide.
* ``no_orphan_leg``: the ledger's option holdings against the book's open legs: a contract
  held that no position owns (or more of it than the positions own), and a position whose
  legs are not all held (fewer contracts, or none) are orphans. A leg still being unwound
  after a partial fill (:mod:`replay.fault_broker`) is listed as ``unwinding``, not as an orphan,
  while its unwind is pending; at the end of a run it is an orphan like any other.
* ``no_entry_sent_while_halted``: no opening order was sent while the gate's trading state was
  HALTED (kill switch on, or the drawdown flatten step). Closing orders are allowed while
  halted (the kill switch blocks entries only, :mod:`safety.kill_switch`; the flatten step
  sends closes) and are counted in ``exits_sent_while_halted``.
* ``trips_preserved``: every trip in force just before a restart is in force right after the
  resume (:mod:`replay.restart`); ``True`` with no restart.
* ``state_file_valid``: the book the run saves loads back with the schema and gives the same
  JSON, and at every restart the state file loaded (:mod:`replay.restart`).

``all_held`` is the conjunction; ``python -m replay`` exits 1 when it is false.
"""

from __future__ import annotations

import json
from collections import defaultdict
from typing import TYPE_CHECKING, Any

from replay.durable import book_state
from replay.fault_broker import FaultyBroker
from strategies.base import PositionState
from thetacore.durable_state import StateError, dump_state, load_state
from thetacore.enums import IntentPurpose, OrderStatus

if TYPE_CHECKING:
    from replay.engine import ReplayResult

CHECKS = ("ledger_equals_positions", "no_position_lost_or_duplicated", "no_orphan_leg",
          "no_entry_sent_while_halted", "trips_preserved", "state_file_valid")


def book_legs(res: ReplayResult) -> dict[str, int]:
    """Signed contracts per option symbol that the strategies' open positions own."""
    expected: dict[str, int] = defaultdict(int)
    for strat in res.strategies:
        for pos in strat.positions.values():
            if pos.state in (PositionState.OPEN, PositionState.CLOSING):
                for leg in pos.structure.legs:
                    expected[leg.symbol] += leg.ratio * pos.quantity
    return expected


def held_options(res: ReplayResult) -> dict[str, int]:
    """Signed contracts per option symbol in the broker's ledger."""
    assert res.ledger is not None
    return {h.symbol: h.quantity for h in res.ledger.holdings.values() if h.right is not None}


def ledger_equals_positions(res: ReplayResult) -> dict[str, Any]:
    """The ledger's option holdings equal the strategies' open legs, symbol by symbol."""
    expected, held = book_legs(res), held_options(res)
    mismatches = sorted(s for s in set(expected) | set(held) if expected.get(s, 0) != held.get(s, 0))
    return {"ledger_equals_positions": not mismatches, "orphan_or_mismatched_legs": mismatches}


def positions_lost_or_duplicated(res: ReplayResult) -> dict[str, Any]:
    """The broker's holdings against the strategies' book, per position id (module docstring)."""
    assert res.broker is not None
    history: dict[str, int] = defaultdict(int)
    opened: dict[str, set[str]] = defaultdict(set)
    for o in res.broker.orders:
        if o.fill_net_pts is None or o.status not in (OrderStatus.FILLED, OrderStatus.CANCELED):
            continue  # CANCELED with a fill: a partial close (replay.fault_broker)
        legs = {leg.symbol for leg in o.intent.structure.legs}
        if o.intent.purpose is IntentPurpose.OPEN:
            opened[o.intent.position_id] |= legs
        elif legs < opened[o.intent.position_id]:
            continue  # a close of some legs only (LT112's naked puts): the position's units stay
        units = abs(o.intent.quantity)
        history[o.intent.position_id] += units if o.intent.purpose is IntentPurpose.OPEN else -units
    held = held_options(res)
    owners: dict[str, list[str]] = defaultdict(list)
    book: dict[str, int] = {}
    by_broker: dict[str, int] = {}
    for strat in res.strategies:
        for pos in strat.positions.values():
            owners[pos.position_id].append(strat.name)
            book[pos.position_id] = pos.quantity if pos.state in (PositionState.OPEN, PositionState.CLOSING) else 0
            by_broker[pos.position_id] = min(history.get(pos.position_id, 0), _units_held(pos.structure.legs, held))
    for pid, units in history.items():
        by_broker.setdefault(pid, units)  # filled by the broker, unknown to every strategy
    lost = sorted(f"{pid}: broker {n}, book {book.get(pid, 0)}" for pid, n in by_broker.items() if n > book.get(pid, 0))
    dup = sorted(f"{pid}: book {n}, broker {by_broker.get(pid, 0)}" for pid, n in book.items()
                 if n > by_broker.get(pid, 0))
    dup += sorted(f"{pid} in {', '.join(names)}" for pid, names in owners.items() if len(names) > 1)
    return {"no_position_lost_or_duplicated": not (lost or dup), "lost_positions": lost, "duplicated_positions": dup}


def _units_held(legs: Any, held: dict[str, int]) -> int:
    """Whole units of a structure the ledger holds (every leg with its sign), 0 when a leg is missing."""
    units = []
    for leg in legs:
        have = held.get(leg.symbol, 0)
        if leg.ratio == 0 or have * leg.ratio <= 0:
            return 0
        units.append(have // leg.ratio)
    return min(units, default=0)


def orphan_legs(res: ReplayResult) -> dict[str, Any]:
    """Contracts no position owns and positions whose legs are not all held (module docstring)."""
    expected, held = book_legs(res), held_options(res)
    pending = {u.template.symbol for u in res.broker.unwinds} if isinstance(res.broker, FaultyBroker) else set()
    orphans = []
    for sym, n in sorted(held.items()):
        own = expected.get(sym, 0)
        if own == 0 or n * own < 0 or abs(n) > abs(own):
            orphans.append(f"{sym}: held {n:+d}, positions own {own:+d}")
    incomplete = []
    for strat in res.strategies:
        for pos in strat.positions.values():
            if pos.state not in (PositionState.OPEN, PositionState.CLOSING):
                continue
            for leg in pos.structure.legs:
                need, have = leg.ratio * pos.quantity, held.get(leg.symbol, 0)
                if have * need <= 0 or abs(have) < abs(need):
                    incomplete.append(f"{pos.position_id}: {leg.symbol} held {have:+d}, needs {need:+d}")
    unwinding = sorted(o for o in orphans if o.split(":")[0] in pending)
    return {"no_orphan_leg": not (orphans or incomplete), "orphan_legs": orphans,
            "incomplete_positions": incomplete, "unwinding": unwinding}


def halted_orders(res: ReplayResult) -> dict[str, Any]:
    """Orders sent while HALTED since this process started (a resumed run counts its own
    segment), split into entries (a breach) and exits (allowed)."""
    sent = res.faults.sent_while_halted
    entries = [oid for oid, purpose in sent if purpose == IntentPurpose.OPEN.value]
    return {"no_entry_sent_while_halted": not entries, "entries_sent_while_halted": entries,
            "exits_sent_while_halted": len(sent) - len(entries)}


def state_round_trip(res: ReplayResult) -> dict[str, Any]:
    """The book the run would save now (:func:`replay.durable.book_state`) loads back with the
    schema (:func:`thetacore.durable_state.load_state`) into the same JSON."""
    if res.session is None or res.broker is None:
        return {"state_file_valid": True, "state_problem": ""}
    text = dump_state(book_state(res.strategies, res.session, res.broker, res.end_utc))
    try:
        again = dump_state(load_state(text, "the run's final state"))
    except StateError as exc:
        return {"state_file_valid": False, "state_problem": str(exc)}
    ok = json.loads(again) == json.loads(text)
    return {"state_file_valid": ok, "state_problem": "" if ok else "the state differs after a reload"}


def check_invariants(res: ReplayResult) -> dict[str, Any]:
    """Every invariant of the run (module docstring), ``all_held`` and the faults' journal."""
    out: dict[str, Any] = {}
    for part in (ledger_equals_positions, positions_lost_or_duplicated, orphan_legs, halted_orders, state_round_trip):
        out.update(part(res))
    restarts = res.faults.restarts
    broken = [r for r in restarts if not r.get("trips_preserved", False)]
    out["trips_preserved"] = not broken
    out["restarts"] = restarts
    if any(not r.get("state_file_valid", True) for r in restarts):
        out["state_file_valid"] = False
    out["all_held"] = all(out[c] for c in CHECKS)
    out["faults"] = res.faults.log
    out["faults_not_applied"] = res.faults.not_applied()
    return out
