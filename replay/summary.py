"""``summary.json`` and the short stdout report of a replay run.

``summary.json`` holds: ``run`` (dates, parameters that differ from the defaults),
``decisions`` (time, strategy, action, reasons, details), ``orders`` (time, strategy, legs
with symbol, right, strike, expiry and signed quantity, limit, fill, fees, status),
``positions`` (strategy positions and the ledger's holdings with marks), ``settlements``,
``pnl`` (USD), ``marks`` (NLV and the gate's buying power in use at every NLV mark), ``gate`` (every risk-gate verdict with its reasons, the alerts and the
gate's persisted state), ``reconciliation`` (what the reconciliation on resume did) and
``invariants`` (:mod:`replay.invariants`: ledger equals strategy positions, no position lost or
duplicated, no orphan leg, no entry sent while halted, trips preserved across a restart, state
file valid, ``all_held``, and the injected faults' journal).
"""

from __future__ import annotations

import json
import math
from collections import defaultdict
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np

from replay.engine import ReplayResult
from replay.invariants import CHECKS, check_invariants
from replay.schedule import NEW_YORK
from replay.state_file import atomic_write_text
from risk.session_state import session_state
from strategies.base import PositionState
from thetacore.decisions import Decision
from thetacore.parameters import default_strings, format_value
from thetacore.structures import Structure


def _mid_pts(structure: Structure, market: Any, t_utc: datetime) -> float | None:
    """Net mid of one structure unit at ``t_utc`` (LEAN sign), as the decision saw the quotes;
    ``None`` when a leg has no two-sided quote (a missing quote is not zero)."""
    net = structure.quoted_mid_pts(lambda symbol: market.quote(symbol, t_utc))
    return round(net, 6) if math.isfinite(net) else None


def _legs(structure: Structure, quantity: int) -> list[dict[str, Any]]:
    return [{"symbol": leg.symbol, "underlying": leg.underlying_symbol, "right": leg.right.name.lower(),
             "strike_pts": leg.strike_pts, "expiry": leg.expiry.isoformat(), "quantity": leg.ratio * quantity}
            for leg in structure.legs]


def _decision(d: Decision) -> dict[str, Any]:
    return {"time_utc": d.time_utc.isoformat(), "time_et": d.time_utc.astimezone(NEW_YORK).strftime("%Y-%m-%d %H:%M"),
            "strategy": d.strategy, "action": d.action.value,
            "reason": d.reason_text, "reasons": [{"code": r.code, "text": r.text} for r in d.reasons],
            "details": d.details, "position_id": d.intent.position_id if d.intent else d.details.get("position_id")}


def build_summary(res: ReplayResult) -> dict[str, Any]:
    """The JSON-ready summary of ``res``."""
    assert res.ledger is not None and res.broker is not None and res.quotes is not None
    ledger, market = res.ledger, res.quotes
    end = res.end_utc or datetime.now(UTC)
    defaults = default_strings()
    changed = {k: format_value(getattr(res.params, k)) for k in defaults
               if format_value(getattr(res.params, k)) != defaults[k]}
    orders = [{"order_id": o.order_id, "time_utc": o.submitted_utc.isoformat(), "strategy": o.intent.strategy,
               "purpose": o.intent.purpose.value, "position_id": o.intent.position_id,
               "legs": _legs(o.intent.structure, o.intent.quantity), "limit_pts": o.intent.limit_pts,
               "fill_pts": o.fill_net_pts,
               "mid_at_decision_pts": _mid_pts(o.intent.structure, market, o.submitted_utc),
               "multiplier_usd_per_pt": o.intent.structure.multiplier_usd_per_pt, "leg_fills_pts": o.leg_fills_pts, "fees_usd": round(o.fees_usd, 2),
               "status": o.status.value, "status_time_utc": o.status_utc.isoformat() if o.status_utc else None,
               "note": o.note} for o in res.orders]
    holdings, marks_value, stale = [], 0.0, []
    for h in ledger.holdings.values():
        bid, ask = market.quote(h.symbol, end)
        mark = (bid + ask) / 2 if np.isfinite(bid) and np.isfinite(ask) else market.last_mid(h.symbol, end)
        if not np.isfinite(mark):
            stale.append(h.symbol)
            mark = h.cost_usd / (h.quantity * h.multiplier_usd_per_pt)
        value = h.quantity * mark * h.multiplier_usd_per_pt
        marks_value += value
        holdings.append({"symbol": h.symbol, "quantity": h.quantity, "mark_pts": round(mark, 4),
                         "value_usd": round(value, 2), "cost_usd": round(h.cost_usd, 2),
                         "unrealized_usd": round(value - h.cost_usd, 2)})
    nlv = ledger.cash_usd + marks_value
    by_strategy: dict[str, dict[str, float]] = defaultdict(lambda: {"realized_usd": 0.0, "fees_usd": 0.0})
    for o in res.orders:
        by_strategy[o.intent.strategy]["fees_usd"] += o.fees_usd
    positions = []
    for strat in res.strategies:
        for pos in strat.positions.values():
            row = {"strategy": strat.name, "position_id": pos.position_id, "state": pos.state.value,
                   "structure": pos.structure.describe(), "quantity": pos.quantity,
                   "legs": _legs(pos.structure, pos.quantity), "entry_net_pts": pos.entry_net_pts,
                   "multiplier_usd_per_pt": pos.structure.multiplier_usd_per_pt,
                   "exit_net_pts": pos.exit_net_pts, "exit_reason": pos.exit_reason, "notes": pos.notes}
            if pos.state is PositionState.CLOSED and pos.entry_net_pts is not None and pos.exit_net_pts is not None:
                pnl = -(pos.entry_net_pts + pos.exit_net_pts) * pos.quantity * pos.structure.multiplier_usd_per_pt
                row["realized_gross_usd"] = round(pnl, 2)
                by_strategy[strat.name]["realized_usd"] += pnl
            positions.append(row)
    return {
        "run": {"start": res.start.isoformat() if res.start else "all data",
                "end": res.end.isoformat() if res.end else "all data",
                "last_minute_utc": res.end_utc.isoformat() if res.end_utc else None,
                "strategies": {s.name: [d.isoformat() for d in res.days.get(s.name, [])] for s in res.strategies},
                "parameters_changed": changed, "problems": res.problems,
                "resumed_from_utc": res.resumed_from_utc.isoformat() if res.resumed_from_utc else None,
                "state_saves": res.state_saves},
        "decisions": [_decision(d) for d in res.decisions],
        "orders": orders,
        "positions": {"strategy_positions": positions, "holdings": holdings, "stale_marks": stale},
        "settlements": res.broker.settlements,
        "pnl": {"starting_cash_usd": res.params.starting_cash_usd, "cash_usd": round(ledger.cash_usd, 2),
                "holdings_value_usd": round(marks_value, 2), "nlv_usd": round(nlv, 2),
                "total_pnl_usd": round(nlv - res.params.starting_cash_usd, 2),
                "fees_usd": round(ledger.fees_usd, 2),
                "unrealized_usd": round(sum(h["unrealized_usd"] for h in holdings), 2),
                "by_strategy": {k: {kk: round(vv, 2) for kk, vv in v.items()} for k, v in by_strategy.items()}},
        "marks": res.marks,
        "gate": {"verdicts": res.session.journal if res.session else [], "alerts": res.alerts,
                 "state": session_state(res.session) if res.session else {}},
        "reconciliation": res.reconciliation,
        "invariants": check_invariants(res),
    }


def write_summary(res: ReplayResult, out_dir: Path) -> dict[str, Any]:
    """Write ``summary.json`` into ``out_dir`` (created) atomically (a reader or a second run
    never sees half a file: :func:`replay.state_file.atomic_write_text`) and return the summary."""
    summary = build_summary(res)
    out_dir.mkdir(parents=True, exist_ok=True)
    atomic_write_text(out_dir / "summary.json", json.dumps(summary, indent=2, default=str) + "\n")
    return summary


def render_text(summary: dict[str, Any]) -> str:
    """Short human-readable report."""
    run, pnl = summary["run"], summary["pnl"]
    lines = [f"ThetaDesk replay {run['start']} .. {run['end']}"
             + (f"  (parameters changed: {', '.join(f'{k}={v}' for k, v in run['parameters_changed'].items())})"
                if run["parameters_changed"] else "  (default parameters)")]
    for name, days in run["strategies"].items():
        lines.append(f"  {name}: {len(days)} day(s) with data" + (f" ({days[0]} .. {days[-1]})" if days else ""))
    lines += [f"  problem: {p}" for p in run["problems"]]
    for d in summary["decisions"]:
        if d["action"] == "held":
            continue
        lines.append(f"  {d['time_et']} ET  {d['strategy']:<17} {d['action']:<8} {d['reason']}")
    for v in summary["gate"]["verdicts"]:
        if v["action"] != "approve":
            lines.append(f"  {v['time_utc'][:16]}Z  gate {v['action']:<7} {v['strategy']} {v['purpose']} "
                         f"{v['asked']} -> {v['quantity']}: {v['reason']}")
    for o in summary["orders"]:
        legs = " ".join(f"{leg['quantity']:+d} {leg['strike_pts']:g}{leg['right'][0].upper()}" for leg in o["legs"])
        fill = f"{o['fill_pts']:+.2f}" if o["fill_pts"] is not None else "-"
        lines.append(f"  order {o['order_id']} {o['purpose']:<5} {legs} exp {o['legs'][0]['expiry']} "
                     f"limit {o['limit_pts']:+.2f} fill {fill} fees ${o['fees_usd']:.2f} {o['status']}")
    lines.append(f"  NLV ${pnl['nlv_usd']:,.2f}  P&L ${pnl['total_pnl_usd']:+,.2f}  fees ${pnl['fees_usd']:,.2f}"
                 f"  unrealized ${pnl['unrealized_usd']:+,.2f}")
    inv = summary["invariants"]
    if inv["faults"]:
        lines += [f"  fault {f.get('time_et', f['time_utc'])}  {f['kind']}: {f['effect']}" for f in inv["faults"]]
    broken = {k: v for k, v in inv.items() if k in CHECKS and v is not True}
    lines.append("  invariants: " + ("every invariant held" if inv["all_held"] else f"BROKEN {sorted(broken)}: "
                 + json.dumps({k: v for k, v in inv.items() if k not in CHECKS and v}, default=str)))
    return "\n".join(lines)
