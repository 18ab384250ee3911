"""Buying-power requirement of a structure, by our own formulas, not the engine's.

Source: ``docs/strategy-rules.md`` ("Margin approximations for the pre-trade
check"), which follows the Cboe/FINRA Reg-T strategy-based rules:

* credit vertical: strike width - credit;
* iron condor: the wider wing's width - total credit (only one side can lose at expiry;
  LEAN's own margin uses the put wing for unequal wings, Lean#9775);
* naked short index option: premium + max(15% x underlying - OTM amount,
  10% x strike for puts / 10% x underlying for calls); equity/ETF options 20% / 10%;
* short strangle: the larger side's naked requirement + the other side's premium;
* ratio spread (LT112's 1 / -1 / -2): the cost of the one-by-one spread (its net mid,
  floored at 0) + each extra short's naked requirement (Reg-T, or the futures scan of that
  leg alone) times its ratio;
* futures options: SPAN at the exchange, approximated here by the worst loss when every
  leg is revalued with Black-76 at its own IV over the scan range
  ``underlying x (1 +/- scan_range_frac)`` (16 equally spaced price scenarios, IV held),
  never less than the short-option minimum of ``short_minimum_frac`` of the scan move per
  net short contract. This is an approximation of CME SPAN's price scan, documented as
  such; it omits the volatility scan and inter-month spread charges.

All functions return points per structure unit; multiply by the contract multiplier for
dollars. Premiums are per contract in points.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np

from thetacore.chain import ChainSnapshot
from thetacore.enums import Right
from thetacore.parameters import Parameters
from thetacore.pricing import PricingModel, price
from thetacore.structures import Structure, StructureKind, UnderlyingKind


@dataclass(frozen=True)
class RegTRates:
    """Reg-T naked-option percentages (fractions): ``base x underlying - OTM amount`` with a
    floor of ``min x (strike for puts, underlying for calls)``; Cboe strategy-based margin:
    15% / 10% for index options, 20% / 10% for equity and ETF options. The numbers live in
    :class:`thetacore.parameters.Parameters` (``regt_*``), never here (issue 11)."""

    index_base_frac: float
    index_min_frac: float
    equity_base_frac: float
    equity_min_frac: float

    @classmethod
    def from_parameters(cls, p: Parameters) -> RegTRates:
        """The rates of ``p`` (``regt_index_base_frac`` ... ``regt_equity_min_frac``)."""
        return cls(p.regt_index_base_frac, p.regt_index_min_frac, p.regt_equity_base_frac, p.regt_equity_min_frac)

    def fracs(self, kind: UnderlyingKind) -> tuple[float, float]:
        """``(base, floor)`` for an index or equity underlying."""
        if kind is UnderlyingKind.INDEX:
            return self.index_base_frac, self.index_min_frac
        return self.equity_base_frac, self.equity_min_frac


REG_T_DEFAULT = RegTRates.from_parameters(Parameters())
_SCAN_POINTS = 16


def naked_short_bp_pts(
    kind: UnderlyingKind, right: Right, strike_pts: float, underlying_pts: float, premium_pts: float,
    reg_t: RegTRates = REG_T_DEFAULT,
) -> float:
    """Reg-T requirement for one naked short option, in points.

    ``premium + max(base x underlying - OTM amount, 10% x (strike for puts, underlying for
    calls))`` with base 15% for index options and 20% for equity/ETF options (``reg_t``:
    the ``regt_*`` parameters; the defaults when not given).

    Raises:
        ValueError: for futures options (they use :func:`futures_scan_bp_pts`).
    """
    if kind is UnderlyingKind.FUTURE:
        raise ValueError("futures options are margined by the scan-range approximation")
    otm = max(0.0, (strike_pts - underlying_pts) if right is Right.CALL else (underlying_pts - strike_pts))
    base_frac, min_frac = reg_t.fracs(kind)
    floor = min_frac * (strike_pts if right is Right.PUT else underlying_pts)
    return premium_pts + max(base_frac * underlying_pts - otm, floor)


def futures_scan_bp_pts(
    structure: Structure,
    chain: ChainSnapshot,
    *,
    scan_range_frac: float,
    t_years: float,
    rate_frac: float,
    short_minimum_frac: float = 0.0,
) -> float:
    """Worst loss per unit (points) over the futures price scan range, revaluing each leg
    with Black-76 at its current IV; see the module docstring for the approximation.

    Raises:
        ValueError: when a leg has no IV or underlying price in ``chain``.
    """
    idx = [chain.index_of(leg.symbol) for leg in structure.legs]
    iv = chain.iv_frac[idx]
    fwd = chain.underlying_pts[idx]
    if not (np.isfinite(iv).all() and np.isfinite(fwd).all()):
        raise ValueError(f"{structure.describe()}: legs need IV and underlying price for the scan")
    strikes = np.array([leg.strike_pts for leg in structure.legs])
    rights = np.array([int(leg.right) for leg in structure.legs])
    ratios = structure.ratios()
    # one price call over the grid: row 0 is today's price (a zero move: fwd x 1.0 is fwd
    # exactly), rows 1.. the scan; the price is elementwise, so each entry is the number a
    # separate call would give
    moves = np.empty((_SCAN_POINTS + 1, 1))
    moves[0] = 0.0
    moves[1:, 0] = np.linspace(-scan_range_frac, scan_range_frac, _SCAN_POINTS)
    grid = price(PricingModel.BLACK_76, fwd * (1 + moves), strikes, t_years, rate_frac, 0.0, iv, rights)
    pnl = ((grid[1:] - grid[0]) * ratios).sum(axis=1)
    worst = float(max(0.0, -pnl.min()))
    net_short = max(0, -int(ratios.sum()))
    return max(worst, net_short * short_minimum_frac * scan_range_frac * float(fwd.mean()))


def buying_power_pts(
    structure: Structure,
    chain: ChainSnapshot,
    *,
    net_price_pts: float,
    scan_range_frac: float,
    t_years: float,
    rate_frac: float,
    reg_t: RegTRates = REG_T_DEFAULT,
) -> float:
    """Buying power one structure unit needs, in points (x multiplier for dollars).

    Args:
        structure: the structure.
        chain: snapshot holding the legs' quotes, IVs and underlying prices.
        net_price_pts: the structure's net price (LEAN sign: + debit, - credit).
        scan_range_frac: futures-option scan range as a fraction of the futures price.
        t_years: time to expiry, for the futures scan revaluation.
        rate_frac: risk-free rate, for the futures scan revaluation.

    Raises:
        ValueError: for a structure kind this module has no rule for, or missing data.
    """
    if structure.underlying_kind is UnderlyingKind.FUTURE:
        return futures_scan_bp_pts(
            structure, chain, scan_range_frac=scan_range_frac, t_years=t_years, rate_frac=rate_frac
        )
    credit = max(0.0, -net_price_pts)
    if structure.kind in (StructureKind.VERTICAL, StructureKind.IRON_CONDOR):
        if net_price_pts > 0:
            return net_price_pts
        widths = _wing_widths(structure)
        return max(0.0, max(widths) - credit)
    if structure.kind is StructureKind.RATIO_SPREAD:
        return ratio_spread_bp_pts(structure, chain, scan_range_frac=scan_range_frac, t_years=t_years,
                                   rate_frac=rate_frac, reg_t=reg_t)
    if structure.kind in (StructureKind.STRANGLE, StructureKind.SINGLE):
        mids = (sum(structure.leg_quotes(chain)) / 2.0).tolist()
        under = float(chain.underlying_pts[chain.index_of(structure.legs[0].symbol)])
        naked = []
        for leg, mid in zip(structure.legs, mids, strict=True):
            if leg.ratio > 0:
                naked.append((mid, mid))
                continue
            req = naked_short_bp_pts(structure.underlying_kind, leg.right, leg.strike_pts, under, mid, reg_t)
            naked.append((req, mid))
        if len(naked) == 1:
            return naked[0][0] * abs(structure.legs[0].ratio)
        big = max(range(len(naked)), key=lambda i: naked[i][0])
        return naked[big][0] + sum(p for i, (_, p) in enumerate(naked) if i != big)
    raise ValueError(f"no buying-power rule for {structure.kind.value} on {structure.underlying_kind.value}")


def ratio_spread_bp_pts(structure: Structure, chain: ChainSnapshot, *, scan_range_frac: float,
                       t_years: float, rate_frac: float, reg_t: RegTRates = REG_T_DEFAULT) -> float:
    """Ratio spread per unit in points: the one-by-one legs' net mid (a debit, floored at 0)
    plus, for every leg with a ratio of -2 or less, its naked requirement times the ratio.

    Raises:
        QuoteError: when a leg has no usable quote; ValueError: when a futures leg has no IV.
    """
    bid, ask = structure.leg_quotes(chain)
    mid = (bid + ask) / 2
    spread = max(0.0, sum(leg.ratio * float(m) for leg, m in zip(structure.legs, mid, strict=True)
                          if abs(leg.ratio) == 1))
    total = spread
    for leg, m in zip(structure.legs, mid, strict=True):
        if leg.ratio > -2:
            continue
        if structure.underlying_kind is UnderlyingKind.FUTURE:
            one = Structure(StructureKind.SINGLE, (replace(leg, ratio=-1),), structure.multiplier_usd_per_pt,
                            structure.underlying_kind)
            req = futures_scan_bp_pts(one, chain, scan_range_frac=scan_range_frac, t_years=t_years,
                                      rate_frac=rate_frac)
        else:
            under = float(chain.underlying_pts[chain.index_of(leg.symbol)])
            req = naked_short_bp_pts(structure.underlying_kind, leg.right, leg.strike_pts, under, float(m), reg_t)
        total += -leg.ratio * req
    return total


def _wing_widths(structure: Structure) -> list[float]:
    """Strike widths of the put side and the call side (one entry for a vertical)."""
    widths = []
    for right in (Right.PUT, Right.CALL):
        strikes = [leg.strike_pts for leg in structure.legs if leg.right is right]
        if len(strikes) == 2:
            widths.append(abs(strikes[0] - strikes[1]))
    if not widths:
        raise ValueError(f"{structure.describe()}: no two-strike wing to measure")
    return widths


def covered_short_call_bp_pts(kind: UnderlyingKind, short_strike_pts: float, long_strike_pts: float,
                              underlying_pts: float, premium_pts: float) -> float:
    """Reg-T requirement of one short call covered by one long call on the same underlying
    that expires on or after it (IPMCC: the weekly call against the LEAP), points.

    ``min(naked requirement, max(0, long strike - short strike))``: the long is paid in full
    (its own buying power is its cost) and the short needs only the amount by which the long's
    strike exceeds its own, 0 when the long's strike is at or below it. Source: Cboe Margin
    Manual (April 2000), "Put Spread or Call Spread" (long side expiring with or after the
    short side), the strategy-based rule of Cboe Rule 12.3 / FINRA Rule 4210(f)(2).

    Raises:
        ValueError: for futures options (they use :func:`futures_scan_bp_pts`).
    """
    naked = naked_short_bp_pts(kind, Right.CALL, short_strike_pts, underlying_pts, premium_pts)
    return min(naked, max(0.0, long_strike_pts - short_strike_pts))
