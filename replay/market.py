"""Option markets of the replay (quotes, chain snapshots, contexts); futures options here.

Loads every minute file the window needs up front (so a missing or corrupt file stops the
run before it starts, never in the middle of a position), then answers, for any minute
``t``: the latest quote of a contract as of ``t``, the option chain snapshot at ``t``, the
futures mids. LEAN emits a minute bar at its end, so at ``t`` the replay sees the bars that
started at or before ``t - 1 min``, as LEAN does. A quote older than
``max_quote_age_min`` is missing (NaN), never silently reused.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from functools import partial
from pathlib import Path

import numpy as np
import pandas as pd

from replay.flat_quotes import FlatQuotes
from replay.lean_data.bars import QuoteBars, available_minute_days, read_future_minute, read_option_minute
from replay.lean_data.daily import read_future_daily
from replay.lean_data.errors import NoDataError
from replay.lean_data.interest_rate import InterestRateSeries, interest_rate_path, read_interest_rates
from replay.lean_data.margins import read_future_margins
from replay.lean_data.market_hours import MarketHours, MarketHoursEntry
from replay.lean_data.paths import OptionKey, daily_zip_path
from replay.lean_data.symbol_properties import SymbolProperties
from replay.schedule import NEW_YORK
from strategies.base import LazyChainContext, MarketContext
from thetacore.chain import ChainSnapshot
from thetacore.futures_margins import MarginTable
from thetacore.market_stats import DailyBars
from thetacore.products import product

_BAR = np.timedelta64(60_000, "ms")


@dataclass
class _Series:
    """Quote closes of one contract, sorted by bar end time (UTC, ms)."""

    end_ms: np.ndarray
    bid: np.ndarray
    ask: np.ndarray

    def at(self, t: np.datetime64, max_age: np.timedelta64) -> tuple[float, float, np.datetime64]:
        i = int(np.searchsorted(self.end_ms, t, side="right")) - 1
        if i < 0 or t - self.end_ms[i] > max_age:
            return float("nan"), float("nan"), np.datetime64("NaT", "ms")
        return float(self.bid[i]), float(self.ask[i]), self.end_ms[i]

    def last_mid(self, t: np.datetime64) -> float:
        i = int(np.searchsorted(self.end_ms, t, side="right")) - 1
        while i >= 0:
            b, a = self.bid[i], self.ask[i]
            if np.isfinite(b) and np.isfinite(a) and 0 < b <= a:
                return float((b + a) / 2)
            i -= 1
        return float("nan")


def _series(parts: list[QuoteBars]) -> _Series:
    end = np.concatenate([p.time_utc for p in parts]) + _BAR
    order = np.argsort(end, kind="stable")
    return _Series(end[order], np.concatenate([p.bid_close for p in parts])[order],
                   np.concatenate([p.ask_close for p in parts])[order])


def option_symbol(root: str, month: str, expiry: date, right: int, strike: float) -> str:
    """Replay contract id, OSI-like: ``ES202003 200320P03000000`` (strike x 1000, 8 digits)."""
    return f"{root}{month} {expiry:%y%m%d}{'C' if right > 0 else 'P'}{round(strike * 1000):08d}"


@dataclass
class _Contract:
    symbol: str
    underlying: str
    strike: float
    expiry: date
    right: int
    quotes: _Series


class OptionMarket:
    """Quotes of one option root and its underlying(s); subclasses only load.

    Attributes:
        underlyings: underlying symbol -> quote series (futures mids; for an index or a
            stock the last trade, as bid = ask = last).
        options: every option contract with its quote series.
        daily: underlying symbol (or futures month) -> completed daily bars.
    """

    root: str
    label: str = ""

    def __init__(self, root: str, hours: MarketHoursEntry, underlyings: dict[str, _Series],
                 options: list[_Contract], multiplier: float, tick: float, rates: InterestRateSeries,
                 daily: dict[str, DailyBars], max_quote_age_min: int, extended_hours: bool = False) -> None:
        self.root, self.hours, self.underlyings, self.options = root, hours, underlyings, options
        self.by_symbol = {c.symbol: c for c in options}
        self.multiplier, self.tick, self.rates, self.daily = multiplier, tick, rates, daily
        self.max_age = np.timedelta64(max_quote_age_min * 60_000, "ms")
        self.product = product(root)
        self.extended_hours = extended_hours
        self.margins: MarginTable | None = None
        self._trading_days: dict[date, bool] = {}  # asked every minute by the scheduler
        self._early_close_min: dict[date, int] = {}  # as is this: one answer per day
        self._data_days: frozenset[date] | None = None  # asked by every strategy of the market, every run

    # ----- calendar ----------------------------------------------------------------------
    def is_trading_day(self, day: date) -> bool:
        """LEAN ``date_rules.every_day(symbol)``: a day with a session of the underlying's
        exchange (with extended hours where the LEAN host subscribes them), holidays excluded."""
        known = self._trading_days.get(day)
        if known is None:
            known = self._trading_days[day] = self.hours.is_trading_day(day, extended_hours=self.extended_hours)
        return known

    def early_close_min(self, day: date) -> int:
        """Minutes by which ``day``'s regular close is earlier than a full day's (0 on a
        full day or a closed day): the shift of the ``before_close`` rules
        (:class:`thetacore.schedule.DailyAt`). Asked for every strategy every minute: worked
        out once per day (the exchange's hours never change during a run)."""
        known = self._early_close_min.get(day)
        if known is None:
            known = self._early_close_min[day] = self.hours.early_close_min(day)
        return known

    def data_days(self) -> set[date]:
        """New York dates that are regular sessions of the exchange and on which an option of
        this market has a quote between 09:30 and 16:00 ET (the days a strategy on this
        market can decide anything; a stray Sunday quote does not make a day). Worked out
        once per market (its quotes never change) and returned as a new set each time."""
        if self._data_days is None:
            self._data_days = frozenset(self._find_data_days())
        return set(self._data_days)

    def _find_data_days(self) -> set[date]:
        ends = np.unique(np.concatenate([c.quotes.end_ms for c in self.options])) if self.options else []
        if len(ends) == 0:
            return set()
        ny = pd.DatetimeIndex(ends).tz_localize("UTC").tz_convert("America/New_York")
        minutes = ny.hour * 60 + ny.minute
        regular = (minutes > 9 * 60 + 30) & (minutes <= 16 * 60)
        days = {d.date() for d in ny[regular].normalize().unique()}
        return {d for d in days if self.hours.is_trading_day(d, extended_hours=False)}

    # ----- quotes ------------------------------------------------------------------------
    def _series_of(self, symbol: str) -> _Series | None:
        contract = self.by_symbol.get(symbol)
        return contract.quotes if contract is not None else self.underlyings.get(symbol)

    def has(self, symbol: str) -> bool:
        return self._series_of(symbol) is not None

    def quote(self, symbol: str, t_utc: datetime) -> tuple[float, float]:
        """``(bid_pts, ask_pts)`` as of ``t_utc``; NaN when missing or older than the limit."""
        series = self._series_of(symbol)
        if series is None:
            return float("nan"), float("nan")
        bid, ask, _ = series.at(_ms(t_utc), self.max_age)
        return bid, ask

    def last_mid(self, symbol: str, t_utc: datetime) -> float:
        """Latest valid mid at or before ``t_utc`` however old (for end-of-run marks only)."""
        series = self._series_of(symbol)
        return series.last_mid(_ms(t_utc)) if series is not None else float("nan")

    def underlying_mids(self, t_utc: datetime) -> dict[str, float]:
        """Underlying symbol -> mid (points) as of ``t_utc``, NaN when stale or missing."""
        out = {}
        for sym, series in self.underlyings.items():
            bid, ask, _ = series.at(_ms(t_utc), self.max_age)
            out[sym] = (bid + ask) / 2 if 0 < bid <= ask else float("nan")
        return out

    def front_underlying(self, today: date) -> str:
        """The underlying a strategy's spot means (the only one, or the front future)."""
        return sorted(self.underlyings)[0]

    def daily_bars(self, today: date) -> DailyBars | None:
        """Completed daily bars of the front underlying before ``today``."""
        bars = self.daily.get(self.front_underlying(today))
        return bars.before(today) if bars is not None else None

    # ----- snapshots ---------------------------------------------------------------------
    def chain_at(self, t_utc: datetime) -> tuple[ChainSnapshot | None, str]:
        """The option chain as of ``t_utc``, or ``None`` with the reason.

        Array operations only (issue 10): one ``searchsorted`` of every contract's key into
        the flattened quote series (:class:`replay.flat_quotes.FlatQuotes`), then masks; the same rows, in the same
        order, as asking each contract's series in turn.
        """
        flat = self._flat()
        t = _ms(t_utc)
        today = np.datetime64(t_utc.astimezone(NEW_YORK).date(), "D")
        i, ok = flat.latest(t, self.max_age)
        keep = np.flatnonzero(ok & (flat.expiry >= today))
        if keep.size == 0:
            return None, (f"no {self.root} option quote within {_minutes(self.max_age)} min before "
                          f"{t_utc.astimezone(NEW_YORK):%Y-%m-%d %H:%M} ET")
        unders = self.underlying_mids(t_utc)
        under_pts = np.array([unders.get(u, np.nan) for u in flat.underlying_names])[flat.underlying_code[keep]]
        at = i[keep]
        chain = ChainSnapshot(
            self.root + self.label, t_utc, self.multiplier, self.product.style, self.product.settlement,
            flat.symbol[keep], flat.underlying[keep], under_pts, flat.strike[keep], flat.expiry[keep],
            flat.right[keep], flat.bid[at], flat.ask[at], flat.end_ms[at], min_tick_pts=self.tick,
        )
        problem = "" if np.isfinite(chain.underlying_pts).all() else "some underlyings have no quote"
        return chain, problem

    def _flat(self) -> FlatQuotes:
        if getattr(self, "_flat_cache", None) is None:
            self._flat_cache = FlatQuotes.build(self.options)
        return self._flat_cache

    def context(self, t_utc: datetime, *, nlv_usd: float = float("nan"), vix_level: float = float("nan"),
                event_dates: tuple[date, ...] = ()) -> MarketContext:
        """A :class:`MarketContext` for a decision at ``t_utc`` (at most one chain read).

        The chain is built on the rule's first read of ``ctx.chain`` (:class:`LazyChainContext`):
        a management rule with nothing to manage reads nothing.
        """
        today = t_utc.astimezone(NEW_YORK).date()
        spot = self.underlying_mids(t_utc).get(self.front_underlying(today), float("nan"))
        return LazyChainContext.deferred(t_utc, today, partial(self._chain_load, t_utc), self.rates.rate_on(today),
                                         underlying_daily=self.daily_bars(today), underlying_pts=spot,
                                         vix_level=vix_level, nlv_usd=nlv_usd, event_dates=event_dates,
                                         future_initial_margin_usd=self.initial_margin_usd(today))

    def initial_margin_usd(self, today: date) -> float:
        """The outright future's exchange initial margin per contract on ``today`` (USD),
        NaN without a margin file or before its first row (:mod:`replay.lean_data.margins`)."""
        row = self.margins.on(today) if self.margins is not None else None
        return row.initial_usd if row is not None else float("nan")

    def _chain_load(self, t_utc: datetime) -> tuple[ChainSnapshot | None, str, None]:
        chain, problem = self.chain_at(t_utc)
        return chain, problem, None


class FutureOptionMarket(OptionMarket):
    """ES (or MES) futures and their options over ``[start, end]`` (New York dates)."""

    @classmethod
    def load(cls, data_root: Path | str, root: str, start: date, end: date,
             max_quote_age_min: int = 15) -> FutureOptionMarket:
        """Read every file the window needs.

        Raises:
            DataError: naming the file, for a missing, corrupt or malformed file, or when the
                window holds no option data at all.
        """
        data_root = Path(data_root)
        hours = MarketHours.from_data_root(data_root).entry("future", "cme", root)
        props = SymbolProperties.from_data_root(data_root).get("cme", root, "futureoption")
        lo, hi = start - timedelta(days=1), end + timedelta(days=1)
        fut_days = [d for d in available_minute_days(data_root, "future", "cme", root) if lo <= d <= hi]
        opt_days = [d for d in available_minute_days(data_root, "futureoption", "cme", root) if lo <= d <= hi]
        if not opt_days:
            raise NoDataError(f"no {root} futures-option minute data between {lo} and {hi}",
                            path=data_root / "futureoption" / "cme" / "minute" / root.lower())
        fut_parts: dict[str, list[QuoteBars]] = {}
        for d in fut_days:
            for month, bars in read_future_minute(data_root, "cme", root, d, "quote").items():
                fut_parts.setdefault(month, []).append(bars)
        opt_parts: dict[OptionKey, list[QuoteBars]] = {}
        for d in opt_days:
            for key, bars in read_option_minute(data_root, "futureoption", "cme", root, d, "quote").items():
                opt_parts.setdefault(key, []).append(bars)
        options = [
            _Contract(option_symbol(root, key.future_month, key.expiry, int(key.right), key.strike_pts),
                      f"{root}{key.future_month}", key.strike_pts, key.expiry, int(key.right), _series(parts))
            for key, parts in sorted(opt_parts.items())
        ]
        futures = {f"{root}{m}": _series(p) for m, p in fut_parts.items()}
        daily = {f"{root}{m}": bars for m, bars in _daily_by_month(data_root, root).items()}
        market = cls(root, hours, futures, options, props.multiplier, props.minimum_price_variation,
                     read_interest_rates(interest_rate_path(data_root)), daily, max_quote_age_min,
                     extended_hours=True)
        market.margins = read_future_margins(data_root, "cme", root)
        return market

    def future_expiry(self, symbol: str) -> date | None:
        """Last trading day of the future ``symbol`` (``ES202003``), or ``None`` when this
        market has no such future (:func:`future_expiry`, with the exchange's holidays)."""
        if symbol not in self.underlyings:
            return None
        cache: dict[str, date] = self.__dict__.setdefault("_future_expiries", {})
        if symbol not in cache:
            cache[symbol] = future_expiry(symbol[len(self.root):], self._is_exchange_day)
        return cache[symbol]

    def _is_exchange_day(self, day: date) -> bool:
        return self.hours.is_trading_day(day, extended_hours=False)

    def front_underlying(self, today: date) -> str:
        """The front future as of ``today``: the first contract whose last trading day is
        after ``today``. On its expiry day a quarterly future stops trading at 09:30 ET
        (its final settlement, the special opening quotation), before any regular-session
        decision, so from that day on the next contract is the front (the roll)."""
        months = sorted(self.underlyings)
        live = [s for s in months if (self.future_expiry(s) or today) > today]
        return live[0] if live else months[-1]

    def daily_bars(self, today: date) -> DailyBars | None:
        return front_month_daily({s[len(self.root):]: b for s, b in self.daily.items()}, today,
                                 self._is_exchange_day)


def _minutes(age: np.timedelta64) -> int:
    return int(age / np.timedelta64(60_000, "ms"))


def _ms(t: datetime) -> np.datetime64:
    return np.datetime64(t.astimezone(UTC).replace(tzinfo=None), "ms")


def _daily_by_month(data_root: Path, root: str) -> dict[str, DailyBars]:
    """Daily trade bars per futures contract month (``{}`` when there is no daily file).

    LEAN's futures daily bars are UTC calendar days (with a short Sunday bar), not exchange
    sessions; the consolidation range over them is an approximation, documented as such.
    """
    if not daily_zip_path(data_root, "future", "cme", root, "trade").exists():
        return {}
    return {m: DailyBars(b.day, b.high, b.low, b.close)
            for m, b in read_future_daily(data_root, "cme", root, "trade").items()}


def future_expiry(month: str, is_exchange_day: Callable[[date], bool] | None = None) -> date:
    """Last trading day of the ES/MES future of contract month ``month`` (``"202003"``).

    CME (E-mini and Micro E-mini S&P 500 futures specs): trading terminates at 09:30 ET on
    the third Friday of the contract month, the final settlement being the special opening
    quotation (SOQ) of the index that morning; when that Friday is an exchange holiday, the
    business day before. LEAN: Common/Securities/Future/FuturesExpiryFunctions.cs (the
    ``SP500EMini`` and ``MicroSP500EMini`` entries), ``FuturesExpiryUtilityFunctions.ThirdFriday``
    with ``AddBusinessDaysIfHoliday(..., -1, holidays)``.

    Args:
        month: ``yyyymm``.
        is_exchange_day: the exchange calendar (``None``: every weekday is one).

    Raises:
        ValueError: when ``month`` is not ``yyyymm``.
    """
    if len(month) != 6 or not month.isdigit() or not 1 <= int(month[4:]) <= 12:
        raise ValueError(f"futures contract month must be yyyymm, got {month!r}")
    first = date(int(month[:4]), int(month[4:]), 1)
    day = first + timedelta(days=(4 - first.weekday()) % 7 + 14)
    while is_exchange_day is not None and not is_exchange_day(day):
        day -= timedelta(days=1)
    return day


def front_month_daily(by_month: dict[str, DailyBars], today: date,
                      is_exchange_day: Callable[[date], bool] | None = None) -> DailyBars | None:
    """Bars of the front contract as of ``today``: the first month whose last trading day
    (:func:`future_expiry`) is after ``today``, restricted to sessions before ``today``;
    ``None`` when there is none."""
    months = sorted(m for m in by_month if future_expiry(m, is_exchange_day) > today)
    return by_month[months[0]].before(today) if months else None
