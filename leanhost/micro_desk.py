"""The drawdown halve step's move of a 1-contract ES entry to MES, in LEAN (issue 11).

Rule (docs/strategy-rules.md, "Loss limits and drawdown"; reference M1): at the -10% step new
sizes are halved; "a 1-contract entry moves to the micro product where one exists, else it is
refused". The gate, handed the ES chain, refuses such an entry ``DRAWDOWN_HALVE_MICRO``
(:mod:`risk.sizing`); :func:`moved_to_micro` re-reviews it on the MES chain read now from the
MES feed subscribed next to ES (:meth:`leanhost.market_data.MarketData.micro_feed`, parameter
``micro_move_enabled``) with the MES future's exchange margin
(:meth:`leanhost.market_data.MarketData.future_margin_usd`: LEAN's ``FutureMarginModel``) through
:func:`risk.micro_move.review_on_micro` (1 ES -> 10 MES asked, halved to 5, every limit on the
micro). :func:`context_of` gives the gate the chain an order on the micro's contracts is priced
from (the close of a moved position), so its exit checks read the MES quotes.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from risk.micro_move import review_on_micro
from strategies.base import MarketContext

if TYPE_CHECKING:
    from AlgorithmImports import QCAlgorithm

    from risk.gate import GateVerdict
    from risk.gate_session import GateSession
    from thetacore.decisions import Decision, OrderIntent

    from .market_data import MarketData


def context_of(market: MarketData, intent: OrderIntent, ctx: MarketContext) -> MarketContext:
    """``ctx``, or for an intent on the micro's contracts (the close of a position moved there:
    :meth:`strategies.base.MarketContext.chain_for`) the same context over the micro's chain,
    its first leg's future price and the micro future's exchange margin (USD per contract; NaN:
    the scan parameter). Asks :meth:`~strategies.base.MarketContext.micro_chain_read`, never
    ``ctx.chain``: a close priced from its legs alone reads no chain here (issue 10)."""
    chain = ctx.chain_for(leg.symbol for leg in intent.structure.legs)
    if chain is None or chain is not ctx.micro_chain_read():
        return ctx
    row = chain.symbol_index()[intent.structure.legs[0].symbol]
    return MarketContext(ctx.time_utc, ctx.today_et, chain, ctx.rate_frac, "", ctx.underlying_daily,
                         float(chain.underlying_pts[row]), ctx.vix_level, ctx.nlv_usd, ctx.event_dates,
                         ctx.vix_daily, market.future_margin_usd(chain.root, ctx.today_et))


def moved_to_micro(algorithm: QCAlgorithm, market: MarketData, session: GateSession, decision: Decision,
                   verdict: GateVerdict, ctx: MarketContext, vix_prev: float,
                   nlv: float) -> tuple[Decision, GateVerdict] | None:
    """The moved decision and the gate's verdict on it, when ``verdict`` refused
    ``decision``'s entry only ``DRAWDOWN_HALVE_MICRO`` (module docstring); None when it did not.
    The refusal stands (None, logged) without a micro feed (``micro_move_enabled=false``),
    without a micro chain now, or when a leg is missing on it. A move is logged with both
    sizes."""
    if verdict.codes != ("DRAWDOWN_HALVE_MICRO",):
        return None  # before ctx.chain: a close priced from its legs alone reads no chain (issue 10)
    chain = ctx.chain
    if chain is None:
        return None
    feed = market.micro_feed(chain.root)
    if feed is None:
        algorithm.log(f"{decision.strategy}: no micro feed of {chain.root} (micro_move_enabled=false?): "
                      "the DRAWDOWN_HALVE_MICRO refusal stands")
        return None
    micro_chain = market.micro_snapshot(feed, ctx.time_utc)
    margin = market.future_margin_usd(feed.root, ctx.today_et)
    moved = review_on_micro(session, decision, verdict, ctx, micro_chain, micro_margin_usd=margin,
                            vix_prev_close=vix_prev, now_utc=ctx.time_utc, nlv_usd=nlv)
    if moved is None:
        algorithm.log(f"{decision.strategy}: no {feed.root} chain, or a leg of the entry missing on it: "
                      "the DRAWDOWN_HALVE_MICRO refusal stands")
        return None
    asked = decision.intent.quantity if decision.intent is not None else 0
    algorithm.log(f"{decision.strategy}: {asked} {chain.root} moved to the micro under the halve step: "
                  f"{moved[1].action.value} {moved[1].quantity} {feed.root}")
    return moved
