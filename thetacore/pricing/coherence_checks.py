"""The row checks of :func:`thetacore.pricing.stored_greeks_coherence`: flags, tolerances,
LEAN's mirror rule and the per-row comparisons (see :mod:`thetacore.pricing.coherence`)."""

from __future__ import annotations

from dataclasses import dataclass
from enum import IntFlag

import numpy as np

from thetacore.pricing.iv_solver import implied_vol
from thetacore.pricing.models import FloatArray, PricingModel, greeks, no_arbitrage_bounds, price


class CoherenceFlag(IntFlag):
    """Per-row finding; rows hold a bitmask (``int64``) of these."""

    NO_UNDERLYING = 1
    NO_PRICE = 2
    NO_STORED_GREEKS = 4
    EXPIRED = 8
    PRICE_OUTSIDE_BOUNDS = 16
    ZERO_IV_NEAR_MONEY = 32
    UNIT_DELTA_NEAR_MONEY = 64
    IV_CONTRADICTS_PRICE = 128
    IV_NOT_PINNED = 256
    DELTA_CONTRADICTS_PRICE = 512
    MODEL_GAP_DELTA = 1024


HARD_FLAGS = (
    CoherenceFlag.NO_UNDERLYING | CoherenceFlag.PRICE_OUTSIDE_BOUNDS
    | CoherenceFlag.ZERO_IV_NEAR_MONEY | CoherenceFlag.UNIT_DELTA_NEAR_MONEY
    | CoherenceFlag.IV_CONTRADICTS_PRICE | CoherenceFlag.DELTA_CONTRADICTS_PRICE
)
"""Flags that make the whole chain untrusted."""


@dataclass(frozen=True)
class CoherenceTolerance:
    """Tolerances of :func:`stored_greeks_coherence` (defaults catch gross errors only).

    Attributes:
        iv_abs_tol_frac: IV difference (fraction, 0.005 = half a vol point) below which
            stored and recomputed IV agree.
        delta_abs_tol: delta difference below which stored and recomputed delta agree.
        price_abs_tol_pts: price resolution (one tick, points): a row pins its IV when a move
            of ``iv_abs_tol_frac`` changes its price by more than this.
        price_rel_tol: a stored IV contradicts a price when it misprices the row by more than
            ``max(price_abs_tol_pts, price_rel_tol * close)``.
        iv_floor_frac: stored IV at or below this counts as "zero" (LEAN writes 1e-7 or 0
            when its solver fails).
        near_money_frac: |strike / underlying - 1| within this counts as near the money.
        bound_tol_frac: tolerated breach of the no-arbitrage bounds, as a fraction of the
            underlying (closes of thinly traded rows are seconds-to-minutes stale).
    """

    iv_abs_tol_frac: float = 0.005
    delta_abs_tol: float = 0.02
    price_abs_tol_pts: float = 0.05
    price_rel_tol: float = 0.05
    iv_floor_frac: float = 1e-3
    near_money_frac: float = 0.05
    bound_tol_frac: float = 0.002


def mirror_index(expiry: np.ndarray, strike_pts: np.ndarray, right: np.ndarray) -> np.ndarray:
    """``(n,)`` int64: position of each row's mirror (same expiry and strike, other right), -1
    where the chain has none."""
    keys = {(int(e), float(k), int(w)): i for i, (e, k, w) in
            enumerate(zip(expiry.astype(np.int64), strike_pts, right, strict=True))}
    return np.array(
        [keys.get((int(e), float(k), -int(w)), -1) for e, k, w in
         zip(expiry.astype(np.int64), strike_pts, right, strict=True)], dtype=np.int64)


def lean_reference_row(
    own_iv: FloatArray, spot: float, expiry: np.ndarray, strike_pts: np.ndarray,
    right: np.ndarray,
) -> np.ndarray:
    """Row whose own IV LEAN used for each row: itself, or its in-chain mirror when ITM."""
    mirror = mirror_index(expiry, strike_pts, right)
    k, w = strike_pts, right
    itm = ((w > 0) & (k < spot)) | ((w < 0) & (k > spot))
    has_mirror = mirror >= 0
    mirror_iv = np.where(has_mirror, own_iv[np.maximum(mirror, 0)], np.nan)
    use_mirror = has_mirror & np.isfinite(mirror_iv) & (itm | ~np.isfinite(own_iv))
    return np.where(use_mirror, mirror, np.arange(len(k)))


@dataclass(frozen=True)
class Rows:
    """The chain's rows with everything a model needs, as arrays."""

    model: PricingModel
    spot: float
    k: FloatArray
    t: FloatArray
    rate: float
    yld: float
    w: FloatArray
    close: FloatArray

    def implied_vol(self) -> FloatArray:
        return implied_vol(self.model, self.close, self.spot, self.k, self.t, self.rate,
                           self.yld, self.w)

    def price(self, rows: np.ndarray, sigma: FloatArray) -> FloatArray:
        return price(self.model, self.spot, self.k[rows], self.t[rows], self.rate, self.yld,
                     sigma, self.w[rows])

    def vega_unit(self, rows: np.ndarray, sigma: FloatArray) -> FloatArray:
        g = greeks(self.model, self.spot, self.k[rows], self.t[rows], self.rate, self.yld,
                   sigma, self.w[rows])
        return 100.0 * g.vega_pts_per_vol_pt

    def delta(self, sigma: FloatArray) -> FloatArray:
        return greeks(self.model, self.spot, self.k, self.t, self.rate, self.yld, sigma,
                      self.w).delta


def availability(rows: Rows, s_iv: FloatArray,
                  s_delta: FloatArray) -> tuple[np.ndarray, np.ndarray]:
    """Check 1: soft flags for rows with nothing to compare; ``checked`` = the others."""
    flags = np.zeros(len(rows.k), dtype=np.int64)
    has_spot = bool(np.isfinite(rows.spot) and rows.spot > 0)
    if not has_spot:
        flags |= CoherenceFlag.NO_UNDERLYING
    flags[~(np.isfinite(rows.close) & (rows.close > 0))] |= CoherenceFlag.NO_PRICE
    flags[~(np.isfinite(s_iv) & np.isfinite(s_delta))] |= CoherenceFlag.NO_STORED_GREEKS
    flags[~(rows.t > 0)] |= CoherenceFlag.EXPIRED
    return flags, has_spot & (flags == 0)


def price_level_checks(rows: Rows, s_iv: FloatArray, s_delta: FloatArray,
                        checked: np.ndarray, flags: np.ndarray, tol: CoherenceTolerance) -> None:
    """Checks 2 and 3: no-arbitrage bounds, zero IV / unit delta near the money."""
    if not checked.any():
        return
    lower, upper = no_arbitrage_bounds(rows.model, rows.spot, rows.k, rows.t, rows.rate,
                                       rows.yld, rows.w)
    breach = np.maximum(lower - rows.close, rows.close - upper) > tol.bound_tol_frac * rows.spot
    flags[checked & breach] |= CoherenceFlag.PRICE_OUTSIDE_BOUNDS
    near = checked & (np.abs(rows.k / rows.spot - 1.0) <= tol.near_money_frac)
    flags[near & (s_iv <= tol.iv_floor_frac)] |= CoherenceFlag.ZERO_IV_NEAR_MONEY
    flags[near & (np.abs(np.abs(s_delta) - 1.0) <= 1e-9)] |= CoherenceFlag.UNIT_DELTA_NEAR_MONEY


def iv_checks(
    rows: Rows, ref: np.ndarray, ref_iv: FloatArray, s_iv: FloatArray, checked: np.ndarray,
    flags: np.ndarray, tol: CoherenceTolerance,
) -> tuple[FloatArray, np.ndarray, FloatArray]:
    """Check 4 on the reference rows; returns (IV diff, pinned mask, severity)."""
    ref_close = rows.close[ref]
    price_tol = np.maximum(tol.price_abs_tol_pts, tol.price_rel_tol * ref_close)
    gap = np.abs(rows.price(ref, np.maximum(s_iv, 1e-7)) - ref_close)
    iv_diff = np.where(checked, s_iv - ref_iv, np.nan)
    move = rows.vega_unit(ref, ref_iv) * tol.iv_abs_tol_frac
    pinned = checked & np.isfinite(ref_iv) & (move > tol.price_abs_tol_pts)
    contradicts = checked & (gap > price_tol) & ~(np.abs(iv_diff) <= tol.iv_abs_tol_frac)
    flags[contradicts] |= CoherenceFlag.IV_CONTRADICTS_PRICE
    flags[checked & ~pinned & ~contradicts] |= CoherenceFlag.IV_NOT_PINNED
    return iv_diff, pinned, np.where(contradicts, gap / price_tol, 0.0)
