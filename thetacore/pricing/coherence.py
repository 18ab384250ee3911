"""Do stored IVs and greeks belong to the prices stored next to them?

LEAN's ``universes/<root>/<date>.csv`` files carry LEAN's own implied volatility and delta
next to each contract's close. Some files are internally consistent, others hold zero IV or
unit delta for at-the-money contracts, or an underlying close from another moment than the
option closes. :func:`stored_greeks_coherence` recomputes IV and greeks from each row's own
close and says, per row and for the file, whether the stored values may be trusted. The
project never uses stored greeks that this check flags; it computes its own from prices.

How LEAN computed the stored IV (``Indicators/ImpliedVolatility.cs``, mirror-contract
smoothing, LEAN commit 2486390): an in-the-money contract (call with strike < underlying,
put with strike > underlying) takes the implied volatility of its *mirror* (same expiry and
strike, other right), which is out of the money. The reference IV here follows the same
rule when the mirror is in the chain; otherwise it is the row's own IV.

Checks, in order, each a :class:`CoherenceFlag` bit on the row (hard flags make the whole
chain untrusted; soft flags only the row):

1. ``NO_UNDERLYING`` (hard), ``NO_PRICE``, ``NO_STORED_GREEKS``, ``EXPIRED`` (soft): nothing
   to compare.
2. ``PRICE_OUTSIDE_BOUNDS`` (hard): the close lies below its zero-volatility value or above
   the no-arbitrage upper bound by more than ``bound_tol_frac`` of the underlying: option
   closes and underlying close are not from the same moment.
3. ``ZERO_IV_NEAR_MONEY`` / ``UNIT_DELTA_NEAR_MONEY`` (hard): stored IV below
   ``iv_floor_frac`` or |stored delta| = 1 with the strike within ``near_money_frac`` of the
   underlying.
4. ``IV_CONTRADICTS_PRICE`` (hard): |stored - reference IV| > ``iv_abs_tol_frac`` *and* the
   stored IV misprices the reference row by more than its price tolerance
   ``max(price_abs_tol_pts, price_rel_tol * close)``. ``IV_NOT_PINNED`` (soft): a move of
   ``iv_abs_tol_frac`` changes the reference price by less than one price tick
   (``price_abs_tol_pts``), so the price cannot confirm any IV to that precision (deep in
   the money, or no IV solution at all).
5. ``DELTA_CONTRADICTS_PRICE`` (hard) / ``MODEL_GAP_DELTA`` (soft, American style priced
   with a European model): |stored delta - model delta at the reference IV| >
   ``delta_abs_tol``.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, time
from typing import Protocol

import numpy as np

from thetacore.enums import ExerciseStyle
from thetacore.pricing.coherence_checks import (
    HARD_FLAGS,
    CoherenceFlag,
    CoherenceTolerance,
    Rows,
    availability,
    iv_checks,
    lean_reference_row,
    mirror_index,
    price_level_checks,
)
from thetacore.pricing.models import FloatArray, PricingModel
from thetacore.pricing.time_to_expiry import et_instant_utc, time_to_expiry_years

__all__ = [
    "HARD_FLAGS",
    "CoherenceFlag",
    "CoherenceReport",
    "CoherenceTolerance",
    "StoredGreeksChain",
    "mirror_index",
    "stored_greeks_coherence",
]


class StoredGreeksChain(Protocol):
    """What the check reads: a chain snapshot with stored values (e.g. a LEAN universe file).

    Arrays have shape ``(n,)``: ``expiry`` ``datetime64[D]``, ``right`` +1/-1, the rest
    float64 with NaN where absent. ``underlying_close_pts`` is NaN when the file has none.
    """

    @property
    def underlying_close_pts(self) -> float: ...
    @property
    def expiry(self) -> np.ndarray: ...
    @property
    def strike_pts(self) -> np.ndarray: ...
    @property
    def right(self) -> np.ndarray: ...
    @property
    def close_pts(self) -> np.ndarray: ...
    @property
    def stored_iv_frac(self) -> np.ndarray: ...
    @property
    def stored_delta(self) -> np.ndarray: ...


@dataclass(frozen=True)
class CoherenceReport:
    """Outcome of :func:`stored_greeks_coherence`.

    Attributes:
        trusted: True when the chain has an underlying price, at least one row could be
            checked and no row raised a hard flag.
        code: ``COHERENT``, ``INCOHERENT``, ``NO_UNDERLYING`` or ``NOTHING_TO_CHECK``.
        reason: human-readable sentence with the counts and, if incoherent, the worst row
            with its numbers.
        n_rows, n_checked, n_hard: rows in the chain, rows compared, rows with a hard flag.
        flag_counts: rows per flag name.
        row_flags: ``(n,)`` int64 bitmask of :class:`CoherenceFlag`.
        row_trusted: ``(n,)`` bool, True only for checked rows without any flag.
        reference_iv_frac: ``(n,)`` IV recomputed from prices with LEAN's mirror rule.
        iv_diff_frac, delta_diff: ``(n,)`` stored minus recomputed; NaN where not compared.
        max_abs_iv_diff_frac: max |IV diff| over rows whose price pins the IV (NaN if none).
        max_abs_delta_diff: max |delta diff| over compared rows (NaN if none).
    """

    trusted: bool
    code: str
    reason: str
    n_rows: int
    n_checked: int
    n_hard: int
    flag_counts: Mapping[str, int]
    row_flags: np.ndarray
    row_trusted: np.ndarray
    reference_iv_frac: FloatArray
    iv_diff_frac: FloatArray
    delta_diff: FloatArray
    max_abs_iv_diff_frac: float
    max_abs_delta_diff: float


def stored_greeks_coherence(
    chain: StoredGreeksChain,
    *,
    model: PricingModel,
    rate_frac: float,
    yield_frac: float,
    date: date,
    style: ExerciseStyle = ExerciseStyle.EUROPEAN,
    valuation_time_et: time = time(16, 0),
    expiry_time_et: time = time(16, 0),
    expiry_time_overrides_et: Mapping[date, time] | None = None,
    tolerance: CoherenceTolerance | None = None,
) -> CoherenceReport:
    """Check each row's stored IV and delta against its own close (module doc lists checks).

    Args:
        chain: the snapshot (see :class:`StoredGreeksChain`).
        model: European model used to recompute (Black-Scholes for index and equity options).
        rate_frac, yield_frac: rate and dividend yield, fractions per year.
        date: trading day of the closes; valuation instant is ``date`` at
            ``valuation_time_et`` New York time.
        style: exercise style of the contracts; for American contracts a delta gap against
            the European model is soft (``MODEL_GAP_DELTA``).
        expiry_time_et, expiry_time_overrides_et: see
            :func:`thetacore.pricing.time_to_expiry.time_to_expiry_years`.
        tolerance: :class:`CoherenceTolerance` (defaults when None).

    Returns:
        :class:`CoherenceReport`. Never raises on bad data: bad data is a flag.
    """
    tol = tolerance or CoherenceTolerance()
    spot = float(chain.underlying_close_pts)
    t = time_to_expiry_years(chain.expiry, et_instant_utc(date, valuation_time_et),
                             expiry_time_et, expiry_time_overrides_et=expiry_time_overrides_et)
    rows = Rows(model, spot, np.asarray(chain.strike_pts, float), t, rate_frac, yield_frac,
                np.asarray(chain.right, float), np.asarray(chain.close_pts, float))
    s_iv = np.asarray(chain.stored_iv_frac, float)
    s_delta = np.asarray(chain.stored_delta, float)
    flags, checked = availability(rows, s_iv, s_delta)
    price_level_checks(rows, s_iv, s_delta, checked, flags, tol)
    own_iv = np.where(checked, rows.implied_vol(), np.nan)
    ref = lean_reference_row(own_iv, spot, chain.expiry, chain.strike_pts, chain.right)
    ref_iv = own_iv[ref]
    iv_diff, pinned, severity = iv_checks(rows, ref, ref_iv, s_iv, checked, flags, tol)
    sigma = np.where(np.isfinite(ref_iv), ref_iv, np.where(s_iv > tol.iv_floor_frac, s_iv, 1e-4))
    delta_diff = np.where(checked, s_delta - rows.delta(sigma), np.nan)
    off = checked & (np.abs(delta_diff) > tol.delta_abs_tol)
    flags[off] |= (CoherenceFlag.MODEL_GAP_DELTA if style is ExerciseStyle.AMERICAN
                   else CoherenceFlag.DELTA_CONTRADICTS_PRICE)
    severity = severity + np.abs(np.nan_to_num(delta_diff))
    return _report(chain, spot, flags, checked, own_iv, ref_iv, iv_diff, delta_diff, pinned,
                   severity)


def _report(
    chain: StoredGreeksChain, spot: float, flags: np.ndarray, checked: np.ndarray,
    own_iv: FloatArray, ref_iv: FloatArray, iv_diff: FloatArray, delta_diff: FloatArray,
    pinned: np.ndarray, severity: FloatArray,
) -> CoherenceReport:
    """Assemble counts, the verdict and its reason (naming the worst hard row)."""
    n = len(flags)
    hard = (flags & int(HARD_FLAGS)) != 0
    counts = {f.name or str(int(f)): int(((flags & int(f)) != 0).sum()) for f in CoherenceFlag}
    counts = {name: c for name, c in counts.items() if c}
    n_checked, n_hard = int(checked.sum()), int(hard.sum())
    max_iv = float(np.nanmax(np.abs(iv_diff[pinned]))) if pinned.any() else float("nan")
    max_delta = (float(np.nanmax(np.abs(delta_diff[checked])))
                 if checked.any() else float("nan"))
    listing = ", ".join(f"{name}={c}" for name, c in counts.items()) or "none"
    if not (np.isfinite(spot) and spot > 0):
        code = "NO_UNDERLYING"
        reason = (f"no underlying price in the chain: none of its {n} rows can be checked "
                  "against prices")
    elif n_checked == 0:
        code, reason = "NOTHING_TO_CHECK", f"no row has both a price and stored greeks ({listing})"
    elif n_hard:
        first = int(np.flatnonzero(hard)[np.argmax(severity[hard])])
        code = "INCOHERENT"
        reason = (f"{n_hard} of {n} rows contradict their prices ({listing}); worst: "
                  f"{_describe(chain, first)} underlying {spot:g}: stored IV "
                  f"{chain.stored_iv_frac[first]:.4f} delta {chain.stored_delta[first]:.4f}, "
                  f"from price IV {ref_iv[first]:.4f} (own {own_iv[first]:.4f})")
    else:
        code = "COHERENT"
        reason = (f"{n_checked} of {n} rows checked, none contradicts its price; max |IV diff| "
                  f"{max_iv:.5f} on {int(pinned.sum())} rows whose price pins IV, max |delta "
                  f"diff| {max_delta:.4f}; soft flags: {listing}")
    return CoherenceReport(
        trusted=code == "COHERENT", code=code, reason=f"{code}: {reason}", n_rows=n,
        n_checked=n_checked, n_hard=n_hard, flag_counts=counts, row_flags=flags,
        row_trusted=checked & (flags == 0), reference_iv_frac=ref_iv, iv_diff_frac=iv_diff,
        delta_diff=delta_diff, max_abs_iv_diff_frac=max_iv, max_abs_delta_diff=max_delta,
    )


def _describe(chain: StoredGreeksChain, i: int) -> str:
    right = "C" if chain.right[i] > 0 else "P"
    return (f"{np.datetime_as_string(chain.expiry[i], unit='D')} {chain.strike_pts[i]:g}{right} "
            f"close {chain.close_pts[i]:g}")
