"""Buying power by VIX regime, the reserve, and short puts only above VIX 30, on the REAL ES
chain of 2020-01-06 (data/): the strategy's strangle needs 4,838.44 USD of SPAN-like BP per
unit (issue 11; 3,466.64 with the old fixed-IV scan); the 3050/3000 put spread 744.89 USD. VIX levels are given."""

from __future__ import annotations

import math

import pytest

from risk.buying_power_limits import bp_limit_frac, is_short_puts_only, vix_regime
from risk.gate import Gate, GateAction
from tests.risk.gate_builders import GOOD_STATS, NOW, account, market, params, put_spread, stats


@pytest.mark.parametrize(("vix", "regime", "limit"), [
    (12.99, 1, 0.45), (13.0, 2, 0.65), (17.99, 2, 0.65), (18.0, 3, 0.80), (24.99, 3, 0.80),
    (25.0, 4, 0.50), (30.0, 4, 0.50), (30.01, 5, 0.80)])
def test_when_vix_sits_at_a_regime_bound_then_the_rules_table_limit_applies(vix, regime, limit):
    p = params()
    assert vix_regime(vix, p) == regime
    assert bp_limit_frac(vix, p)[0] == limit


def test_when_vix_is_unknown_then_there_is_no_regime():
    with pytest.raises(ValueError, match="known VIX"):
        vix_regime(math.nan, params())


def test_when_the_reserve_is_tighter_than_the_regime_then_the_reserve_binds():
    assert bp_limit_frac(20.0, params(bp_reserve_frac="0.4")) == (pytest.approx(0.6), "reserve 0.40")


def _good(intent):
    return (stats(intent.strategy, *GOOD_STATS),)


def test_when_bp_room_fits_one_of_five_strangles_then_resized_to_one(strangle, ctx):
    """NLV 1,000,000 at VIX 27.1 (limit 0.50): 494,000 in use leaves 6,000 = 1 x 4,838.44.
    Kelly and the 2% target (4 units) allow 3; BP allows 1. (Issue 11: was 495,000 in use,
    5 asked, BP 3,466.64.)"""
    intent, bp = strangle
    ask = intent.__class__(**{**intent.__dict__, "quantity": 3})
    v = Gate(params()).check(ask, account(1_000_000, 494_000, strategy_stats=_good(ask)),
                             market(ask, ctx, bp, vix_level=27.1, vix_prev_close=26.0), NOW)
    assert v.action is GateAction.RESIZE and v.quantity == 1
    assert v.codes == ("BP_LIMIT",)
    assert v.reasons[0].text.startswith("asked 3, 1 fit: bp_used=0.5037 > limit=0.50 at VIX 27.1 (VIX 25-30) "
                                        "with 2 unit(s): in use 494,000 + 2 x 4,838 USD of NLV 1,000,000")


@pytest.mark.parametrize(("in_use", "action"), [(495_161.56, GateAction.APPROVE), (495_500, GateAction.REFUSE)])
def test_when_one_unit_just_fits_or_not_then_approved_or_refused(strangle, ctx, in_use, action):
    intent, bp = strangle
    v = Gate(params()).check(intent, account(1_000_000, in_use), market(intent, ctx, bp, vix_level=27.1,
                                                                         vix_prev_close=26.0), NOW)
    assert v.action is action
    if action is GateAction.REFUSE:
        assert v.codes == ("BP_LIMIT",)
        assert "bp_used=0.5003 > limit=0.50 at VIX 27.1" in v.reason_text


@pytest.mark.parametrize(("vix", "action"), [(24.99, GateAction.APPROVE), (25.0, GateAction.REFUSE)])
def test_when_vix_crosses_25_then_the_limit_drops_from_080_to_050(strangle, ctx, vix, action):
    intent, bp = strangle
    v = Gate(params()).check(intent, account(1_000_000, 600_000), market(intent, ctx, bp, vix_level=vix,
                                                                          vix_prev_close=24.0), NOW)
    assert v.action is action
    if action is GateAction.REFUSE:
        assert v.codes == ("BP_LIMIT",) and "bp_used=0.6048 > limit=0.50 at VIX 25.0 (VIX 25-30)" in v.reason_text


def test_when_the_reserve_binds_then_the_code_says_reserve(strangle, ctx):
    intent, bp = strangle
    v = Gate(params(bp_reserve_frac="0.4")).check(intent, account(1_000_000, 600_000),
                                                  market(intent, ctx, bp, vix_level=20.0, vix_prev_close=19.0), NOW)
    assert v.codes == ("BP_RESERVE",) and "limit=0.60 at VIX 20.0 (reserve 0.40)" in v.reason_text


@pytest.mark.parametrize("vix", [30.0, 30.01])
def test_when_vix_is_above_30_then_only_short_put_entries_pass(strangle, ctx, vix):
    intent, bp = strangle
    gate = Gate(params())
    v = gate.check(intent, account(), market(intent, ctx, bp, vix_level=vix, vix_prev_close=29.0), NOW)
    spread, sbp = put_spread(ctx, 3050, 3000)
    w = gate.check(spread, account(), market(spread, ctx, sbp, vix_level=vix, vix_prev_close=29.0), NOW)
    assert is_short_puts_only(spread.structure) and not is_short_puts_only(intent.structure)
    assert w.action is GateAction.APPROVE
    if vix == 30.0:
        assert v.action is GateAction.APPROVE
    else:
        assert v.codes == ("VIX_SHORT_PUTS_ONLY",)
        assert v.reasons[0].text.startswith("VIX 30.0 > 30: new entries must be short puts only; strangle[")
