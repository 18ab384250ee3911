"""Vectorised implied volatility: a bracketed Newton / bisection hybrid on whole arrays.

In-the-money prices are first turned into the out-of-the-money price of the other right by
put-call parity (``p_otm = p - w (S e^{(b-r)T} - K e^{-rT})``), so the solver always works
on time value, where the relative precision is. Every element keeps a bracket ``[lo, hi]``
on sigma that always contains the root, the price being strictly increasing in sigma. Each
iteration takes a Newton step on the *log* price, ``sigma - ln(P/p) P / vega`` (fast also
far out of the money, where the price is strongly convex in sigma), when it stays strictly
inside the bracket, and bisects otherwise; so convergence is quadratic near the root and
guaranteed where vega is tiny. Only unconverged elements are recomputed. Start point: the
inflection point ``sqrt(2 |ln(F/K)| / T)`` of the price in sigma (Manaster & Koehler, "The
calculation of implied variances from the Black-Scholes model", J. Finance 37, 1982),
clipped to [0.05, 1].

Pricing formulas: :mod:`thetacore.pricing.models` (Haug 2007, section 1.1.6).
"""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike
from scipy.special import ndtr

from thetacore.pricing.models import FloatArray, PricingModel, carry_frac

SIGMA_MIN_FRAC = 1e-4
"""Lowest implied volatility returned (0.01 vol points); below it there is no solution."""
SIGMA_MAX_FRAC = 5.0
"""Highest implied volatility returned (500 vol); above it there is no solution."""

_INV_SQRT_2PI = 0.3989422804014327
_MAX_ITER = 100
_XTOL = 1e-13  # relative sigma step at which an element counts as converged


def _price_and_vega(
    s: FloatArray, k: FloatArray, t: FloatArray, r: FloatArray, b: FloatArray,
    v: FloatArray, w: FloatArray,
) -> tuple[FloatArray, FloatArray]:
    """Generalised BSM price and annual vega (points per 1.00 of sigma) on 1-D arrays."""
    sqrt_t = np.sqrt(t)
    vol_sqrt_t = v * sqrt_t
    d1 = (np.log(s / k) + (b + 0.5 * v * v) * t) / vol_sqrt_t
    d2 = d1 - vol_sqrt_t
    spot_df = s * np.exp((b - r) * t)
    value = w * (spot_df * ndtr(w * d1) - k * np.exp(-r * t) * ndtr(w * d2))
    vega = spot_df * _INV_SQRT_2PI * np.exp(-0.5 * d1 * d1) * sqrt_t
    return value, vega


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
        bound), price >= the no-arbitrage upper bound, price outside
        ``[P(sigma_min), P(sigma_max)]``, ``t_years <= 0``, underlying or strike <= 0,
        ``right`` not +1/-1, NaN rate or yield. Elsewhere the result reprices to about
        1e-12 relative (the solver stops when the Newton step is below 1e-13 relative).

    Raises:
        ValueError: only if the arguments do not broadcast or ``model`` is unknown.
    """
    arrays = [np.asarray(x, dtype=np.float64) for x in
              (price_pts, underlying_pts, strike_pts, t_years, rate_frac, yield_frac, right)]
    shape = np.broadcast_shapes(*(a.shape for a in arrays))
    p, s, k, t, r, q, w = (np.ravel(a) for a in np.broadcast_arrays(*arrays))
    b = carry_frac(model, r, q)
    out = np.full(p.shape, np.nan)
    with np.errstate(all="ignore"):
        ok = (
            np.isfinite(p) & (p > 0) & (s > 0) & (k > 0) & (t > 0) & (np.abs(w) == 1)
            & np.isfinite(r + b) & np.isfinite(s * k * t)
        )
        idx = np.flatnonzero(ok)
        s, k, t, r, b, p, w = (x[idx] for x in (s, k, t, r, b, p, w))
        intrinsic = s * np.exp((b - r) * t) - k * np.exp(-r * t)  # call minus put by parity
        itm = w * intrinsic > 0
        otm_price = np.where(itm, p - w * intrinsic, p)
        otm_right = np.where(itm, -w, w)
        p_lo, _ = _price_and_vega(s, k, t, r, b, np.full(idx.size, sigma_min_frac), otm_right)
        p_hi, _ = _price_and_vega(s, k, t, r, b, np.full(idx.size, sigma_max_frac), otm_right)
        ok = (otm_price > p_lo) & (otm_price < p_hi)
        out[idx[ok]] = _solve(
            (s[ok], k[ok], t[ok], r[ok], b[ok]), otm_price[ok], otm_right[ok],
            sigma_min_frac, sigma_max_frac,
        )
    return out.reshape(shape)


def _solve(
    args: tuple[FloatArray, FloatArray, FloatArray, FloatArray, FloatArray],
    target: FloatArray, sign: FloatArray,
    sigma_min: float, sigma_max: float,
) -> FloatArray:
    """Bracketed log-price Newton on 1-D arrays whose roots lie in (sigma_min, sigma_max)."""
    s, k, t, r, b = args
    n = target.size
    lo = np.full(n, sigma_min)
    hi = np.full(n, sigma_max)
    log_target = np.log(target)
    log_moneyness = np.abs(np.log(s / k) + b * t)
    sigma = np.clip(np.clip(np.sqrt(2.0 * log_moneyness / t), 0.05, 1.0), sigma_min, sigma_max)
    result = np.full(n, np.nan)
    active = np.arange(n)
    for _ in range(_MAX_ITER):
        if active.size == 0:
            break
        v = sigma[active]
        value, vega = _price_and_vega(s[active], k[active], t[active], r[active], b[active], v,
                                      sign[active])
        diff = value - target[active]
        lo_a = np.where(diff < 0, v, lo[active])
        hi_a = np.where(diff > 0, v, hi[active])
        newton = v - (np.log(value) - log_target[active]) * value / vega
        inside = np.isfinite(newton) & (newton > lo_a) & (newton < hi_a)
        new = np.where(inside, newton, 0.5 * (lo_a + hi_a))
        done = (
            (diff == 0)
            | (np.abs(new - v) <= _XTOL * v)
            | (hi_a - lo_a <= _XTOL * hi_a)
        )
        lo[active], hi[active], sigma[active] = lo_a, hi_a, new
        result[active[done]] = np.where(diff[done] == 0, v[done], new[done])
        active = active[~done]
    if active.size:  # bracket still contains the root; its midpoint is within tolerance
        result[active] = sigma[active]
    return result
