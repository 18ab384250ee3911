"""Fat-finger limits: orders that are obviously a mistake are REFUSED, never resized.

Resizing an absurd order would send something its author never meant, so every rule here
refuses the whole order (the gate's later limits may resize a sane one):

* ``FAT_FINGER_CONTRACTS``: contracts in the order = sum over legs of |ratio| x quantity must
  be <= ``safety_max_contracts_per_order``;
* ``FAT_FINGER_NOTIONAL``: underlying notional = underlying price x multiplier x the larger
  side's short contracts per unit (puts or calls; the long contracts when nothing is sold)
  x quantity must be <= ``safety_max_notional_usd``. Hedged wings do not count twice: an
  iron condor is one short contract per unit, LT112 three short puts;
* ``LIMIT_OUTSIDE_BAND``: the net limit must lie in ``[mid - slack, natural + slack]`` with
  ``slack = safety_limit_band_frac x (natural - mid) + tick``; one tick of slack admits a
  limit rounded onto the grid (:func:`thetacore.pricing_limits.limit_on_tick` may round one
  tick below the mid when rounding up would pass the natural);
* ``FAT_FINGER_DUPLICATE``: the same structure (legs and ratios) is not sent twice by the
  same strategy on the same exchange day.
"""

from __future__ import annotations

import math

from thetacore.decisions import Reason
from thetacore.enums import Right
from thetacore.structures import Structure


def contracts_per_unit(structure: Structure) -> int:
    """Contracts one structure unit trades: sum of |ratio| over legs."""
    return sum(abs(leg.ratio) for leg in structure.legs)


def contracts_reason(structure: Structure, quantity: int, max_contracts: int) -> Reason | None:
    """``FAT_FINGER_CONTRACTS`` when the order trades more than ``max_contracts``."""
    per_unit = contracts_per_unit(structure)
    total = per_unit * quantity
    if total <= max_contracts:
        return None
    return Reason("FAT_FINGER_CONTRACTS", f"{quantity} units x {per_unit} contracts = {total} "
                  f"> {max_contracts} per order")


def notional_contracts_per_unit(structure: Structure) -> int:
    """The larger side's short contracts per unit (longs when nothing is sold)."""
    short_puts = sum(-leg.ratio for leg in structure.legs if leg.ratio < 0 and leg.right is Right.PUT)
    short_calls = sum(-leg.ratio for leg in structure.legs if leg.ratio < 0 and leg.right is Right.CALL)
    if short_puts or short_calls:
        return max(short_puts, short_calls)
    return sum(leg.ratio for leg in structure.legs)


def notional_reason(structure: Structure, quantity: int, underlying_pts: float,
                    max_notional_usd: float) -> Reason | None:
    """``FAT_FINGER_NOTIONAL`` when the order's underlying notional exceeds the cap (USD)."""
    n = notional_contracts_per_unit(structure)
    notional = underlying_pts * structure.multiplier_usd_per_pt * n * quantity
    if notional <= max_notional_usd:
        return None
    return Reason("FAT_FINGER_NOTIONAL", f"notional {notional:,.0f} USD ({quantity} x {n} x "
                  f"{underlying_pts:,.2f} pts x {structure.multiplier_usd_per_pt:g}) > {max_notional_usd:,.0f}")


def limit_band_reason(limit_pts: float, mid_pts: float, natural_pts: float, band_frac: float,
                      tick_pts: float) -> Reason | None:
    """``LIMIT_OUTSIDE_BAND`` unless ``limit_pts`` lies in the band around mid and natural.

    Args:
        limit_pts: the order's net limit per unit (LEAN sign: + debit, - credit).
        mid_pts, natural_pts: net mid and net natural of the legs' quotes (natural >= mid).
        band_frac: slack as a fraction of ``natural - mid``.
        tick_pts: the combo's price increment (0: none).
    """
    slack = band_frac * (natural_pts - mid_pts) + max(0.0, tick_pts)
    lo, hi = mid_pts - slack - 1e-9, natural_pts + slack + 1e-9
    if math.isfinite(limit_pts) and lo <= limit_pts <= hi:
        return None
    return Reason("LIMIT_OUTSIDE_BAND", f"limit {limit_pts:+.2f} pts outside [{mid_pts - slack:+.2f}, "
                  f"{natural_pts + slack:+.2f}] (mid {mid_pts:+.2f}, natural {natural_pts:+.2f}, "
                  f"slack {slack:.2f})")


def structure_key(strategy: str, structure: Structure) -> str:
    """Identity of a structure for duplicate detection: strategy plus sorted legs and ratios."""
    legs = sorted(f"{leg.symbol}x{leg.ratio:+d}" for leg in structure.legs)
    return f"{strategy}|" + ",".join(legs)


def duplicate_reason(key: str, sent_keys: list[str], day_key: str) -> Reason | None:
    """``FAT_FINGER_DUPLICATE`` when ``key`` was already sent on ``day_key``."""
    if key not in sent_keys:
        return None
    strategy, legs = key.split("|", 1)
    return Reason("FAT_FINGER_DUPLICATE", f"{strategy} already sent [{legs}] on {day_key}")
