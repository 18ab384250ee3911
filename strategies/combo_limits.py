"""The net limit price of a combo, shared by the strategies."""

from __future__ import annotations

from thetacore.chain import ChainSnapshot
from thetacore.pricing_limits import limit_on_tick
from thetacore.products import OptionProduct
from thetacore.structures import Structure


def combo_limit(structure: Structure, chain: ChainSnapshot, prod: OptionProduct, toward_far_frac: float,
                details: dict[str, object]) -> float:
    """Combo limit (LEAN sign) at ``mid + frac x (natural - mid)`` on the legs' finest tick,
    rounded toward the natural but never past it; mid and natural go into ``details``.

    Raises:
        thetacore.structures.QuoteError: when a leg has no usable two-sided quote.
    """
    bid, ask = structure.leg_quotes(chain)
    mid, natural = structure.net_mid_natural_pts(bid, ask)
    details.update(net_mid_pts=round(mid, 4), net_natural_pts=round(natural, 4))
    tick = prod.combo_tick_pts(((bid + ask) / 2).tolist())
    return limit_on_tick(mid + toward_far_frac * (natural - mid), natural, tick)
