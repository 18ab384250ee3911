"""Subscriptions a strategy asks for, and the underlying's daily bars.

LEAN APIs (docs: "Futures > Requesting Data", "Future Options > Requesting Data > Filter
Contracts"; algorithms ``BasicTemplateFuturesWithExtendedMarketAlgorithm``,
``BasicTemplateFutureOptionAlgorithm``, ``BasicTemplateOptionsFilterUniverseAlgorithm``):

* ``add_future(ticker, Resolution.MINUTE, extended_market_hours=True)`` then
  ``future.set_filter(min_days, max_days)``: the futures contracts whose options we want;
* ``add_future_option(future.symbol, filter)``: one option chain per futures contract, the
  filter keeping expiries ``dte_min..dte_max`` days out and strikes within
  ``strike_range_frac`` of the underlying. LEAN runs filters once per trading day with the
  underlying price of that moment (lean-notes.md), so the strike window is a fraction, wide
  enough for the day's move;
* ``history(symbol, bars, Resolution.DAILY, data_normalization_mode=BACKWARDS_RATIO)`` on the
  canonical future: the continuous front contract's daily bars for ``underlying_daily``.
  Ratio adjustment scales high, low and close alike, so range fractions are exact across rolls.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd
from AlgorithmImports import DataNormalizationMode, Futures, Resolution

from strategies.base import Subscription
from thetacore.market_stats import DailyBars

if TYPE_CHECKING:
    from AlgorithmImports import OptionFilterUniverse, QCAlgorithm, Symbol

FUTURE_TICKERS: dict[str, str] = {
    "ES": Futures.Indices.SP_500_E_MINI,
    "MES": Futures.Indices.MICRO_SP_500_E_MINI,
}
"""Strategy root -> LEAN futures ticker."""

QUARTER_DAYS = 92
"""Futures kept beyond the option window, in calendar days: serial-month options expire up to
one quarter before the quarterly future they are written on."""

DAILY_HISTORY_BARS = 300
"""Daily bars requested once per day: covers a 252-trading-day look-back."""


def strike_window(underlying_pts: float, strike_range_frac: float) -> tuple[float, float]:
    """``(low, high)`` strikes in points kept around ``underlying_pts``."""
    return underlying_pts * (1.0 - strike_range_frac), underlying_pts * (1.0 + strike_range_frac)


def option_filter(sub: Subscription) -> Callable[[OptionFilterUniverse], OptionFilterUniverse]:
    """LEAN option filter: expiries within ``[dte_min, dte_max]`` calendar days, strikes within
    ``strike_range_frac`` of the underlying price at filter time. Without an underlying price
    every strike of the window is kept (a wider chain, never a silently empty one)."""

    def apply(universe: OptionFilterUniverse) -> OptionFilterUniverse:
        # The stubs leave the generic return types of these chained filters unbound (Any).
        window: OptionFilterUniverse = universe.expiration(sub.dte_min, sub.dte_max)
        underlying = universe.underlying
        price = float(underlying.price) if underlying is not None else 0.0
        if not price > 0:
            return window
        low, high = strike_window(price, sub.strike_range_frac)
        kept: OptionFilterUniverse = window.contracts(
            lambda contracts: [c for c in contracts if low <= c.id.strike_price <= high]
        )
        return kept

    return apply


@dataclass
class UnderlyingFeed:
    """What a subscription gave: the canonical future (for date rules) and its daily bars."""

    root: str
    symbol: Symbol
    daily: DailyHistory


def subscribe(algorithm: QCAlgorithm, sub: Subscription) -> UnderlyingFeed:
    """Subscribe the future and its option chains for ``sub``.

    Raises:
        ValueError: for a subscription kind or root this host does not support yet.
    """
    if sub.kind != "future_option":
        raise ValueError(f"leanhost supports future_option subscriptions only, not {sub.kind!r}")
    ticker = FUTURE_TICKERS.get(sub.root)
    if ticker is None:
        raise ValueError(
            f"no LEAN futures ticker for root {sub.root!r}; known: {', '.join(FUTURE_TICKERS)}"
        )
    future = algorithm.add_future(ticker, Resolution.MINUTE, extended_market_hours=True)
    future.set_filter(0, sub.dte_max + QUARTER_DAYS)
    algorithm.add_future_option(future.symbol, option_filter(sub))
    return UnderlyingFeed(sub.root, future.symbol, DailyHistory(algorithm, future.symbol))


@dataclass
class DailyHistory:
    """Daily bars of the continuous front future, fetched at most once per New York day."""

    algorithm: QCAlgorithm
    symbol: Symbol
    bar_count: int = DAILY_HISTORY_BARS
    _day: date | None = field(default=None, init=False)
    _bars: DailyBars | None = field(default=None, init=False)

    def bars(self, today_et: date) -> DailyBars | None:
        """Completed daily bars (the strategy drops today's with ``DailyBars.before``);
        ``None`` when LEAN has none. A failing history request is logged, never fatal."""
        if self._day != today_et:
            self._day, self._bars = today_et, self._fetch()
        return self._bars

    def _fetch(self) -> DailyBars | None:
        try:
            frame = self.algorithm.history(
                self.symbol,
                self.bar_count,
                Resolution.DAILY,
                data_normalization_mode=DataNormalizationMode.BACKWARDS_RATIO,
            )
        except Exception as exc:  # noqa: BLE001 - any engine error means "no bars", logged
            self.algorithm.error(f"daily history of {self.symbol} failed: {exc}")
            return None
        bars = daily_bars_from_frame(frame)
        if bars is None:
            self.algorithm.log(f"no daily history for {self.symbol}")
        return bars


def daily_bars_from_frame(frame: pd.DataFrame | None) -> DailyBars | None:
    """:class:`DailyBars` from a LEAN history DataFrame (columns ``high``, ``low``, ``close``;
    index level ``time`` = bar end time, possibly under ``expiry``/``symbol`` levels).

    The session date of a bar is the date one second before its end, which is right for both
    of LEAN's daily conventions (end at midnight after the session, or at the session close).
    Rows with a missing price are dropped; one bar per date (the last) is kept.
    """
    if frame is None or frame.empty or not {"high", "low", "close"} <= set(frame.columns):
        return None
    names = list(frame.index.names)
    ends = frame.index.get_level_values("time") if "time" in names else frame.index
    days = (pd.DatetimeIndex(ends) - pd.Timedelta(seconds=1)).normalize()
    table = pd.DataFrame(
        {
            "day": days,
            "high": frame["high"].to_numpy(dtype=float),
            "low": frame["low"].to_numpy(dtype=float),
            "close": frame["close"].to_numpy(dtype=float),
        }
    )
    table = table.dropna().sort_values("day", kind="stable").drop_duplicates("day", keep="last")
    if table.empty:
        return None
    return DailyBars(
        table["day"].to_numpy().astype("datetime64[D]"),
        table["high"].to_numpy(dtype=np.float64),
        table["low"].to_numpy(dtype=np.float64),
        table["close"].to_numpy(dtype=np.float64),
    )
