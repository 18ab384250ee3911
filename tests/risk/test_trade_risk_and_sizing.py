"""Per-trade risk and Kelly sizing on the REAL ES chain of 2020-01-06 (data/).

The 3050/3000 put credit spread (2020-03-20) is limited at -7.25 (mid -7.375, natural
-7.00, rounded up onto the 0.25 tick): its defined risk is (50 - 7.25) x 50 = 2,137.50 USD
per unit. The strangle has undefined risk: its stress loss is the 4,838.44 USD SPAN-like BP.
Trade statistics and NLV are given.
"""

from __future__ import annotations

import dataclasses

import pytest

from risk.gate import Gate, GateAction
from risk.sizing import full_kelly
from tests.risk.gate_builders import GOOD_STATS, NOW, account, market, params, put_spread, stats

BIG = {"safety_max_notional_usd": "10000000"}  # sizes above 6 ES units pass the notional fat finger


def _spread(ctx, quantity=1):
    spread, bp = put_spread(ctx, 3050, 3000, quantity=quantity)
    return spread, market(spread, ctx, bp)


def test_when_thorps_even_money_bet_is_sized_then_full_kelly_is_2p_minus_1():
    """Thorp (2006) section 2: an even-money bet won with p = 0.6 has f* = 2p - 1 = 0.2."""
    assert full_kelly(stats("x", 60, 40, 100.0, 100.0)) == pytest.approx(0.2)
    assert full_kelly(stats("x", 34, 6, 400.0, 800.0)) == pytest.approx(0.55)


def test_when_the_spread_is_priced_then_its_max_loss_is_width_minus_credit(ctx):
    spread, m = _spread(ctx)
    assert spread.limit_pts == -7.25 and m.max_loss_usd_per_unit == pytest.approx(2_137.5)


@pytest.mark.parametrize(("nlv", "action"), [(42_750.0, GateAction.APPROVE), (42_700.0, GateAction.REFUSE)])
def test_when_one_unit_risks_more_than_5pct_then_refused(ctx, nlv, action):
    spread, m = _spread(ctx)
    v = Gate(params()).check(spread, account(nlv), m, NOW)
    assert v.action is action
    if action is GateAction.APPROVE:
        assert v.codes == ("TRADE_RISK_ABOVE_TARGET",) and "2,138 USD = 5.00% of NLV 42,750 > 2.00% target" in v.reason_text
    else:
        assert v.codes == ("TRADE_RISK_HARD",)
        assert v.reasons[0].text == "1 unit max loss 2,138 USD = 5.01% of NLV 42,700 > hard cap 5.00%"


@pytest.mark.parametrize(("asked", "action"), [(2, GateAction.APPROVE), (3, GateAction.RESIZE)])
def test_when_three_units_risk_more_than_2pct_then_resized_to_two(ctx, asked, action):
    """NLV 213,750: 2% = 4,275 USD = exactly 2 x 2,137.50. Kelly allows 13."""
    spread, m = _spread(ctx, asked)
    v = Gate(params()).check(spread, account(213_750, strategy_stats=(stats(spread.strategy, *GOOD_STATS),)), m, NOW)
    assert v.action is action and v.quantity == 2
    if action is GateAction.RESIZE:
        assert v.codes == ("TRADE_RISK",)
        assert v.reasons[0].text == "asked 3, 2 fit: 3 x max loss 2,138 USD = 3.00% of NLV 213,750 > 2.00%"
    else:
        assert v.reasons == ()


def test_when_quarter_kelly_is_below_the_risk_cap_then_kelly_sizes(ctx):
    """W 0.60, avg win 300 / loss 400: f* = 0.6 - 0.4 / 0.75 = 0.0667; 0.25 x f* x 1,000,000 =
    16,667 USD / 2,137.50 = 7 units (the 2% cap allows 9)."""
    spread, m = _spread(ctx, 9)
    v = Gate(params(**BIG)).check(spread, account(1_000_000, strategy_stats=(stats(spread.strategy, 24, 16, 300, 400),)),
                                  m, NOW)
    assert v.action is GateAction.RESIZE and v.quantity == 7 and v.codes == ("KELLY_SIZE",)
    assert v.reasons[0].text == ("0.25 x f*=0.067 (win rate 0.60, avg win 300 / avg loss 400 USD) x NLV 1,000,000 "
                                 "= 16,667 USD / 2,138 per unit = 7 unit(s)")


@pytest.mark.parametrize(("wins", "losses", "quantity"), [(16, 3, 1), (17, 3, 2)])
def test_when_fewer_than_20_trades_are_closed_then_one_unit(ctx, wins, losses, quantity):
    spread, m = _spread(ctx, 2)
    v = Gate(params(**BIG)).check(spread, account(1_000_000, strategy_stats=(stats(spread.strategy, wins, losses,
                                                                                 400, 800),)), m, NOW)
    assert v.quantity == quantity
    if quantity == 1:
        assert v.codes == ("KELLY_MIN_TRADES",) and v.reasons[0].text == "19 closed trade(s) < 20: 1 unit"


def test_when_the_strategy_has_no_edge_then_refused(ctx):
    spread, m = _spread(ctx)
    v = Gate(params()).check(spread, account(100_000, strategy_stats=(stats(spread.strategy, 10, 10, 100, 200),)),
                             m, NOW)
    assert v.action is GateAction.REFUSE and v.codes == ("KELLY_NO_EDGE",)
    assert "f*=-0.500 (win rate 0.50, avg win 100 / avg loss 200 USD) <= 0" in v.reason_text


def test_when_kelly_rounds_to_zero_with_an_edge_then_one_unit_passes(ctx):
    """f* = 0.6 - 0.4 / 0.7 = 0.029: 0.25 x f* x 100,000 = 714 USD < one unit's 2,137.50."""
    spread, m = _spread(ctx)
    v = Gate(params()).check(spread, account(100_000, strategy_stats=(stats(spread.strategy, 24, 16, 280, 400),)),
                             m, NOW)
    assert v.action is GateAction.APPROVE and v.quantity == 1


def test_when_stats_cannot_give_a_kelly_fraction_then_refused(ctx):
    spread, m = _spread(ctx)
    v = Gate(params()).check(spread, account(100_000, strategy_stats=(stats(spread.strategy, 20, 5, 100, float("nan")),)),
                             m, NOW)
    assert v.codes == ("KELLY_STATS_INVALID",) and "avg_loss_usd=nan" in v.reason_text


def test_when_risk_is_undefined_then_the_margin_stress_loss_is_the_risk(strangle, ctx):
    intent, bp = strangle
    v = Gate(params()).check(dataclasses.replace(intent, quantity=3), account(500_000,
                             strategy_stats=(stats(intent.strategy, *GOOD_STATS),)), market(intent, ctx, bp), NOW)
    # 2% of 500,000 = 10,000 USD / 4,838.44 = 2 units (issue 11: was 3,466.64)
    assert v.action is GateAction.RESIZE and v.quantity == 2
    assert v.reasons[0].text == "asked 3, 2 fit: 3 x margin stress loss 4,838 USD = 2.90% of NLV 500,000 > 2.00%"
