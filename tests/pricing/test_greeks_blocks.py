"""Greeks of a large array are computed block by block (issue 10: a block's temporaries stay
in cache); every element equals, bit for bit, the whole-array formulas (``_greeks_block`` on
the whole array, the long way), NaNs in the same places, any shape and broadcast."""

from __future__ import annotations

import numpy as np
import pytest

from thetacore.pricing import PricingModel, greeks
from thetacore.pricing.models import CHUNK, _greeks_block


def _book(n: int, seed: int) -> list[np.ndarray]:
    rng = np.random.default_rng(seed)
    s = np.full(n, 100.0)
    k = rng.uniform(50.0, 150.0, n)
    t = rng.uniform(1 / (365 * 24), 3.0, n)
    r = rng.uniform(0.0, 0.06, n)
    q = rng.uniform(0.0, 0.03, n)
    v = rng.uniform(0.05, 1.5, n)
    w = rng.choice(np.array([1.0, -1.0]), n)
    v[rng.random(n) < 0.01] = np.nan  # no IV
    t[rng.random(n) < 0.005] = -0.1  # expired: invalid
    w[rng.random(n) < 0.002] = 0.0  # not a right: invalid
    return [s, k, t, r, q, v, w]


@pytest.mark.parametrize("model", list(PricingModel))
@pytest.mark.parametrize("n", [CHUNK - 1, CHUNK, CHUNK + 1, 3 * CHUNK + 17, 50_000])
def test_blocks_equal_the_whole_array_bit_for_bit(model: PricingModel, n: int) -> None:
    args = _book(n, n)
    got, want = greeks(model, *args), _greeks_block(model, *args)
    for name in ("delta", "gamma", "theta_pts_per_day", "vega_pts_per_vol_pt"):
        a, b = getattr(got, name), getattr(want, name)
        assert a.shape == b.shape == (n,)
        np.testing.assert_array_equal(a, b)  # equal values and NaN in the same places
    assert np.isnan(got.delta).sum() > 0 and np.isfinite(got.delta).sum() > 0.95 * n


def test_blocks_keep_shape_and_broadcast() -> None:
    s, k, t, r, q, v, w = _book(3 * CHUNK, 5)
    shape = (3, CHUNK)
    got = greeks(PricingModel.BLACK_SCHOLES, 100.0, k.reshape(shape), t.reshape(shape), 0.05, 0.01,
                 v.reshape(shape), w.reshape(shape))
    want = _greeks_block(PricingModel.BLACK_SCHOLES, 100.0, k.reshape(shape), t.reshape(shape), 0.05, 0.01,
                         v.reshape(shape), w.reshape(shape))
    assert got.vega_pts_per_vol_pt.shape == shape
    np.testing.assert_array_equal(got.theta_pts_per_day, want.theta_pts_per_day)
    with pytest.raises(ValueError):
        greeks(PricingModel.BLACK_76, np.ones(CHUNK + 1), np.ones(CHUNK + 2), 1.0, 0.0, 0.0, 0.2, 1.0)
