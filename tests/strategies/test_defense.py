"""The 21-DTE defensive rule on MODELLED ES option chains (replay.model_chain, Black-76).

The level 3225.625 is the REAL ES March 2020 future mid of 2020-01-06 10:00 ET (data/);
other levels are hypothetical moves. The position is a short ES 3000P / 3300C strangle of
the 2020-03-20 expiry: 21 DTE falls on 2020-02-28, the close-by 14 DTE on 2020-03-06.
"""

from __future__ import annotations

import dataclasses
from datetime import UTC, date, datetime

import pytest

from replay.model_chain import SmileModel, model_chain, strike_grid
from strategies.base import MarketContext, PositionState, StrategyPosition
from strategies.defense import CLOSE_CODES, defense_review, position_dte
from thetacore.enums import Right
from thetacore.legs import OptionLeg
from thetacore.parameters import load_parameters
from thetacore.products import product
from thetacore.structures import Structure, StructureKind, UnderlyingKind

ES_MAR_MID = 3225.625  # real ES202003 mid, 2020-01-06 10:00 ET
EXPIRY = date(2020, 3, 20)
P = load_parameters({})


def ctx_on(day: date, level: float = ES_MAR_MID, iv: float = 0.25) -> MarketContext:
    t = datetime(day.year, day.month, day.day, 15, 0, tzinfo=UTC)
    chain = model_chain(product("ES"), t, level, [EXPIRY], strike_grid(3225, 5.0, 120), multiplier_usd_per_pt=50.0,
                        rate_frac=0.0225, smile=SmileModel(atm_iv_frac=iv), underlying_symbol="ES202003")
    return MarketContext(t, day, chain, 0.0225)


def strangle(ctx: MarketContext, pnl_pts: float) -> StrategyPosition:
    """A short 3000P/3300C whose entry makes its mark-to-mid P&L exactly ``pnl_pts``."""
    legs = tuple(OptionLeg(f"ES202003 200320{'P' if r is Right.PUT else 'C'}{round(k * 1000):08d}", "ES202003", r, k,
                           EXPIRY, -1) for r, k in ((Right.PUT, 3000.0), (Right.CALL, 3300.0)))
    s = Structure(StructureKind.STRANGLE, legs, 50.0, UnderlyingKind.FUTURE)
    return StrategyPosition("pos-1", s, 1, PositionState.OPEN, entry_net_pts=s.net_mid_pts(ctx.chain) - pnl_pts)


def test_when_more_than_21_dte_then_the_rule_is_silent():
    ctx = ctx_on(date(2020, 2, 27))
    pos = strangle(ctx, pnl_pts=-5.0)
    assert position_dte(pos, ctx.today_et) == 22
    assert defense_review(pos, ctx, P) is None


def test_when_profitable_at_21_dte_then_close():
    ctx = ctx_on(date(2020, 2, 28))
    pos = strangle(ctx, pnl_pts=5.0)
    v = defense_review(pos, ctx, P)
    assert v.close and v.reason.code == "DEFENSE_PROFIT" and v.pnl_pts == pytest.approx(5.0)
    assert v.reason.text.startswith("21 DTE <= 21: pos-1 profitable by +5.00 pts per unit")


@pytest.mark.parametrize(("level", "frac", "tested"), [
    (3000.0, 0.0, True),    # at the strike
    (2990.0, 0.0, True),    # through it
    (3010.0, 0.0, False),   # above it, no margin
    (3010.0, 0.005, True),  # within 0.5%: 3000 x 1.005 = 3015
])
def test_when_the_short_put_is_tested_at_21_dte_then_close(level, frac, tested):
    ctx = ctx_on(date(2020, 2, 28), level=level)
    pos = strangle(ctx, pnl_pts=-5.0)
    v = defense_review(pos, ctx, load_parameters({"defense_tested_frac": str(frac)}))
    assert v.close is tested
    assert v.reason.code == ("DEFENSE_TESTED" if tested else "DEFENSE_REVIEW")
    if tested:
        line = 3000.0 * (1 + frac)
        assert v.reason.text == (f"short 3000P tested, future {level:.2f} within {frac:.1%} of the strike or "
                                 f"beyond (at or below {line:.2f})")


def test_when_the_short_call_is_tested_then_close():
    ctx = ctx_on(date(2020, 3, 2), level=3305.0)
    v = defense_review(strangle(ctx, pnl_pts=-5.0), ctx, P)
    assert v.close and v.reason.text.startswith("short 3300C tested, future 3305.00")


def test_when_neither_then_review_once_and_close_by_14_dte():
    ctx = ctx_on(date(2020, 2, 28))
    pos = strangle(ctx, pnl_pts=-5.0)
    v = defense_review(pos, ctx, P)
    assert not v.close and v.reason.code == "DEFENSE_REVIEW"
    assert v.reason.text == ("21 DTE <= 21: pos-1 neither profitable (P&L -5.00 pts per unit) nor tested; "
                             "kept, close by 14 DTE (2020-03-06)")
    assert defense_review(pos, ctx, P, reviewed=True) is None
    day15 = ctx_on(date(2020, 3, 5))
    assert defense_review(strangle(day15, pnl_pts=-5.0), day15, P, reviewed=True) is None
    day14 = ctx_on(date(2020, 3, 6))
    v = defense_review(strangle(day14, pnl_pts=-5.0), day14, P, reviewed=True)
    assert v.close and v.reason.code == "DEFENSE_CLOSE_BY"
    assert v.reason.text == "14 DTE <= close-by 14: closing pos-1, P&L -5.00 pts per unit"


def test_when_profitable_and_tested_then_profit_is_the_reason():
    ctx = ctx_on(date(2020, 2, 28), level=2990.0)
    v = defense_review(strangle(ctx, pnl_pts=1.0), ctx, P)
    assert v.reason.code == "DEFENSE_PROFIT"


def test_when_no_chain_then_the_review_cannot_conclude_until_the_close_by_day():
    ctx = ctx_on(date(2020, 2, 28))
    pos = strangle(ctx, pnl_pts=-5.0)
    blind = dataclasses.replace(ctx, chain=None, chain_problem="feed down")
    v = defense_review(pos, blind, P, reviewed=True)
    assert not v.close and v.reason.code == "DEFENSE_UNPRICED"
    assert v.reason.text == "21 DTE <= 21: cannot review pos-1: feed down"
    late = dataclasses.replace(blind, today_et=date(2020, 3, 6))
    v = defense_review(pos, late, P)
    assert v.close and v.reason.text == "14 DTE <= close-by 14: closing pos-1, P&L unknown (feed down)"


def test_when_the_chain_has_no_quote_for_a_leg_but_the_context_has_the_underlying_then_tested_still_counts():
    ctx = ctx_on(date(2020, 2, 28))
    pos = strangle(ctx, pnl_pts=-5.0)
    blind = dataclasses.replace(ctx, chain=None, underlying_pts=2999.0)
    v = defense_review(pos, blind, P)
    assert v.close and v.reason.code == "DEFENSE_TESTED" and "future 2999.00" in v.reason.text


def test_close_codes_are_the_three_closing_rules():
    assert CLOSE_CODES == ("DEFENSE_PROFIT", "DEFENSE_TESTED", "DEFENSE_CLOSE_BY")
