"""Slow scalar reference for the vectorised pricing: pure ``math``, one option at a time.

Written independently of :mod:`thetacore.pricing.models` from the same source (Haug, *The
Complete Guide to Option Pricing Formulas*, 2nd ed., 2007, section 1.1.6 for the price,
section 2.1 for the greeks) so tests can compare the two on grids. The normal CDF uses
``math.erfc`` (accurate in both tails); implied volatility is plain bisection. Not for
production use: about 100x slower than the array code on a whole chain.

All functions take and return Python floats with the units of
:func:`thetacore.pricing.models.price` and return NaN for invalid inputs (``t_years <= 0``,
``sigma <= 0``, underlying or strike <= 0, right not +1/-1, NaN anywhere).
"""

from __future__ import annotations

import math

from thetacore.pricing.models import DAYS_PER_YEAR, PricingModel

_NAN = float("nan")


def norm_cdf(x: float) -> float:
    """Standard normal cumulative distribution function."""
    return 0.5 * math.erfc(-x / math.sqrt(2.0))


def norm_pdf(x: float) -> float:
    """Standard normal density."""
    return math.exp(-0.5 * x * x) / math.sqrt(2.0 * math.pi)


def _carry(model: PricingModel, rate_frac: float, yield_frac: float) -> float:
    return rate_frac - yield_frac if model is PricingModel.BLACK_SCHOLES else 0.0


def _valid(s: float, k: float, t: float, v: float, w: int, r: float, q: float) -> bool:
    values = (s, k, t, v, r, q)
    return all(math.isfinite(x) for x in values) and min(s, k, t, v) > 0 and w in (1, -1)


def price_scalar(
    model: PricingModel, underlying_pts: float, strike_pts: float, t_years: float,
    rate_frac: float, yield_frac: float, sigma_frac: float, right: int,
) -> float:
    """Generalised Black-Scholes-Merton price in points (Haug 2007, eq. 1.1.6)."""
    s, k, t, r, v, w = underlying_pts, strike_pts, t_years, rate_frac, sigma_frac, int(right)
    if not _valid(s, k, t, v, w, r, yield_frac):
        return _NAN
    b = _carry(model, r, yield_frac)
    d1 = (math.log(s / k) + (b + v * v / 2.0) * t) / (v * math.sqrt(t))
    d2 = d1 - v * math.sqrt(t)
    if w == 1:
        return s * math.exp((b - r) * t) * norm_cdf(d1) - k * math.exp(-r * t) * norm_cdf(d2)
    return k * math.exp(-r * t) * norm_cdf(-d2) - s * math.exp((b - r) * t) * norm_cdf(-d1)


def greeks_scalar(
    model: PricingModel, underlying_pts: float, strike_pts: float, t_years: float,
    rate_frac: float, yield_frac: float, sigma_frac: float, right: int,
) -> tuple[float, float, float, float]:
    """``(delta, gamma, theta_pts_per_day, vega_pts_per_vol_pt)`` (Haug 2007, section 2.1)."""
    s, k, t, r, v, w = underlying_pts, strike_pts, t_years, rate_frac, sigma_frac, int(right)
    if not _valid(s, k, t, v, w, r, yield_frac):
        return (_NAN, _NAN, _NAN, _NAN)
    b = _carry(model, r, yield_frac)
    sqrt_t = math.sqrt(t)
    d1 = (math.log(s / k) + (b + v * v / 2.0) * t) / (v * sqrt_t)
    d2 = d1 - v * sqrt_t
    carry_df = math.exp((b - r) * t)
    common_theta = -s * carry_df * norm_pdf(d1) * v / (2.0 * sqrt_t)
    if w == 1:
        delta = carry_df * norm_cdf(d1)
        theta = (common_theta - (b - r) * s * carry_df * norm_cdf(d1)
                 - r * k * math.exp(-r * t) * norm_cdf(d2))
    else:
        delta = carry_df * (norm_cdf(d1) - 1.0)
        theta = (common_theta + (b - r) * s * carry_df * norm_cdf(-d1)
                 + r * k * math.exp(-r * t) * norm_cdf(-d2))
    gamma = carry_df * norm_pdf(d1) / (s * v * sqrt_t)
    vega = s * carry_df * norm_pdf(d1) * sqrt_t
    return (delta, gamma, theta / DAYS_PER_YEAR, vega / 100.0)


def implied_vol_scalar(
    model: PricingModel, price_pts: float, underlying_pts: float, strike_pts: float,
    t_years: float, rate_frac: float, yield_frac: float, right: int,
    sigma_min_frac: float = 1e-4, sigma_max_frac: float = 5.0,
) -> float:
    """Implied volatility by bisection on ``[sigma_min, sigma_max]``; NaN if no root inside.

    Stops when the bracket is narrower than 1e-15 (absolute) or after 200 halvings.
    """
    if not (math.isfinite(price_pts) and price_pts > 0):
        return _NAN
    args = (underlying_pts, strike_pts, t_years, rate_frac, yield_frac)
    lo, hi = sigma_min_frac, sigma_max_frac
    p_lo = price_scalar(model, *args, lo, right)
    p_hi = price_scalar(model, *args, hi, right)
    if not (p_lo < price_pts < p_hi):  # also False when either is NaN
        return _NAN
    for _ in range(200):
        mid = 0.5 * (lo + hi)
        if price_scalar(model, *args, mid, right) < price_pts:
            lo = mid
        else:
            hi = mid
        if hi - lo < 1e-15:
            break
    return 0.5 * (lo + hi)
