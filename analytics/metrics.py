"""Performance statistics of a run: per strategy and for the account.

Trade statistics (from :class:`~analytics.model.Trade` records; "closed" = closed or settled):

* ``net_pnl_usd`` = sum of (gross P&L - fees), open positions at their end-of-run mark (a
  position without a mark, an open one in LEAN's results, is left out; NaN if none is known);
* ``win_rate_frac`` = closed trades with net P&L > 0 / closed trades;
* ``avg_winner_usd`` / ``avg_loser_usd``: mean net P&L of the closed winners / losers;
* ``profit_factor_ratio`` = gross wins / |gross losses| over closed trades' net P&L (inf when
  nothing lost, NaN without a closed trade);
* ``avg_days_in_trade_days``: calendar days, open ones counted to the run's end;
* ``return_on_bp_frac`` = net P&L / buying power tied up at entry (sum over trades).

Account statistics from the NLV marks, on the New York end-of-day NLV (the starting cash is
the close before the first day): Sharpe and Sortino from QuantStats
(``quantstats.stats.sharpe`` / ``sortino``, risk-free 0, 252 periods a year, annualized;
QuantStats 0.0.77 as in LEAN's image, DockerfileLeanFoundation), the maximum drawdown as a
fraction from ``quantstats.stats.max_drawdown`` on the NLV, and its depth in USD, its peak,
trough and recovery dates from :func:`drawdown`. The return days are the run's data days
(the replay steps only through days that have data).
"""

from __future__ import annotations

import math
import warnings
from dataclasses import dataclass
from datetime import date
from zoneinfo import ZoneInfo

import numpy as np
import pandas as pd

from analytics.model import Fill, RunData, Trade

NEW_YORK = ZoneInfo("America/New_York")
ACCOUNT = "account"
TRADE_COLUMNS = ["trades_n", "closed_n", "net_pnl_usd", "credit_usd", "fees_usd", "win_rate_frac",
                 "avg_winner_usd", "avg_loser_usd", "profit_factor_ratio", "avg_days_in_trade_days",
                 "return_on_bp_frac"]


def _stats(trades: list[Trade], end_utc: pd.Timestamp) -> dict[str, float]:
    closed = [t.net_pnl_usd for t in trades if not t.is_open]
    wins, losses = [p for p in closed if p > 0], [p for p in closed if p < 0]
    bp = sum(t.bp_usd for t in trades)
    loss_sum = -sum(losses)
    if not closed:
        pf = math.nan
    elif loss_sum == 0:
        pf = math.inf if wins else math.nan
    else:
        pf = sum(wins) / loss_sum
    known = [t.net_pnl_usd for t in trades if math.isfinite(t.net_pnl_usd)]
    net = sum(known) if known else math.nan  # an open LEAN position has no mark: left out, said so
    return {
        "trades_n": float(len(trades)), "closed_n": float(len(closed)), "net_pnl_usd": net,
        "credit_usd": sum(t.credit_usd for t in trades), "fees_usd": sum(t.fees_usd for t in trades),
        "win_rate_frac": len(wins) / len(closed) if closed else math.nan,
        "avg_winner_usd": float(np.mean(wins)) if wins else math.nan,
        "avg_loser_usd": float(np.mean(losses)) if losses else math.nan,
        "profit_factor_ratio": pf,
        "avg_days_in_trade_days": float(np.mean([t.days_in_trade(end_utc) for t in trades])) if trades else math.nan,
        "return_on_bp_frac": net / bp if math.isfinite(bp) and bp > 0 else math.nan,
    }


def trade_table(run: RunData) -> pd.DataFrame:
    """One row per strategy that traded plus an ``account`` row; columns :data:`TRADE_COLUMNS`."""
    end = pd.Timestamp(run.end_utc)
    rows = {s: _stats([t for t in run.trades if t.strategy == s], end) for s in run.strategies}
    rows[ACCOUNT] = _stats(run.trades, end)
    return pd.DataFrame.from_dict(rows, orient="index", columns=TRADE_COLUMNS)


def daily_nlv(equity_usd: pd.Series) -> pd.Series:
    """End-of-day NLV by New York date (the last mark of each date), USD: the series
    QuantStats gets. The readers start the equity with the starting cash."""
    if equity_usd.empty:
        return pd.Series(dtype=float)
    idx = pd.DatetimeIndex(equity_usd.index)
    days = idx.tz_convert(NEW_YORK).date if idx.tz is not None else idx.date
    daily = equity_usd.groupby(np.asarray(days)).last()
    daily.index = pd.DatetimeIndex(pd.to_datetime([str(d) for d in daily.index]))
    return daily.astype(float)


@dataclass(frozen=True)
class Drawdown:
    """The deepest fall of the NLV from a running peak.

    Attributes:
        depth_usd: peak NLV - trough NLV (>= 0).
        depth_frac: ``depth_usd / peak`` (>= 0).
        peak, trough: dates of the peak before the fall and of the lowest point.
        recovered: first date the NLV was back at or above the peak (``None``: not recovered).
    """

    depth_usd: float
    depth_frac: float
    peak: date | None
    trough: date | None
    recovered: date | None


def drawdown(nlv: pd.Series) -> Drawdown:
    """Maximum drawdown of an NLV series (any index of dates or timestamps), ascending."""
    if len(nlv) < 2:
        return Drawdown(0.0, 0.0, None, None, None)
    values = nlv.to_numpy(dtype=float)
    running = np.maximum.accumulate(values)
    falls = running - values
    i = int(np.argmax(falls / running))
    if falls[i] <= 0:
        return Drawdown(0.0, 0.0, None, None, None)
    p = int(np.argmax(values[: i + 1] == running[i]))
    later = np.nonzero(values[i:] >= running[i])[0]
    dates = [pd.Timestamp(x).date() for x in nlv.index]
    return Drawdown(float(falls[i]), float(falls[i] / running[i]), dates[p], dates[i],
                    dates[i + int(later[0])] if len(later) else None)


def account_stats(run: RunData) -> dict[str, object]:
    """Sharpe, Sortino (QuantStats) and the maximum drawdown of the account's daily NLV."""
    import quantstats as qs  # heavy import (seaborn, yfinance): only when the stats are wanted

    nlv = daily_nlv(run.equity_usd)
    returns = nlv.pct_change().dropna()
    dd = drawdown(nlv)
    with warnings.catch_warnings():  # QuantStats divides by a zero downside/std itself: NaN, said as n/a
        warnings.simplefilter("ignore", RuntimeWarning)
        sharpe = float(qs.stats.sharpe(returns, rf=0.0, periods=252, annualize=True)) if len(returns) > 1 else math.nan
        sortino = float(qs.stats.sortino(returns, rf=0.0, periods=252, annualize=True)) if len(returns) > 1 else math.nan
    mdd = abs(float(qs.stats.max_drawdown(nlv))) if len(nlv) > 1 else 0.0
    return {
        "start_nlv_usd": run.starting_cash_usd,
        "end_nlv_usd": float(run.equity_usd.iloc[-1]) if len(run.equity_usd) else math.nan,
        "return_days_n": len(returns), "sharpe_ratio": sharpe, "sortino_ratio": sortino,
        "max_drawdown_frac": mdd, "max_drawdown_usd": dd.depth_usd, "drawdown_peak_date": dd.peak,
        "drawdown_trough_date": dd.trough, "drawdown_recovery_date": dd.recovered,
    }


def slippage_table(fills: list[Fill]) -> pd.DataFrame:
    """Slippage against the decision-time mid by strategy and New York hour of the decision:
    ``fills_n``, ``slippage_usd`` (sum), ``slippage_per_fill_usd`` (mean), ``slippage_per_unit_pts``
    (mean of fill - mid). Fills without a recorded mid are left out (counted in ``no_mid_n``)."""
    rows = []
    for f in fills:
        rows.append({"strategy": f.strategy, "hour_et": f.time_utc.astimezone(NEW_YORK).hour,
                     "slip_usd": f.slippage_usd, "slip_pts": f.fill_pts - f.mid_pts, "has_mid": math.isfinite(f.mid_pts)})
    cols = ["fills_n", "no_mid_n", "slippage_usd", "slippage_per_fill_usd", "slippage_per_unit_pts"]
    if not rows:
        return pd.DataFrame(columns=cols)
    df = pd.DataFrame(rows)
    with_mid = df[df.has_mid]
    g = with_mid.groupby(["strategy", "hour_et"])
    out = pd.DataFrame({"fills_n": g.size(), "slippage_usd": g.slip_usd.sum(),
                        "slippage_per_fill_usd": g.slip_usd.mean(), "slippage_per_unit_pts": g.slip_pts.mean()})
    out["no_mid_n"] = df[~df.has_mid].groupby(["strategy", "hour_et"]).size()
    out = out.reindex(columns=cols)
    out["no_mid_n"] = out["no_mid_n"].fillna(0).astype(int)
    return out


def verdict_table(run: RunData) -> pd.DataFrame:
    """Risk-gate verdicts counted by strategy, action and reason code (a verdict with several
    codes counts once under each; one without codes under ``-``): column ``verdicts_n``."""
    rows = [(v.strategy, v.action, code) for v in run.verdicts for code in (v.codes or ("-",))]
    if not rows:
        return pd.DataFrame(columns=["verdicts_n"])
    df = pd.DataFrame(rows, columns=["strategy", "action", "code"])
    return df.groupby(["strategy", "action", "code"]).size().to_frame("verdicts_n")


def decline_table(run: RunData) -> pd.DataFrame:
    """Declined decisions counted by strategy and reason code: column ``declines_n``."""
    rows = [(d.strategy, code) for d in run.decisions if d.action == "declined" for code in (d.codes or ("-",))]
    if not rows:
        return pd.DataFrame(columns=["declines_n"])
    df = pd.DataFrame(rows, columns=["strategy", "code"])
    return df.groupby(["strategy", "code"]).size().to_frame("declines_n")


def bp_frame(run: RunData) -> pd.DataFrame:
    """Buying power in use, its limit and the NLV over time (USD), at the times BP was
    recorded (every mark when the host records BP, else every NLV point)."""
    cols = {"nlv_usd": run.equity_usd}
    if run.bp_in_use_usd is not None:
        cols["bp_in_use_usd"] = run.bp_in_use_usd
    if run.bp_limit_usd is not None:
        cols["bp_limit_usd"] = run.bp_limit_usd
    frame = pd.DataFrame(cols)
    return frame.loc[run.bp_in_use_usd.index] if run.bp_in_use_usd is not None else frame
