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
* futures options: SPAN at the exchange, approximated by :mod:`thetacore.span_margin`
  (16 SPAN scenarios over the day's price scan range and a volatility scan, plus the
  short-option minimum); :func:`futures_scan_bp_pts` is re-exported from there.

All functions return points per structure unit; multiply by the contract multiplier for
dollars. Premiums are per contract in points.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

from thetacore.chain import ChainSnapshot
from thetacore.enums import Right
from thetacore.parameters import Parameters
from thetacore.span_margin import DEFAULT_SHORT_MINIMUM_FRAC, DEFAULT_VOL_SCAN_FRAC, futures_scan_bp_pts
from thetacore.structures import Structure, StructureKind, UnderlyingKind

__all__ = ["RegTRates", "buying_power_pts", "covered_short_call_bp_pts", "futures_scan_bp_pts", "naked_short_bp_pts",
           "ratio_spread_bp_pts"]


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


def buying_power_pts(
    structure: Structure,
    chain: ChainSnapshot,
    *,
    net_price_pts: float,
    scan_range_frac: float,
    t_years: float,
    rate_frac: float,
    vol_scan_frac: float = DEFAULT_VOL_SCAN_FRAC,
    short_minimum_frac: float = DEFAULT_SHORT_MINIMUM_FRAC,
    reg_t: RegTRates = REG_T_DEFAULT,
) -> float:
    """Buying power one structure unit needs, in points (x multiplier for dollars).

    Args:
        structure: the structure.
        chain: snapshot holding the legs' quotes, IVs and underlying prices.
        net_price_pts: the structure's net price (LEAN sign: + debit, - credit).
        scan_range_frac: futures-option price scan range as a fraction of the futures price
            (the day's: :func:`thetacore.futures_margins.scan_range_frac`).
        t_years: time to expiry, for the futures scan revaluation.
        rate_frac: risk-free rate, for the futures scan revaluation.
        vol_scan_frac, short_minimum_frac: the futures scan's volatility scan and
            short-option minimum (:func:`thetacore.span_margin.futures_scan_bp_pts`).

    Raises:
        ValueError: for a structure kind this module has no rule for, or missing data.
    """
    if structure.underlying_kind is UnderlyingKind.FUTURE:
        return futures_scan_bp_pts(structure, chain, scan_range_frac=scan_range_frac, t_years=t_years,
                                   rate_frac=rate_frac, vol_scan_frac=vol_scan_frac,
                                   short_minimum_frac=short_minimum_frac)
    credit = max(0.0, -net_price_pts)
    if structure.kind in (StructureKind.VERTICAL, StructureKind.IRON_CONDOR):
        if net_price_pts > 0:
            return net_price_pts
        widths = _wing_widths(structure)
        return max(0.0, max(widths) - credit)
    if structure.kind is StructureKind.RATIO_SPREAD:
        return ratio_spread_bp_pts(structure, chain, scan_range_frac=scan_range_frac, t_years=t_years,
                                   rate_frac=rate_frac, vol_scan_frac=vol_scan_frac,
                                   short_minimum_frac=short_minimum_frac, reg_t=reg_t)
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
                       t_years: float, rate_frac: float, vol_scan_frac: float = DEFAULT_VOL_SCAN_FRAC,
                       short_minimum_frac: float = DEFAULT_SHORT_MINIMUM_FRAC,
                       reg_t: RegTRates = REG_T_DEFAULT) -> float:
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
                                      rate_frac=rate_frac, vol_scan_frac=vol_scan_frac,
                                      short_minimum_frac=short_minimum_frac)
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
