"""The report's charts as matplotlib figures rendered to PNG bytes (Agg backend, no display).

Each function takes tables from :mod:`analytics.metrics` and returns PNG bytes, or ``None``
when there is nothing to draw (the report then says why in words).
"""

from __future__ import annotations

import io

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402  (after the backend is chosen)
import pandas as pd  # noqa: E402
from matplotlib.figure import Figure  # noqa: E402

WIDTH_IN = 9.0


def _png(fig: Figure) -> bytes:
    buf = io.BytesIO()
    fig.tight_layout()
    fig.savefig(buf, format="png", dpi=100)
    plt.close(fig)
    return buf.getvalue()


def equity_and_drawdown(daily_nlv_usd: pd.Series) -> bytes | None:
    """End-of-day NLV (USD) and its drawdown from the running peak (USD)."""
    if len(daily_nlv_usd) < 2:
        return None
    fig, (top, bottom) = plt.subplots(2, 1, figsize=(WIDTH_IN, 5.0), sharex=True, height_ratios=(2, 1))
    x = range(len(daily_nlv_usd))
    labels = [d.strftime("%Y-%m-%d") for d in daily_nlv_usd.index]
    top.plot(x, daily_nlv_usd.to_numpy(), marker="o", color="tab:blue")
    top.set_ylabel("NLV (USD)")
    top.set_title("Equity (end of day, New York) and drawdown")
    dd = daily_nlv_usd - daily_nlv_usd.cummax()
    bottom.fill_between(x, dd.to_numpy(), 0, color="tab:red", alpha=0.4)
    bottom.set_ylabel("drawdown (USD)")
    step = max(1, len(labels) // 10)
    bottom.set_xticks(list(x)[::step], labels[::step], rotation=30, ha="right", fontsize=8)
    return _png(fig)


def pnl_by_strategy(table: pd.DataFrame) -> bytes | None:
    """Net P&L after fees (USD) per strategy (the ``account`` row left out)."""
    rows = table.drop(index="account", errors="ignore")["net_pnl_usd"].dropna()
    if rows.empty:
        return None
    fig, ax = plt.subplots(figsize=(WIDTH_IN, 3.2))
    colors = ["tab:green" if v >= 0 else "tab:red" for v in rows.to_numpy()]
    ax.bar(rows.index.astype(str), rows.to_numpy(), color=colors, width=0.5)
    ax.axhline(0, color="black", linewidth=0.8)
    ax.set_ylabel("net P&L after fees (USD)")
    ax.set_title("P&L by strategy")
    return _png(fig)


def bp_against_limit(frame: pd.DataFrame) -> bytes | None:
    """Buying power in use and the VIX-regime limit over time (USD)."""
    if "bp_in_use_usd" not in frame:
        return None
    fig, ax = plt.subplots(figsize=(WIDTH_IN, 3.2))
    x = range(len(frame))
    ax.step(x, frame["bp_in_use_usd"].to_numpy(), where="post", label="BP in use (USD)")
    if "bp_limit_usd" in frame:
        ax.plot(x, frame["bp_limit_usd"].to_numpy(), color="tab:red", linestyle="--", label="VIX-regime limit (USD)")
    labels = [pd.Timestamp(t).strftime("%Y-%m-%d %H:%M") for t in frame.index]
    step = max(1, len(labels) // 8)
    ax.set_xticks(list(x)[::step], labels[::step], rotation=30, ha="right", fontsize=8)
    ax.set_xlabel("NLV mark (UTC), one step per mark")
    ax.set_ylabel("USD")
    ax.set_title("Buying power in use against its limit")
    ax.legend(loc="upper left", fontsize=8)
    return _png(fig)


def slippage(table: pd.DataFrame) -> bytes | None:
    """Slippage against the decision-time mid (USD, positive = worse than mid) by strategy
    and New York hour."""
    if table.empty:
        return None
    fig, ax = plt.subplots(figsize=(WIDTH_IN, 3.2))
    labels = [f"{s} {h:02d}h ET" for s, h in table.index]
    ax.bar(labels, table["slippage_usd"].to_numpy(), color="tab:orange", width=0.5)
    ax.axhline(0, color="black", linewidth=0.8)
    ax.set_ylabel("slippage vs mid (USD)")
    ax.set_title("Slippage by strategy and time of day")
    ax.tick_params(axis="x", labelsize=8)
    return _png(fig)


def refusals(verdicts: pd.DataFrame, declines: pd.DataFrame) -> bytes | None:
    """Risk-gate refusals/resizes and strategy declines, counted by reason code."""
    parts = []
    if not verdicts.empty:
        v = verdicts.reset_index()
        v = v[v["action"] != "approve"]
        parts += [(f"gate {r.action} {r.code}", int(r.verdicts_n)) for r in v.itertuples()]
    if not declines.empty:
        d = declines.reset_index().groupby("code")["declines_n"].sum()
        parts += [(f"declined {code}", int(n)) for code, n in d.items()]
    if not parts:
        return None
    fig, ax = plt.subplots(figsize=(WIDTH_IN, 0.8 + 0.28 * len(parts)))
    ax.barh([p[0] for p in parts], [p[1] for p in parts], color="tab:gray")
    ax.invert_yaxis()
    ax.set_xlabel("count")
    ax.set_title("Refusals (gate) and declines (strategies) by reason code")
    ax.tick_params(axis="y", labelsize=8)
    return _png(fig)
