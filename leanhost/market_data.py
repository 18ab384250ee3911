"""The market a decision sees: feeds per (kind, root), VIX, account value and event dates.

LEAN APIs: ``add_index("VIX", Resolution.MINUTE)`` (docs: "Indices > Requesting Data"; the
index's ``price``, NaN here before its first data: never a default), subscribed whenever any
strategy runs because the risk gate checks VIX and its previous close for every entry; that
previous close comes from ``history(vix, n, Resolution.DAILY)`` once per New York day
(:meth:`MarketData.vix_prev_close`, NaN when missing or stale), and those daily bars are in
every context (``vix_daily``: the labelled IV-rank proxy of a strategy without its own IV
history yet; LEAN's history is available before a backtest's first day and at a live start);
``portfolio.total_portfolio_value`` (net liquidation value, USD); ``Globals.data_folder`` (the data folder LEAN reads, where the
user keeps ``events/events.csv``, parsed by :func:`thetacore.events.parse_events_csv`);
``risk_free_interest_rate_model.get_interest_rate(time)`` (fraction).

:meth:`MarketData.context` builds one :class:`~strategies.base.MarketContext` per decision
with ONE chain read (:class:`~leanhost.chains.ChainReader`).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field, replace
from datetime import date, datetime
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING

from AlgorithmImports import Globals, Resolution

from risk.sizing import micro_root
from strategies.base import LazyChainContext, MarketContext, Strategy, Subscription
from thetacore.chain import ChainSnapshot
from thetacore.events import EventFileError, parse_events_csv

from .chains import ChainReader
from .freshness import bar_minutes, is_fresh
from .future_margins import initial_margin_usd, margin_line
from .scheduling import NEW_YORK, now_utc
from .subscriptions import (
    INDEX_OF,
    DailyHistory,
    UnderlyingFeed,
    plan_feeds,
    schedule_contract_refresh,
    subscribe,
)

if TYPE_CHECKING:
    from AlgorithmImports import QCAlgorithm, Symbol

EVENTS_FILE = Path("events") / "events.csv"
"""The user-maintained events file, relative to LEAN's data folder."""

VIX_HISTORY_BARS = 300
"""Daily VIX bars requested once a day: the previous close (spans any weekend and holiday)
and a year of closes for the labelled IV-rank proxy (``strangle_iv_rank_vix_proxy``)."""

"""A previous VIX close older than this many calendar days is stale (a data gap): NaN."""


def events_path() -> Path:
    """``<data folder>/events/events.csv`` of this LEAN run."""
    return Path(Globals.data_folder) / EVENTS_FILE


def load_event_dates(algorithm: QCAlgorithm) -> dict[str, tuple[date, ...]]:
    """``{SYMBOL: event dates}`` from the events file; a missing file gives ``{}`` and one
    logged warning.

    Raises:
        EventFileError: for a malformed file, after logging it with ``algorithm.error`` so
            that ``initialize`` stops naming the line.
    """
    path = events_path()
    try:
        text = path.read_text()
    except FileNotFoundError:
        algorithm.log(f"WARNING: no events file at {path}: no event avoidance dates")
        return {}
    try:
        return parse_events_csv(text, str(path))
    except EventFileError as exc:
        algorithm.error(f"ThetaDesk cannot start: {exc}")
        raise


def strategy_subscriptions(strategy: Strategy) -> list[Subscription]:
    """What ``strategy`` asks for: ``strategy.subscriptions()`` when it declares several
    windows (IPMCC: its LEAP and its weekly call), else ``[strategy.subscription()]``.

    Raises:
        ValueError: when the subscriptions of one strategy differ in kind or root (a context
            holds one chain).
    """
    several: Callable[[], Iterable[Subscription]] | None = getattr(strategy, "subscriptions", None)
    subs: list[Subscription] = list(several()) if callable(several) else [strategy.subscription()]
    if not subs or len({(s.kind, s.root) for s in subs}) != 1:
        raise ValueError(f"{strategy.name}: subscriptions must share one kind and root, got {subs}")
    return subs


def micro_subscriptions(subs: Iterable[Subscription]) -> list[Subscription]:
    """The micro product's subscription next to each futures-option one whose root has a
    micro (:func:`risk.sizing.micro_root`: ES -> MES), same expiry and strike window: MES
    options list the same strikes and expiries as ES (CME; the move keeps them)."""
    out = []
    for sub in subs:
        micro = micro_root(sub.root) if sub.kind == "future_option" else None
        if micro is not None:
            out.append(replace(sub, root=micro))
    return out


def event_keys(feed: UnderlyingFeed) -> tuple[str, ...]:
    """Event-file symbols that concern ``feed``: its root and the index it is written on
    (SPXW -> SPXW, SPX)."""
    index = INDEX_OF.get(feed.root) if feed.kind == "index_option" else None
    return (feed.root,) if index in (None, feed.root) else (feed.root, index)


@dataclass
class MarketData:
    """Feeds, VIX and events of a run, and the per-decision context."""

    algorithm: QCAlgorithm
    reader: ChainReader
    feeds: dict[tuple[str, str], UnderlyingFeed] = field(default_factory=dict)
    vix: Symbol | None = None
    vix_daily: DailyHistory | None = None
    events: dict[str, tuple[date, ...]] = field(default_factory=dict)
    vix_prev_close_max_age_days: int = 7
    margins: dict[str, tuple[date, float]] = field(default_factory=dict)  # root -> (day, USD) found
    margin_logged: set[tuple[str, date]] = field(default_factory=set)

    @classmethod
    def subscribe(
        cls, algorithm: QCAlgorithm, reader: ChainReader, strategies: Iterable[Strategy], *, micro_move: bool = False
    ) -> MarketData:
        """Subscribe every feed the strategies ask for (one per kind and root), VIX when any
        strategy runs (the risk gate needs it for every entry), and read the events file.
        With ``micro_move`` (parameter ``micro_move_enabled``), each futures-option feed of a
        root with a micro product also gets the micro's options (ES -> MES, same window:
        :func:`micro_subscriptions`), last, so that an entry the halve step refuses can move
        there (:mod:`risk.micro_move`; :meth:`micro_feed`).

        Raises:
            ValueError: for a subscription this host cannot serve (see ``plan_feeds``).
            EventFileError: for a malformed events file.
        """
        subs = [sub for strategy in strategies for sub in strategy_subscriptions(strategy)]
        if micro_move:
            subs += micro_subscriptions(subs)
        market = cls(algorithm, reader, events=load_event_dates(algorithm))
        underlyings: dict[str, Symbol] = {}
        for plan in plan_feeds(subs):
            feed = subscribe(algorithm, plan, underlyings)
            schedule_contract_refresh(algorithm, feed)
            market.feeds[(plan.kind, plan.root)] = feed
        if subs:
            market.vix = algorithm.add_index("VIX", Resolution.MINUTE).symbol
            market.vix_daily = DailyHistory(algorithm, market.vix, None, VIX_HISTORY_BARS)
        return market

    def bar_minutes_of(self, symbol: Symbol) -> int:
        """Bar length (minutes) of the subscription serving the option ``symbol``: 60 for
        a single contract picked at hour resolution (LEAPs), else the feed's chain resolution."""
        for feed in self.feeds.values():
            if feed.contracts is not None and symbol.value in feed.contracts.tracked:
                return bar_minutes(feed.contracts.resolution)
        return 1

    def micro_feed(self, root: str) -> UnderlyingFeed | None:
        """The futures-option feed of ``root``'s micro product (MES for ES), None when ``root``
        has none or it is not subscribed."""
        micro = micro_root(root)
        return self.feeds.get(("future_option", micro)) if micro is not None else None

    def feed_of(self, strategy: Strategy) -> UnderlyingFeed:
        """The feed serving ``strategy``."""
        sub = strategy_subscriptions(strategy)[0]
        return self.feeds[(sub.kind, sub.root)]

    def context(self, feed: UnderlyingFeed, time_utc: datetime) -> MarketContext:
        """Everything a strategy sees at one decision (see the module docstring)."""
        algorithm = self.algorithm
        today_et = time_utc.astimezone(NEW_YORK).date()
        rate_frac = float(algorithm.risk_free_interest_rate_model.get_interest_rate(algorithm.time))
        events = tuple(sorted({d for key in event_keys(feed) for d in self.events.get(key, ())}))

        def read() -> tuple[ChainSnapshot | None, str, float]:
            got = self.reader.read(feed, time_utc)
            return got.snapshot, got.problem, got.underlying_pts

        micro = self.micro_feed(feed.root) if feed.kind == "future_option" else None
        micro_load = None if micro is None else partial(self.micro_snapshot, micro, time_utc)

        # the chain (and the underlying price that comes with it) is read on the rule's first
        # look at either: a management rule with nothing to manage reads no contract, one that
        # holds legs reads only those (chain_for: held_load) (issue 10)
        return LazyChainContext.deferred(
            time_utc, today_et, read, rate_frac, underlying_daily=feed.daily.bars(today_et), underlying_pts=None,
            vix_level=self.vix_level(), nlv_usd=float(algorithm.portfolio.total_portfolio_value), event_dates=events,
            vix_daily=self.vix_daily.bars(today_et) if self.vix_daily is not None else None,
            future_initial_margin_usd=self.future_margin_usd(feed.root, today_et) if feed.kind == "future_option"
            else math.nan, micro_load=micro_load, held_load=partial(self._held_snapshot, feed, time_utc),
        )

    def _held_snapshot(self, feed: UnderlyingFeed, time_utc: datetime, keys: tuple[str, ...]) -> ChainSnapshot | None:
        """Only the contracts ``keys`` now (:meth:`leanhost.chains.ChainReader.read_held`):
        a management rule reads the legs it holds, not the chain (issue 10)."""
        return self.reader.read_held(feed, keys, time_utc)

    def micro_snapshot(self, feed: UnderlyingFeed, time_utc: datetime) -> ChainSnapshot | None:
        """The micro feed's chain now (the positions moved there are valued and closed from
        it: :meth:`strategies.base.MarketContext.chain_for`); None, logged, when it has none."""
        got = self.reader.read(feed, time_utc)
        if got.snapshot is None:
            self.algorithm.log(f"{feed.root} chain at {time_utc:%Y-%m-%d %H:%M}Z: {got.problem}")
        return got.snapshot

    def future_margin_usd(self, root: str, today_et: date) -> float:
        """The exchange's initial margin of one ``root`` future today, USD per contract, from
        LEAN's ``FutureMarginModel`` (:func:`leanhost.future_margins.initial_margin_usd`; read
        until found once a day); NaN (the scan range parameter) when LEAN has none. The margin
        in use, or the reason for the fallback, is logged once a day per root."""
        found = self.margins.get(root)
        if found is not None and found[0] == today_et:
            return found[1]
        margin, note = initial_margin_usd(self.algorithm, root)
        if math.isfinite(margin):
            self.margins[root] = (today_et, margin)
        if (root, today_et) not in self.margin_logged or math.isfinite(margin):
            self.margin_logged = {k for k in self.margin_logged if k[1] == today_et} | {(root, today_et)}
            self.algorithm.log(margin_line(root, today_et, margin, note))
        return margin

    def vix_level(self) -> float:
        """VIX now (index points); NaN without a VIX subscription, before its first data, or
        when its last real bar is older than ``max_quote_age_min`` + 1 minute (a data gap
        LEAN fills forward: :mod:`leanhost.freshness`)."""
        if self.vix is None:
            return math.nan
        securities = self.algorithm.securities
        if not securities.contains_key(self.vix):
            return math.nan
        security = securities[self.vix]
        price = float(security.price)
        if not is_fresh(security, now_utc(self.algorithm), self.reader.max_quote_age_min + bar_minutes(Resolution.MINUTE)):
            return math.nan
        return price if security.has_data and math.isfinite(price) and price > 0 else math.nan

    def vix_prev_close(self, today_et: date) -> float:
        """VIX close of the last session before ``today_et`` (index points); NaN without VIX,
        without daily history, or when that session is more than
        ``vix_prev_close_max_age_days`` (parameter) calendar days old (never a default)."""
        bars = self.vix_daily.bars(today_et) if self.vix_daily is not None else None
        if bars is None:
            return math.nan
        before = bars.before(today_et)
        if not len(before.day):
            return math.nan
        age_days = (today_et - before.day[-1].astype(object)).days
        close = float(before.close_pts[-1])
        if age_days > self.vix_prev_close_max_age_days:
            self.algorithm.log(f"VIX previous close {close:g} of {before.day[-1]} is {age_days} days old: unknown")
            return math.nan
        return close if math.isfinite(close) and close > 0 else math.nan
