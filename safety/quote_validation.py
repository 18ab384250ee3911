"""Quote validation: every leg of an order must have a sane, fresh, two-sided quote.

A leg passes when, in this order (the first failure is the leg's reason):

1. ``QUOTE_MISSING``: the leg's symbol has a quote at all;
2. ``QUOTE_NAN``: bid and ask are finite numbers (NaN, infinity, ``None``, a string or a
   boolean is no price);
3. ``QUOTE_NONPOSITIVE``: bid > 0 and ask > 0 (a zero bid is no market, never a price of 0);
4. ``QUOTE_CROSSED``: bid <= ask;
5. ``QUOTE_SPREAD_WIDE``: ask - bid <= ``safety_max_spread_frac_of_mid`` x mid;
6. ``QUOTE_TIME_MISSING`` / ``QUOTE_STALE`` / ``QUOTE_TIME_AHEAD``: the quote has a time (a
   timezone-aware ``datetime``; anything else is no time), is
   at most ``safety_max_quote_age_sec`` seconds old at the decision time, and is not more
   than ``safety_max_quote_ahead_sec`` ahead of it.

Every bad leg gets one reason with its numbers; all legs are checked, so a journal row shows
every bad leg at once. Prices are per contract in points; times are timezone-aware UTC.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime

from thetacore.decisions import Reason
from thetacore.structures import Structure


@dataclass(frozen=True)
class LegQuote:
    """Best bid/ask of one option contract at one moment.

    Attributes:
        symbol: contract identifier, as in :class:`thetacore.chain.ChainSnapshot`.
        bid_pts, ask_pts: best bid and ask in points (NaN: no quote on that side).
        quote_time_utc: time of the quote, timezone-aware UTC; ``None`` when unknown.
    """

    symbol: str
    bid_pts: float
    ask_pts: float
    quote_time_utc: datetime | None


def leg_quote_reason(quote: LegQuote | None, symbol: str, now_utc: datetime, *,
                     max_spread_frac: float, max_age_sec: float, max_ahead_sec: float = 1.0,
                     spread_floor_pts: float = 0.0) -> Reason | None:
    """The first problem of one leg's quote, or ``None`` when the quote is usable. A spread
    up to ``spread_floor_pts`` always passes (a 0.20/0.35 wing is 55% of its mid but only
    three 0.05 ticks wide)."""
    if quote is None:
        return Reason("QUOTE_MISSING", f"{symbol}: no quote for this leg")
    bid, ask = quote.bid_pts, quote.ask_pts
    if not (_finite(bid) and _finite(ask)):
        return Reason("QUOTE_NAN", f"{symbol}: bid={bid} ask={ask} is not a two-sided number")
    if bid <= 0 or ask <= 0:
        return Reason("QUOTE_NONPOSITIVE", f"{symbol}: bid {bid:g} ask {ask:g}; both must be > 0")
    if bid > ask:
        return Reason("QUOTE_CROSSED", f"{symbol}: crossed, bid {bid:g} > ask {ask:g}")
    mid = (bid + ask) / 2.0
    if ask - bid > max(max_spread_frac * mid, spread_floor_pts) + 1e-12:
        return Reason("QUOTE_SPREAD_WIDE", f"{symbol}: spread {ask - bid:.4f} = {(ask - bid) / mid:.3f} "
                      f"of mid {mid:.4f} > {max_spread_frac:.2f}")
    return _age_reason(quote, symbol, now_utc, max_age_sec, max_ahead_sec)


def _age_reason(quote: LegQuote, symbol: str, now_utc: datetime, max_age_sec: float,
                max_ahead_sec: float) -> Reason | None:
    if not isinstance(quote.quote_time_utc, datetime) or quote.quote_time_utc.tzinfo is None:
        return Reason("QUOTE_TIME_MISSING", f"{symbol}: quote has no (timezone-aware) time")
    age = (now_utc - quote.quote_time_utc).total_seconds()
    if age > max_age_sec:
        return Reason("QUOTE_STALE", f"{symbol}: quote {age:.0f} s old > {max_age_sec:g} s")
    if age < -max_ahead_sec:
        return Reason("QUOTE_TIME_AHEAD", f"{symbol}: quote stamped {-age:.0f} s after the decision time")
    return None


def quote_reasons(structure: Structure, quotes: Mapping[str, LegQuote], now_utc: datetime, *,
                  max_spread_frac: float, max_age_sec: float, max_ahead_sec: float = 1.0,
                  spread_floor_pts: float = 0.0) -> list[Reason]:
    """One reason per leg of ``structure`` whose quote fails (empty: every leg usable).

    Args:
        structure: the order's legs.
        quotes: quotes by contract symbol.
        now_utc: decision time, timezone-aware UTC.
        max_spread_frac: most ask - bid as a fraction of the mid.
        max_age_sec: oldest acceptable quote, seconds.
        max_ahead_sec: most a quote may be stamped after ``now_utc`` (clock skew), seconds.
    """
    out = []
    for leg in structure.legs:
        r = leg_quote_reason(quotes.get(leg.symbol), leg.symbol, now_utc,
                             max_spread_frac=max_spread_frac, max_age_sec=max_age_sec,
                             max_ahead_sec=max_ahead_sec, spread_floor_pts=spread_floor_pts)
        if r is not None:
            out.append(r)
    return out


def net_mid_natural_pts(structure: Structure, quotes: Mapping[str, LegQuote]) -> tuple[float, float]:
    """``(net mid, net natural)`` per structure unit in points, LEAN sign (+ debit, - credit).

    Natural crosses every spread (buy at the ask, sell at the bid), so natural >= mid.
    Only call after :func:`quote_reasons` found no problem.
    """
    mid = natural = 0.0
    for leg in structure.legs:
        q = quotes[leg.symbol]
        mid += leg.ratio * (q.bid_pts + q.ask_pts) / 2.0
        natural += leg.ratio * (q.ask_pts if leg.ratio > 0 else q.bid_pts)
    return mid, natural


def _finite(x: object) -> bool:
    """A real, finite number: never a boolean (``True`` is an ``int`` to Python, not a price)."""
    return isinstance(x, int | float) and not isinstance(x, bool) and math.isfinite(x)
