"""Read a replay run (``summary.json`` written by ``python -m replay``) into a :class:`RunData`.

Per position (``positions.strategy_positions``, one per strategy position id): the entry
credit is ``-entry_net_pts x quantity x multiplier``; a closed (or settled) position's gross
P&L is ``-(entry_net_pts + exit_net_pts) x quantity x multiplier`` (the replay's own
``realized_usd``, :func:`replay.engine.realized_usd`); an open one is marked with the end-of-run
holdings' mid marks: ``sum(leg quantity x mark x multiplier) - entry_net_pts x quantity x
multiplier``. Fees are the sum over the orders carrying its position id. The NLV and the
gate's buying power in use come from ``marks``; the BP limit is that of the VIX regime of
the run's ``vix_level`` (:func:`risk.buying_power_limits.bp_limit_frac`) times the NLV.
"""

from __future__ import annotations

import json
import math
from datetime import datetime
from pathlib import Path
from typing import Any

import pandas as pd

from analytics.model import DecisionRow, Fill, RunData, RunSource, Trade, Verdict
from risk.buying_power_limits import bp_limit_frac
from thetacore.parameters import Parameters, load_parameters


class InputError(ValueError):
    """A run folder or file that is not what the analytics can read."""


def _t(text: str) -> datetime:
    return datetime.fromisoformat(text)


def read_summary(path: Path) -> dict[str, Any]:
    """The parsed ``summary.json``.

    Raises:
        InputError: when the file is missing or not a replay summary.
    """
    if not path.is_file():
        raise InputError(f"{path}: no such file")
    data = json.loads(path.read_text())
    missing = {"run", "orders", "positions", "pnl"} - set(data)
    if missing:
        raise InputError(f"{path}: not a replay summary.json (missing {', '.join(sorted(missing))})")
    return dict(data)


def _params(summary: dict[str, Any]) -> Parameters:
    """The run's parameters: the defaults with the recorded changes applied."""
    return load_parameters(summary["run"].get("parameters_changed", {}))


def _trades(summary: dict[str, Any]) -> list[Trade]:
    orders = summary["orders"]
    marks = {h["symbol"]: h["mark_pts"] for h in summary["positions"]["holdings"]}
    bp_by_pid = {d["position_id"]: d["details"].get("buying_power_usd", math.nan)
                 for d in summary.get("decisions", []) if d["action"] == "entered"}
    settled = {s["symbol"]: _t(s["time_utc"]) for s in summary.get("settlements", [])}
    out = []
    for p in summary["positions"]["strategy_positions"]:
        if p["entry_net_pts"] is None:
            continue  # never filled: no trade
        pid, qty, mult = p["position_id"], p["quantity"], p["multiplier_usd_per_pt"]
        mine = [o for o in orders if o["position_id"] == pid]
        filled = [o for o in mine if o["status"] == "filled"]
        opened = min(_t(o["status_time_utc"]) for o in filled if o["purpose"] == "open")
        entry_usd = p["entry_net_pts"] * qty * mult
        closed: datetime | None = None
        marked = False
        if p["state"] == "closed" and p["exit_net_pts"] is not None:
            gross = -(p["entry_net_pts"] + p["exit_net_pts"]) * qty * mult
            closes = [_t(o["status_time_utc"]) for o in filled if o["purpose"] == "close"]
            closed = max(closes) if closes else max(settled.get(leg["symbol"], opened) for leg in p["legs"])
        else:
            value = sum(leg["quantity"] * marks.get(leg["symbol"], math.nan) * mult for leg in p["legs"])
            gross, marked = value - entry_usd, True
        out.append(Trade(p["strategy"], pid, opened, closed, -entry_usd, gross,
                         sum(o["fees_usd"] for o in mine), float(bp_by_pid.get(pid, math.nan)), marked))
    return out


def _fills(summary: dict[str, Any]) -> list[Fill]:
    out = []
    for o in summary["orders"]:
        if o["status"] != "filled":
            continue
        units = abs(o["legs"][0]["quantity"]) if len(o["legs"]) == 1 else None
        pos = next((p for p in summary["positions"]["strategy_positions"] if p["position_id"] == o["position_id"]), None)
        if units is None:
            units = pos["quantity"] if pos else 1
        mid = o.get("mid_at_decision_pts")
        out.append(Fill(o["strategy"], o["position_id"], _t(o["time_utc"]), o["purpose"], int(units),
                        float(o.get("multiplier_usd_per_pt") or (pos or {}).get("multiplier_usd_per_pt", math.nan)),
                        o["limit_pts"], o["fill_pts"], math.nan if mid is None else float(mid)))
    return out


def _series(rows: list[dict[str, Any]], key: str) -> pd.Series:
    idx = pd.DatetimeIndex([pd.Timestamp(r["time_utc"]) for r in rows])
    return pd.Series([float(r[key]) for r in rows], index=idx, name=key, dtype=float)


def load_replay(folder: Path) -> RunData:
    """A replay output folder (holding ``summary.json``) as :class:`RunData`.

    Raises:
        InputError: for a missing or malformed summary.
    """
    summary = read_summary(Path(folder) / "summary.json")
    params = _params(summary)
    run, pnl = summary["run"], summary["pnl"]
    end = _t(run["last_minute_utc"]) if run.get("last_minute_utc") else datetime.now().astimezone()
    notes = ["net greeks over time: the replay records none; the column is left out"]
    if summary.get("label") == "MODELLED":  # python -m replay --chains modelled (replay/modelled_run.py)
        notes.insert(0, "MODELLED run: option chains priced by a model over the REAL SPY path, VIX the model's "
                     "30-day level; shows the rules' life cycle and the safety stack, NOT the strategies' real P&L")
    marks = summary.get("marks")
    if marks:
        equity = _series(marks, "nlv_usd")
        bp: pd.Series | None = _series(marks, "bp_in_use_usd")
    else:
        equity = pd.Series([pnl["starting_cash_usd"], pnl["nlv_usd"]],
                           index=pd.DatetimeIndex([pd.Timestamp(end), pd.Timestamp(end)]), dtype=float)
        bp = None
        notes.append("no NLV marks in summary.json (an older replay): equity is the start and end NLV only")
    limit: pd.Series | None = None
    if params.vix_level >= 0:
        frac, basis = bp_limit_frac(params.vix_level, params)
        limit = equity * frac
        notes.append(f"BP limit: {frac:.0%} of NLV ({basis}, operator VIX {params.vix_level:g})")
    else:
        notes.append("BP limit unknown: the run had no VIX level")
    if any(p["state"] != "closed" and p["entry_net_pts"] is not None for p in summary["positions"]["strategy_positions"]):
        notes.append(f"open positions are marked at the run's last minute ({end:%Y-%m-%d %H:%M} UTC) and their "
                     "days in trade counted to it; returns are per data day (the replay skips days without data)")
    if bp is not None:
        notes.append("BP in use is the risk gate's own buying power of each position at entry (thetacore.margin)")
    # the starting cash as the close of the day before the first mark (the first day's return counts)
    first = (equity.index[0] if len(equity) else pd.Timestamp(end)) - pd.Timedelta(days=1)
    equity = pd.concat([pd.Series([float(pnl["starting_cash_usd"])], index=pd.DatetimeIndex([first])), equity])
    return RunData(
        RunSource.REPLAY, str(folder), float(pnl["starting_cash_usd"]), end, _trades(summary), _fills(summary),
        equity, bp, limit, None,
        [Verdict(_t(v["time_utc"]), v["strategy"], v["action"], tuple(v["codes"])) for v in summary["gate"]["verdicts"]],
        [DecisionRow(_t(d["time_utc"]), d["strategy"], d["action"], tuple(r["code"] for r in d["reasons"]))
         for d in summary.get("decisions", [])],
        notes)
