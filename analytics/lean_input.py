"""Read a LEAN backtest's results (the LEAN CLI's ``backtests/<time>/`` folder) into a :class:`RunData`.

Format, from LEAN's source (QuantConnect/Lean):

* ``<algorithm id>.json``: a :class:`BacktestResult` (Common/Packets/BacktestResultPacket.cs,
  Common/Result.cs) saved by Engine/Results/BacktestingResultHandler.cs ``StoreResult`` with
  camelCase names (BaseResultsHandler ``SerializerSettings``): ``charts`` (name -> chart,
  ``series`` name -> ``{"values": [...]}``; the ``Strategy Equity`` chart's ``Equity`` series
  is a candlestick series whose points are ``[unix seconds, open, high, low, close]``,
  Common/Util/CandlestickJsonConverter.cs), ``orders`` (id -> Order, Common/Orders/Order.cs:
  ``id``, ``symbol.value``, ``time``, ``quantity``, ``type`` (9 = ComboLimit), ``status``
  (3 = Filled), ``tag``, ``groupOrderManager`` {``id``, ``quantity``, ``limitPrice``},
  ``orderSubmissionData`` {``bidPrice``, ``askPrice``, ``lastPrice``}), ``statistics``,
  ``runtimeStatistics``, ``profitLoss``...; order events are left out of it and stored apart.
* ``<algorithm id>-order-events.json``: a list of SerializedOrderEvent
  (Common/Orders/Serialization/SerializedOrderEvent.cs: ``orderId``, ``time`` in unix
  seconds, ``status`` in camelCase text, ``fillPrice``, ``fillQuantity``, ``orderFeeAmount``,
  ``isAssignment``), BaseResultsHandler ``StoreOrderEvents``.
* ``<algorithm id>-log.txt``: every log line prefixed with the algorithm time
  (BaseResultsHandler ``SaveLogs``/``FormatMessage``); the project's journal lines
  (leanhost/journal.py ``JournalEntry.line``: ``<yyyy-mm-dd HH:MM>Z <strategy> <ACTION> <text>``)
  give the decisions and the gate's verdicts.
* The folder name is the CLI's ``%Y-%m-%d_%H-%M-%S`` (lean-cli lean/commands/backtest.py).

Attribution: the router tags every order of a group with the intent's tag
(leanhost/orders.py, ``tag=intent.tag``), ``"<position id> open"`` or ``"<position id> close
<CODE>"``, and a position id starts with its strategy's name and a dash
(``futures_strangle-20200106T1500``). A position is closed when the signed fills of its legs
net to zero. LEAN's results carry no per-position marks, so an open position's P&L is
unknown (NaN) and said so; the account's NLV (the equity chart) includes it. Buying power in
use and net greeks are not in the results: those columns are left out.
"""

from __future__ import annotations

import json
import math
import re
from collections import defaultdict
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pandas as pd

from analytics.model import DecisionRow, Fill, RunData, RunSource, Trade, Verdict
from analytics.replay_input import InputError

MULTIPLIER_USD_PER_PT = {"ES": 50.0, "MES": 5.0, "SPX": 100.0, "SPXW": 100.0, "SPY": 100.0, "QQQ": 100.0}
"""Contract multipliers by root (CME ES/MES options: one future, $50 / $5 x index; Cboe SPX,
SPXW and OCC equity options: 100). LEAN's results do not state them."""

FILLED = 3  # Common/Orders/OrderTypes.cs, OrderStatus.Filled
_JOURNAL = re.compile(r"(\d{4}-\d\d-\d\d \d\d:\d\d)Z (\w+) (ENTERED|DECLINED|EXITED|HELD|APPROVE|RESIZE|REFUSE) (.*)$")
_CODE = re.compile(r"(?:^|; |\]: )([A-Z][A-Z0-9_]{2,}):")


def _result_files(folder: Path) -> tuple[Path, Path | None, Path | None]:
    """(result JSON, order events JSON or None, log or None) of a backtest folder."""
    results = [p for p in folder.glob("*.json")
               if not p.name.endswith(("-order-events.json", "-summary.json")) and p.stem.lstrip("L-").isdigit()]
    if len(results) != 1:
        raise InputError(f"{folder}: expected one <algorithm id>.json LEAN result, found {len(results)}")
    stem = results[0].stem
    events = folder / f"{stem}-order-events.json"
    log = folder / f"{stem}-log.txt"
    return results[0], events if events.is_file() else None, log if log.is_file() else None


def is_lean_folder(folder: Path) -> bool:
    """True when ``folder`` holds a LEAN result (``<digits>.json``)."""
    try:
        _result_files(folder)
    except InputError:
        return False
    return True


def root_of(symbol_value: str) -> str:
    """Option root of a LEAN symbol value (``"ES20H20 200320P03000000"`` -> ``ES``,
    ``"SPXW  200110P03200000"`` -> ``SPXW``)."""
    m = re.match(r"[A-Z]+", symbol_value.strip())
    if not m:
        raise InputError(f"cannot read a root from symbol {symbol_value!r}")
    word = m.group(0)
    known = [r for r in MULTIPLIER_USD_PER_PT if word.startswith(r)]
    return max(known, key=len) if known else word


def _equity(result: dict[str, Any]) -> pd.Series:
    series = result.get("charts", {}).get("Strategy Equity", {}).get("series", {}).get("Equity", {})
    points = [p for p in series.get("values", []) if p is not None]
    if not points:
        return pd.Series(dtype=float)
    idx = pd.DatetimeIndex([datetime.fromtimestamp(p[0], UTC) for p in points])
    return pd.Series([float(p[-1] if isinstance(p, list) else p["y"]) for p in points], index=idx, dtype=float)


def _journal(log: Path | None) -> tuple[list[DecisionRow], list[Verdict]]:
    decisions, verdicts = [], []
    for line in log.read_text().splitlines() if log else []:
        m = _JOURNAL.search(line)
        if not m:
            continue
        t = datetime.strptime(m.group(1), "%Y-%m-%d %H:%M").replace(tzinfo=UTC)
        codes = tuple(_CODE.findall(m.group(4)))
        if m.group(3) in ("APPROVE", "RESIZE", "REFUSE"):
            verdicts.append(Verdict(t, m.group(2), m.group(3).lower(), codes))
        else:
            decisions.append(DecisionRow(t, m.group(2), m.group(3).lower(), codes))
    return decisions, verdicts


def _group_fills(orders: dict[str, Any], events: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """One record per order group (a combo or a single order): tag, time, units, limit, legs
    with their filled quantity, average fill price, fees, submission bid/ask."""
    by_order: dict[int, list[dict[str, Any]]] = defaultdict(list)
    for e in events:
        by_order[int(e["orderId"])].append(e)
    groups: dict[tuple[str, int], dict[str, Any]] = {}
    for o in sorted(orders.values(), key=lambda o: int(o["id"])):
        gom = o.get("groupOrderManager")
        key = ("g", int(gom["id"])) if gom else ("o", int(o["id"]))
        units = abs(float(gom["quantity"])) if gom else abs(float(o["quantity"]))
        g = groups.setdefault(key, {"tag": o.get("tag", ""), "time": o["time"], "units": units, "legs": [],
                                    "limit": float(gom["limitPrice"]) if gom else math.nan})
        fills = [e for e in by_order[int(o["id"])] if float(e.get("fillQuantity", 0)) != 0]
        qty = sum(float(e["fillQuantity"]) for e in fills)
        sub = o.get("orderSubmissionData") or {}
        g["legs"].append({
            "symbol": o["symbol"]["value"], "ordered": float(o["quantity"]), "filled": qty,
            "price": sum(float(e["fillPrice"]) * float(e["fillQuantity"]) for e in fills) / qty if qty else math.nan,
            "fees": sum(float(e.get("orderFeeAmount", 0.0)) for e in by_order[int(o["id"])]),
            "mid": (float(sub["bidPrice"]) + float(sub["askPrice"])) / 2 if sub.get("bidPrice") and sub.get("askPrice") else math.nan,
            "last_fill": max((float(e["time"]) for e in fills), default=None),
            "single_limit": float(o.get("limitPrice", math.nan)),
        })
    return list(groups.values())


def _trades_and_fills(groups: list[dict[str, Any]]) -> tuple[list[Trade], list[Fill], list[str]]:
    by_pid: dict[str, list[dict[str, Any]]] = defaultdict(list)
    notes = []
    for g in groups:
        if not g["tag"] or "-" not in g["tag"].split(" ")[0]:
            notes.append(f"order group at {g['time']} has no strategy tag ({g['tag']!r}): not attributed")
            continue
        by_pid[g["tag"].split(" ")[0]].append(g)
    trades, fills = [], []
    for pid, gs in by_pid.items():
        strategy = pid.split("-", 1)[0]
        filled = [g for g in gs if all(leg["filled"] == leg["ordered"] for leg in g["legs"])]
        if not filled:
            continue
        net_qty: dict[str, float] = defaultdict(float)
        cash = fees = credit = 0.0
        times = []
        for g in filled:
            mult = MULTIPLIER_USD_PER_PT.get(root_of(g["legs"][0]["symbol"]), math.nan)
            flow = -sum(leg["price"] * leg["filled"] for leg in g["legs"]) * mult
            cash += flow
            fees += sum(leg["fees"] for leg in g["legs"])
            purpose = g["tag"].split(" ")[1] if " " in g["tag"] else "open"
            if purpose == "open":
                credit += flow
            for leg in g["legs"]:
                net_qty[leg["symbol"]] += leg["filled"]
            times.append(datetime.fromtimestamp(max(leg["last_fill"] for leg in g["legs"]), UTC))
            ratio = [leg["ordered"] / g["units"] for leg in g["legs"]]
            fill_net = sum(r * leg["price"] for r, leg in zip(ratio, g["legs"], strict=True))
            mid_net = sum(r * leg["mid"] for r, leg in zip(ratio, g["legs"], strict=True))
            limit = g["limit"] if math.isfinite(g["limit"]) else ratio[0] * g["legs"][0]["single_limit"]
            fills.append(Fill(strategy, pid, datetime.fromisoformat(g["time"].replace("Z", "+00:00")), purpose,
                              int(g["units"]), mult, limit, fill_net, mid_net))
        closed = all(abs(q) < 1e-9 for q in net_qty.values())
        trades.append(Trade(strategy, pid, min(times), max(times) if closed else None, credit,
                            cash if closed else math.nan, fees))
    return trades, fills, notes


def load_lean(folder: Path) -> RunData:
    """A LEAN backtest result folder as :class:`RunData`.

    Raises:
        InputError: when the folder holds no single LEAN result JSON.
    """
    folder = Path(folder)
    result_path, events_path, log_path = _result_files(folder)
    result = json.loads(result_path.read_text())
    events = json.loads(events_path.read_text()) if events_path else []
    equity = _equity(result)
    if equity.empty:
        raise InputError(f"{result_path}: no 'Strategy Equity' chart with an 'Equity' series")
    end = equity.index[-1].to_pydatetime()
    trades, fills, notes = _trades_and_fills(_group_fills(result.get("orders", {}), events))
    decisions, verdicts = _journal(log_path)
    notes += ["buying power in use: LEAN's results do not carry the gate's BP; the column is left out",
              "net greeks over time: not in LEAN's results; the column is left out"]
    if any(t.is_open for t in trades):
        notes.append("open positions at the end have no per-position mark in LEAN's results: their P&L is "
                     "unknown (the account NLV includes them)")
    if not events_path:
        notes.append("no order-events file: no fills")
    start_cash = float(equity.iloc[0])
    return RunData(RunSource.LEAN, str(folder), start_cash, end, trades, fills, equity, None, None, None,
                   verdicts, decisions, notes)
