"""The MODELLED chain generator: documented model, never mistaken for real data."""

from __future__ import annotations

from datetime import UTC, date, datetime

import numpy as np
import pytest

from replay.model_chain import MODEL_SUFFIX, SmileModel, model_chain, strike_grid
from thetacore.chain_greeks import with_greeks
from thetacore.enums import Right
from thetacore.pricing import PricingModel
from thetacore.products import product

T = datetime(2021, 1, 8, 15, 30, tzinfo=UTC)  # 10:30 ET


def spxw_chain(spot: float = 3800.0, expiry: date = date(2021, 1, 8)):
    return model_chain(product("SPXW"), T, spot, [expiry], strike_grid(spot, 5.0, 40),
                       multiplier_usd_per_pt=100.0, rate_frac=0.0025)


def test_chain_is_labelled_modelled_and_quotes_are_two_sided_on_the_tick_grid():
    c = spxw_chain()
    assert c.root == "SPXW" + MODEL_SUFFIX
    ok = np.isfinite(c.bid_pts)
    assert (c.ask_pts[ok] > c.bid_pts[ok]).all()
    assert np.allclose(np.round(c.bid_pts[ok] / 0.05), c.bid_pts[ok] / 0.05)


def test_far_otm_options_below_one_tick_have_no_bid_not_a_zero_bid():
    c = spxw_chain()
    far = (c.right == int(Right.PUT)) & (c.strike_pts == c.strike_pts.min())
    assert np.isnan(c.bid_pts[far]).all() and (c.ask_pts[far] > 0).all()


def test_iv_recovered_from_the_quotes_follows_the_documented_skew():
    c = with_greeks(spxw_chain(expiry=date(2021, 1, 15)), model=PricingModel.BLACK_SCHOLES, rate_frac=0.0025, yield_frac=0.0,
                    expiry_time_et=product("SPXW").expiry_time_et)
    smile = SmileModel()
    # out-of-the-money puts with a bid: the mid's IV is the model IV up to the quoted spread
    puts = (c.right == int(Right.PUT)) & np.isfinite(c.iv_frac) & (c.strike_pts <= 3800) & (c.strike_pts >= 3700)
    expected = smile.iv(c.strike_pts[puts], 3800.0)
    assert puts.sum() >= 10
    assert np.allclose(c.iv_frac[puts], expected, atol=0.01)
    # put skew: lower strikes carry more IV
    assert c.iv_frac[puts][0] > c.iv_frac[puts][-1]


def test_expired_expiries_are_left_out_and_a_bad_underlying_is_refused():
    c = model_chain(product("SPXW"), T, 3800.0, [date(2021, 1, 7), date(2021, 1, 8)], np.array([3800.0]),
                    multiplier_usd_per_pt=100.0, rate_frac=0.0)
    assert set(c.expiry.astype(str)) == {"2021-01-08"}
    with pytest.raises(ValueError, match="positive underlying"):
        model_chain(product("SPXW"), T, float("nan"), [date(2021, 1, 8)], np.array([3800.0]),
                    multiplier_usd_per_pt=100.0, rate_frac=0.0)
