"""Vectorised implied volatility: Jäckel's normalised-Black method on whole arrays.

Every option is turned into an out-of-the-money call on the normalised Black price
(undiscounted price over ``sqrt(F K)``, ``F = S e^{bT}``; in-the-money prices first become
the OTM price of the other right by put-call parity ``c - p = F - K``, so the solver always
works on time value, where the relative precision is) and solved for total volatility
``s = sigma sqrt(T)`` by :func:`thetacore.pricing.normalised_black.normalised_implied_vol`
(Peter Jäckel, "Let's Be Rational", Wilmott 2015: region-wise objective and initial guess,
third-order Householder steps, 2-4 array passes). The price determines sigma exactly
when it lies strictly between the zero-vol value (discounted intrinsic) and the upper
no-arbitrage bound; elsewhere the result is NaN.

Pricing formulas: :mod:`thetacore.pricing.models` (Haug 2007, section 1.1.6); the scalar
bisection in :mod:`thetacore.pricing.reference` is the independent check.
"""

from __future__ import annotations

from enum import Enum

import numpy as np
import numpy.typing as npt
from numpy.typing import ArrayLike

from thetacore.pricing.householder_loop import add_counts, per_element, repeat_lone
from thetacore.pricing.models import FloatArray, PricingModel, carry_frac
from thetacore.pricing.normalised_black import (
    record_steps,
    regions,
    solve_low,
    solve_normalised,
    solve_not_low,
)

CHUNK = 4096
"""Options solved per block; larger arrays are cut into blocks of this size (the solver's
temporaries, 32 KB each, stay in the core's cache: 100,000 options of the benchmark book
solve about 10 % faster than in blocks of 8,192, measured in five processes, best of 7 each;
2,048 is slower again, the per-call cost of numpy's ufuncs)."""
_ROUNDING = 8 * float(np.finfo(np.float64).eps)
SIGMA_MIN_FRAC = 1e-4
"""Lowest implied volatility returned (0.01 vol points); below it there is no solution."""
SIGMA_MAX_FRAC = 5.0
"""Highest implied volatility returned (500 vol); above it there is no solution."""


def implied_vol(
    model: PricingModel,
    price_pts: ArrayLike,
    underlying_pts: ArrayLike,
    strike_pts: ArrayLike,
    t_years: ArrayLike,
    rate_frac: ArrayLike,
    yield_frac: ArrayLike,
    right: ArrayLike,
    *,
    sigma_min_frac: float = SIGMA_MIN_FRAC,
    sigma_max_frac: float = SIGMA_MAX_FRAC,
) -> FloatArray:
    """Implied volatility (fraction per sqrt(year)) of European option prices.

    Args:
        model: :class:`PricingModel` (Black-Scholes on spot, Black-76 on futures).
        price_pts: option prices in points.
        underlying_pts, strike_pts, t_years, rate_frac, yield_frac, right: as
            :func:`thetacore.pricing.models.price` (``right`` +1 call / -1 put).
        sigma_min_frac, sigma_max_frac: search interval for sigma.

    Returns:
        float64 array of the broadcast shape. NaN (never 0, never an exception) where there
        is no solution: price NaN or <= 0, price <= the discounted intrinsic value (zero-vol
        bound) or above it by no more than 8 ulps of ``F + K`` (the rounding noise of the
        parity term ``F - K`` in the money), price >= the no-arbitrage upper bound (or within 8 ulps of it), price outside
        ``[P(sigma_min), P(sigma_max)]``, ``t_years <= 0``, underlying or strike <= 0,
        ``right`` not +1/-1, NaN rate or yield. Elsewhere the result reprices to about
        1e-12 relative (the solver stops when the step in ``s`` is below 4e-15 relative).

    Raises:
        ValueError: only if the arguments do not broadcast or ``model`` is unknown.
    """
    arrays = [np.asarray(x, dtype=np.float64) for x in
              (price_pts, underlying_pts, strike_pts, t_years, rate_frac, yield_frac, right)]
    if _one_block(arrays):  # a decision's rows: no broadcast copies, no blocks
        if arrays[0].size == 1:  # two equal rows: see householder_loop.indices
            arrays = [a.repeat(2) if a.ndim else a for a in arrays]
            return _implied_vol_flat(*arrays[:5], carry_frac(model, arrays[4], arrays[5]), arrays[6],
                                     sigma_min_frac, sigma_max_frac, copies=2)[:1]
        return _implied_vol_flat(*arrays[:5], carry_frac(model, arrays[4], arrays[5]), arrays[6],
                                 sigma_min_frac, sigma_max_frac)
    shape = np.broadcast_shapes(*(a.shape for a in arrays))
    flat = [np.ravel(a) for a in np.broadcast_arrays(*arrays)]
    b = carry_frac(model, flat[4], flat[5])
    return _implied_vol_blocks(flat, b, sigma_min_frac, sigma_max_frac).reshape(shape)


def _one_block(arrays: list[FloatArray]) -> bool:
    """True when price, spot, strike, time and right (positions 0-3, 6) are 1-D of one length
    up to :data:`CHUNK` and rate and yield (4, 5) 0-d or of that shape: the broadcast, flat,
    one-block arrays would be these (rate and yield as 0-d arrays enter only elementwise
    arithmetic with the time, so each element's number is the same; the transcendental
    functions see the same full arrays; tests/pricing/test_prepare_fast_path.py compares)."""
    shape = arrays[0].shape
    return (len(shape) == 1 and 0 < shape[0] <= CHUNK and all(arrays[i].shape == shape for i in (1, 2, 3, 6))
            and all(arrays[i].ndim == 0 or arrays[i].shape == shape for i in (4, 5)))


def _all_valid(p: FloatArray, s: FloatArray, k: FloatArray, t: FloatArray, r: FloatArray, b: FloatArray,
               w: FloatArray) -> bool:
    """True only if every element passes the validity mask of :func:`_implied_vol_flat`, from
    a few reductions (NaN fails every comparison; ``p, s, k, t < 1e100`` bounds every ``s k
    t`` below 1e300). False (also for any number above 1e100) sends the block to the
    element-wise mask, which decides exactly."""
    pskt = np.concatenate((p, s, k, t))  # one reduction each way instead of four
    return bool(pskt.min() > 0 and pskt.max() < 1e100 and np.isfinite(r + b).all() and (w * w == 1).all())


def _implied_vol_flat(
    p: FloatArray, s: FloatArray, k: FloatArray, t: FloatArray, r: FloatArray, b: FloatArray,
    w: FloatArray, sigma_min_frac: float, sigma_max_frac: float, copies: int = 1,
) -> FloatArray:
    """:func:`implied_vol` on 1-D arrays of equal length (``b`` the cost of carry); each
    option ``copies`` times (the step histogram counts it once)."""
    with np.errstate(all="ignore"):
        beta, x, b_max, inside = _prepare(p, s, k, t, r, b, w)
        if inside.all():
            sigma, counts = solve_normalised(beta, x, b_max)
            sigma /= np.sqrt(t)
            _nan_outside(sigma, sigma_min_frac, sigma_max_frac)
        else:
            sigma = np.full(p.size, np.nan)
            solved, counts = solve_normalised(beta[inside], x[inside], b_max[inside])
            solved /= np.sqrt(t[inside])
            sigma[inside] = _nan_outside(solved, sigma_min_frac, sigma_max_frac)
        record_steps(counts // copies)
    return sigma


class Checked(Enum):
    """What the caller of :func:`_prepare` already knows of the arrays it passes (parts of
    arrays it checked with :func:`_all_valid`)."""

    NOTHING = 0
    ALL_VALID = 1
    """Every element passes: no mask (an all-true one would change nothing)."""
    ALL_BUT_PRICE = 2
    """Every element passes but for its price: the price mask only."""


def _checked(p: FloatArray, s: FloatArray, k: FloatArray, t: FloatArray, r: FloatArray, b: FloatArray,
             w: FloatArray) -> Checked:
    """:class:`Checked` of whole non-empty arrays: the reductions of :func:`_all_valid`,
    array by array (no concatenated copy of long arrays; the minimum of a concatenation is
    above 0 exactly when each part's is, NaN failing either way)."""
    if not (all(a.min() > 0 and a.max() < 1e100 for a in (s, k, t)) and np.isfinite(r + b).all()
            and (w * w == 1).all()):
        return Checked.NOTHING
    return Checked.ALL_VALID if p.min() > 0 and p.max() < 1e100 else Checked.ALL_BUT_PRICE


def _prepare(p: FloatArray, s: FloatArray, k: FloatArray, t: FloatArray, r: FloatArray, b: FloatArray,
             w: FloatArray, checked: Checked = Checked.NOTHING,
             ) -> tuple[FloatArray, FloatArray, FloatArray, npt.NDArray[np.bool_]]:
    """``(beta, x, b_max, inside)`` of 1-D arrays of equal length (the caller ignores numpy
    floating-point errors): the normalised undiscounted OTM price, ``-|ln(F/K)|``,
    ``e^{x/2}`` and the elements that have a solution to look for (garbage elsewhere).
    ``checked``: what the caller knows (:class:`Checked`); the same ``inside`` either way."""
    ok = None
    if checked is Checked.ALL_BUT_PRICE:
        ok = p > 0
        ok &= p < np.inf
    elif checked is Checked.NOTHING and p.size and not _all_valid(p, s, k, t, r, b, w):
        # the arithmetic below runs on invalid elements too (errors ignored); they are
        # masked out of ``inside`` before the solver sees them
        if _all_valid(np.ones(1), s, k, t, r, b, w):  # only prices (no mid, say) fail
            ok = p > 0
            ok &= p < np.inf
        else:
            ok = (
                np.isfinite(p) & (p > 0) & (s > 0) & (k > 0) & (t > 0) & (np.abs(w) == 1)
                & np.isfinite(r + b) & np.isfinite(s * k * t)
            )
    if b.any():  # forward is never written to below
        forward = b * t  # in-place below: fewer temporaries
        np.exp(forward, out=forward)
        forward *= s
    else:  # Black-76 (or no carry): s e^0 = s, the same numbers
        forward = s
    undiscounted = r * t
    np.exp(undiscounted, out=undiscounted)
    undiscounted *= p
    # ITM -> OTM of the other right by put-call parity: c - p = F - K (undiscounted)
    intrinsic = forward - k
    intrinsic *= w
    np.maximum(intrinsic, 0.0, out=intrinsic)
    time_value = undiscounted - intrinsic
    beta = forward * k
    np.sqrt(beta, out=beta)
    np.divide(time_value, beta, out=beta)
    x = forward / k
    np.log(x, out=x)
    np.abs(x, out=x)
    np.negative(x, out=x)
    b_max = 0.5 * x
    np.exp(b_max, out=b_max)
    # strictly inside the bounds by more than the rounding of the parity term (a few
    # ulps of F + K in the money): a time value that small is noise, not a price of sigma
    # (out of the money, ``8 ulps of undiscounted`` is the same test as ``> 0``: the
    # price's own rounding is no bound there)
    noise = forward + k
    noise *= _ROUNDING
    noise *= np.sign(intrinsic)  # 1 in the money, 0 out of it, NaN for NaN
    inside = time_value > noise
    inside &= b_max - beta > _ROUNDING * b_max
    if ok is not None:
        inside &= ok
    return beta, x, b_max, inside


def _implied_vol_blocks(flat: list[FloatArray], b: FloatArray, sigma_min_frac: float,
                        sigma_max_frac: float) -> FloatArray:
    """:func:`implied_vol` of flat arrays longer than :data:`CHUNK` (``flat``: price, spot,
    strike, time, rate, yield, right; ``b`` the carry), the same numbers as
    :func:`_implied_vol_flat` block by block: each block prepared and classified
    (:func:`thetacore.pricing.normalised_black.regions`), then the low-region elements of
    the whole array solved together, block by block, and the others likewise (every step is
    elementwise, so the grouping changes no number; one region per block spares each block
    its gathers and halves the number of numpy calls). :data:`LAST_STEPS` receives the
    histogram of the whole array."""
    n = flat[0].size
    # one gather per group block; the low region's four columns first: (x, b_max, s_c,
    # ln_beta, beta, sinh_half, b_c)
    cols = np.empty((7, n))
    inside = np.empty(n, dtype=bool)
    with np.errstate(all="ignore"):
        checked = _checked(*flat[:5], b, flat[6]) if n else Checked.NOTHING  # then no block checks
        for lo in range(0, n, CHUNK):
            part = slice(lo, lo + CHUNK)
            block = cols[:, part]
            block[4], block[0], block[1], inside[part] = _prepare(*(a[part] for a in flat[:5]), b[part],
                                                                  flat[6][part], checked)
            regions(block[4], block[0], block[1], out=(block[5], block[2], block[6], block[3]))
        below = cols[4] < cols[6]
        s = np.full(n, np.nan)
        counts = np.zeros(3, dtype=np.int64)
        for low, group in ((True, np.flatnonzero(inside & below)), (False, np.flatnonzero(inside & ~below))):
            for lo in range(0, group.size, CHUNK):
                idx = repeat_lone(group[lo:lo + CHUNK])
                if low:
                    x, b_max, s_c, ln_beta = cols[:4].take(idx, axis=1)
                    s[idx], part_counts = solve_low(x, ln_beta, s_c, b_max)
                else:
                    x, b_max, s_c, ln_beta, beta, sinh_half, b_c = cols.take(idx, axis=1)
                    s[idx], part_counts = solve_not_low(x, beta, ln_beta, b_max, sinh_half, s_c, b_c)
                counts = add_counts(counts, per_element(part_counts, idx))
        s /= np.sqrt(flat[3])
        _nan_outside(s, sigma_min_frac, sigma_max_frac)
    record_steps(counts)
    return s


def _nan_outside(sigma: FloatArray, sigma_min_frac: float, sigma_max_frac: float) -> FloatArray:
    """``sigma`` with NaN (in place) wherever it is not strictly inside the search interval;
    two reductions when every element is (or the array is empty)."""
    if not (sigma.min(initial=np.inf) > sigma_min_frac and sigma.max(initial=-np.inf) < sigma_max_frac):
        np.copyto(sigma, np.nan, where=~((sigma > sigma_min_frac) & (sigma < sigma_max_frac)))
    return sigma
