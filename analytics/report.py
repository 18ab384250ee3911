"""``python -m analytics report <run folder>``: one self-contained HTML report and the key table.

The folder is a replay output (``summary.json``) or a LEAN CLI backtest folder
(``<algorithm id>.json``, see :mod:`analytics.lean_input`). The HTML embeds its charts as
base64 PNGs, so it is one file (``report.html`` in the run folder unless told otherwise).
A run without a filled trade says so in its first line.
"""

from __future__ import annotations

import base64
import html
import math
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from analytics import figures
from analytics import metrics as m
from analytics.lean_input import is_lean_folder, load_lean
from analytics.model import RunData
from analytics.replay_input import InputError, load_replay

NO_TRADES = "No trades in this run: no order was filled, so there is no P&L to attribute."


def load_run(folder: Path) -> RunData:
    """A replay or LEAN result folder as :class:`RunData`.

    Raises:
        InputError: when the folder is neither.
    """
    folder = Path(folder)
    if (folder / "summary.json").is_file():
        return load_replay(folder)
    if is_lean_folder(folder):
        return load_lean(folder)
    raise InputError(f"{folder}: neither a replay output (summary.json) nor a LEAN backtest folder (<id>.json)")


@dataclass
class Report:
    """Every table and chart of one run's report."""

    run: RunData
    trades: pd.DataFrame
    account: dict[str, object]
    slippage: pd.DataFrame
    verdicts: pd.DataFrame
    declines: pd.DataFrame
    bp: pd.DataFrame
    daily_nlv_usd: pd.Series

    @property
    def has_trades(self) -> bool:
        return bool(self.run.trades)


def build(run: RunData) -> Report:
    """Compute the report's tables."""
    return Report(run, m.trade_table(run), m.account_stats(run), m.slippage_table(run.fills),
                  m.verdict_table(run), m.decline_table(run), m.bp_frame(run), m.daily_nlv(run.equity_usd))


def _fmt(v: object, name: str = "") -> str:
    """A value as text by the unit in its name: ``_usd`` 2 decimals with thousands, ``_frac``
    4 decimals, ``_n`` whole, ``_days`` and ``_ratio`` 2 decimals; NaN is ``n/a``."""
    if isinstance(v, (float, int)) and not isinstance(v, bool):
        x = float(v)
        if math.isnan(x):
            return "n/a"
        if math.isinf(x):
            return "inf" if x > 0 else "-inf"
        if name.endswith("_n"):
            return f"{x:.0f}"
        if name.endswith("_frac"):
            return f"{x:.4f}"
        return f"{x:,.2f}"
    return "n/a" if v is None else str(v)


def _fmt_frame(df: pd.DataFrame) -> pd.DataFrame:
    """Format each column of ``df`` by its name (:func:`_fmt`)."""
    return pd.DataFrame({c: [_fmt(v, str(c)) for v in df[c]] for c in df.columns}, index=df.index)


def key_table(rep: Report) -> pd.DataFrame:
    """The table printed to the terminal: per strategy and the account, formatted by unit."""
    return _fmt_frame(rep.trades)


def render_terminal(rep: Report) -> str:
    """Plain-text key figures: trades, account statistics, notes."""
    lines = [f"ThetaDesk report: {rep.run.name} ({rep.run.source.value})"]
    if not rep.has_trades:
        lines.append(NO_TRADES)
    else:
        lines.append(key_table(rep).T.to_string())
    lines.append("account: " + ", ".join(f"{k} {_fmt(v, k)}" for k, v in rep.account.items()))
    if not rep.verdicts.empty:
        refused = rep.verdicts.reset_index()
        refused = refused[refused["action"] != "approve"]
        for r in refused.itertuples():
            lines.append(f"gate {r.action} {r.strategy} {r.code}: {r.verdicts_n}")
    lines += [f"note: {n}" for n in rep.run.notes]
    return "\n".join(lines)


def _img(png: bytes | None, missing: str) -> str:
    if png is None:
        return f"<p class='missing'>{html.escape(missing)}</p>"
    return f"<img alt='chart' src='data:image/png;base64,{base64.b64encode(png).decode()}'>"


def _table(df: pd.DataFrame, empty: str) -> str:
    if df.empty:
        return f"<p class='missing'>{html.escape(empty)}</p>"
    return str(_fmt_frame(df).to_html(escape=True, border=0))


def render_html(rep: Report) -> str:
    """The whole report as one HTML document (charts embedded)."""
    acct = pd.DataFrame({"value": {k: _fmt(v, k) for k, v in rep.account.items()}})
    body = [f"<h1>ThetaDesk report</h1><p>{html.escape(rep.run.name)} ({rep.run.source.value})</p>"]
    if not rep.has_trades:
        body.append(f"<p class='none'><b>{html.escape(NO_TRADES)}</b></p>")
    body += [
        "<h2>Trades by strategy</h2>",
        str(key_table(rep).T.to_html(border=0)) if rep.has_trades else "",
        "<h2>Account</h2>", str(acct.to_html(border=0)),
        _img(figures.equity_and_drawdown(rep.daily_nlv_usd), "fewer than two end-of-day NLV values: no equity chart"),
        "<h2>P&amp;L by strategy</h2>", _img(figures.pnl_by_strategy(rep.trades), "no strategy P&L to draw"),
        "<h2>Buying power in use</h2>",
        _img(figures.bp_against_limit(rep.bp), "the inputs carry no buying power in use (see notes)"),
        "<h2>Slippage (fill against the mid at decision time)</h2>",
        _img(figures.slippage(rep.slippage), "no filled order with a decision-time mid"),
        _table(rep.slippage, "no fills"),
        "<h2>Refusals and declines</h2>", _img(figures.refusals(rep.verdicts, rep.declines), "nothing refused or declined"),
        _table(rep.verdicts, "no gate verdicts"), _table(rep.declines, "no declined decisions"),
        "<h2>Notes</h2><ul>" + "".join(f"<li>{html.escape(n)}</li>" for n in rep.run.notes) + "</ul>",
    ]
    style = ("body{font-family:sans-serif;max-width:1000px;margin:auto}table{border-collapse:collapse;font-size:13px}"
             "td,th{padding:2px 8px;text-align:right}.missing{color:#777}.none{color:#a00}img{max-width:100%}")
    return (f"<!DOCTYPE html><html><head><meta charset='utf-8'><title>ThetaDesk report</title>"
            f"<style>{style}</style></head><body>{''.join(body)}</body></html>\n")


def write_report(folder: Path, out: Path | None = None) -> tuple[Path, Report]:
    """Build the report of ``folder`` and write its HTML (default ``folder/report.html``)."""
    rep = build(load_run(folder))
    path = out or Path(folder) / "report.html"
    path.write_text(render_html(rep))
    return path, rep
