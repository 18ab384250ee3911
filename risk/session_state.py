"""The ``gate`` section of a durable state (:mod:`thetacore.durable_state`): the gate session's
whole book, not only its trips.

``{"gate": GateState.to_dict(), "stats": {strategy: {wins, losses, win_sum_usd, loss_sum_usd}},
"records": {position_id: {"position": {...}, "bp_usd": ...}}}``: ``gate`` is what
:meth:`risk.gate_session.GateSession.state_dict` already saved (trips, counters, peak and
period-start NLV in USD, audit log); ``records`` adds each booked position's buying power in
use (USD, the last good mark) and its classification (root, earliest expiry, multi-week flags,
risk in USD, correlation group), so that a restart counts the buying power of positions it
still holds, and what re-marks it (:meth:`GateSession.mark_bp`): ``structure``
(:meth:`Structure.to_dict`), ``units`` and ``cover_strike_pts`` (the covering long call's
strike, points, or null); a record saved before these existed is restored without them (its
buying power then stays at its saved mark).
"""

from __future__ import annotations

from dataclasses import asdict
from typing import Any

from risk.gate import Gate
from risk.gate_inputs import OpenPosition
from risk.gate_session import GateSession, _Record, _Stats
from risk.state import GateState
from thetacore.durable_state import Fields, StateError
from thetacore.parameters import Parameters
from thetacore.structures import Structure


def session_state(session: GateSession) -> dict[str, Any]:
    """The JSON-safe ``gate`` section of ``session`` (see the module docstring)."""
    out = session.state_dict()
    out["records"] = {pid: {"position": {**asdict(r.position), "expiry": r.position.expiry.isoformat()},
                            "bp_usd": r.bp_usd, "structure": r.structure.to_dict() if r.structure else None,
                            "units": r.units, "cover_strike_pts": r.cover_strike_pts}
                      for pid, r in session.records.items()}
    return out


def restore_session(params: Parameters, data: Any, path: str = "gate") -> GateSession:
    """A session from the ``gate`` section :func:`session_state` wrote.

    Raises:
        StateError: naming the key path of a missing or mistyped field.
    """
    f = Fields(data, path)
    gate_raw = f.obj("gate").data
    try:
        state = GateState.from_dict(gate_raw)
    except (KeyError, TypeError, AttributeError, ValueError) as exc:
        raise StateError(f.at("gate"), f"not a saved gate state ({type(exc).__name__}: {exc})") from None
    if state.losing_exits_today < 0:
        raise StateError(f.at("gate.losing_exits_today"), f"must be >= 0, got {state.losing_exits_today}")
    session = GateSession(params, Gate(params, state))
    stats = f.obj("stats")
    for name in stats.names():
        s = stats.obj(name)
        session.stats[name] = _Stats(s.integer("wins"), s.integer("losses"), s.number("win_sum_usd"),
                                     s.number("loss_sum_usd"))
    records = f.obj("records")
    for pid in records.names():
        r = records.obj(pid)
        p = r.obj("position")
        group = p.opt_string("group")
        pos = OpenPosition(p.string("position_id"), p.string("strategy"), p.string("root"), p.day("expiry"),
                           p.boolean("is_short_put_multiweek"), p.boolean("is_bullish_multiweek"),
                           p.number("risk_usd"), group, _opt_units(p), _leg_ratios(p))
        data = r.data
        structure = (Structure.from_dict(data["structure"], r.at("structure"))
                     if data.get("structure") is not None else None)  # absent in a state saved before issue 11
        units = r.integer("units") if "units" in data else 0
        cover = r.opt_number("cover_strike_pts") if "cover_strike_pts" in data else None
        session.records[pid] = _Record(pos, r.number("bp_usd"), structure, units, cover)
    return session


def _opt_units(p: Fields) -> int | None:
    """The position's units (absent or null in a state saved before issue 8: unknown)."""
    return p.integer("units") if p.data.get("units") is not None else None


def _leg_ratios(p: Fields) -> tuple[tuple[str, int], ...]:
    """``leg_ratios`` as ``[[contract, ratio], ...]`` (absent before issue 8: empty).

    Raises:
        StateError: naming the key path when an entry is not ``[string, integer]``.
    """
    out = []
    for i, row in enumerate(p.data.get("leg_ratios") or []):
        if not (isinstance(row, list) and len(row) == 2 and isinstance(row[0], str) and isinstance(row[1], int)
                and not isinstance(row[1], bool)):
            raise StateError(f"{p.at('leg_ratios')}[{i}]", f"expected [contract, integer ratio], got {row!r}")
        out.append((row[0], row[1]))
    return tuple(out)
