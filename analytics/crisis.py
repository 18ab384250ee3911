"""Crisis windows of a MODELLED multi-year run (issue 12 item 4), from its ``summary.json``.

Per window and strategy: realized P&L of the positions closed in the window (gross, less the
fees of their orders; LEAN sign as :func:`replay.engine.realized_usd`), positions opened,
exits by kind (the position's ``exit_reason`` code; "settled at expiry" when none), and the
account's NLV change and maximum drawdown over the window's daily marks. Gate interventions:
the gate's refusals and resizes by reason code, and the breaker/drawdown trips among its
alerts by code, and the MODELLED operator's clears (``summary.json`` ``operator_clears``:
:mod:`replay.operator_policy`) as ``operator clear <CODE>``. The windows (first and last day, New York dates) are this module's
definitions, from the public record of each sell-off:

* 2000-02: 2000-03-24 (S&P 500 peak) .. 2002-10-09 (trough);
* 2008: 2008-09-01 .. 2009-03-09 (Lehman to the trough);
* Aug 2011: 2011-07-22 .. 2011-10-03 (US downgrade);
* Aug 2015: 2015-08-17 .. 2015-09-30 (the yuan devaluation, 2015-08-24);
* Feb 2018: 2018-01-26 .. 2018-03-29 ("Volmageddon", 2018-02-05);
* Mar 2020: 2020-02-19 .. 2020-04-30 (COVID-19 crash, trough 2020-03-23).

Every table says MODELLED: the option prices behind these numbers are a model's.
"""

from __future__ import annotations

import re
from collections import Counter, defaultdict
from datetime import date
from typing import Any

import pandas as pd

WINDOWS: dict[str, tuple[date, date]] = {
    "2000-02": (date(2000, 3, 24), date(2002, 10, 9)),
    "2008": (date(2008, 9, 1), date(2009, 3, 9)),
    "Aug 2011": (date(2011, 7, 22), date(2011, 10, 3)),
    "Aug 2015": (date(2015, 8, 17), date(2015, 9, 30)),
    "Feb 2018": (date(2018, 1, 26), date(2018, 3, 29)),
    "Mar 2020": (date(2020, 2, 19), date(2020, 4, 30)),
}
_CODE = re.compile(r"^([A-Z_0-9]+)")


def _day(iso: str) -> date:
    return date.fromisoformat(iso[:10])


def _positions(summary: dict[str, Any]) -> list[dict[str, Any]]:
    """Filled positions with opened/closed days, realized P&L (USD, fees out) and exit kind."""
    fees: dict[str, float] = defaultdict(float)
    opened: dict[str, date] = {}
    closed: dict[str, date] = {}
    for o in summary["orders"]:
        fees[o["position_id"]] += o["fees_usd"]
        if o["status"] == "filled":
            day = _day(o["status_time_utc"])
            if o["purpose"] == "open":
                opened.setdefault(o["position_id"], day)
            else:
                closed[o["position_id"]] = max(day, closed.get(o["position_id"], day))
    settled = {s["symbol"]: _day(s["time_utc"]) for s in summary["settlements"]}
    out = []
    for p in summary["positions"]["strategy_positions"]:
        if p["entry_net_pts"] is None or p["position_id"] not in opened:
            continue
        end = closed.get(p["position_id"])
        if p["state"] == "closed":
            end = max([end] if end else [] + [settled[leg["symbol"]] for leg in p["legs"] if leg["symbol"] in settled]
                      or [opened[p["position_id"]]])
        m = _CODE.match(p["exit_reason"] or "")
        kind = m.group(1) if m else ("settled at expiry" if p["state"] == "closed" else "open")
        pnl = (p.get("realized_gross_usd") or 0.0) - fees[p["position_id"]] if p["state"] == "closed" else 0.0
        out.append({"strategy": p["strategy"], "opened": opened[p["position_id"]], "closed": end
                    if p["state"] == "closed" else None, "kind": kind, "pnl_usd": pnl})
    return out


def _marks(summary: dict[str, Any]) -> pd.Series:
    return pd.Series([m["nlv_usd"] for m in summary["marks"]],
                     index=[_day(m["time_utc"]) for m in summary["marks"]], dtype=float)


def crisis_table(summary: dict[str, Any]) -> pd.DataFrame:
    """One row per (window, strategy) and per window for the account (``strategy`` = "account"):
    ``pnl_usd``, ``trades_n``, ``exits`` (kind: count), ``nlv_change_usd``,
    ``max_drawdown_frac`` (account rows), ``gate`` (reason code: count, account rows)."""
    positions, nlv = _positions(summary), _marks(summary)
    windows = dict(WINDOWS)
    if len(nlv):
        windows["whole run"] = (nlv.index[0], nlv.index[-1])
    rows = []
    for name, (lo, hi) in windows.items():
        inside = [p for p in positions if p["closed"] is not None and lo <= p["closed"] <= hi]
        for strat in sorted({p["strategy"] for p in positions}):
            mine = [p for p in inside if p["strategy"] == strat]
            rows.append({"window": name, "strategy": strat, "pnl_usd": round(sum(p["pnl_usd"] for p in mine), 2),
                         "trades_n": sum(1 for p in positions if p["strategy"] == strat and lo <= p["opened"] <= hi),
                         "exits": dict(Counter(p["kind"] for p in mine))})
        part = nlv[(nlv.index >= lo) & (nlv.index <= hi)]
        dd = float((1 - part / part.cummax()).max()) if len(part) else float("nan")
        gate: Counter[str] = Counter()
        for v in summary["gate"]["verdicts"]:
            if v["action"] != "approve" and lo <= _day(v["time_utc"]) <= hi:
                gate.update(f"{v['action']} {c}" for c in v["codes"])
        for a in summary["gate"]["alerts"]:
            m = re.match(r"^(\S+) ([A-Z_0-9]+) tripped", a)
            if m and lo <= _day(m.group(1)) <= hi:
                gate[f"trip {m.group(2)}"] += 1
        for c in summary.get("operator_clears", []):
            if lo <= _day(c["time_utc"]) <= hi:
                gate[f"operator clear {c['code']}"] += 1
        rows.append({"window": name, "strategy": "account",
                     "pnl_usd": round(float(part.iloc[-1] - part.iloc[0]), 2) if len(part) else float("nan"),
                     "trades_n": sum(1 for p in positions if lo <= p["opened"] <= hi),
                     "exits": dict(Counter(p["kind"] for p in inside)), "max_drawdown_frac": round(dd, 4),
                     "gate": dict(gate.most_common())})
    return pd.DataFrame(rows)


def render_crisis(summary: dict[str, Any]) -> str:
    """The crisis table as text, headed MODELLED, with the windows' dates."""
    table = crisis_table(summary)
    lines = ["Crisis windows [MODELLED: option prices from a model over the REAL SPY path; not real P&L]"]
    for name, group in table.groupby("window", sort=False):
        lo, hi = WINDOWS.get(str(name), (None, None))
        lines.append(f"{name}" + (f" ({lo} .. {hi})" if lo else ""))
        for r in group.to_dict("records"):
            extra = (f" max DD {r['max_drawdown_frac']:.1%}; gate {r['gate']}" if r["strategy"] == "account" else "")
            lines.append(f"  {r['strategy']:<17} P&L ${r['pnl_usd']:+,.0f}  trades {r['trades_n']}  exits "
                         f"{r['exits']}{extra}")
    return "\n".join(lines)
