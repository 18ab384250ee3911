"""Feeds: one subscription per (kind, root) serving every strategy that asks for it.

A strategy declares a :class:`~strategies.base.Subscription`; :func:`plan_feeds` groups them
by ``(kind, root)`` and :func:`subscribe` asks LEAN for the underlying and its options once
per group, at the finest resolution any member asks for, keeping the contracts of every
member's window (:mod:`leanhost.option_filters`).

LEAN APIs, per kind (docs: "Futures/Index Options/Equity Options > Requesting Data"):

* ``future_option`` (ES, MES; ``BasicTemplateFutureOptionAlgorithm``):
  ``add_future(ticker, resolution, extended_market_hours=True)``, ``future.set_filter(0, days)``
  for the futures whose options we want, then ``add_future_option(future.symbol, filter)``
  (one chain per futures contract). ``feed.symbol`` is the canonical future.
* ``index_option`` (SPXW weeklies/dailies, SPX monthlies; ``BasicTemplateSPXWeeklyIndexOptionsAlgorithm``):
  ``add_index("SPX", resolution)`` then ``add_index_option(spx.symbol, root, resolution)`` and
  ``option.set_filter(filter)``. ``feed.symbol`` is the index.
* ``equity_option`` (SPY, QQQ): ``add_equity(ticker, resolution,
  data_normalization_mode=DataNormalizationMode.RAW)`` (options need raw prices), then either
  ``add_option(equity.symbol, resolution)`` + ``set_filter`` (chain subscriptions) or, for
  ``contracts_only`` subscriptions (LEAPs), a :class:`~leanhost.option_filters.ContractUniverse`
  refreshed once a day by a scheduled event (:func:`schedule_contract_refresh`).
* daily bars for ``underlying_daily`` (ATR, EMA, consolidation): ``history(symbol, bars,
  Resolution.DAILY, ...)`` once per New York day (:class:`DailyHistory`); futures ratio-adjusted
  across rolls (``BACKWARDS_RATIO``), equities split-adjusted (same scale as today's raw quotes,
  continuous across splits), indexes as they are.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd
from AlgorithmImports import DataNormalizationMode, Futures, Resolution, TimeZones

from strategies.base import Subscription
from thetacore.market_stats import DailyBars
from thetacore.products import PRODUCTS

from .option_filters import ContractUniverse, option_filter
from .serial import schedule_on
from .ticks import set_future_option_ticks

if TYPE_CHECKING:
    from AlgorithmImports import QCAlgorithm, Symbol

FUTURE_TICKERS: dict[str, str] = {
    "ES": Futures.Indices.SP_500_E_MINI,
    "MES": Futures.Indices.MICRO_SP_500_E_MINI,
}
"""Strategy root -> LEAN futures ticker."""

INDEX_OF: dict[str, str] = {"SPXW": "SPX", "SPX": "SPX"}
"""Index option root -> the index it is written on."""

RESOLUTIONS: dict[str, Resolution] = {
    "minute": Resolution.MINUTE,
    "hour": Resolution.HOUR,
    "daily": Resolution.DAILY,
}
"""``Subscription.resolution`` -> LEAN resolution, finest first."""

KINDS = ("future_option", "index_option", "equity_option")

QUARTER_DAYS = 92
"""Futures kept beyond the option window, in calendar days: serial-month options expire up to
one quarter before the quarterly future they are written on."""

DAILY_HISTORY_BARS = 300
"""Daily bars requested once per day: covers a 252-trading-day look-back."""

CONTRACT_REFRESH_HOUR_ET, CONTRACT_REFRESH_MINUTE_ET = 9, 0
"""New York time of the daily single-contract refresh: before the open, so that new contracts
have data from the first bar of the session."""


@dataclass(frozen=True)
class FeedPlan:
    """The subscriptions of one ``(kind, root)``, in strategy order."""

    kind: str
    root: str
    subs: tuple[Subscription, ...]

    @property
    def chain_subs(self) -> tuple[Subscription, ...]:
        return tuple(s for s in self.subs if not s.contracts_only)

    @property
    def contract_subs(self) -> tuple[Subscription, ...]:
        return tuple(s for s in self.subs if s.contracts_only)

    @property
    def resolution(self) -> Resolution:
        """The finest resolution any member asks for (the underlying's)."""
        return finest(self.subs)


def finest(subs: Iterable[Subscription]) -> Resolution:
    """The finest resolution among ``subs``."""
    names = list(RESOLUTIONS)
    return RESOLUTIONS[min((s.resolution for s in subs), key=names.index)]


def plan_feeds(subs: Iterable[Subscription]) -> list[FeedPlan]:
    """Group ``subs`` by ``(kind, root)``, first appearance first.

    Raises:
        ValueError: naming the subscription, for an unknown kind, resolution or root (a root
            needs product facts in :mod:`thetacore.products`), or ``contracts_only`` on a kind
            other than ``equity_option``.
    """
    groups: dict[tuple[str, str], list[Subscription]] = {}
    for sub in subs:
        _check(sub)
        groups.setdefault((sub.kind, sub.root), []).append(sub)
    return [FeedPlan(kind, root, tuple(members)) for (kind, root), members in groups.items()]


def _check(sub: Subscription) -> None:
    if sub.kind not in KINDS:
        raise ValueError(f"subscription {sub}: kind must be one of {', '.join(KINDS)}")
    if sub.resolution not in RESOLUTIONS:
        raise ValueError(f"subscription {sub}: resolution must be one of {', '.join(RESOLUTIONS)}")
    if sub.kind == "future_option" and sub.root not in FUTURE_TICKERS:
        raise ValueError(f"no LEAN futures ticker for root {sub.root!r}; known: {', '.join(FUTURE_TICKERS)}")
    if sub.kind == "index_option" and sub.root not in INDEX_OF:
        raise ValueError(f"no index for option root {sub.root!r}; known: {', '.join(INDEX_OF)}")
    if sub.root not in PRODUCTS:
        raise ValueError(f"no option product facts for root {sub.root!r} in thetacore/products.py")
    if sub.contracts_only and sub.kind != "equity_option":
        raise ValueError(f"subscription {sub}: contracts_only is supported for equity_option only")


@dataclass
class UnderlyingFeed:
    """What a feed subscribed: the underlying (canonical future, index or equity: date rules
    and price), its daily bars and, for single-contract subscriptions, their universe."""

    plan: FeedPlan
    symbol: Symbol
    daily: DailyHistory
    contracts: ContractUniverse | None = None

    @property
    def root(self) -> str:
        return self.plan.root

    @property
    def kind(self) -> str:
        return self.plan.kind


def subscribe(algorithm: QCAlgorithm, plan: FeedPlan, underlyings: dict[str, Symbol]) -> UnderlyingFeed:
    """Subscribe ``plan``'s underlying and options. ``underlyings`` caches the indexes and
    equities already added (SPX serves both SPX and SPXW feeds)."""
    if plan.kind == "future_option":
        return _future_feed(algorithm, plan)
    if plan.kind == "index_option":
        return _index_feed(algorithm, plan, underlyings)
    return _equity_feed(algorithm, plan, underlyings)


def _future_feed(algorithm: QCAlgorithm, plan: FeedPlan) -> UnderlyingFeed:
    future = algorithm.add_future(FUTURE_TICKERS[plan.root], plan.resolution, extended_market_hours=True)
    future.set_filter(0, max(s.dte_max for s in plan.subs) + QUARTER_DAYS)
    set_future_option_ticks(algorithm, plan.root, future)  # before the options exist (leanhost/ticks.py)
    algorithm.add_future_option(future.symbol, option_filter(*plan.subs))
    daily = DailyHistory(algorithm, future.symbol, DataNormalizationMode.BACKWARDS_RATIO)
    return UnderlyingFeed(plan, future.symbol, daily)


def _index_feed(algorithm: QCAlgorithm, plan: FeedPlan, underlyings: dict[str, Symbol]) -> UnderlyingFeed:
    ticker = INDEX_OF[plan.root]
    if ticker not in underlyings:
        underlyings[ticker] = algorithm.add_index(ticker, plan.resolution).symbol
    index = underlyings[ticker]
    option = algorithm.add_index_option(index, plan.root, plan.resolution)
    option.set_filter(option_filter(*plan.subs))
    return UnderlyingFeed(plan, index, DailyHistory(algorithm, index, None))


def _equity_feed(algorithm: QCAlgorithm, plan: FeedPlan, underlyings: dict[str, Symbol]) -> UnderlyingFeed:
    if plan.root not in underlyings:
        underlyings[plan.root] = algorithm.add_equity(
            plan.root, plan.resolution, data_normalization_mode=DataNormalizationMode.RAW
        ).symbol
    equity = underlyings[plan.root]
    if plan.chain_subs:
        option = algorithm.add_option(equity, finest(plan.chain_subs))
        option.set_filter(option_filter(*plan.chain_subs))
    contracts = None
    if plan.contract_subs:
        contracts = ContractUniverse(algorithm, equity, plan.contract_subs, finest(plan.contract_subs))
        contracts.refresh()
    daily = DailyHistory(algorithm, equity, DataNormalizationMode.SPLIT_ADJUSTED)
    return UnderlyingFeed(plan, equity, daily, contracts)


def schedule_contract_refresh(algorithm: QCAlgorithm, feed: UnderlyingFeed) -> None:
    """Refresh ``feed``'s single contracts every trading day before the open (no-op for
    chain feeds)."""
    contracts = feed.contracts
    if contracts is None:
        return
    schedule_on(
        algorithm,
        f"{feed.kind}:{feed.root}:contracts",
        algorithm.date_rules.every_day(feed.symbol),
        algorithm.time_rules.at(CONTRACT_REFRESH_HOUR_ET, CONTRACT_REFRESH_MINUTE_ET, TimeZones.NEW_YORK),
        contracts.refresh,
    )


@dataclass
class DailyHistory:
    """Daily bars of the underlying, fetched at most once per New York day."""

    algorithm: QCAlgorithm
    symbol: Symbol
    normalization: DataNormalizationMode | None
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
            if self.normalization is None:
                frame = self.algorithm.history(self.symbol, self.bar_count, Resolution.DAILY)
            else:
                frame = self.algorithm.history(
                    self.symbol, self.bar_count, Resolution.DAILY, data_normalization_mode=self.normalization
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
