"""Structures: payoff, max loss, breakevens and buying power, with exact hand-worked numbers."""

from __future__ import annotations

from datetime import UTC, date, datetime

import numpy as np
import pytest

from thetacore.chain import ChainSnapshot
from thetacore.enums import ExerciseStyle, Right, Settlement
from thetacore.legs import OptionLeg
from thetacore.margin import buying_power_pts, naked_short_bp_pts
from thetacore.structures import QuoteError, Structure, StructureKind, UnderlyingKind

EXP = date(2021, 1, 15)


def leg(strike: float, right: Right, ratio: int) -> OptionLeg:
    tag = "C" if right is Right.CALL else "P"
    return OptionLeg(f"SPX {strike:g}{tag}", "SPX", right, strike, EXP, ratio)


def chain(quotes: dict[str, tuple[float, float]], under: float = 3700.0) -> ChainSnapshot:
    syms = list(quotes)
    n = len(syms)
    strikes = np.array([float(s.split()[1][:-1]) for s in syms])
    rights = np.array([1 if s.endswith("C") else -1 for s in syms], dtype=np.int8)
    return ChainSnapshot(
        "SPX", datetime(2021, 1, 4, 15, tzinfo=UTC), 100.0, ExerciseStyle.EUROPEAN, Settlement.CASH,
        np.array(syms, dtype=object), np.array(["SPX"] * n, dtype=object), np.full(n, under), strikes,
        np.full(n, np.datetime64(EXP, "D")), rights, np.array([q[0] for q in quotes.values()]),
        np.array([q[1] for q in quotes.values()]), np.full(n, np.datetime64("2021-01-04T15:00", "ms")),
    )


def iron_condor(put_wing: float = 30, call_wing: float = 30) -> Structure:
    return Structure(StructureKind.IRON_CONDOR, (
        leg(3600 - put_wing, Right.PUT, 1), leg(3600, Right.PUT, -1),
        leg(3800, Right.CALL, -1), leg(3800 + call_wing, Right.CALL, 1)), 100.0, UnderlyingKind.INDEX)


def test_when_iron_condor_sold_for_credit_then_max_loss_is_wing_minus_credit_and_two_breakevens():
    ic = iron_condor()
    assert ic.max_loss_pts(-5.0) == pytest.approx(25.0)
    assert ic.breakevens_pts(-5.0) == pytest.approx([3595.0, 3805.0])


def test_when_wings_are_unequal_then_bp_uses_the_wider_wing_not_the_put_wing():
    ic = iron_condor(put_wing=30, call_wing=50)
    quotes = {"SPX 3570P": (1.0, 1.2), "SPX 3600P": (3.0, 3.2), "SPX 3800C": (3.0, 3.2), "SPX 3850C": (0.5, 0.7)}
    bp = buying_power_pts(ic, chain(quotes), net_price_pts=-4.6, scan_range_frac=0.07, t_years=0.03, rate_frac=0.0)
    assert bp == pytest.approx(50 - 4.6)
    assert ic.max_loss_pts(-4.6) == pytest.approx(45.4)


def test_when_strangle_then_loss_is_unbounded_and_bp_is_larger_naked_side_plus_other_premium():
    st = Structure(StructureKind.STRANGLE, (leg(3400, Right.PUT, -1), leg(3900, Right.CALL, -1)), 100.0,
                   UnderlyingKind.INDEX)
    assert st.max_loss_pts(-10.0) is None
    quotes = {"SPX 3400P": (4.0, 4.4), "SPX 3900C": (2.0, 2.2)}
    # put: 4.2 + max(0.15*3700 - 300, 0.10*3400) = 4.2 + 340 = 344.2
    # call: 2.1 + max(0.15*3700 - 200, 0.10*3700) = 2.1 + 370 = 372.1 -> larger side is the call
    bp = buying_power_pts(st, chain(quotes), net_price_pts=-6.3, scan_range_frac=0.07, t_years=0.03, rate_frac=0.0)
    assert bp == pytest.approx(372.1 + 4.2)
    assert st.breakevens_pts(-6.3) == pytest.approx([3393.7, 3906.3])


def test_when_naked_put_far_otm_then_the_ten_percent_of_strike_floor_applies():
    assert naked_short_bp_pts(UnderlyingKind.INDEX, Right.PUT, 3000, 3700, 1.0) == pytest.approx(1.0 + 300.0)
    assert naked_short_bp_pts(UnderlyingKind.EQUITY, Right.PUT, 440, 450, 2.0) == pytest.approx(2.0 + 80.0)


def test_when_ratio_spread_one_by_two_then_downside_loss_is_defined_by_the_extra_short():
    # LT112 shape: +1 3400P / -1 3350P / -2 3200P for a 2.0 debit
    rs = Structure(StructureKind.RATIO_SPREAD, (leg(3400, Right.PUT, 1), leg(3350, Right.PUT, -1),
                   leg(3200, Right.PUT, -2)), 100.0, UnderlyingKind.INDEX)
    # at 0: +3400 - 3350 - 2*3200 - 2 = -6352
    assert rs.max_loss_pts(2.0) == pytest.approx(6352.0)
    assert rs.breakevens_pts(2.0)[0] == pytest.approx(3200 - 24.0)


def test_when_a_leg_has_zero_bid_or_crossed_quote_then_pricing_refuses():
    ic = iron_condor()
    base = {"SPX 3570P": (1.0, 1.2), "SPX 3600P": (3.0, 3.2), "SPX 3800C": (3.0, 3.2), "SPX 3830C": (0.5, 0.7)}
    assert ic.net_mid_pts(chain(base)) == pytest.approx(1.1 - 3.1 - 3.1 + 0.6)
    with pytest.raises(QuoteError, match="bid 0"):
        ic.net_mid_pts(chain({**base, "SPX 3570P": (0.0, 0.2)}))
    with pytest.raises(QuoteError, match="crossed"):
        ic.net_mid_pts(chain({**base, "SPX 3600P": (3.4, 3.2)}))
    with pytest.raises(QuoteError, match="one-sided"):
        ic.net_mid_pts(chain({**base, "SPX 3830C": (np.nan, 0.7)}))


def test_when_ratios_share_a_factor_then_structure_is_refused():
    with pytest.raises(ValueError, match="GCD"):
        Structure(StructureKind.STRANGLE, (leg(3400, Right.PUT, -2), leg(3900, Right.CALL, -2)), 100.0,
                  UnderlyingKind.INDEX)


def test_when_credit_vertical_then_bp_is_width_minus_credit_and_breakeven_is_short_strike_minus_credit():
    v = Structure(StructureKind.VERTICAL, (leg(3570, Right.PUT, 1), leg(3600, Right.PUT, -1)), 100.0,
                  UnderlyingKind.INDEX)
    quotes = {"SPX 3570P": (1.0, 1.2), "SPX 3600P": (3.0, 3.2)}
    c = chain(quotes)
    assert v.net_mid_pts(c) == pytest.approx(-2.0)
    assert v.net_natural_pts(c) == pytest.approx(1.2 - 3.0)
    assert buying_power_pts(v, c, net_price_pts=-2.0, scan_range_frac=0.07, t_years=0.03,
                            rate_frac=0.0) == pytest.approx(28.0)
    assert v.max_loss_pts(-2.0) == pytest.approx(28.0)
    assert v.breakevens_pts(-2.0) == pytest.approx([3598.0])


def test_when_futures_strangle_on_the_real_es_chain_then_scan_bp_is_the_worst_repriced_loss(es_market):
    """REAL chain (ES options 2020-01-06 10:00 ET): scan-range BP of the short 3000P/3460C."""
    from tests.conftest import ES_ENTRY_UTC
    from thetacore.chain_greeks import with_greeks
    from thetacore.pricing import PricingModel, time_to_expiry_years

    ctx = es_market.context(ES_ENTRY_UTC)
    c = with_greeks(ctx.chain, model=PricingModel.BLACK_76, rate_frac=ctx.rate_frac, yield_frac=0.0,
                    expiry_time_et=__import__("datetime").time(9, 30))
    st = Structure(StructureKind.STRANGLE, (
        OptionLeg("ES202003 200320P03000000", "ES202003", Right.PUT, 3000.0, date(2020, 3, 20), -1),
        OptionLeg("ES202003 200320C03460000", "ES202003", Right.CALL, 3460.0, date(2020, 3, 20), -1)),
        50.0, UnderlyingKind.FUTURE)
    t = float(time_to_expiry_years(date(2020, 3, 20), ES_ENTRY_UTC, __import__("datetime").time(9, 30)))
    args = {"net_price_pts": -32.5, "t_years": t, "rate_frac": 0.0155, "short_minimum_frac": 0.0}
    narrow = buying_power_pts(st, c, scan_range_frac=0.03, **args)
    wide = buying_power_pts(st, c, scan_range_frac=0.07, **args)
    assert 0 < narrow < wide
    # +7% (future ~3457) puts the 3460 call at the money: a loss of tens of points, not hundreds
    assert 20 < wide < 120
    # the short-option minimum (2 uncovered shorts x 1.5% x the future 3225.625) floors both
    floor = 2 * 0.015 * 3225.625
    assert narrow < floor and buying_power_pts(st, c, scan_range_frac=0.03, **{**args, "short_minimum_frac": 0.015}) == (
        pytest.approx(floor))


def test_limit_on_tick_rounds_toward_the_natural_but_never_past_it():
    from thetacore.pricing_limits import limit_on_tick
    from thetacore.products import product

    assert limit_on_tick(-32.44, -32.30, 0.05) == pytest.approx(-32.40)
    assert limit_on_tick(-32.44, -32.30, 0.25) == pytest.approx(-32.50)  # -32.25 would pass natural
    assert limit_on_tick(1.12, 1.30, 0.05) == pytest.approx(1.15)  # debit: rounding up pays more
    es = product("ES")
    assert es.combo_tick_pts([29.25, 3.375]) == 0.05 and es.combo_tick_pts([29.25, 12.0]) == 0.25
