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
  ``ask_price``, ``get_last_data().end_time``) for every contract the feed tracks.

Contract facts come from ``security.symbol_properties`` (``contract_multiplier``: USD per
point; ``minimum_price_variation``: tick in points); exercise style and settlement from
:mod:`thetacore.products` (SPXW European cash, SPY American physical, ES American into the
future). The chain is read once into arrays (lean-notes.md: never loop over it every minute;
LEAN's lazy IV/greeks are not read: the core computes its own). A missing or zero quote side
is NaN, never 0.

The underlying price of a decision: the index or equity (mid of its quote, else its last
price); for futures options the front future (the earliest-expiring future of the chain with
a price). :attr:`ChainReader.symbols` maps snapshot strings back to LEAN ``Symbol`` objects
for orders (and :meth:`ChainReader.key_of` the other way, for order events); it keeps every
contract ever seen, so positions stay tradable after their contracts leave the filter.
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

from .subscriptions import UnderlyingFeed

if TYPE_CHECKING:
    from AlgorithmImports import BaseData, OptionChain, QCAlgorithm, Security, Slice, Symbol


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

    def read(self, feed: UnderlyingFeed, time_utc: datetime) -> ChainRead:
        """Every option contract of ``feed`` now, as one snapshot, with the underlying price."""
        rows, problems = _Rows(), []
        fronts: list[tuple[datetime, float]] = []
        if feed.plan.chain_subs:
            problems += self._read_slice(feed.root, rows, fronts, time_utc)
        under = self._underlying_now(feed, fronts)
        if feed.contracts is not None:
            problems += self._read_contracts(feed, under, rows)
        problem = "; ".join(p for p in problems if p)
        if not rows.symbol:
            return ChainRead(None, problem or f"no {feed.root} option contract", under)
        if rows.security is None:
            return ChainRead(None, f"no {feed.root} option contract is a subscribed security", under)
        return ChainRead(self._snapshot(feed.root, time_utc, rows, rows.security), problem, under)

    def key_of(self, symbol: Symbol) -> str | None:
        """The snapshot string of a contract seen in a chain, else ``None``."""
        return self._keys.get(symbol)

    # ----- sources ------------------------------------------------------------------------
    def _read_slice(
        self, root: str, rows: _Rows, fronts: list[tuple[datetime, float]], time_utc: datetime
    ) -> list[str]:
        # None before the first data slice, although the stubs do not say so.
        current: Slice | None = self.algorithm.current_slice
        if current is None:
            return ["no data slice yet"]
        chains = [(c, chain) for c, chain in current.option_chains.items() if _root_of(c) == root]
        if not chains:
            return [f"no {root} option chain in the slice at {time_utc:%Y-%m-%d %H:%M}Z"]
        for canonical, chain in chains:
            self._read_chain(canonical, chain, rows, fronts)
        return []

    def _read_chain(
        self, canonical: Symbol, chain: OptionChain, rows: _Rows, fronts: list[tuple[datetime, float]]
    ) -> None:
        securities = self.algorithm.securities
        under_symbol = canonical.underlying
        under_security = securities[under_symbol] if securities.contains_key(under_symbol) else None
        underlying = _price_pts(under_security, chain)
        if canonical.security_type == SecurityType.FUTURE_OPTION and math.isfinite(underlying):
            fronts.append((under_symbol.id.date, underlying))
        tz: ZoneInfo | None = None
        for contract in chain:
            symbol = contract.symbol
            # one contract's security gives the multiplier, tick and time zone of them all:
            # no further read across the bridge once both are known (issue 10)
            if rows.security is None or tz is None:
                security = securities[symbol] if securities.contains_key(symbol) else None
                if security is not None:
                    rows.security = rows.security or security
                    tz = tz or _zone(security)
            bid, ask = quote_pts(contract.bid_price), quote_pts(contract.ask_price)
            quoted = math.isfinite(bid) or math.isfinite(ask)
            time = _utc(contract.time, tz or _zone(under_security)) if quoted else None
            rows.add(self._key(symbol), symbol, underlying, bid, ask, time)

    def _read_contracts(self, feed: UnderlyingFeed, underlying: float, rows: _Rows) -> list[str]:
        assert feed.contracts is not None
        securities = self.algorithm.securities
        missing = 0
        for symbol in feed.contracts.symbols():
            if not securities.contains_key(symbol):
                missing += 1
                continue
            security = securities[symbol]
            rows.security = rows.security or security
            bid, ask = quote_pts(security.bid_price), quote_pts(security.ask_price)
            # None before the contract's first data, although the stubs do not say so.
            last: BaseData | None = security.get_last_data()
            quoted = math.isfinite(bid) or math.isfinite(ask)
            time = _utc(last.end_time, _zone(security)) if quoted and last is not None else None
            rows.add(self._key(symbol), symbol, underlying, bid, ask, time)
        if not feed.contracts.tracked:
            return [f"no {feed.root} contract picked yet (refreshed {feed.contracts.refreshed_on})"]
        return [f"{missing} picked {feed.root} contract(s) not yet securities"] if missing else []

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
    """Root of an option chain key: the future's root for futures options (``"ES"``), the
    option root otherwise (``"SPXW"``, ``"SPY"``)."""
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
