"""Metrics against hand calculations on a small series (no QuantStats in the expected values)."""

from __future__ import annotations

import math
import statistics
from datetime import UTC, date, datetime, timedelta

import pandas as pd
import pytest

from analytics import metrics as m
from analytics.model import Fill, RunData, RunSource, Trade, Verdict

pytest.importorskip("quantstats", reason="quantstats==0.0.77 is in requirements.txt (LEAN's image)")

NLV = [100_000.0, 102_000.0, 99_000.0, 101_000.0, 104_000.0, 103_000.0]
DAYS = [date(2024, 1, 2) + timedelta(days=i) for i in range(len(NLV))]
T0 = datetime(2024, 1, 2, 15, 0, tzinfo=UTC)


def _run(trades: list[Trade], fills: list[Fill] | None = None) -> RunData:
    # marks at 16:00 New York (21:00 UTC) on each day, plus an earlier mark that the daily close overrides
    idx = [datetime(d.year, d.month, d.day, 21, tzinfo=UTC) for d in DAYS]
    early = datetime(2024, 1, 4, 15, tzinfo=UTC)
    eq = pd.Series(NLV + [98_000.0], index=pd.DatetimeIndex(idx + [early])).sort_index()
    return RunData(RunSource.REPLAY, "hand", NLV[0], idx[-1], trades, fills or [], eq,
                   verdicts=[Verdict(T0, "lt112", "refuse", ("BP_LIMIT", "TRADE_RISK")),
                             Verdict(T0, "lt112", "refuse", ("BP_LIMIT",))])


def _trade(strategy: str, pnl: float, days: float, fees: float = 0.0, open_: bool = False) -> Trade:
    return Trade(strategy, f"{strategy}-{pnl}", T0, None if open_ else T0 + timedelta(days=days),
                 credit_usd=500.0, gross_pnl_usd=pnl + fees, fees_usd=fees, bp_usd=1_000.0)


def test_sharpe_sortino_and_drawdown_equal_the_hand_calculation():
    run = _run([])
    returns = [b / a - 1 for a, b in zip(NLV, NLV[1:], strict=False)]
    sharpe = statistics.mean(returns) / statistics.stdev(returns) * math.sqrt(252)
    # Sortino (target 0): downside deviation over all periods, sqrt(sum(min(r,0)^2) / n)
    downside = math.sqrt(sum(r * r for r in returns if r < 0) / len(returns))
    sortino = statistics.mean(returns) / downside * math.sqrt(252)
    stats = m.account_stats(run)
    assert stats["return_days_n"] == 5
    assert stats["sharpe_ratio"] == pytest.approx(sharpe, rel=1e-9)
    assert stats["sortino_ratio"] == pytest.approx(sortino, rel=1e-9)
    # deepest fall: 102,000 on Jan 3 -> 99,000 on Jan 4 (the 98,000 mark at 10:00 ET is not a close),
    # back above 102,000 on Jan 6
    assert stats["max_drawdown_usd"] == pytest.approx(3_000.0)
    assert stats["max_drawdown_frac"] == pytest.approx(3_000.0 / 102_000.0)
    assert (stats["drawdown_peak_date"], stats["drawdown_trough_date"], stats["drawdown_recovery_date"]) == (
        date(2024, 1, 3), date(2024, 1, 4), date(2024, 1, 6))


def test_a_drawdown_not_recovered_has_no_recovery_date():
    dd = m.drawdown(pd.Series([10.0, 12.0, 9.0, 11.0], index=pd.date_range("2024-01-01", periods=4)))
    assert (dd.depth_usd, dd.depth_frac, dd.recovered) == (3.0, 0.25, None)


def test_trade_statistics_per_strategy_and_account_equal_the_hand_calculation():
    trades = [_trade("lt112", 300.0, 10, fees=5.0), _trade("lt112", -200.0, 20, fees=5.0),
              _trade("ipmcc", 100.0, 4), _trade("ipmcc", -50.0, 6)]
    table = m.trade_table(_run(trades))
    acct = table.loc["account"]
    assert acct["trades_n"] == 4 and acct["closed_n"] == 4
    assert acct["net_pnl_usd"] == pytest.approx(150.0)
    assert acct["win_rate_frac"] == pytest.approx(0.5)
    assert acct["avg_winner_usd"] == pytest.approx((300 + 100) / 2)
    assert acct["avg_loser_usd"] == pytest.approx((-200 - 50) / 2)
    assert acct["profit_factor_ratio"] == pytest.approx(400 / 250)
    assert acct["avg_days_in_trade_days"] == pytest.approx((10 + 20 + 4 + 6) / 4)
    assert acct["return_on_bp_frac"] == pytest.approx(150 / 4_000)
    assert acct["fees_usd"] == pytest.approx(10.0) and acct["credit_usd"] == pytest.approx(2_000.0)
    lt = table.loc["lt112"]
    assert (lt["net_pnl_usd"], lt["profit_factor_ratio"]) == (pytest.approx(100.0), pytest.approx(300 / 200))


def test_a_strategy_that_never_lost_has_an_infinite_profit_factor_and_open_trades_are_not_closed():
    table = m.trade_table(_run([_trade("leap_puts", 80.0, 3), _trade("leap_puts", 20.0, 0, open_=True)]))
    row = table.loc["leap_puts"]
    assert math.isinf(row["profit_factor_ratio"]) and row["closed_n"] == 1 and row["win_rate_frac"] == 1.0
    assert row["net_pnl_usd"] == pytest.approx(100.0)  # the open one at its mark


def test_slippage_is_fill_minus_decision_mid_times_units_and_multiplier_by_new_york_hour():
    fills = [Fill("zero_dte", "z1", datetime(2024, 1, 5, 15, 30, tzinfo=UTC), "open", 2, 100.0, -1.50, -1.45, -1.55),
             Fill("zero_dte", "z1", datetime(2024, 1, 5, 19, 0, tzinfo=UTC), "close", 2, 100.0, 0.60, 0.55, 0.50),
             Fill("zero_dte", "z2", datetime(2024, 1, 5, 19, 5, tzinfo=UTC), "close", 1, 100.0, 0.60, 0.55, math.nan)]
    table = m.slippage_table(fills)
    # 10:30 ET: credit 1.45 taken against a 1.55 mid: (−1.45 − (−1.55)) × 2 × 100 = +20 USD worse than mid
    assert table.loc[("zero_dte", 10), "slippage_usd"] == pytest.approx(20.0)
    # 14:00 ET: paid 0.55 against 0.50: +10 USD; the fill without a mid is counted apart
    assert table.loc[("zero_dte", 14), "slippage_usd"] == pytest.approx(10.0)
    assert table.loc[("zero_dte", 14), "no_mid_n"] == 1 and table.loc[("zero_dte", 14), "fills_n"] == 1


def test_gate_verdicts_are_counted_by_reason_code():
    table = m.verdict_table(_run([]))
    assert table.loc[("lt112", "refuse", "BP_LIMIT"), "verdicts_n"] == 2
    assert table.loc[("lt112", "refuse", "TRADE_RISK"), "verdicts_n"] == 1
