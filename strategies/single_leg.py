"""Single-leg helpers of the equity-option strategies (IPMCC, LEAP puts): the option
session, quote checks, spot, one-leg structures, buy-back cost and the closing decision."""

from __future__ import annotations

from datetime import date, time

import numpy as np

from strategies.base import MarketContext, PositionState, StrategyPosition
from strategies.combo_limits import combo_limit
from thetacore.chain import ChainSnapshot
from thetacore.decisions import Decision, OrderIntent, Reason
from thetacore.enums import Action, IntentPurpose, Right
from thetacore.legs import OptionLeg
from thetacore.pricing import NEW_YORK
from thetacore.products import OptionProduct
from thetacore.structures import QuoteError, Structure, StructureKind

EQUITY_OPTIONS_OPEN_ET = time(9, 30)  # Cboe/OCC equity options regular session 09:30-16:00 ET
EQUITY_OPTIONS_CLOSE_ET = time(16, 0)


def session_reasons(ctx: MarketContext) -> list[Reason]:
    """Equity options trade 09:30-16:00 ET; outside it a chain is the last close or empty."""
    now = ctx.time_utc.astimezone(NEW_YORK).time()
    if EQUITY_OPTIONS_OPEN_ET <= now <= EQUITY_OPTIONS_CLOSE_ET:
        return []
    return [Reason("OPTIONS_CLOSED", f"{now:%H:%M} ET is outside the {EQUITY_OPTIONS_OPEN_ET:%H:%M}-"
                   f"{EQUITY_OPTIONS_CLOSE_ET:%H:%M} ET equity-option session: a chain now holds the previous "
                   "close or nothing; no trade on a stale quote")]


def quote_reasons(structure: Structure, chain: ChainSnapshot, ctx: MarketContext, max_age_min: int) -> list[Reason]:
    """``QUOTE_INVALID`` for a leg without a two-sided quote, ``STALE_QUOTE`` for one older
    than ``max_age_min`` minutes at the decision time."""
    try:
        structure.leg_quotes(chain)
    except QuoteError as exc:
        return [Reason("QUOTE_INVALID", str(exc))]
    out = []
    now = np.datetime64(ctx.time_utc.replace(tzinfo=None), "ms")
    for leg in structure.legs:
        quoted = chain.quote_time_utc[chain.index_of(leg.symbol)]
        age_min = float("inf") if np.isnat(quoted) else float((now - quoted) / np.timedelta64(60_000, "ms"))
        if age_min > max_age_min:
            out.append(Reason("STALE_QUOTE", f"{leg.describe()}: quote {age_min:.0f} min old > {max_age_min} min"))
    return out


def spot_pts(ctx: MarketContext, chain: ChainSnapshot | None) -> float:
    """The context's underlying price, else the chain's (median of its finite values); NaN."""
    if np.isfinite(ctx.underlying_pts) or chain is None:
        return float(ctx.underlying_pts)
    finite = chain.underlying_pts[np.isfinite(chain.underlying_pts)]
    return float(np.median(finite)) if finite.size else float("nan")


def single_leg(chain: ChainSnapshot, i: int, ratio: int, prod: OptionProduct) -> Structure:
    """One-leg structure of contract ``i`` of ``chain`` (``ratio`` +1 bought, -1 sold)."""
    leg = OptionLeg(str(chain.symbol[i]), str(chain.underlying_symbol[i]), Right(int(chain.right[i])),
                    float(chain.strike_pts[i]), chain.expiry[i].astype(date), ratio)
    return Structure(StructureKind.SINGLE, (leg,), chain.multiplier_usd_per_pt, prod.underlying_kind)


def buyback_cost_pts(structure: Structure, chain: ChainSnapshot) -> tuple[float, str]:
    """Cost per unit to buy back a short structure, and its basis: the mid, or, when a short
    leg has no bid (a far out-of-the-money option quoted ask-only), the ask, which bounds the
    cost from above; a missing bid is never read as zero.

    Raises:
        QuoteError: when a leg is long, missing, or has no positive ask.
    """
    try:
        return -structure.net_mid_pts(chain), "mid"
    except QuoteError as exc:
        cost = 0.0
        for leg in structure.legs:
            i = int(np.flatnonzero(chain.symbol == leg.symbol)[0]) if (chain.symbol == leg.symbol).any() else -1
            ask = float(chain.ask_pts[i]) if i >= 0 else float("nan")
            if leg.ratio > 0 or not (np.isfinite(ask) and ask > 0):
                raise exc
            cost += -leg.ratio * ask
        return cost, "ask (no bid)"


def close_decision(strategy: str, pos: StrategyPosition, ctx: MarketContext, reason: Reason,
                   toward_far_frac: float, prod: OptionProduct) -> Decision:
    """EXITED with a closing intent (every leg reversed; limit as :func:`strategies.combo_limits.combo_limit`, or
    the ask of a bid-less short leg, see :func:`buyback_cost_pts`), or HELD when it cannot be
    priced."""
    closing = Structure(pos.structure.kind, tuple(
        OptionLeg(leg.symbol, leg.underlying_symbol, leg.right, leg.strike_pts, leg.expiry, -leg.ratio)
        for leg in pos.structure.legs), pos.structure.multiplier_usd_per_pt, pos.structure.underlying_kind)
    details: dict[str, object] = {"position_id": pos.position_id}
    if ctx.chain is None:
        return Decision(ctx.time_utc, strategy, Action.HELD, (reason, Reason(
            "NO_QUOTES", f"exit due but no chain to price it: {ctx.chain_problem or 'no chain'}")), None, details)
    try:
        limit = combo_limit(closing, ctx.chain, prod, toward_far_frac, details)
    except QuoteError:
        try:
            limit, details["limit_basis"] = buyback_cost_pts(pos.structure, ctx.chain)
        except QuoteError as exc:
            return Decision(ctx.time_utc, strategy, Action.HELD, (reason, Reason("QUOTE_INVALID", str(exc))),
                            None, details)
    pos.state, pos.exit_reason = PositionState.CLOSING, reason.code
    intent = OrderIntent(strategy, IntentPurpose.CLOSE, closing, pos.quantity, limit, pos.position_id,
                         tag=f"{pos.position_id} close {reason.code}")
    return Decision(ctx.time_utc, strategy, Action.EXITED, (reason,), intent, details)
