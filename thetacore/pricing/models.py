"""European option prices and greeks, vectorised over numpy arrays.

One formula serves both models: the generalised Black-Scholes-Merton model with cost of
carry ``b`` (Haug, *The Complete Guide to Option Pricing Formulas*, 2nd ed., 2007,
section 1.1.6, pp. 8-9; greeks from chapter 2, section 2.1):

    c = S e^{(b-r)T} N(d1) - K e^{-rT} N(d2)
    p = K e^{-rT} N(-d2) - S e^{(b-r)T} N(-d1)
    d1 = (ln(S/K) + (b + sigma^2/2) T) / (sigma sqrt(T)),   d2 = d1 - sigma sqrt(T)

* :attr:`PricingModel.BLACK_SCHOLES`: European option on a spot index or stock paying a
  continuous dividend yield ``q`` (Merton 1973): ``b = r - q``.
* :attr:`PricingModel.BLACK_76`: European option on a futures price ``F`` (Black 1976,
  "The pricing of commodity contracts", J. Financial Economics 3): ``b = 0``; the yield
  argument is ignored.

Conventions that depart from the textbook (as vollib does): theta is per calendar day
(annual theta / 365) and vega per one volatility point (annual vega / 100). Delta is signed
(puts negative). All arguments broadcast against each other; results have the broadcast
shape. Invalid inputs give NaN, never an exception: ``t_years <= 0``, ``sigma_frac <= 0``,
``underlying_pts <= 0``, ``strike_pts <= 0``, ``right`` not +1/-1, or any NaN argument.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from enum import Enum

import numpy as np
from numpy.typing import ArrayLike, NDArray
from scipy.special import ndtr

FloatArray = NDArray[np.float64]

DAYS_PER_YEAR = 365.0
"""Calendar days per year used for theta per day (and by LEAN's ``TimeTillExpiry``)."""

_INV_SQRT_2PI = 0.3989422804014327


class PricingModel(Enum):
    """Which European model prices a contract (both are the generalised BSM formula)."""

    BLACK_SCHOLES = "black_scholes"
    """Spot underlying with continuous dividend yield: carry ``b = r - q``."""
    BLACK_76 = "black_76"
    """Futures underlying (options on futures): carry ``b = 0``, yield ignored."""


@dataclass(frozen=True)
class Greeks:
    """First- and second-order sensitivities, each an array of the broadcast shape.

    Attributes:
        delta: dV/dS, signed (calls in (0, 1), puts in (-1, 0)), per point of underlying.
        gamma: d2V/dS2 per point of underlying.
        theta_pts_per_day: dV/dt in points per calendar day (annual theta / 365), usually
            negative for long options.
        vega_pts_per_vol_pt: dV/dsigma in points per volatility point (annual vega / 100).
    """

    delta: FloatArray
    gamma: FloatArray
    theta_pts_per_day: FloatArray
    vega_pts_per_vol_pt: FloatArray


def carry_frac(model: PricingModel, rate_frac: ArrayLike, yield_frac: ArrayLike) -> FloatArray:
    """Cost of carry ``b`` per year for ``model``: ``r - q`` (Black-Scholes) or 0 (Black-76).

    Raises:
        ValueError: if ``model`` is not a :class:`PricingModel`.
    """
    r = np.asarray(rate_frac, dtype=np.float64)
    if model is PricingModel.BLACK_SCHOLES:
        return r - np.asarray(yield_frac, dtype=np.float64)
    if model is PricingModel.BLACK_76:
        return np.zeros(np.broadcast_shapes(r.shape, np.shape(yield_frac)))  # raises as r + q would
    raise ValueError(f"unknown pricing model {model!r}")


def _prepare(
    model: PricingModel,
    underlying_pts: ArrayLike,
    strike_pts: ArrayLike,
    t_years: ArrayLike,
    rate_frac: ArrayLike,
    yield_frac: ArrayLike,
    sigma_frac: ArrayLike,
    right: ArrayLike,
) -> tuple[FloatArray, ...]:
    """Broadcast inputs and compute the shared terms; invalid rows come out NaN.

    A decision's call (the five per-option inputs of one shape, rate and yield scalars or of
    that shape) skips ``np.broadcast_arrays``: every formula is elementwise and each of its
    results involves a per-option input, so the numbers and shapes are those of the broadcast
    arrays (tests/pricing/test_prepare_fast_path.py compares the two).
    """
    arrays = tuple(np.asarray(a, dtype=np.float64) for a in
                   (underlying_pts, strike_pts, t_years, rate_frac, yield_frac, sigma_frac, right))
    s, k, t, r, q, v, w = arrays if _same_shape(arrays) else np.broadcast_arrays(*arrays)
    b = carry_frac(model, r, q)
    valid = (s > 0) & (k > 0) & (t > 0) & (v > 0) & (np.abs(w) == 1) & np.isfinite(r + b)
    if not valid.all():  # all valid (the usual case): np.where would only copy
        nan = np.float64(np.nan)
        s, k, t, v = (np.where(valid, x, nan) for x in (s, k, t, v))
    sqrt_t = np.sqrt(t)
    vol_sqrt_t = v * sqrt_t
    d1 = (np.log(s / k) + (b + 0.5 * v * v) * t) / vol_sqrt_t
    d2 = d1 - vol_sqrt_t
    carry_df = np.exp((b - r) * t)  # e^{(b-r)T}: e^{-qT} for BS, e^{-rT} for Black-76
    rate_df = np.exp(-r * t)
    return s, k, t, r, b, v, w, sqrt_t, d1, d2, carry_df, rate_df


def _same_shape(arrays: tuple[FloatArray, ...]) -> bool:
    """True when spot, strike, time, sigma and right (positions 0, 1, 2, 5, 6) share one shape
    and rate and yield (3, 4) are 0-d or of that shape: broadcasting would change nothing."""
    shape = arrays[0].shape
    return (all(arrays[i].shape == shape for i in (1, 2, 5, 6))
            and all(arrays[i].ndim == 0 or arrays[i].shape == shape for i in (3, 4)))


def price(
    model: PricingModel,
    underlying_pts: ArrayLike,
    strike_pts: ArrayLike,
    t_years: ArrayLike,
    rate_frac: ArrayLike,
    yield_frac: ArrayLike,
    sigma_frac: ArrayLike,
    right: ArrayLike,
) -> FloatArray:
    """European option price in points (Haug 2007, section 1.1.6).

    Args:
        model: :class:`PricingModel`.
        underlying_pts: spot (Black-Scholes) or futures price (Black-76), points.
        strike_pts: strike, points.
        t_years: time to expiry in years (calendar days / 365).
        rate_frac: continuously compounded risk-free rate, fraction per year (0.05 = 5 %).
        yield_frac: continuous dividend yield, fraction per year; ignored by Black-76.
        sigma_frac: volatility, fraction per sqrt(year) (0.20 = 20 vol).
        right: +1 call / -1 put (:class:`thetacore.enums.Right` values).

    Returns:
        float64 array of the broadcast shape; NaN where inputs are invalid (see module doc).

    Raises:
        ValueError: if the arguments do not broadcast or ``model`` is unknown.
    """
    s, k, _, _, _, _, w, _, d1, d2, carry_df, rate_df = _prepare(
        model, underlying_pts, strike_pts, t_years, rate_frac, yield_frac, sigma_frac, right
    )
    out: FloatArray = w * (s * carry_df * ndtr(w * d1) - k * rate_df * ndtr(w * d2))
    return out


def greeks(
    model: PricingModel,
    underlying_pts: ArrayLike,
    strike_pts: ArrayLike,
    t_years: ArrayLike,
    rate_frac: ArrayLike,
    yield_frac: ArrayLike,
    sigma_frac: ArrayLike,
    right: ArrayLike,
) -> Greeks:
    """Delta, gamma, theta per calendar day and vega per vol point (Haug 2007, section 2.1).

    Arguments, units, shapes and NaN rules as :func:`price`. With ``w`` = right (+1/-1),
    ``n`` the normal density and ``B = S e^{(b-r)T}``:

    * delta = w e^{(b-r)T} N(w d1)
    * gamma = e^{(b-r)T} n(d1) / (S sigma sqrt(T))
    * theta = [-B n(d1) sigma / (2 sqrt(T)) - w (b-r) B N(w d1) - w r K e^{-rT} N(w d2)] / 365
    * vega  = B n(d1) sqrt(T) / 100

    Arrays larger than :data:`CHUNK` elements are computed block by block (the formulas are
    elementwise: each element gets the numbers a whole-array pass gives it, and a block's
    temporaries stay in cache; tests/pricing/test_greeks_blocks.py compares the two).

    Returns:
        :class:`Greeks` of float64 arrays of the broadcast shape.
    """
    args = (underlying_pts, strike_pts, t_years, rate_frac, yield_frac, sigma_frac, right)
    if max(np.size(a) for a in args) <= CHUNK:  # a decision's rows: one block, no broadcast check here
        return _greeks_block(model, *args)
    arrays = [np.asarray(a, dtype=np.float64) for a in args]
    shape = np.broadcast_shapes(*(a.shape for a in arrays))
    size = math.prod(shape)
    if size <= CHUNK:
        return _greeks_block(model, *arrays)
    flat = [np.ravel(a) for a in np.broadcast_arrays(*arrays)]
    outs = [np.empty(size) for _ in range(4)]
    for lo in range(0, size, CHUNK):
        part = slice(lo, lo + CHUNK)
        g = _greeks_block(model, *(a[part] for a in flat))
        for out, block in zip(outs, (g.delta, g.gamma, g.theta_pts_per_day, g.vega_pts_per_vol_pt), strict=True):
            out[part] = block
    return Greeks(*(o.reshape(shape) for o in outs))


CHUNK = 8192
"""Elements per block of :func:`greeks` (as the IV solver's blocks)."""


def _greeks_block(
    model: PricingModel,
    underlying_pts: ArrayLike,
    strike_pts: ArrayLike,
    t_years: ArrayLike,
    rate_frac: ArrayLike,
    yield_frac: ArrayLike,
    sigma_frac: ArrayLike,
    right: ArrayLike,
) -> Greeks:
    """:func:`greeks` on one block (the formulas of its docstring)."""
    s, k, _, r, b, v, w, sqrt_t, d1, d2, carry_df, rate_df = _prepare(
        model, underlying_pts, strike_pts, t_years, rate_frac, yield_frac, sigma_frac, right
    )
    density = _INV_SQRT_2PI * np.exp(-0.5 * d1 * d1)
    nd1 = ndtr(w * d1)
    spot_df = s * carry_df
    delta = w * carry_df * nd1
    gamma = carry_df * density / (s * v * sqrt_t)
    theta_year = (
        -spot_df * density * v / (2.0 * sqrt_t)
        - w * (b - r) * spot_df * nd1
        - w * r * k * rate_df * ndtr(w * d2)
    )
    vega_year = spot_df * density * sqrt_t
    return Greeks(
        delta=delta,
        gamma=gamma,
        theta_pts_per_day=theta_year / DAYS_PER_YEAR,
        vega_pts_per_vol_pt=vega_year / 100.0,
    )


def no_arbitrage_bounds(
    model: PricingModel,
    underlying_pts: ArrayLike,
    strike_pts: ArrayLike,
    t_years: ArrayLike,
    rate_frac: ArrayLike,
    yield_frac: ArrayLike,
    right: ArrayLike,
) -> tuple[FloatArray, FloatArray]:
    """Lower and upper no-arbitrage bounds of a European price, in points.

    Lower: the zero-volatility value ``max(w (S e^{(b-r)T} - K e^{-rT}), 0)`` (discounted
    intrinsic). Upper: ``S e^{(b-r)T}`` for calls, ``K e^{-rT}`` for puts (Hull, *Options,
    Futures, and Other Derivatives*, ch. 11, bounds with a known yield). NaN where
    ``price`` would be NaN for a valid sigma.

    Returns:
        ``(lower_pts, upper_pts)``, float64 arrays of the broadcast shape.
    """
    s, k, _, _, _, _, w, _, _, _, carry_df, rate_df = _prepare(
        model, underlying_pts, strike_pts, t_years, rate_frac, yield_frac, 1.0, right
    )
    forward_value = s * carry_df
    strike_value = k * rate_df
    lower = np.maximum(w * (forward_value - strike_value), 0.0)
    upper = np.where(w > 0, forward_value, strike_value)
    return lower, upper
