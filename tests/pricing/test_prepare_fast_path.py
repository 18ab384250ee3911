"""``models._prepare`` skips ``np.broadcast_arrays`` when broadcasting would change nothing
(issue 10): price, greeks and bounds must be the broadcast way's numbers bit for bit, with
the same shapes. The long way is forced by patching ``_same_shape`` to False."""

from __future__ import annotations

import numpy as np
import pytest

from thetacore.pricing import models
from thetacore.pricing.models import PricingModel, greeks, no_arbitrage_bounds, price


def _inputs(rng: np.random.Generator, n: int, array_rates: bool) -> tuple[object, ...]:
    s = rng.uniform(3000.0, 6000.0, n)
    k = s * rng.uniform(0.6, 1.4, n)
    t = rng.uniform(1 / 365, 2.0, n)
    v = rng.uniform(0.05, 1.5, n)
    w = rng.choice([-1.0, 1.0], n)
    s[3], k[5], t[7], v[9], w[11] = -1.0, 0.0, 0.0, np.nan, 0.0  # invalid rows: NaN out
    r: object = rng.uniform(0.0, 0.06, n) if array_rates else 0.043
    q: object = rng.uniform(0.0, 0.02, n) if array_rates else 0.013
    return s, k, t, r, q, v, w


def _all(model: PricingModel, args: tuple[object, ...]) -> list[np.ndarray]:
    s, k, t, r, q, v, w = args
    g = greeks(model, s, k, t, r, q, v, w)
    lo, hi = no_arbitrage_bounds(model, s, k, t, r, q, w)
    return [price(model, s, k, t, r, q, v, w), g.delta, g.gamma, g.theta_pts_per_day, g.vega_pts_per_vol_pt,
            lo, hi]


@pytest.mark.parametrize("model", list(PricingModel))
@pytest.mark.parametrize("array_rates", [False, True])
def test_fast_path_is_the_broadcast_numbers(model: PricingModel, array_rates: bool,
                                            monkeypatch: pytest.MonkeyPatch) -> None:
    args = _inputs(np.random.default_rng(10), 300, array_rates)
    assert models._same_shape(tuple(np.asarray(a, dtype=np.float64) for a in
                                    (args[0], args[1], args[2], args[3], args[4], args[5], args[6])))
    fast = _all(model, args)
    monkeypatch.setattr(models, "_same_shape", lambda arrays: False)
    slow = _all(model, args)
    for i, (a, b) in enumerate(zip(fast, slow, strict=True)):
        assert a.shape == b.shape == (300,)
        assert a.tobytes() == b.tobytes()  # bit for bit, NaN rows included
        bad = [3, 5, 7, 9, 11] if i < 5 else [3, 5, 7, 11]  # the bounds take no sigma
        assert np.isnan(a[bad]).all()
        assert np.isfinite(np.delete(a, bad)).all()


def test_mixed_shapes_still_broadcast() -> None:
    """Only ``right`` an array (the others scalars): gamma has no ``right`` in it, so it must
    come out of the broadcast path with the full shape, each row the scalar call's number."""
    w = np.array([1.0, -1.0, 1.0])
    g = greeks(PricingModel.BLACK_76, 5000.0, 4900.0, 0.25, 0.04, 0.0, 0.2, w)
    one = greeks(PricingModel.BLACK_76, 5000.0, 4900.0, 0.25, 0.04, 0.0, 0.2, 1.0)
    assert g.gamma.shape == g.vega_pts_per_vol_pt.shape == (3,)
    assert (g.gamma == float(one.gamma)).all()
    assert not models._same_shape(tuple(np.asarray(a, dtype=np.float64) for a in
                                        (5000.0, 4900.0, 0.25, 0.04, 0.0, 0.2, w)))


@pytest.mark.parametrize("model", list(PricingModel))
@pytest.mark.parametrize("array_rates", [False, True])
def test_implied_vol_one_block_is_the_broadcast_numbers(model: PricingModel, array_rates: bool,
                                                        monkeypatch: pytest.MonkeyPatch) -> None:
    """``implied_vol`` on a decision's 1-D rows skips broadcasting and blocks: the same IVs bit
    for bit as the flat, blocked way, over valid rows, invalid inputs and prices outside the
    no-arbitrage bounds (NaN either way), with the solver's step histogram."""
    from thetacore.pricing import iv_solver, normalised_black
    from thetacore.pricing.iv_solver import implied_vol

    rng = np.random.default_rng(11)
    s, k, t, r, q, v, w = _inputs(rng, 400, array_rates)
    p = price(model, s, k, t, r, q, np.where(np.isfinite(v), v, 0.3), w)
    p[20:40] *= rng.uniform(0.0, 3.0, 20)  # some outside the bounds
    p[41], p[42] = np.nan, -1.0
    args = (model, p, s, k, t, r, q, w)
    assert iv_solver._one_block([np.asarray(a, dtype=np.float64) for a in args[1:]])
    fast = implied_vol(*args)
    fast_steps = list(normalised_black.LAST_STEPS)
    monkeypatch.setattr(iv_solver, "_one_block", lambda arrays: False)
    slow = implied_vol(*args)
    assert fast.shape == slow.shape == (400,)
    assert fast.tobytes() == slow.tobytes()
    assert fast_steps == list(normalised_black.LAST_STEPS)
    assert np.isnan(fast[[3, 5, 7, 11, 41, 42]]).all()
    assert np.isfinite(fast).sum() > 300
    # the IV reprices (independent of the solver's path)
    ok = np.isfinite(fast)
    back = price(model, s[ok], k[ok], t[ok], np.asarray(r)[ok] if array_rates else r,
                 np.asarray(q)[ok] if array_rates else q, fast[ok], w[ok])
    np.testing.assert_allclose(back, p[ok], rtol=1e-9, atol=1e-9)


@pytest.mark.parametrize("model", list(PricingModel))
def test_implied_vol_of_one_row_is_that_row_of_a_block(model: PricingModel) -> None:
    """One row is solved as two equal rows (numpy's in-place arithmetic is slow on
    one-element arrays): the same IV bit for bit as in a block, and a histogram of one."""
    from thetacore.pricing import normalised_black
    from thetacore.pricing.iv_solver import implied_vol

    rng = np.random.default_rng(5)
    s, k, t, r, q, v, w = _inputs(rng, 64, False)
    p = price(model, s, k, t, r, q, np.where(np.isfinite(v), v, 0.3), w)
    block = implied_vol(model, p, s, k, t, r, q, w)
    for i in range(64):
        one = implied_vol(model, p[i:i + 1], s[i:i + 1], k[i:i + 1], t[i:i + 1], r, q, w[i:i + 1])
        assert one.shape == (1,)
        assert one.tobytes() == block[i:i + 1].tobytes()
        assert sum(normalised_black.LAST_STEPS) == int(np.isfinite(one[0]))


def test_implied_vol_block_with_a_huge_valid_row_takes_the_element_wise_mask_with_the_same_numbers() -> None:
    """Inputs above 1e100 fail the cheap all-valid test (it bounds ``s k t`` by them); the
    element-wise mask then decides, and the other rows keep their numbers bit for bit."""
    from thetacore.pricing.iv_solver import _all_valid, implied_vol

    rng = np.random.default_rng(9)
    s, k, t, r, q, v, w = _inputs(rng, 40, False)
    s[[3, 5, 7]], k[5], t[7], w[11] = 4000.0, 4000.0, 0.5, 1.0  # all rows valid
    p = price(PricingModel.BLACK_76, s, k, t, r, q, np.where(np.isfinite(v), v, 0.3), w)
    base = implied_vol(PricingModel.BLACK_76, p, s, k, t, r, q, w)
    arrays = [np.asarray(a, dtype=np.float64) for a in (p, s, k, t, r, 0.0, w)]
    assert _all_valid(*arrays)
    s2, k2, p2 = s.copy(), k.copy(), p.copy()
    s2[0], k2[0] = 1e120, 1.1e120
    p2[0] = price(PricingModel.BLACK_76, 1e120, 1.1e120, t[0], r, q, 0.3, w[0])
    arrays = [np.asarray(a, dtype=np.float64) for a in (p2, s2, k2, t, r, 0.0, w)]
    assert not _all_valid(*arrays)
    out = implied_vol(PricingModel.BLACK_76, p2, s2, k2, t, r, q, w)
    assert out[1:].tobytes() == base[1:].tobytes()
    assert out[0] == pytest.approx(0.3, rel=1e-9)
