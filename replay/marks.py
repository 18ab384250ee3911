"""The replay's NLV marks from validated quotes only (issue 8; :mod:`risk.marks`).

``nlv_usd`` is cash plus every holding at its mark, and a holding's mark is its quote's mid
only when that quote passes the same validation as an order's legs: otherwise its last good
mark (or, before its first good one, its average cost). Each rejected quote is logged with
its source: the LEAN data file it was read from (under the ``--data`` folder, found from the
market's interest-rate file; ``<data>/...`` when that is unknown) and the minute of its bar.

One :class:`~risk.marks.MarkBook` per replay, kept with the run's :class:`~replay.markets.Quotes`
(:func:`attach` when the run starts; the engine's decision-time NLV and its NLV marks then
share the last good marks, and the buying-power re-marks read the same validated mids,
:func:`bp_mids`).
"""

from __future__ import annotations

import logging
import math
from collections.abc import Callable, Iterable
from datetime import UTC, datetime, timedelta
from functools import partial
from pathlib import Path
from weakref import WeakKeyDictionary

import numpy as np

from replay.index_market import IndexOptionMarket
from replay.lean_data.interest_rate import INTEREST_RATE_RELATIVE_PATH
from replay.lean_data.paths import minute_zip_path
from replay.ledger import Ledger
from replay.market import FutureOptionMarket, OptionMarket
from replay.markets import Quotes
from replay.schedule import NEW_YORK
from risk.marks import MarkBook
from safety.quote_validation import LegQuote
from thetacore.parameters import Parameters, load_parameters

log = logging.getLogger("replay")
DATA = Path("<data>")
"""Stands for the ``--data`` folder in a source when the market's folder is unknown."""

_BOOKS: WeakKeyDictionary[Quotes, MarkBook] = WeakKeyDictionary()


def attach(quotes: Quotes, params: Parameters) -> MarkBook:
    """The mark book of the replay whose quotes are ``quotes``, validating with ``params``
    (created on the first call; later calls return the same book, its last good marks kept)."""
    book = _BOOKS.get(quotes)
    if book is None:
        book = _BOOKS[quotes] = MarkBook(params)
    book.params = params
    return book


def book_for(quotes: Quotes) -> MarkBook:
    """The book :func:`attach` made for ``quotes``; one with the default parameters when no
    run attached one (a caller outside a replay run)."""
    return _BOOKS.get(quotes) or attach(quotes, load_parameters({}))


def holding_quote(quotes: Quotes, symbol: str, t_utc: datetime) -> tuple[LegQuote | None, OptionMarket | None]:
    """The latest quote of ``symbol`` at or before ``t_utc`` within the market's
    ``max_quote_age_min`` (``None`` when there is none), with its bar's end time, and the
    market it belongs to. A quote source without LEAN-format markets (the MODELLED daily
    replay, :class:`replay.modelled_quotes.ModelledQuotes`) answers through its own
    ``leg_quote(symbol, t_utc)``."""
    own = getattr(quotes, "leg_quote", None)
    if own is not None:
        return own(symbol, t_utc), None
    for market in quotes.markets:
        contract = market.by_symbol.get(symbol)
        series = contract.quotes if contract is not None else market.underlyings.get(symbol)
        if series is None:
            continue
        bid, ask, end = series.at(np.datetime64(t_utc.astimezone(UTC).replace(tzinfo=None), "ms"), market.max_age)
        if np.isnat(end):
            return None, market
        when = datetime.fromtimestamp(int(end.astype(np.int64)) / 1000.0, UTC)
        return LegQuote(symbol, bid, ask, when), market
    return None, None


def source_of(market: OptionMarket | None, symbol: str, quote: LegQuote | None, t_utc: datetime) -> str:
    """Where the quote of ``symbol`` at ``t_utc`` was read: the LEAN minute zip of the bar's
    day (its start in the data time zone) and the bar's end minute, New York time."""
    end = quote.quote_time_utc if quote is not None and isinstance(quote.quote_time_utc, datetime) else t_utc
    minute = f"minute {end.astimezone(NEW_YORK):%Y-%m-%d %H:%M} ET"
    if market is None:
        return f"{symbol}: in no loaded market, {minute}"
    day = (end - timedelta(minutes=1)).astimezone(market.hours.data_tz).date()
    data = data_root(market)
    try:
        contract = market.by_symbol.get(symbol)
        if isinstance(market, FutureOptionMarket):
            if contract is not None:
                month = contract.underlying[len(market.root):]
                path = minute_zip_path(data, "futureoption", "cme", market.root, day, "quote", future_month=month)
            else:
                path = minute_zip_path(data, "future", "cme", market.root, day, "quote")
        elif isinstance(market, IndexOptionMarket) and contract is not None:
            path = minute_zip_path(data, "indexoption", "usa", market.root, day, "quote")
        else:
            return f"{symbol}: {type(market).__name__} {market.root} data, {minute}"
    except ValueError:
        return f"{symbol}: {market.root} data, {minute}"
    return f"{path} ({symbol}), {minute}"


def data_root(market: OptionMarket) -> Path:
    """The ``--data`` folder ``market`` was read from: its interest-rate file's path less
    LEAN's relative path of that file (:data:`DATA` when it does not end so)."""
    rel = Path(INTEREST_RATE_RELATIVE_PATH).parts
    path = Path(market.rates.path)
    if len(path.parts) > len(rel) and path.parts[-len(rel):] == rel:
        return Path(*path.parts[:-len(rel)])
    return DATA


def bp_mids(quotes: Quotes, symbols: Iterable[str], t: datetime) -> dict[str, float]:
    """``{symbol: mid_pts}`` the buying-power re-marks may use at ``t`` (issue 11): the mark
    book's validated mids (:meth:`risk.marks.MarkBook.current_mids`, the NLV marks' validation;
    a holding marked good at ``t`` by :func:`nlv_usd` gives that mark). A symbol that fails is
    absent (its position keeps its last good buying power) and logged at debug level with its
    source (the NLV mark already logged a held leg's price problem)."""
    def quote_of(symbol: str) -> tuple[LegQuote | None, float, Callable[[], str]]:
        quote, market = holding_quote(quotes, symbol, t)
        return quote, (market.tick if market is not None else 0.0), partial(source_of, market, symbol, quote, t)

    mids, rejected = book_for(quotes).current_mids(symbols, t, quote_of)
    for r in rejected:
        log.debug("BP re-mark: %s", r)
    return mids


def nlv_usd(ledger: Ledger, quotes: Quotes, t: datetime) -> float:
    """Cash plus every holding at its validated mark (:class:`~risk.marks.MarkBook`), USD;
    NaN when a holding has no good mark and no cost to fall back on. Rejected quotes are
    logged (a price problem as a warning, an absent or old quote at debug level)."""
    book = book_for(quotes)
    value = 0.0
    for h in ledger.holdings.values():
        quote, market = holding_quote(quotes, h.symbol, t)
        tick = market.tick if market is not None else 0.0
        cost = h.cost_usd / (h.quantity * h.multiplier_usd_per_pt) if h.quantity else math.nan
        mark = book.mark(quote, h.symbol, t, tick_pts=tick, fallback_pts=cost,
                         source=partial(source_of, market, h.symbol, quote, t))
        if not math.isfinite(mark):
            value = math.nan
        value += h.quantity * mark * h.multiplier_usd_per_pt
    book.forget(set(ledger.holdings))
    for r in book.take_rejected():
        log.log(logging.WARNING if r.is_price_problem else logging.DEBUG, "%s", r)
    return ledger.cash_usd + value
