"""The grouped solve of long arrays (``iv_solver._implied_vol_blocks``: every block prepared,
then the low-region elements of the whole array solved together and the others together)
against the block-by-block path it replaced (``_implied_vol_flat`` on each block of
:data:`iv_solver.CHUNK`): the same bits, NaN positions included, and the whole array's
step histogram."""

from __future__ import annotations

import numpy as np
import pytest

import thetacore.pricing.normalised_black as nb
from thetacore.pricing import PricingModel, implied_vol, price
from thetacore.pricing import iv_solver as ivs
from thetacore.pricing.models import carry_frac


def _book(n: int, seed: int, broken_times: bool = True) -> tuple[np.ndarray, ...]:
    """A random book with about 1 % broken rows (NaN, zero or negative price, zero time
    unless ``broken_times`` is False, a price above the upper bound) spread through it."""
    rng = np.random.default_rng(seed)
    s, k = np.full(n, 100.0), rng.uniform(50.0, 150.0, n)
    t, v = rng.uniform(1 / (365 * 24), 3.0, n), rng.uniform(0.05, 1.5, n)
    r, q, w = rng.uniform(0.0, 0.06, n), rng.uniform(0.0, 0.03, n), rng.choice([1.0, -1.0], n)
    p = price(PricingModel.BLACK_SCHOLES, s, k, t, r, q, v, w)
    broken = rng.choice(n, n // 100, replace=False)
    p[broken[0::4]] = np.nan
    p[broken[1::4]] = -1.0
    if broken_times:
        t[broken[2::4]] = 0.0
    p[broken[3::4]] = 1e6
    return p, s, k, t, r, q, w


def _block_by_block(p: np.ndarray, s: np.ndarray, k: np.ndarray, t: np.ndarray, r: np.ndarray, q: np.ndarray,
                    w: np.ndarray) -> np.ndarray:
    b = carry_frac(PricingModel.BLACK_SCHOLES, r, q)
    out = np.empty(p.size)
    for lo in range(0, p.size, ivs.CHUNK):
        part = slice(lo, lo + ivs.CHUNK)
        out[part] = ivs._implied_vol_flat(p[part], s[part], k[part], t[part], r[part], b[part], w[part],
                                          ivs.SIGMA_MIN_FRAC, ivs.SIGMA_MAX_FRAC)
    return out


@pytest.mark.parametrize(("n", "seed", "broken_times"),
                         [(3 * 4096 + 1, 1, True), (20_000, 2, True), (4097, 3, True), (20_000, 4, False)])
def test_when_an_array_spans_several_blocks_then_the_grouped_solve_gives_the_block_by_block_bits(
        n: int, seed: int, broken_times: bool) -> None:
    # broken times: each block checks its own rows; broken prices only: the price mask alone
    args = _book(n, seed, broken_times)
    grouped = implied_vol(PricingModel.BLACK_SCHOLES, *args)
    hist = list(nb.LAST_STEPS)
    assert n > ivs.CHUNK  # the grouped path
    expected = _block_by_block(*args)
    assert np.array_equal(grouped, expected, equal_nan=True)
    assert 0.98 * n < np.isfinite(grouped).sum() < n  # the broken rows are NaN, the rest solved
    # the histogram counts every solved element of the array, not only the last block's
    assert np.isfinite(grouped).sum() <= sum(hist) <= n


def test_when_one_element_is_alone_in_its_region_then_the_grouped_solve_gives_the_block_by_block_bits() -> None:
    # 5,000 deep out-of-the-money calls (low region) and one at the money (middle region):
    # the middle group is one element, gathered twice and counted once
    n = 5000
    s, k, t = np.full(n, 100.0), np.linspace(140.0, 160.0, n), np.full(n, 0.1)
    r, q, w, v = np.full(n, 0.03), np.zeros(n), np.ones(n), np.full(n, 0.2)
    k[1234], v[1234] = 100.0, 0.8
    p = price(PricingModel.BLACK_SCHOLES, s, k, t, r, q, v, w)
    grouped = implied_vol(PricingModel.BLACK_SCHOLES, p, s, k, t, r, q, w)
    assert sum(nb.LAST_STEPS) == n
    assert np.array_equal(grouped, _block_by_block(p, s, k, t, r, q, w), equal_nan=True)
    assert abs(grouped[1234] - 0.8) < 1e-12


def test_when_a_small_array_is_not_flat_then_the_grouped_solve_gives_the_one_pass_bits() -> None:
    # a (20, 20) grid takes the grouped path; its 400 rows flat take the one-pass step of
    # both regions (normalised_black._ONE_PASS_MAX): the same numbers
    p, s, k, t, r, q, w = _book(400, 5)
    grouped = implied_vol(PricingModel.BLACK_SCHOLES, *(a.reshape(20, 20) for a in (p, s, k, t, r, q, w)))
    assert grouped.shape == (20, 20)
    assert 300 < np.isfinite(grouped).sum() < 400
    assert np.array_equal(grouped.ravel(), _block_by_block(p, s, k, t, r, q, w), equal_nan=True)
