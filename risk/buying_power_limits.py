"""Buying power in use by VIX regime, the reserve, and the VIX > 30 entry restriction.

Rules (docs/strategy-rules.md, "Risk"): max buying power in use as a fraction of NLV by VIX
level: VIX < 13: 45%; 13-18: 65%; 18-25: 80%; 25-30: 50%; > 30: 80% but new entries are
short puts only; always leave >= 20% of buying power unused (``bp_reserve_frac``).

Regime bounds: regime 1 below ``vix_regime1_below``, regime 2 below ``vix_regime2_below``,
regime 3 below ``vix_regime3_below``, regime 4 up to and including ``vix_regime4_upto``,
regime 5 above it. The limit in force is ``min(bp_max_frac_regimeN, 1 - bp_reserve_frac)``
(with the defaults the reserve caps nothing: no regime exceeds 80%). Buying power is our own
(:mod:`thetacore.margin`), in USD; "in use" is that of open positions plus the new order.
"""

from __future__ import annotations

import math

from thetacore.decisions import Reason
from thetacore.enums import Right
from thetacore.parameters import Parameters
from thetacore.structures import Structure

_EPS = 1e-9


def vix_regime(vix: float, p: Parameters) -> int:
    """Regime 1-5 for VIX level ``vix`` (index points).

    Raises:
        ValueError: for a NaN or negative VIX (an unknown VIX has no regime).
    """
    if not (math.isfinite(vix) and vix >= 0):
        raise ValueError(f"VIX regime needs a known VIX, got {vix}")
    if vix < p.vix_regime1_below:
        return 1
    if vix < p.vix_regime2_below:
        return 2
    if vix < p.vix_regime3_below:
        return 3
    return 4 if vix <= p.vix_regime4_upto else 5


def regime_label(regime: int, p: Parameters) -> str:
    """VIX range of a regime as text, e.g. ``"25-30"``."""
    bounds = (0.0, p.vix_regime1_below, p.vix_regime2_below, p.vix_regime3_below, p.vix_regime4_upto)
    return f"{bounds[regime - 1]:g}-{bounds[regime]:g}" if regime < 5 else f">{p.vix_regime4_upto:g}"


def bp_limit_frac(vix: float, p: Parameters) -> tuple[float, str]:
    """``(limit, basis)``: the BP-in-use limit as a fraction of NLV and what sets it
    (``"VIX 25-30"`` or ``"reserve 0.20"``)."""
    regime = vix_regime(vix, p)
    by_regime = getattr(p, f"bp_max_frac_regime{regime}")
    by_reserve = 1.0 - p.bp_reserve_frac
    if by_reserve < by_regime:
        return by_reserve, f"reserve {p.bp_reserve_frac:.2f}"
    return by_regime, f"VIX {regime_label(regime, p)}"


def bp_max_units(nlv_usd: float, in_use_usd: float, bp_per_unit_usd: float, vix: float,
                 p: Parameters) -> int | None:
    """Most structure units whose buying power fits under the limit; None when unlimited
    (a structure that needs no buying power)."""
    limit, _ = bp_limit_frac(vix, p)
    if bp_per_unit_usd <= 0:
        return None
    room = limit * nlv_usd - in_use_usd
    return max(0, math.floor(room / bp_per_unit_usd + _EPS))


def bp_reason(asked: int, fit: int, nlv_usd: float, in_use_usd: float, bp_per_unit_usd: float,
              vix: float, p: Parameters) -> Reason:
    """``BP_LIMIT`` (or ``BP_RESERVE`` when the reserve binds) for ``asked`` units of which
    ``fit`` fit, with the numbers of the first unit count that does not fit."""
    limit, basis = bp_limit_frac(vix, p)
    over = fit + 1
    used = (in_use_usd + over * bp_per_unit_usd) / nlv_usd
    code = "BP_RESERVE" if basis.startswith("reserve") else "BP_LIMIT"
    size = f"asked {asked}, {fit} fit: " if fit else ""
    return Reason(code, f"{size}bp_used={used:.4f} > limit={limit:.2f} at VIX {vix:.1f} ({basis}) with "
                  f"{over} unit(s): in use {in_use_usd:,.0f} + {over} x {bp_per_unit_usd:,.0f} USD of NLV "
                  f"{nlv_usd:,.0f}")


def is_short_puts_only(structure: Structure) -> bool:
    """True for a structure with no call legs and at least one short put (a short put, a
    put credit spread, LT112's 1/-1/-2 puts)."""
    no_calls = all(leg.right is Right.PUT for leg in structure.legs)
    return no_calls and any(leg.ratio < 0 for leg in structure.legs)


def vix_entry_reason(structure: Structure, vix: float, p: Parameters) -> Reason | None:
    """``VIX_SHORT_PUTS_ONLY`` when VIX is above regime 4 and the entry is not short puts only."""
    if vix_regime(vix, p) < 5 or is_short_puts_only(structure):
        return None
    return Reason("VIX_SHORT_PUTS_ONLY", f"VIX {vix:.1f} > {p.vix_regime4_upto:g}: new entries must be "
                  f"short puts only; {structure.describe()} is not")
