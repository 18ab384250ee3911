"""The vectorised (Jäckel-style) implied volatility against known vols, the scalar bisection
reference and vollib: equal to 1e-9 wherever the price determines sigma, NaN where it does
not (prices outside the no-arbitrage bounds), on grids with deep ITM/OTM strikes and
expiries from 10 minutes to 5 years, for Black-Scholes and Black-76."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from thetacore.pricing import (
    PricingModel,
    greeks,
    implied_vol,
    no_arbitrage_bounds,
    price,
)
from thetacore.pricing import black_steps as bs
from thetacore.pricing import normalised_black as nb
from thetacore.pricing.reference import implied_vol_scalar, price_scalar

BS = PricingModel.BLACK_SCHOLES
B76 = PricingModel.BLACK_76
EPS = np.finfo(float).eps


def _pinned(p: np.ndarray, s: np.ndarray, k: np.ndarray, vega_unit: np.ndarray) -> np.ndarray:
    """Where one rounding of the price (or of the parity term) moves sigma by < 1e-11."""
    return EPS * np.maximum(p, np.maximum(s, k)) / vega_unit < 1e-11


def _grid(model: PricingModel) -> tuple[np.ndarray, ...]:
    m, t, v, w = np.meshgrid(
        np.exp(np.linspace(np.log(0.2), np.log(5.0), 41)),  # K / S: deep ITM to deep OTM
        np.array([10 / 525_600, 1 / 365 / 24, 1 / 365, 7 / 365, 30 / 365, 0.25, 1.0, 5.0]),
        np.array([0.01, 0.05, 0.15, 0.3, 0.6, 1.2, 3.0]),
        np.array([1.0, -1.0]),
        indexing="ij",
    )
    s = np.full(m.size, 4000.0)
    k = s * m.ravel()
    r = np.full(m.size, 0.045)
    q = np.full(m.size, 0.015 if model is BS else 0.0)
    return s, k, t.ravel(), r, q, v.ravel(), w.ravel()


@pytest.mark.parametrize("model", [BS, B76])
def test_when_the_price_pins_sigma_then_the_solver_returns_it_to_1e9_on_a_deep_grid(model):
    s, k, t, r, q, v, w = _grid(model)
    p = price(model, s, k, t, r, q, v, w)
    lower, upper = no_arbitrage_bounds(model, s, k, t, r, q, w)
    vega_unit = 100.0 * greeks(model, s, k, t, r, q, v, w).vega_pts_per_vol_pt
    iv = implied_vol(model, p, s, k, t, r, q, w)
    pinned = _pinned(p, s, k, vega_unit) & (p > lower) & (p < upper)
    assert pinned.sum() > 1200  # the grid is mostly solvable: the test checks something
    assert np.isfinite(iv[pinned]).all()
    assert np.max(np.abs(iv[pinned] - v[pinned])) < 1e-9
    # the iteration ends after few steps (Jäckel: two from his guess; ours 2-3, rarely more)
    assert len(nb.LAST_STEPS) <= 7


@pytest.mark.parametrize("model", [BS, B76])
def test_when_prices_leave_the_no_arbitrage_bounds_then_nan(model):
    s, k, t, r, q, v, w = _grid(model)
    lower, upper = no_arbitrage_bounds(model, s, k, t, r, q, w)
    for outside in (lower, lower - 0.01, upper, upper * (1 + 1e-9), np.zeros_like(s), -upper):
        assert np.isnan(implied_vol(model, outside, s, k, t, r, q, w)).all()


@settings(max_examples=300, deadline=None)
@given(
    moneyness=st.floats(0.25, 4.0),
    t_years=st.floats(0.5 / 365, 5.0),
    sigma=st.floats(0.02, 2.5),
    rate=st.floats(-0.01, 0.08),
    dividend=st.floats(0.0, 0.05),
    call=st.booleans(),
    b76=st.booleans(),
)
def test_when_any_option_then_iv_matches_the_scalar_bisection_where_pinned(
    moneyness, t_years, sigma, rate, dividend, call, b76,
):
    model = B76 if b76 else BS
    s, k, w = 100.0, 100.0 * moneyness, 1 if call else -1
    p = price_scalar(model, s, k, t_years, rate, dividend, sigma, w)
    vega_unit = 100.0 * float(greeks(model, s, k, t_years, rate, dividend, sigma, w).vega_pts_per_vol_pt)
    lower, upper = (float(x) for x in no_arbitrage_bounds(model, s, k, t_years, rate, dividend, w))
    ours = float(implied_vol(model, p, s, k, t_years, rate, dividend, w))
    if not (lower < p < upper) or not _pinned(np.array(p), np.array(s), np.array(k), np.array(vega_unit)):
        return  # the price does not determine sigma to 1e-9: either answer (or NaN) is honest
    ref = implied_vol_scalar(model, p, s, k, t_years, rate, dividend, w)
    assert math.isfinite(ours) and abs(ours - ref) < 1e-9 and abs(ours - sigma) < 1e-9


def test_when_compared_with_vollib_then_equal_to_1e9_where_pinned_and_nan_where_vollib_refuses():
    vollib_bsm = pytest.importorskip("vollib.black_scholes_merton.implied_volatility")
    rng = np.random.default_rng(11)
    n = 400
    s = np.full(n, 100.0)
    k = 100.0 * np.exp(rng.uniform(np.log(0.3), np.log(3.0), n))
    t = np.exp(rng.uniform(np.log(1 / 365 / 24), np.log(5.0), n))
    r, q = rng.uniform(0.0, 0.06, n), rng.uniform(0.0, 0.03, n)
    v = np.exp(rng.uniform(np.log(0.02), np.log(2.5), n))
    w = rng.choice([1.0, -1.0], n)
    p = price(BS, s, k, t, r, q, v, w)
    ours = implied_vol(BS, p, s, k, t, r, q, w)
    vega_unit = 100.0 * greeks(BS, s, k, t, r, q, v, w).vega_pts_per_vol_pt
    pinned = _pinned(p, s, k, vega_unit)
    theirs = np.full(n, np.nan)
    for i in np.flatnonzero(pinned):
        theirs[i] = vollib_bsm.implied_volatility(p[i], s[i], k[i], t[i], r[i], q[i],
                                                  "c" if w[i] > 0 else "p")
    assert pinned.sum() > 100
    assert np.max(np.abs(ours[pinned] - theirs[pinned])) < 1e-9


def test_when_the_normalised_price_is_tiny_then_ln_b_keeps_full_precision():
    # b(x=-1, s=0.05) ~ 1e-90: the erfcx form solves it with no underflow
    x, s = np.array([-1.0]), np.array([0.05])
    z1, z2, log_e, _, _ = bs.terms(x, s)
    ln_b, _ = bs.ln_b_erfcx(z1, z2, log_e)
    # independent: math.erfc on each term (no cancellation here: the terms differ by ~2x)
    direct = (math.exp(-0.5) * 0.5 * math.erfc(19.975 / math.sqrt(2))
              - math.exp(0.5) * 0.5 * math.erfc(20.025 / math.sqrt(2)))
    assert 1e-95 < direct < 1e-85
    assert ln_b[0] == pytest.approx(math.log(direct), abs=1e-10)
    assert nb.normalised_implied_vol(np.exp(ln_b), x)[0] == pytest.approx(0.05, rel=1e-12)


def test_when_the_price_is_above_e_minus_30_then_the_ndtr_step_equals_the_erfcx_step():
    # the fast low-region step (ndtr) against the erfcx one on a grid below the inflection
    # point where ln b > -30: the same objective, derivative ratio and step to ~1e-11
    x = -np.repeat(np.array([0.001, 0.05, 0.3, 1.0, 2.5]), 6)
    s = np.sqrt(-2.0 * x) * np.tile(np.array([0.05, 0.2, 0.4, 0.6, 0.8, 0.95]), 5)
    z1, z2, log_e, _, _ = bs.terms(x, s)
    ln_b, _ = bs.ln_b_erfcx(z1, z2, log_e)
    keep = ln_b > bs.LN_BETA_NDTR
    assert keep.sum() >= 20
    x, s, ln_b = x[keep], s[keep], ln_b[keep]
    ln_beta = ln_b - 1e-3  # s slightly too high: f = 1e-3, a small step down
    step_fast, f_fast = bs.step_low_ndtr(x, s, ln_beta, np.exp(0.5 * x))
    step_ref, f_ref = bs.step_low(x, s, ln_beta)
    np.testing.assert_allclose(f_fast, f_ref, rtol=1e-8)
    np.testing.assert_allclose(step_fast, step_ref, rtol=1e-8)
    assert np.all(step_fast < 0)


def test_when_solving_the_benchmark_like_book_then_nearly_all_options_take_two_steps():
    rng = np.random.default_rng(7)
    n = 20_000
    s, k = np.full(n, 100.0), rng.uniform(50.0, 150.0, n)
    t, v, w = rng.uniform(1 / (365 * 24), 3.0, n), rng.uniform(0.05, 1.5, n), rng.choice([1.0, -1.0], n)
    p = price(B76, s, k, t, 0.02, 0.0, v, w)
    iv = implied_vol(B76, p, s, k, t, 0.02, 0.0, w)
    pinned = _pinned(p, s, k, 100.0 * greeks(B76, s, k, t, 0.02, 0.0, v, w).vega_pts_per_vol_pt)
    assert np.max(np.abs(iv[pinned] - v[pinned])) < 1e-9
    hist = nb.LAST_STEPS  # the whole array's histogram of Householder steps
    assert sum(hist[3:]) <= 0.01 * sum(hist)  # 0.5 %: prices below e^-30 (the erfcx step)


def _low_grid() -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``(x, s, b)`` below the inflection point: 40 log-moneyness values from -0.001 to -3,
    ``s`` from 3 % to 99 % of ``s_c = sqrt(2|x|)``, ``b`` the normalised call there."""
    x, frac = np.meshgrid(-np.exp(np.linspace(np.log(1e-3), np.log(3.0), 40)), np.linspace(0.03, 0.99, 40))
    x = x.ravel()
    s = np.sqrt(-2.0 * x) * frac.ravel()
    return x, s, nb.normalised_call(x, s)


def test_when_below_the_inflection_point_then_the_initial_guess_is_within_10_percent():
    # the old guess (Newton in 1/s^2 from the deep-OTM asymptote) was 2.8x off near the money
    x, s, b = _low_grid()
    keep = b > 1e-300
    assert keep.sum() > 1500
    guess = nb._low_guess(x[keep], np.log(b[keep]), np.sqrt(-2.0 * x[keep]))
    assert np.max(np.abs(guess / s[keep] - 1.0)) < 0.10
    assert np.median(np.abs(guess / s[keep] - 1.0)) < 0.01


def test_when_the_price_is_above_e_minus_30_below_the_inflection_point_then_two_steps_suffice():
    x, s, b = _low_grid()
    keep = b > math.exp(bs.LN_BETA_NDTR)
    out = nb.normalised_implied_vol(b[keep], x[keep])
    steps = nb.LAST_STEPS
    assert steps == [0, 0, int(keep.sum())]
    # b itself carries the rounding of ndtr: the round trip is good to a few e-13
    assert np.max(np.abs(out / s[keep] - 1.0)) < 2e-12


def _upper_grid() -> tuple[np.ndarray, ...]:
    """``(x, s, b, s_c, b_c, b_max, s_u, b_u)`` at and above the inflection point: 30
    log-moneyness values from 0 to -3, ``s`` from ``s_c`` to ``s_c + 4``; ``b_c``, ``b_u``
    from the ndtr form (:func:`nb.normalised_call`), independent of the solver's erf form."""
    x, ds = np.meshgrid(np.concatenate([[0.0], -np.exp(np.linspace(np.log(1e-3), np.log(3.0), 29))]),
                        np.linspace(0.0, 4.0, 41))
    x = x.ravel()
    s_c = np.sqrt(-2.0 * x)
    s = s_c + ds.ravel()
    b_max = np.exp(0.5 * x)
    with np.errstate(all="ignore"):  # x = 0: b(s_c = 0) is 0/0 in the formula, 0 in truth
        b_c = np.where(x < 0, nb.normalised_call(x, s_c), 0.0)
        b = nb.normalised_call(x, s)
    s_u = s_c + (b_max - b_c) / (b_max / math.sqrt(2.0 * math.pi))
    return x, s, b, s_c, b_c, b_max, s_u, nb.normalised_call(x, s_u)


def test_when_above_the_inflection_point_then_the_high_region_bound_is_below_b_u():
    # the solver computes b(s_u) only where beta exceeds b_c + (s_u - s_c) b'(s_u): a lower bound
    x, _, _, s_c, b_c, _, s_u, b_u = _upper_grid()
    bound = b_c + (s_u - s_c) * nb._b_prime(x, s_u)
    assert np.all(bound <= b_u * (1 + 1e-14))
    assert np.median((b_u - bound) / (b_u - b_c)) < 0.6  # and not trivially low


def test_when_in_the_middle_region_then_the_initial_guess_is_within_5_percent():
    x, s, b, s_c, b_c, b_max, s_u, b_u = _upper_grid()
    mid = (b > b_c) & (b <= b_u)
    assert mid.sum() > 300
    guess = nb._mid_guess(x[mid], b[mid], s_c[mid], b_c[mid], b_max[mid], s_u[mid])
    assert np.max(np.abs(guess / s[mid] - 1.0)) < 0.05
    out = nb.normalised_implied_vol(b[mid], x[mid])
    assert sum(nb.LAST_STEPS[3:]) == 0
    assert np.max(np.abs(out / s[mid] - 1.0)) < 1e-12


def test_when_one_element_is_in_a_region_then_it_is_solved_and_counted_once():
    # a lone index is gathered twice (numpy's in-place arithmetic is slow on one element):
    # the same s as solved alone, and one count in the histogram
    x = np.array([-0.3, -0.3, -0.3, -0.05])
    s = np.array([0.2, 0.3, 0.4, 2.0])  # three below s_c = 0.775, one above
    b = nb.normalised_call(x, s)
    out = nb.normalised_implied_vol(b, x)
    steps = nb.LAST_STEPS
    assert steps == [0, 0, 4]
    alone = nb.normalised_implied_vol(b[3:], x[3:])
    assert out[3] == alone[0]
    np.testing.assert_allclose(out, s, rtol=1e-13)


def _mixed_block(n: int, seed: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``(x, s, b)``: ``n`` elements below and above the inflection point (no high region)."""
    rng = np.random.default_rng(seed)
    x = -np.exp(rng.uniform(np.log(1e-3), np.log(2.0), n))
    s = np.sqrt(-2.0 * x) * rng.uniform(0.1, 2.0, n)
    return x, s, nb.normalised_call(x, s)


def test_when_a_block_is_small_or_large_or_has_a_high_element_then_every_element_has_the_same_s():
    # both guesses on every element with np.where (<= 512), each on its gathered region
    # (> 512) and the region split of a block with a high element: elementwise, bit for bit
    x, s, b = _mixed_block(1500, 3)
    assert nb._ONE_PASS_MAX < 1500
    large = nb.normalised_implied_vol(b, x)
    assert sum(nb.LAST_STEPS[3:]) <= 5  # prices below e^-30 take an erfcx step
    np.testing.assert_allclose(large, s, rtol=1e-12)
    small = np.concatenate([nb.normalised_implied_vol(b[i:i + 300], x[i:i + 300]) for i in range(0, 1500, 300)])
    assert small.tobytes() == large.tobytes()
    x_h, s_h = np.append(x[:300], -0.1), np.append(s[:300], 6.0)  # b(6) is above b_u
    b_h = nb.normalised_call(x_h, s_h)
    with_high = nb.normalised_implied_vol(b_h, x_h)
    assert with_high[:300].tobytes() == large[:300].tobytes()
    assert with_high[300] == pytest.approx(6.0, rel=1e-12)


def test_when_at_the_money_with_a_tiny_total_vol_then_s_to_1e15():
    # x = 0: every element is above the inflection point; the erf form of b has no
    # cancellation there (the ndtr form N(s/2) - N(-s/2) would lose ~3e-12 at s = 1e-5)
    s = np.array([1e-5, 1e-4, 1e-3, 1e-2, 0.1, 1.0])
    b = np.array([math.erf(v / (2.0 * math.sqrt(2.0))) for v in s])  # b(0, s) = 2 N(s/2) - 1
    for block in (s.size, 1):  # alone and with elements below the inflection point
        x = np.zeros(block)
        xs = np.concatenate([x, np.full(3, -0.5)])
        bs = np.concatenate([b[:block], nb.normalised_call(np.full(3, -0.5), np.array([0.2, 0.3, 0.4]))])
        out = nb.normalised_implied_vol(bs, xs)[:block]
        np.testing.assert_allclose(out, s[:block], rtol=2e-15)
