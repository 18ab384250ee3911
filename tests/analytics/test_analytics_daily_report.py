"""The daily report's text from plain data (pure; the LEAN adapter is tested in tests/leanhost)."""

from __future__ import annotations

import math
from datetime import UTC, date, datetime

from analytics.daily_report import (
    DailyReportInput,
    EventLine,
    PositionLine,
    RiskLine,
    StrategyPlan,
    render_daily_report,
)

T = datetime(2024, 1, 5, 15, 30, tzinfo=UTC)  # 10:30 New York


def _report(mark_pts: float = -0.80, vix: float = 14.0, limit: float = 65_000.0) -> tuple[str, str]:
    positions = (
        PositionLine("zero_dte", "zero_dte-1", "put spread", 2, entry_net_pts=-1.50, mark_net_pts=mark_pts,
                     multiplier_usd_per_pt=100.0, dte_days=0),
        PositionLine("lt112", "lt112-1", "lt112", 1, entry_net_pts=-6.00, mark_net_pts=-5.00,
                     multiplier_usd_per_pt=50.0, dte_days=118),
    )
    return render_daily_report(DailyReportInput(
        date(2024, 1, 5), positions,
        (EventLine(T, "zero_dte", "ENTERED", "ENTRY: put spread"),),
        (EventLine(T, "lt112", "REFUSE", "lt112-2 open asked 1 -> 0 [active]: BP_LIMIT: ..."),),
        RiskLine(100_000.0, 12_000.0, limit, "VIX 13-18", vix, "active", ("LOSS_LIMIT_DAILY: lost 5.1%",)),
        (StrategyPlan("zero_dte", ("entry 2024-01-12 10:30 ET",), 1, "ENTERED ENTRY: put spread"),),
    ))


def test_positions_carry_pnl_at_mid_and_dte_and_the_total():
    subject, body = _report()
    # (mark - entry) x quantity x multiplier: (-0.80 + 1.50) x 2 x 100 = +140; (-5 + 6) x 1 x 50 = +50
    assert "zero_dte-1: 2 x put spread; entry -1.50 pts, mark -0.80 pts, P&L +140.00 USD, DTE 0" in body
    assert "P&L +50.00 USD, DTE 118" in body and "total unrealized +190.00 USD" in body
    assert subject == ("ThetaDesk daily 2024-01-05: NLV 100,000.00 USD, 2 open, unrealized +190.00 USD, "
                       "1 refusal(s)")


def test_decisions_refusals_risk_and_plans_are_listed():
    _, body = _report()
    assert "10:30 ET zero_dte ENTERED: ENTRY: put spread" in body
    assert "10:30 ET lt112 REFUSE: lt112-2 open" in body
    assert "BP in use 12,000.00 USD (12.0% of NLV) against a limit of 65,000.00 USD (65.0%, VIX 13-18)" in body
    assert "tripped: LOSS_LIMIT_DAILY: lost 5.1%" in body
    assert "zero_dte: entry 2024-01-12 10:30 ET; 1 open position(s); today: ENTERED ENTRY: put spread" in body


def test_an_unknown_mark_or_vix_is_not_zero():
    _, body = _report(mark_pts=math.nan, vix=math.nan, limit=math.nan)
    assert "mark n/a pts, P&L n/a, DTE 0" in body
    assert "total unrealized +50.00 USD (1 without a mark)" in body
    assert "VIX n/a" in body and "against a limit of n/a USD" in body
