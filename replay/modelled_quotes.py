"""Quotes of the MODELLED daily chains for the simulated broker (:class:`replay.broker.QuoteSource`).

One trading day at a time: :meth:`ModelledQuotes.add_chain` takes the day's modelled chains
(the full grid on a decision day, the held contracts only otherwise, :mod:`modelled.chains`)
and :meth:`ModelledQuotes.set_underlyings` the day's closes (SPY, and every listed ES future,
``F = SPX e^{(r-q)T}``). A quote asked for at a time on the current day (New York date) is the
day's close quote; at an earlier day it is the quote recorded for that symbol then (kept only
for the legs of the orders sent, :meth:`remember`), else NaN: a missing quote is not zero.
Every symbol here ends in or starts with ``*MODELLED`` (:mod:`modelled`).
"""

from __future__ import annotations

import math
from datetime import date, datetime

import numpy as np

from modelled.chains import ModelledChain
from replay.schedule import NEW_YORK
from safety.quote_validation import LegQuote
from thetacore.chain import ChainSnapshot

_NAN2 = (float("nan"), float("nan"))


class ModelledQuotes:
    """The day's MODELLED close quotes by symbol (contracts and underlyings), points."""

    def __init__(self) -> None:
        self.day: date | None = None
        self.now: dict[str, tuple[float, float]] = {}
        self.last: dict[str, float] = {}
        self.under: dict[str, float] = {}
        self.futures: dict[str, date] = {}  # future symbol (*MODELLED) -> last trading day
        self.history: dict[tuple[str, date], tuple[float, float]] = {}
        self.snaps: list[ChainSnapshot] = []

    def new_day(self, day: date) -> None:
        """Forget the previous day's quotes (last mids stay for :meth:`last_mid`)."""
        self.keep_last()
        self.day, self.now, self.under, self.snaps = day, {}, {}, []

    def add_chain(self, chain: ModelledChain) -> None:
        """Take every row of a day's chain as that day's quote (bid NaN: no bid); looked up
        on demand (:meth:`thetacore.chain.ChainSnapshot.index_of`), later chains first."""
        self.snaps.insert(0, chain.snapshot)

    def keep_last(self) -> None:
        """Record the current day's mids of the symbols quoted so far (for :meth:`last_mid`)."""
        for sym, (b, a) in self.now.items():
            m = (b + a) / 2
            if np.isfinite(m):
                self.last[sym] = m

    def set_underlyings(self, prices: dict[str, float], futures: dict[str, date]) -> None:
        """The day's underlying closes (a future's quote is its model price, bid = ask)."""
        self.under.update(prices)
        self.futures.update(futures)
        for sym, px in prices.items():
            self.now[sym] = (px, px)
            self.last[sym] = px

    def remember(self, symbols: list[str]) -> None:
        """Keep today's quotes of ``symbols`` (an order's legs) for later look-ups."""
        assert self.day is not None
        for sym in symbols:
            self.history[(sym, self.day)] = self.now.get(sym) or self._from_chains(sym)

    def quote(self, symbol: str, t_utc: datetime) -> tuple[float, float]:
        """``(bid_pts, ask_pts)`` at ``t_utc`` (module doc), NaNs when unknown."""
        day = t_utc.astimezone(NEW_YORK).date()
        if day == self.day:
            got = self.now.get(symbol)
            if got is None:
                got = self._from_chains(symbol)
            return got
        return self.history.get((symbol, day), _NAN2)

    def leg_quote(self, symbol: str, t_utc: datetime) -> LegQuote | None:
        """The MODELLED quote of ``symbol`` at ``t_utc`` for the NLV marks
        (:func:`replay.marks.holding_quote`), stamped ``t_utc`` (the day's close prices are
        the quotes of the decision minute); ``None`` when the model quotes it no price."""
        bid, ask = self.quote(symbol, t_utc)
        if math.isnan(bid) and math.isnan(ask):
            return None
        return LegQuote(symbol, bid, ask, t_utc)

    def _from_chains(self, symbol: str) -> tuple[float, float]:
        for snap in self.snaps:
            i = snap.symbol_index().get(symbol)
            if i is not None:
                got = (float(snap.bid_pts[i]), float(snap.ask_pts[i]))
                self.now[symbol] = got
                return got
        return _NAN2

    def last_mid(self, symbol: str, t_utc: datetime) -> float:
        """The last known mid of ``symbol`` up to the current day (NaN if never quoted)."""
        self.keep_last()
        return self.last.get(symbol, float("nan"))

    def underlying_mids(self, t_utc: datetime | None = None) -> dict[str, float]:
        """The current day's underlying closes by symbol."""
        return dict(self.under)

    def future_expiry(self, symbol: str) -> date | None:
        """Last trading day of a MODELLED ES future (for the broker's physical delivery)."""
        return self.futures.get(symbol)
