"""Closing orders the gate's flatten and close-losers requests ask hosts to send."""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import replace

from strategies.base import StrategyPosition
from thetacore.decisions import OrderIntent
from thetacore.enums import IntentPurpose

QuoteFn = Callable[[str], tuple[float, float]]


def close_intent(strategy: str, pos: StrategyPosition, quote: QuoteFn, reason: str) -> OrderIntent | None:
    """A marketable close of the whole position: every leg reversed, limit at the natural
    price (buy at the ask, sell at the bid; LEAN sign). ``None`` when a leg has no quote on
    the side it needs (a missing quote is never priced as zero).

    Args:
        strategy: the owning strategy's name.
        pos: the position to close.
        quote: ``symbol -> (bid_pts, ask_pts)`` now (NaN when missing).
        reason: why (goes into the order tag).
    """
    legs = tuple(replace(leg, ratio=-leg.ratio) for leg in pos.structure.legs)
    natural = 0.0
    for leg in legs:
        bid, ask = quote(leg.symbol)
        price = ask if leg.ratio > 0 else bid
        if not (math.isfinite(price) and price > 0):
            return None
        natural += leg.ratio * price
    return OrderIntent(strategy, IntentPurpose.CLOSE, replace(pos.structure, legs=legs), pos.quantity,
                       round(natural, 4), pos.position_id, tag=f"{pos.position_id} close {reason}")


def is_losing(pos: StrategyPosition, close: OrderIntent) -> bool:
    """True when closing at ``close.limit_pts`` realizes a loss (before fees)."""
    return close.limit_pts > -(pos.entry_net_pts or 0.0)
