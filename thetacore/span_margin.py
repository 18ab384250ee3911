"""SPAN-like margin of a futures-option structure, by our own scenarios (issue 11).

CME margins futures options with SPAN: every position is revalued over 16 risk scenarios
and the requirement is the worst loss, never less than the short-option minimum. This module
approximates it on our own chain (we have no CME risk-parameter file):

* **price scan range** ``scan_range_frac`` of the futures price: the day's exchange margin
  of the outright future divided by its notional (:mod:`thetacore.futures_margins`; CME's
  price scan range *is* the outright's maintenance margin, CME "Risk Arrays - Standard",
  pubspan; we use the initial margin, 1.1 x maintenance for speculators, which is the more
  conservative), else the parameter ``futures_scan_range_frac``;
* **volatility scan** ``vol_scan_frac``: every leg's implied volatility moved up and down by
  this many volatility points (absolute; 0.04 = 4 points), floored at :data:`MIN_VOL_FRAC`;
* **16 scenarios** (the standard SPAN risk array, as published by NSE Clearing's SPAN
  page, Table "sixteen risk scenarios", and McMillan, *Options as a Strategic Investment*,
  ch. 34, with CME's S&P risk array): futures unchanged, up and down 1/3, 2/3 and 3/3 of
  the scan range, each with volatility up and with volatility down (14 scenarios), plus
  the two extreme moves of +/- :data:`EXTREME_MOVE_MULT` x the scan range at unchanged
  volatility of which only :data:`EXTREME_COVER_FRAC` of the loss counts;
* **short-option minimum**: per uncovered short option contract (for puts and for calls:
  shorts less longs of that right, at least 0; a spread's long wing covers its short)
  ``short_minimum_frac`` x its futures price (SPAN's short-option minimum charge, which
  exists for deep out-of-the-money shorts; NSE Clearing publishes it as a fraction of the
  short option's notional, 3% for index options; CME as dollars per contract).

Every leg is revalued with Black-76 at the same time to expiry (no one-day decay: decay
only helps a short, so keeping ``t`` is the conservative side). Inter-month spread and
delivery charges are not modelled.
"""

from __future__ import annotations

from dataclasses import fields
from functools import lru_cache

import numpy as np

from thetacore.chain import ChainSnapshot
from thetacore.parameters import Parameters
from thetacore.pricing import PricingModel, price
from thetacore.structures import Structure

__all__ = ["EXTREME_COVER_FRAC", "EXTREME_MOVE_MULT", "MIN_VOL_FRAC", "futures_scan_bp_pts", "span_scenarios"]

EXTREME_MOVE_MULT = 2.0
"""Extreme scenarios move the future by this many scan ranges (SPAN scenarios 15-16)."""
EXTREME_COVER_FRAC = 0.35
"""Fraction of an extreme scenario's loss that counts (SPAN scenarios 15-16)."""
MIN_VOL_FRAC = 0.01
"""A volatility-down scenario never takes a leg's IV below 1 volatility point."""
_PRICE_STEPS = (0.0, 1 / 3, -1 / 3, 2 / 3, -2 / 3, 1.0, -1.0)
_DEFAULTS = {f.name: f.default for f in fields(Parameters)}
DEFAULT_VOL_SCAN_FRAC: float = _DEFAULTS["futures_vol_scan_frac"]
DEFAULT_SHORT_MINIMUM_FRAC: float = _DEFAULTS["futures_short_option_minimum_frac"]


def span_scenarios(scan_range_frac: float, vol_scan_frac: float) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The 16 SPAN scenarios as ``(price_move_frac, vol_move_frac, weight_frac)``, each of
    shape ``(16,)``: rows 0-13 the 7 price steps x (vol up, vol down) at weight 1, rows 14-15
    the extreme moves (+/- :data:`EXTREME_MOVE_MULT` scans, vol unchanged) at
    :data:`EXTREME_COVER_FRAC`.

    Raises:
        ValueError: for a negative or non-finite scan range or vol scan.
    """
    if not (np.isfinite(scan_range_frac) and np.isfinite(vol_scan_frac)) or scan_range_frac < 0 or vol_scan_frac < 0:
        raise ValueError(f"scan range {scan_range_frac!r} and vol scan {vol_scan_frac!r} must be finite and >= 0")
    steps = np.repeat(np.array(_PRICE_STEPS), 2) * scan_range_frac
    vols = np.tile(np.array([vol_scan_frac, -vol_scan_frac]), len(_PRICE_STEPS))
    moves = np.concatenate([steps, [EXTREME_MOVE_MULT * scan_range_frac, -EXTREME_MOVE_MULT * scan_range_frac]])
    dvol = np.concatenate([vols, [0.0, 0.0]])
    weight = np.concatenate([np.ones(len(steps)), [EXTREME_COVER_FRAC, EXTREME_COVER_FRAC]])
    return moves, dvol, weight


def futures_scan_bp_pts(
    structure: Structure,
    chain: ChainSnapshot,
    *,
    scan_range_frac: float,
    t_years: float,
    rate_frac: float,
    short_minimum_frac: float = DEFAULT_SHORT_MINIMUM_FRAC,
    vol_scan_frac: float = DEFAULT_VOL_SCAN_FRAC,
) -> float:
    """SPAN-like requirement of one structure unit, in points (x multiplier for dollars).

    The worst weighted loss over :func:`span_scenarios` (each leg revalued with Black-76 at
    its own IV +/- the vol scan, on its own future moved by the scenario), never less than
    ``short_minimum_frac`` x future price per uncovered short option contract. One price call covers
    all scenarios and legs. Defaults of the two keywords are the parameters' defaults
    (``futures_short_option_minimum_frac``, ``futures_vol_scan_frac``).

    Args:
        structure: futures-option legs (ratios signed: + long, - short).
        chain: snapshot with the legs' IVs (``with_greeks``) and underlying prices.
        scan_range_frac: price scan range, fraction of the futures price (the day's, see
            :func:`thetacore.futures_margins.scan_range_frac`).
        t_years: time to expiry, years; rate_frac: risk-free rate.
        short_minimum_frac: short-option minimum per uncovered short contract, fraction of
            its future's price.
        vol_scan_frac: IV move up and down, volatility points as a fraction (0.04 = 4).

    Raises:
        ValueError: when a leg has no IV or underlying price in ``chain``, or a scan is
            negative or not finite.
    """
    idx = [chain.index_of(leg.symbol) for leg in structure.legs]
    iv = chain.iv_frac[idx]
    fwd = chain.underlying_pts[idx]
    if not (np.isfinite(iv).all() and np.isfinite(fwd).all()):
        raise ValueError(f"{structure.describe()}: legs need IV and underlying price for the scan")
    move_col, dvol_col, weight = _scenario_columns(scan_range_frac, vol_scan_frac)
    strikes = np.array([leg.strike_pts for leg in structure.legs])
    rights = np.array([int(leg.right) for leg in structure.legs])
    ratios = structure.ratios()
    # one price call: row 0 is today's price (move 0, IV as quoted), rows 1.. the scenarios;
    # the price is elementwise, so each entry is the number a separate call would give. Every
    # per-option input has the grid's shape, so price() skips np.broadcast_arrays (its fast
    # path: the same numbers, thetacore/pricing/models.py _prepare)
    vols = np.maximum(iv[None, :] + dvol_col, MIN_VOL_FRAC)
    vols[0] = iv
    fixed = np.empty((3, *vols.shape))
    fixed[0], fixed[1], fixed[2] = strikes, t_years, rights
    grid = price(PricingModel.BLACK_76, fwd * (1 + move_col), fixed[0], fixed[1], rate_frac, 0.0, vols, fixed[2])
    pnl = ((grid[1:] - grid[0]) * ratios).sum(axis=1) * weight
    scan_risk = float(max(0.0, -pnl.min()))
    return max(scan_risk, short_minimum_frac * _uncovered_short_notional_pts(ratios, rights, fwd))


@lru_cache(maxsize=64)
def _scenario_columns(scan_range_frac: float, vol_scan_frac: float) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """:func:`span_scenarios` with a leading row of zeros (today: no move, IV as quoted) as
    ``(17, 1)`` columns of price and vol moves, and the ``(16,)`` weights; read-only arrays,
    remembered per scan (a run has a few scan ranges; a decision would rebuild them each time).

    Raises:
        ValueError: as :func:`span_scenarios`.
    """
    moves, dvol, weight = span_scenarios(scan_range_frac, vol_scan_frac)
    move_col = np.concatenate([[0.0], moves])[:, None]
    dvol_col = np.concatenate([[0.0], dvol])[:, None]
    for a in (move_col, dvol_col, weight):
        a.flags.writeable = False
    return move_col, dvol_col, weight


def _uncovered_short_notional_pts(ratios: np.ndarray, rights: np.ndarray, fwd: np.ndarray) -> float:
    """Sum over puts and calls of the net short contracts of that right (shorts less longs,
    at least 0) x their mean futures price: a spread's long wing covers its short."""
    total = 0.0
    for right in sorted(set(rights.tolist())):  # np.unique's values and order, without its sort machinery
        mine = rights == right
        total += max(0.0, -float(ratios[mine].sum())) * float(fwd[mine].mean())
    return total
