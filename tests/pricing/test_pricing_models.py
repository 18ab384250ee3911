"""Prices and greeks of the generalised Black-Scholes-Merton model: published numbers,
put-call parity, finite differences, broadcasting and NaN rules."""

from __future__ import annotations

import numpy as np
import pytest

from thetacore.enums import Right
from thetacore.pricing import PricingModel, greeks, no_arbitrage_bounds, price

BS = PricingModel.BLACK_SCHOLES
B76 = PricingModel.BLACK_76
CALL, PUT = int(Right.CALL), int(Right.PUT)


def test_when_hull_example_then_call_4_76_and_put_0_81() -> None:
    # Hull, Options, Futures, and Other Derivatives (8th ed.), Example 15.6:
    # S=42, K=40, r=10 %, sigma=20 %, T=0.5 -> c = 4.76, p = 0.81.
    call, put = price(BS, 42.0, 40.0, 0.5, 0.10, 0.0, 0.20, [CALL, PUT])
    assert call == pytest.approx(4.76, abs=0.005)
    assert put == pytest.approx(0.81, abs=0.005)
    assert call == pytest.approx(4.759422, abs=1e-6)  # the unrounded value


def test_when_haug_merton_example_then_put_2_4648() -> None:
    # Haug (2007), section 1.1.2 example: S=100, X=95, T=0.5, r=10 %, q=5 %, v=20 % -> p=2.4648.
    assert price(BS, 100.0, 95.0, 0.5, 0.10, 0.05, 0.20, PUT) == pytest.approx(2.4648, abs=5e-5)


def test_when_haug_black76_example_then_call_and_put_1_7011() -> None:
    # Haug (2007), section 1.1.3 example: F=19, X=19, T=0.75, r=10 %, v=28 % -> c = p = 1.7011.
    call, put = price(B76, 19.0, 19.0, 0.75, 0.10, 0.0, 0.28, [CALL, PUT])
    assert call == pytest.approx(1.7011, abs=5e-5)
    assert put == pytest.approx(1.7011, abs=5e-5)


def test_when_black76_then_yield_argument_is_ignored() -> None:
    with_yield = price(B76, 3225.0, 3000.0, 0.2, 0.0225, 0.05, 0.19, PUT)
    without = price(B76, 3225.0, 3000.0, 0.2, 0.0225, 0.0, 0.19, PUT)
    assert with_yield == without


def test_when_black76_then_equals_black_scholes_with_yield_equal_to_rate() -> None:
    # b = 0 for futures equals b = r - q with q = r (Haug 2007, section 1.1.6).
    args = (3225.0, np.array([3000.0, 3225.0, 3400.0]), 0.2, 0.0225)
    for right in (CALL, PUT):
        assert np.allclose(price(B76, *args, 0.0, 0.19, right),
                           price(BS, *args, 0.0225, 0.19, right), rtol=1e-14)


def _grid() -> tuple[float, np.ndarray, np.ndarray, np.ndarray]:
    s = 100.0
    k, t, v = np.meshgrid([60.0, 90.0, 100.0, 110.0, 150.0], [1 / 365, 0.1, 1.0, 3.0],
                          [0.05, 0.2, 0.8], indexing="ij")
    return s, k.ravel(), t.ravel(), v.ravel()


def test_when_grid_then_put_call_parity_holds() -> None:
    s, k, t, v = _grid()
    r, q = 0.05, 0.02
    call = price(BS, s, k, t, r, q, v, CALL)
    put = price(BS, s, k, t, r, q, v, PUT)
    parity = s * np.exp(-q * t) - k * np.exp(-r * t)
    assert np.allclose(call - put, parity, rtol=0, atol=1e-10)


def test_when_grid_then_greeks_match_finite_differences() -> None:
    s, k, t, v = _grid()
    r, q = 0.04, 0.015
    for right in (CALL, PUT):
        g = greeks(BS, s, k, t, r, q, v, right)
        h = 1e-3
        up, mid, down = (price(BS, s + d, k, t, r, q, v, right) for d in (h, 0.0, -h))
        assert np.allclose(g.delta, (up - down) / (2 * h), atol=1e-6)
        assert np.allclose(g.gamma, (up - 2 * mid + down) / h**2, atol=1e-4)
        dv = 1e-5
        vega = (price(BS, s, k, t, r, q, v + dv, right)
                - price(BS, s, k, t, r, q, v - dv, right)) / (2 * dv) / 100.0
        assert np.allclose(g.vega_pts_per_vol_pt, vega, atol=1e-7)
        dt = t * 1e-5  # theta = -dV/dT, per calendar day
        theta_day = -(price(BS, s, k, t + dt, r, q, v, right)
                      - price(BS, s, k, t - dt, r, q, v, right)) / (2 * dt) / 365.0
        assert np.allclose(g.theta_pts_per_day, theta_day, atol=1e-7, rtol=1e-5)


def test_when_put_then_delta_is_negative_and_call_minus_put_delta_is_discount() -> None:
    s, k, t, v = _grid()
    call, put = greeks(BS, s, k, t, 0.05, 0.02, v, CALL), greeks(BS, s, k, t, 0.05, 0.02, v, PUT)
    assert (put.delta <= 0).all() and (call.delta >= 0).all()  # far OTM underflows to 0
    assert np.allclose(call.delta - put.delta, np.exp(-0.02 * t), atol=1e-14)
    assert np.allclose(call.gamma, put.gamma) and np.allclose(call.vega_pts_per_vol_pt,
                                                              put.vega_pts_per_vol_pt)


def test_when_arguments_broadcast_then_result_has_broadcast_shape() -> None:
    strikes = np.array([[90.0], [100.0], [110.0]])
    rights = np.array([CALL, PUT], dtype=np.int8)
    out = price(BS, 100.0, strikes, 0.5, 0.03, 0.0, 0.2, rights)
    assert out.shape == (3, 2)
    g = greeks(BS, 100.0, strikes, 0.5, 0.03, 0.0, 0.2, rights)
    assert g.delta.shape == g.gamma.shape == g.theta_pts_per_day.shape == (3, 2)
    assert np.ndim(price(BS, 100.0, 100.0, 0.5, 0.03, 0.0, 0.2, CALL)) == 0


@pytest.mark.parametrize(
    ("s", "k", "t", "v", "w"),
    [(100, 100, 0.0, 0.2, 1), (100, 100, -0.1, 0.2, 1), (100, 100, 0.5, 0.0, 1),
     (0, 100, 0.5, 0.2, 1), (100, -5, 0.5, 0.2, -1), (100, 100, 0.5, 0.2, 0),
     (np.nan, 100, 0.5, 0.2, 1), (100, 100, 0.5, np.nan, -1)],
)
def test_when_inputs_invalid_then_nan_never_exception(s: float, k: float, t: float, v: float,
                                                      w: int) -> None:
    assert np.isnan(price(BS, s, k, t, 0.05, 0.0, v, w))
    g = greeks(BS, s, k, t, 0.05, 0.0, v, w)
    assert np.isnan([g.delta, g.gamma, g.theta_pts_per_day, g.vega_pts_per_vol_pt]).all()


def test_when_unknown_model_then_value_error() -> None:
    with pytest.raises(ValueError, match="unknown pricing model"):
        price("black_scholes", 100, 100, 0.5, 0.05, 0.0, 0.2, 1)  # type: ignore[arg-type]


def test_when_bounds_then_price_lies_between_them() -> None:
    s, k, t, v = _grid()
    for right in (CALL, PUT):
        lower, upper = no_arbitrage_bounds(BS, s, k, t, 0.05, 0.02, right)
        p = price(BS, s, k, t, 0.05, 0.02, v, right)
        assert (lower <= p + 1e-12).all() and (p <= upper).all()
