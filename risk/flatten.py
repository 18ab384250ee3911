"""Closing orders the gate's flatten and close-losers requests ask hosts to send.

A host's own close passes the gate's exit checks like a strategy's exit (issue 8): its limit
is the natural price of the legs' quotes, and the gate refuses it unless every quote is
valid and fresh and the limit lies within the band around mid and natural
(``safety_limit_band_frac``), and unless its quantity is a whole number no larger than the
units held (:meth:`risk.gate_session.GateSession.review_close`). A refused close is not sent:
the host alerts and tries again at its next flatten request (the next NLV mark).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import datetime

from risk.gate import GateAction
from risk.gate_session import GateSession
from safety.quote_validation import LegQuote
from strategies.base import StrategyPosition
from thetacore.decisions import OrderIntent
from thetacore.enums import IntentPurpose

QuoteFn = Callable[[str], tuple[float, float]]
LegQuoteFn = Callable[[str], LegQuote | None]


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
        if not (isinstance(price, int | float) and math.isfinite(price) and price > 0):
            return None
        natural += leg.ratio * price
    return OrderIntent(strategy, IntentPurpose.CLOSE, replace(pos.structure, legs=legs), pos.quantity,
                       round(natural, 4), pos.position_id, tag=f"{pos.position_id} close {reason}")


def is_losing(pos: StrategyPosition, close: OrderIntent) -> bool:
    """True when closing at ``close.limit_pts`` realizes a loss (before fees)."""
    return close.limit_pts > -(pos.entry_net_pts or 0.0)


@dataclass(frozen=True)
class HostClose:
    """What a host should do about one position on a flatten / close-losers request.

    Attributes:
        intent: the close to send (``None``: send nothing).
        alert: why nothing is sent, for the operator (``None``: nothing to say, e.g. a
            winning position under close-losers).
    """

    intent: OrderIntent | None
    alert: str | None = None


def host_close(session: GateSession, strategy: str, pos: StrategyPosition, quote: LegQuoteFn, root: str,
               why: str, losers_only: bool, now_utc: datetime) -> HostClose:
    """The reviewed close of ``pos`` for a flatten (``losers_only`` False) or close-losers
    request: :func:`close_intent` at the natural price of ``quote``, skipped when it does not
    realize a loss under close-losers, then the gate's exit checks
    (:meth:`GateSession.review_close`, journaled). Only an approved close is returned.

    Args:
        quote: ``symbol -> LegQuote`` now (``None``: no quote), with its quote time.
        root: the option root (``"ES"``), for the combo tick of the band.
    """
    quotes = {leg.symbol: quote(leg.symbol) for leg in pos.structure.legs}

    def sides(symbol: str) -> tuple[float, float]:
        q = quotes.get(symbol)
        return (math.nan, math.nan) if q is None else (q.bid_pts, q.ask_pts)

    close = close_intent(strategy, pos, sides, why)
    if close is None:
        return HostClose(None, f"{why}: cannot price a close of {pos.position_id}: a leg has no quote")
    if losers_only and not is_losing(pos, close):
        return HostClose(None)
    verdict = session.review_close(close, tuple(q for q in quotes.values() if q is not None), root, now_utc)
    if verdict.action is GateAction.REFUSE:
        return HostClose(None, f"{why}: close of {pos.position_id} refused by the gate's exit checks "
                         f"(not sent; retried at the next request): {verdict.reason_text}")
    return HostClose(close)
