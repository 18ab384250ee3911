"""Implied volatility: round trips on a wide grid, NaN (never 0, never an exception) where no
solution exists, shapes."""

from __future__ import annotations

import numpy as np
import pytest

from thetacore.pricing import (
    SIGMA_MAX_FRAC,
    SIGMA_MIN_FRAC,
    PricingModel,
    greeks,
    implied_vol,
    no_arbitrage_bounds,
    price,
)

BS = PricingModel.BLACK_SCHOLES
B76 = PricingModel.BLACK_76


def _random_book(n: int, seed: int) -> tuple[np.ndarray, ...]:
    rng = np.random.default_rng(seed)
    k = rng.uniform(40.0, 180.0, n)
    t = rng.uniform(1 / 365 / 24, 4.0, n)
    r = rng.uniform(-0.005, 0.08, n)
    q = rng.uniform(0.0, 0.05, n)
    v = rng.uniform(0.02, 2.5, n)
    w = rng.choice([1.0, -1.0], n)
    return k, t, r, q, v, w


@pytest.mark.parametrize("model", [BS, B76])
def test_when_prices_from_known_vols_then_solver_returns_them(model: PricingModel) -> None:
    k, t, r, q, v, w = _random_book(50_000, seed=7)
    p = price(model, 100.0, k, t, r, q, v, w)
    iv = implied_vol(model, p, 100.0, k, t, r, q, w)
    vega_unit = 100.0 * greeks(model, 100.0, k, t, r, q, v, w).vega_pts_per_vol_pt
    pinned = vega_unit > 1e-2  # a 1-vol-point move changes the price by > 1e-4 points
    assert pinned.mean() > 0.9
    assert np.isfinite(iv[pinned]).all()
    repriced = price(model, 100.0, k, t, r, q, iv, w)
    assert np.max(np.abs(repriced[pinned] / p[pinned] - 1.0)) < 1e-8
    assert np.max(np.abs(iv[pinned] - v[pinned])) < 1e-8
    assert not (iv == 0).any()


def test_when_deep_in_the_money_then_solved_through_parity() -> None:
    # time value 1e-3 on a 300-point call: solved on the out-of-the-money put by parity
    s, k, t, r = 1000.0, 700.0, 0.05, 0.03
    p = price(BS, s, k, t, r, 0.0, 0.35, 1)
    iv = implied_vol(BS, p, s, k, t, r, 0.0, 1)
    assert iv == pytest.approx(0.35, abs=1e-6)


@pytest.mark.parametrize(
    ("p", "s", "k", "t", "w", "why"),
    [
        (0.0, 100, 100, 0.5, 1, "zero price"),
        (-1.0, 100, 100, 0.5, 1, "negative price"),
        (np.nan, 100, 100, 0.5, 1, "NaN price"),
        (4.0, 100, 95, 0.5, 1, "below discounted intrinsic (call)"),
        (3.0, 100, 105, 0.5, -1, "below discounted intrinsic (put)"),
        (101.0, 100, 95, 0.5, 1, "call above the spot (upper bound)"),
        (96.0, 100, 95, 0.5, -1, "put above the discounted strike (upper bound)"),
        (5.0, 100, 100, 0.0, 1, "t_years = 0"),
        (5.0, 100, 100, -0.1, 1, "t_years < 0"),
        (5.0, 0, 100, 0.5, 1, "underlying = 0"),
        (5.0, 100, -100, 0.5, -1, "strike < 0"),
        (5.0, 100, 100, 0.5, 0, "right neither +1 nor -1"),
    ],
)
def test_when_no_solution_then_nan(p: float, s: float, k: float, t: float, w: int,
                                   why: str) -> None:
    iv = implied_vol(BS, p, s, k, t, 0.0, 0.0, w)
    assert np.isnan(iv), why


def test_when_price_below_or_above_the_sigma_bounds_then_nan() -> None:
    low = price(BS, 100.0, 120.0, 0.1, 0.0, 0.0, SIGMA_MIN_FRAC / 2, 1)
    high = price(BS, 100.0, 120.0, 0.1, 0.0, 0.0, SIGMA_MAX_FRAC * 1.2, 1)
    assert np.isnan(implied_vol(BS, [low, high], 100.0, 120.0, 0.1, 0.0, 0.0, 1)).all()


def test_when_price_at_the_zero_vol_bound_then_nan_not_zero() -> None:
    lower, _ = no_arbitrage_bounds(BS, 100.0, 90.0, 0.5, 0.05, 0.0, 1)
    assert np.isnan(implied_vol(BS, lower, 100.0, 90.0, 0.5, 0.05, 0.0, 1))


def test_when_mixed_valid_and_invalid_then_only_invalid_are_nan() -> None:
    p = np.array([2.5, 0.0, np.nan, 2.5])
    t = np.array([0.25, 0.25, 0.25, 0.0])
    iv = implied_vol(BS, p, 100.0, 100.0, t, 0.01, 0.0, 1)
    assert np.isfinite(iv[0]) and np.isnan(iv[1:]).all()


def test_when_shapes_broadcast_then_result_keeps_the_shape() -> None:
    p = price(BS, 100.0, np.array([[95.0], [105.0]]), 0.5, 0.02, 0.0, 0.3, np.array([1, -1]))
    iv = implied_vol(BS, p, 100.0, np.array([[95.0], [105.0]]), 0.5, 0.02, 0.0, np.array([1, -1]))
    assert iv.shape == (2, 2)
    assert np.allclose(iv, 0.3, atol=1e-10)
    scalar = implied_vol(BS, float(p[0, 0]), 100.0, 95.0, 0.5, 0.02, 0.0, 1)
    assert np.ndim(scalar) == 0 and float(scalar) == pytest.approx(0.3)


def test_when_empty_input_then_empty_output() -> None:
    assert implied_vol(BS, np.array([]), 100.0, np.array([]), 0.5, 0.0, 0.0, 1).shape == (0,)
