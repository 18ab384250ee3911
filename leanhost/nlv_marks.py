"""The NLV the risk gate sees in LEAN: LEAN's account value with every option holding at a
VALIDATED mark (issue 8, "marks that cannot lie"; :mod:`risk.marks`).

How LEAN values holdings (QuantConnect/Lean):

* ``SecurityPortfolioManager.TotalPortfolioValue`` (``Common/Securities/SecurityPortfolioManager.cs``)
  is cash (``CashBook`` + ``UnsettledCashBook``) plus ``Holdings.HoldingsValue`` of every
  invested security except forex, crypto, futures and CFDs (futures add their
  ``FutureHolding.UnsettledProfit``; futures OPTIONS are in the holdings value);
* ``SecurityHolding.HoldingsValue`` (``Common/Securities/SecurityHolding.cs``) is
  ``GetQuantityValue(Quantity)`` = ``price x quantity x SymbolProperties.ContractMultiplier``
  at the holding's ``_price``, which follows ``Security.Price`` = ``SecurityCache.Price``
  (``Common/Securities/Security.cs``, ``SecurityCache.cs``): the last data point's price, for
  a quote bar its close (the mid of the bid and ask closes), with no check at all that the
  quote is two-sided, positive, not crossed or fresh.

So ``portfolio.total_portfolio_value`` uses the last price, and one crossed quote moves it.
The gate does NOT use it as is: it uses ``total_portfolio_value`` with each option holding's
``price x quantity x multiplier`` replaced by ``mark x quantity x multiplier``, where the mark
is the quote's mid when the quote passes the orders' validation and otherwise the holding's
last good mark (:class:`risk.marks.MarkBook`; before its first good one, the holding's
``AveragePrice``, else LEAN's price). Futures, equities and cash stay as LEAN values them
(futures by their unsettled profit, which the strategies never hold on purpose). LEAN's own
margin and buying power are untouched (they are LEAN's business, not the gate's).

Quote time: the security's last REAL quote bar (:func:`leanhost.freshness.real_quote_time_utc`;
a fill-forwarded bar has no real time; :func:`leg_quote`). A bad
quote is reported with its symbol and time (the rejection's ``source``).
"""

from __future__ import annotations

import math
from datetime import datetime
from functools import partial
from typing import TYPE_CHECKING

from AlgorithmImports import SecurityType

from risk.marks import MarkBook, RejectedMark
from safety.quote_validation import LegQuote

from .freshness import UNKNOWN, real_quote_time_utc

if TYPE_CHECKING:
    from AlgorithmImports import QCAlgorithm, Security

MARKED_TYPES = frozenset({SecurityType.OPTION, SecurityType.INDEX_OPTION, SecurityType.FUTURE_OPTION})
"""Holdings the gate marks itself (LEAN's ``HoldingsValue`` of these is replaced)."""


def raw_side(value: float) -> float:
    """A LEAN quote side as the data gave it: 0 (LEAN's "no quote yet": ``SecurityCache``
    never stores a zero side) is NaN; a negative side stays negative (validation names it)."""
    v = float(value)
    return math.nan if v == 0 else v


def leg_quote(security: Security, key: str, now: datetime) -> LegQuote:
    """The security's quote at ``now``: raw bid and ask, and the end of its last real quote bar.
    A fill-forwarded bar has no real time (``None``: refused as ``QUOTE_TIME_MISSING``, never
    "fresh"); a security that holds no bar at all (its prices came from elsewhere, e.g. the
    brokerage's holdings at start) is stamped ``now`` and judged on its prices alone, as
    :func:`leanhost.freshness.is_fresh` and the chain rows of :mod:`leanhost.chains` do."""
    return LegQuote(key, raw_side(security.bid_price), raw_side(security.ask_price), _stamp(security, now))


def index_quote(security: Security, key: str, now: datetime) -> LegQuote:
    """An index's value as a quote: LEAN serves an index (``SecurityType.INDEX``, e.g. SPX) as
    trade bars only (no bid or ask: ``bid_price``/``ask_price`` stay 0), so its ``price`` is
    both sides (0: NaN), stamped like :func:`leg_quote` (the end of its last real bar, a trade
    bar for an index: :func:`leanhost.freshness.last_real_bar`). For the buying-power
    re-marks of index options (:meth:`leanhost.risk_desk.RiskDesk.mark_bp`)."""
    price = raw_side(security.price)
    return LegQuote(key, price, price, _stamp(security, now))


def _stamp(security: Security, now: datetime) -> datetime | None:
    """A quote's time for :func:`leg_quote` and :func:`index_quote`: the end of the security's
    last real bar; ``now`` when it holds no bar at all; None for a fill-forwarded one."""
    when = real_quote_time_utc(security)
    return now if when is UNKNOWN else when if isinstance(when, datetime) else None


def source_of(quote: LegQuote) -> str:
    """Where a rejected quote came from: the LEAN security and its quote's time."""
    when = quote.quote_time_utc.isoformat() if isinstance(quote.quote_time_utc, datetime) else "unknown time"
    return f"LEAN security {quote.symbol}, quote of {when}"


def validated_nlv(algorithm: QCAlgorithm, book: MarkBook, now: datetime) -> tuple[float, list[RejectedMark]]:
    """``(NLV, rejected quotes)``: ``portfolio.total_portfolio_value`` with every held option at
    its validated mark (module docstring), USD. NaN when LEAN's value is not a number."""
    nlv = float(algorithm.portfolio.total_portfolio_value)
    held: set[str] = set()
    for security in list(algorithm.securities.values()):
        qty = float(security.holdings.quantity)
        if qty == 0 or security.symbol.security_type not in MARKED_TYPES:
            continue
        key = str(security.symbol.value)
        held.add(key)
        quote = leg_quote(security, key, now)
        lean_price = float(security.price)
        average = float(security.holdings.average_price)
        mark = book.mark(quote, key, now, tick_pts=float(security.symbol_properties.minimum_price_variation),
                         source=partial(source_of, quote),
                         fallback_pts=average if math.isfinite(average) and average > 0 else lean_price)
        multiplier = float(security.symbol_properties.contract_multiplier)
        nlv += qty * multiplier * (mark - lean_price)
    book.forget(held)
    return nlv, book.take_rejected()
