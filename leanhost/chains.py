"""One :class:`~thetacore.chain.ChainSnapshot` per decision, read from LEAN.

Where the contracts come from (docs: "Option Chains"; ``Engine/DataFeeds/TimeSliceFactory.cs``):

* chain feeds: ``algorithm.current_slice.option_chains`` holds one ``OptionChain`` per
  canonical option symbol: per futures contract for futures options (the canonical's
  ``underlying`` is the future, root = the future's root ``"ES"``), one per option root for
  index and equity options (root = the canonical's ``id.symbol``: ``"SPXW"``, ``"SPY"``). Each
  ``OptionContract`` gives ``symbol``, ``strike``, ``expiry``, ``right``, ``bid_price``,
  ``ask_price`` and ``time`` (end of its last data, the contract's exchange time zone). At a
  scheduled event the current slice is the latest one before the event time (the engine sets
  it before firing events), so quotes are closes of bars that ended by then: no look-ahead.
* single-contract feeds (LEAPs, hour bars): a slice holds a contract only in the steps where
  it has data, so these are read from ``algorithm.securities[symbol]`` (``bid_price``,
  ``ask_price``, the end of the last real quote bar) for every contract the feed tracks.
* fill-forward (:mod:`leanhost.freshness`): a chain row's ``time`` is that of a
  fill-forwarded bar, i.e. now; the quote time kept is the end of the contract security's
  last REAL quote bar (``security.cache.get_data(QuoteBar)``), so an old quote ages and the
  ``max_quote_age_min`` checks refuse it.

Contract facts come from ``security.symbol_properties`` (``contract_multiplier``: USD per
point; ``minimum_price_variation``: tick in points); exercise style and settlement from
:mod:`thetacore.products` (SPXW European cash, SPY American physical, ES American into the
future). The chain is read once into arrays (docs/lean-notes.md: never loop over it every minute;
LEAN's lazy IV/greeks are not read: the core computes its own). A missing or zero quote side
is NaN, never 0.

The underlying price of a decision: the index or equity (mid of its quote, else its last
price); for futures options the front future (the earliest-expiring future of the chain with
a price). :attr:`ChainReader.symbols` maps snapshot strings back to LEAN ``Symbol`` objects
for orders (and :meth:`ChainReader.key_of` the other way, for order events); it keeps every
contract ever seen, so positions stay tradable after their contracts leave the filter, and a
held contract missing from the slice's chain (an empty chain in a data gap) is read from its
security (logged once a day per root), so its strategy still sees it.
:meth:`ChainReader.read_held` reads only a position's legs (one security each) for a
management rule (issue 10: ``strategies.base.LazyChainContext.chain_for``).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import numpy as np
from AlgorithmImports import OptionRight, SecurityType

from thetacore.chain import ChainSnapshot
from thetacore.enums import Right
from thetacore.products import product

from .freshness import UNKNOWN, bar_minutes, is_fresh, real_quote_time_utc
from .subscriptions import UnderlyingFeed

if TYPE_CHECKING:
    from AlgorithmImports import OptionChain, QCAlgorithm, Security, Slice, Symbol


def quote_pts(value: float) -> float:
    """A LEAN quote side in points; 0, negative or non-finite (no quote) -> NaN."""
    v = float(value)
    return v if math.isfinite(v) and v > 0 else math.nan


@dataclass(frozen=True)
class ChainRead:
    """What one read gives a decision: the snapshot (or ``None``), the problem text when it is
    missing or partial, and the underlying's price now (points; NaN when unknown)."""

    snapshot: ChainSnapshot | None
    problem: str
    underlying_pts: float


@dataclass
class _Rows:
    seen: set[str] = field(default_factory=set)
    symbol: list[str] = field(default_factory=list)
    underlying_symbol: list[str] = field(default_factory=list)
    underlying_pts: list[float] = field(default_factory=list)
    strike_pts: list[float] = field(default_factory=list)
    expiry: list[date] = field(default_factory=list)
    right: list[int] = field(default_factory=list)
    bid_pts: list[float] = field(default_factory=list)
    ask_pts: list[float] = field(default_factory=list)
    quote_time_utc: list[datetime | None] = field(default_factory=list)
    security: Security | None = None  # one contract's security: multiplier and tick

    def add(self, key: str, symbol: Symbol, underlying: float, bid: float, ask: float, time: datetime | None) -> None:
        if key in self.seen:
            return
        sid = symbol.id
        self.seen.add(key)
        self.symbol.append(key)
        self.underlying_symbol.append(symbol.underlying.value)
        self.underlying_pts.append(underlying)
        self.strike_pts.append(float(sid.strike_price))
        self.expiry.append(sid.date.date())
        self.right.append(int(Right.CALL if sid.option_right == OptionRight.CALL else Right.PUT))
        self.bid_pts.append(bid)
        self.ask_pts.append(ask)
        self.quote_time_utc.append(time)


@dataclass
class ChainReader:
    """Builds chain snapshots and remembers every contract symbol it has seen."""

    algorithm: QCAlgorithm
    symbols: dict[str, Symbol] = field(default_factory=dict)
    _keys: dict[Symbol, str] = field(default_factory=dict)  # the other way
    max_quote_age_min: float = math.inf  # an underlying quote older than this is no price
    _empty_logged: set[tuple[str, date]] = field(default_factory=set)  # (root, UTC day) logged empty

    def read(self, feed: UnderlyingFeed, time_utc: datetime) -> ChainRead:
        """Every option contract of ``feed`` now, as one snapshot, with the underlying price."""
        rows, problems = _Rows(), []
        limit_min = self.max_quote_age_min + bar_minutes(feed.plan.resolution)  # the underlying's bars
        fronts: list[tuple[datetime, float]] = []
        if feed.plan.chain_subs:
            problems += self._read_slice(feed.root, rows, fronts, time_utc, limit_min)
            problems += self._read_held(feed.root, rows)
        under = self._underlying_now(feed, fronts)
        if feed.kind != "future_option" and math.isfinite(under) and not self._fresh(feed.symbol, time_utc, limit_min):
            problems.append(f"{feed.symbol} quote older than {limit_min:g} min or fill-forwarded: no price")
            under = math.nan
        if feed.contracts is not None:
            problems += self._read_contracts(feed, under, rows)
        problem = "; ".join(p for p in problems if p)
        if not rows.symbol:
            return ChainRead(None, problem or f"no {feed.root} option contract", under)
        if rows.security is None:
            return ChainRead(None, f"no {feed.root} option contract is a subscribed security", under)
        return ChainRead(self._snapshot(feed.root, time_utc, rows, rows.security), problem, under)

    def read_held(self, feed: UnderlyingFeed, keys: tuple[str, ...], time_utc: datetime) -> ChainSnapshot | None:
        """Only the contracts ``keys`` (a position's legs) of a chain feed, as a snapshot with
        the same fields as :meth:`read`'s rows of them: one ``securities[symbol]`` per contract
        (its quote is the slice's quote bar, as the chain row's: LEAN
        ``Engine/DataFeeds/TimeSliceFactory.cs``, ``OptionContract.Create``; its quote time the
        end of its last REAL quote bar, :mod:`leanhost.freshness`), each row's underlying the
        price of the contract's own underlying security (the future of a futures option), as
        :meth:`_read_chain` gives it. ``None`` (the caller reads the whole chain) when a key
        is unknown or of another root, not a security, has no bar to date its quote, or the
        feed picks single contracts (their rows take the feed's freshness-checked price)."""
        if feed.contracts is not None or not keys:
            return None
        securities, rows = self.algorithm.securities, _Rows()
        for key in keys:
            symbol = self.symbols.get(key)
            if symbol is None or _root_of(symbol) != feed.root or not securities.contains_key(symbol):
                return None
            security = securities[symbol]
            if real_quote_time_utc(security) is UNKNOWN:
                return None
            under = symbol.underlying
            price = _price_pts(securities[under] if securities.contains_key(under) else None, None)
            self._add_security(symbol, security, price, rows)
        assert rows.security is not None
        return self._snapshot(feed.root, time_utc, rows, rows.security)

    def _fresh(self, symbol: Symbol, time_utc: datetime, limit_min: float) -> bool:
        securities = self.algorithm.securities
        return not securities.contains_key(symbol) or is_fresh(securities[symbol], time_utc, limit_min)

    def key_of(self, symbol: Symbol) -> str | None:
        """The snapshot string of a contract seen in a chain, else ``None``."""
        return self._keys.get(symbol)

    def register(self, key: str, symbol: Symbol) -> None:
        """Know ``symbol`` as ``key`` before any chain shows it (a contract of a position
        restored from the saved book: :mod:`leanhost.book`)."""
        self.symbols[key] = symbol
        self._keys[symbol] = key

    # ----- sources ------------------------------------------------------------------------
    def _read_slice(
        self, root: str, rows: _Rows, fronts: list[tuple[datetime, float]], time_utc: datetime, limit_min: float
    ) -> list[str]:
        # None before the first data slice, although the stubs do not say so.
        current: Slice | None = self.algorithm.current_slice
        if current is None:
            return ["no data slice yet"]
        chains = [(c, chain) for c, chain in current.option_chains.items() if _root_of(c) == root]
        if not chains:
            return [f"no {root} option chain in the slice at {time_utc:%Y-%m-%d %H:%M}Z"]
        for canonical, chain in chains:
            self._read_chain(canonical, chain, rows, fronts, time_utc, limit_min)
        if rows.symbol:
            return []
        text = f"the {root} option chain is empty at {time_utc:%Y-%m-%d %H:%M}Z (a data gap?)"
        if (root, time_utc.date()) not in self._empty_logged:
            self._empty_logged = {k for k in self._empty_logged if k[1] == time_utc.date()} | {(root, time_utc.date())}
            self.algorithm.log(f"{text}; held contracts are read from their securities")
        return [text]

    def _read_chain(
        self, canonical: Symbol, chain: OptionChain, rows: _Rows, fronts: list[tuple[datetime, float]],
        time_utc: datetime, limit_min: float,
    ) -> None:
        securities = self.algorithm.securities
        under_symbol = canonical.underlying
        under_security = securities[under_symbol] if securities.contains_key(under_symbol) else None
        underlying = _price_pts(under_security, chain)
        fresh = under_security is None or is_fresh(under_security, time_utc, limit_min)
        if canonical.security_type == SecurityType.FUTURE_OPTION and math.isfinite(underlying) and fresh:
            fronts.append((under_symbol.id.date, underlying))
        tz: ZoneInfo | None = None
        for contract in chain:
            symbol = contract.symbol
            # each contract's own security: its cache holds the real (not fill-forwarded) quote
            # bar's time (leanhost/freshness.py); the first one also gives the multiplier, tick
            # and time zone of them all
            security = securities[symbol] if securities.contains_key(symbol) else None
            if security is not None and (rows.security is None or tz is None):
                rows.security = rows.security or security
                tz = tz or _zone(security)
            bid, ask = quote_pts(contract.bid_price), quote_pts(contract.ask_price)
            quoted = math.isfinite(bid) or math.isfinite(ask)
            time = _utc(contract.time, tz or _zone(under_security)) if quoted else None
            if quoted and security is not None:  # a fill-forwarded chain row: the real bar's age
                real = real_quote_time_utc(security)
                time = time if real is UNKNOWN else real if isinstance(real, datetime) else None
            rows.add(self._key(symbol), symbol, underlying, bid, ask, time)

    def _read_contracts(self, feed: UnderlyingFeed, underlying: float, rows: _Rows) -> list[str]:
        assert feed.contracts is not None
        securities = self.algorithm.securities
        missing = 0
        for symbol in feed.contracts.symbols():
            if not securities.contains_key(symbol):
                missing += 1
                continue
            self._add_security(symbol, securities[symbol], underlying, rows)
        if not feed.contracts.tracked:
            return [f"no {feed.root} contract picked yet (refreshed {feed.contracts.refreshed_on})"]
        return [f"{missing} picked {feed.root} contract(s) not yet securities"] if missing else []

    def _read_held(self, root: str, rows: _Rows) -> list[str]:
        """Held contracts of ``root`` that the slice's chain lacks (an empty chain in a data gap,
        or a live history provider without canonical history) are read from their securities:
        a position never drops out of the snapshot its strategy manages it by."""
        securities = self.algorithm.securities
        held = [s for k, s in self.symbols.items() if k not in rows.seen and _root_of(s) == root
                and securities.contains_key(s) and securities[s].holdings.quantity != 0]
        for symbol in held:
            under = symbol.underlying
            price = _price_pts(securities[under] if securities.contains_key(under) else None, None)
            self._add_security(symbol, securities[symbol], price, rows)
        return [f"{len(held)} held {root} contract(s) not in the chain: read from their securities"] if held else []

    def _add_security(self, symbol: Symbol, security: Security, underlying: float, rows: _Rows) -> None:
        """One row from the contract's security: its quote and the end of its last REAL quote bar."""
        rows.security = rows.security or security
        bid, ask = quote_pts(security.bid_price), quote_pts(security.ask_price)
        real = real_quote_time_utc(security)  # the last real quote bar (fill-forward: None)
        quoted = math.isfinite(bid) or math.isfinite(ask)
        rows.add(self._key(symbol), symbol, underlying, bid, ask, real if quoted and isinstance(real, datetime) else None)

    def _underlying_now(self, feed: UnderlyingFeed, fronts: list[tuple[datetime, float]]) -> float:
        if feed.kind == "future_option":
            return min(fronts)[1] if fronts else math.nan
        securities = self.algorithm.securities
        security = securities[feed.symbol] if securities.contains_key(feed.symbol) else None
        return _price_pts(security, None)

    # ----- assembly -----------------------------------------------------------------------
    def _snapshot(self, root: str, time_utc: datetime, rows: _Rows, security: Security) -> ChainSnapshot:
        props = security.symbol_properties
        facts = product(root)
        order = np.lexsort(
            (
                np.array(rows.strike_pts),
                np.array(rows.right),
                np.array(rows.expiry, dtype="datetime64[D]"),
            )
        )
        return ChainSnapshot(
            root=root,
            time_utc=time_utc,
            multiplier_usd_per_pt=float(props.contract_multiplier),
            style=facts.style,
            settlement=facts.settlement,
            symbol=np.array(rows.symbol, dtype=object)[order],
            underlying_symbol=np.array(rows.underlying_symbol, dtype=object)[order],
            underlying_pts=np.array(rows.underlying_pts, dtype=np.float64)[order],
            strike_pts=np.array(rows.strike_pts, dtype=np.float64)[order],
            expiry=np.array(rows.expiry, dtype="datetime64[D]")[order],
            right=np.array(rows.right, dtype=np.int8)[order],
            bid_pts=np.array(rows.bid_pts, dtype=np.float64)[order],
            ask_pts=np.array(rows.ask_pts, dtype=np.float64)[order],
            quote_time_utc=_times(rows.quote_time_utc)[order],
            min_tick_pts=float(props.minimum_price_variation),
        )

    def _key(self, symbol: Symbol) -> str:
        """The snapshot's string for ``symbol``: its ``value``, or its unique security
        identifier if another contract already uses that value."""
        known = self._keys.get(symbol)
        if known is not None:
            return known
        key = symbol.value if symbol.value not in self.symbols else str(symbol.id)
        self.symbols[key] = symbol
        self._keys[symbol] = key
        return key


def _root_of(canonical: Symbol) -> str:
    """Root of an option chain key or contract: the future's root for futures options
    (``"ES"``), the option root otherwise (``"SPXW"``, ``"SPY"``)."""
    if canonical.security_type == SecurityType.FUTURE_OPTION:
        return canonical.underlying.id.symbol
    return canonical.id.symbol


def _price_pts(security: Security | None, chain: OptionChain | None) -> float:
    """Mid of ``security``'s two-sided quote, else its last price, else the chain's
    underlying price; NaN when none is positive."""
    if security is not None:
        bid, ask = quote_pts(security.bid_price), quote_pts(security.ask_price)
        if math.isfinite(bid) and math.isfinite(ask) and ask >= bid:
            return (bid + ask) / 2.0
        last = quote_pts(security.price)
        if math.isfinite(last):
            return last
    underlying = chain.underlying if chain is not None else None
    return quote_pts(underlying.price) if underlying is not None else math.nan


def _zone(security: Security | None) -> ZoneInfo | None:
    """The exchange time zone of ``security`` (NodaTime zone id via ``str``), if known."""
    if security is None:
        return None
    try:
        return ZoneInfo(str(security.exchange.time_zone))
    except (ZoneInfoNotFoundError, ValueError):
        return None


def _utc(local: datetime, tz: ZoneInfo | None) -> datetime | None:
    if tz is None:
        return None
    return local.replace(tzinfo=tz).astimezone(UTC)


def _times(values: list[datetime | None]) -> np.ndarray:
    out = np.full(len(values), np.datetime64("NaT"), dtype="datetime64[ms]")
    for i, t in enumerate(values):
        if t is not None:
            out[i] = np.datetime64(t.replace(tzinfo=None), "ms")
    return out
