"""One :class:`~thetacore.chain.ChainSnapshot` per decision, read from LEAN's current slice.

LEAN APIs (docs: "Future Options > Requesting Data > Universes"; ``Data/Market/OptionChain``):
``algorithm.current_slice.option_chains`` holds one ``OptionChain`` per futures contract
(keyed by the canonical option symbol, whose ``underlying`` is the future). Each
``OptionContract`` gives ``symbol``, ``strike``, ``expiry``, ``right``, ``bid_price``,
``ask_price`` and ``time`` (end of its last data, exchange time zone). Contract facts come
from ``security.symbol_properties`` (``contract_multiplier``: USD per point;
``minimum_price_variation``: tick in points); exercise style and settlement from
:mod:`thetacore.products`.

At a scheduled event the current slice is the latest time slice up to the event time
(``Engine/AlgorithmManager.cs`` sets it before firing events), so quotes are the closes of
minute bars that ended by then: no look-ahead.

The chain is read once into arrays (lean-notes.md: never loop over it every minute; LEAN's
lazy IV/greeks are not read at all: the core computes its own). A missing or zero quote side
is NaN, never 0. The underlying price is the future's mid (its last price without a
two-sided quote). :attr:`ChainReader.symbols` maps the snapshot's symbol strings back to LEAN
``Symbol`` objects for orders and keeps every contract ever seen, so positions stay
tradable after their contracts leave the filter.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import numpy as np
from AlgorithmImports import OptionRight

from strategies.base import MarketContext
from thetacore.chain import ChainSnapshot
from thetacore.enums import Right
from thetacore.products import product

from .scheduling import NEW_YORK
from .subscriptions import UnderlyingFeed

if TYPE_CHECKING:
    from AlgorithmImports import OptionChain, QCAlgorithm, Security, Slice, Symbol


def quote_pts(value: float) -> float:
    """A LEAN quote side in points; 0, negative or non-finite (no quote) -> NaN."""
    v = float(value)
    return v if math.isfinite(v) and v > 0 else math.nan


@dataclass
class _Rows:
    symbol: list[str] = field(default_factory=list)
    underlying_symbol: list[str] = field(default_factory=list)
    underlying_pts: list[float] = field(default_factory=list)
    strike_pts: list[float] = field(default_factory=list)
    expiry: list[date] = field(default_factory=list)
    right: list[int] = field(default_factory=list)
    bid_pts: list[float] = field(default_factory=list)
    ask_pts: list[float] = field(default_factory=list)
    quote_time_utc: list[datetime | None] = field(default_factory=list)


@dataclass
class ChainReader:
    """Builds chain snapshots and remembers every contract symbol it has seen."""

    algorithm: QCAlgorithm
    symbols: dict[str, Symbol] = field(default_factory=dict)

    def snapshot(self, root: str, time_utc: datetime) -> tuple[ChainSnapshot | None, str]:
        """All ``root`` option contracts of the current slice as one snapshot.

        Returns:
            ``(snapshot, "")``, or ``(None, problem)`` when there is no slice, no chain of
            ``root`` or no contract security to read the multiplier from.
        """
        # None before the first data slice, although the stubs do not say so.
        current: Slice | None = self.algorithm.current_slice
        if current is None:
            return None, "no data slice yet"
        chains = [(c, chain) for c, chain in current.option_chains.items() if _root_of(c) == root]
        if not chains:
            return None, f"no {root} option chain in the slice at {time_utc:%Y-%m-%d %H:%M}Z"
        rows, first_security = _Rows(), None
        for canonical, chain in chains:
            first_security = self._read_chain(canonical, chain, rows) or first_security
        if not rows.symbol:
            return None, f"{len(chains)} {root} option chain(s) without contracts"
        if first_security is None:
            return None, f"no {root} option contract is a subscribed security"
        props = first_security.symbol_properties
        facts = product(root)
        order = np.lexsort(
            (
                np.array(rows.strike_pts),
                np.array(rows.right),
                np.array(rows.expiry, dtype="datetime64[D]"),
            )
        )
        snap = ChainSnapshot(
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
        return snap, ""

    def _read_chain(self, canonical: Symbol, chain: OptionChain, rows: _Rows) -> Security | None:
        """Append ``chain``'s contracts to ``rows``; return one contract's security."""
        securities = self.algorithm.securities
        future = canonical.underlying
        future_security = securities[future] if securities.contains_key(future) else None
        underlying = _underlying_pts(future_security, chain)
        tz = _zone(future_security)
        found: Security | None = None
        for contract in chain:
            symbol = contract.symbol
            key = self._key(symbol)
            bid, ask = quote_pts(contract.bid_price), quote_pts(contract.ask_price)
            quoted = math.isfinite(bid) or math.isfinite(ask)
            rows.symbol.append(key)
            rows.underlying_symbol.append(future.value)
            rows.underlying_pts.append(underlying)
            rows.strike_pts.append(float(contract.strike))
            rows.expiry.append(contract.expiry.date())
            rows.right.append(int(Right.CALL if contract.right == OptionRight.CALL else Right.PUT))
            rows.bid_pts.append(bid)
            rows.ask_pts.append(ask)
            rows.quote_time_utc.append(_utc(contract.time, tz) if quoted else None)
            if found is None and securities.contains_key(symbol):
                found = securities[symbol]
        return found

    def _key(self, symbol: Symbol) -> str:
        """The snapshot's string for ``symbol``: its ``value``, or its unique security
        identifier if another contract already uses that value."""
        key = symbol.value
        known = self.symbols.get(key)
        if known is not None and known != symbol:
            key = str(symbol.id)
        self.symbols[key] = symbol
        return key


def market_context(
    algorithm: QCAlgorithm, reader: ChainReader, feed: UnderlyingFeed, time_utc: datetime
) -> MarketContext:
    """Everything a strategy sees at one decision: the chain of ``feed.root`` (or the reason
    there is none), LEAN's risk-free rate (fraction) and the front future's daily bars."""
    today_et = time_utc.astimezone(NEW_YORK).date()
    chain, problem = reader.snapshot(feed.root, time_utc)
    rate_frac = float(algorithm.risk_free_interest_rate_model.get_interest_rate(algorithm.time))
    return MarketContext(time_utc, today_et, chain, rate_frac, problem, feed.daily.bars(today_et))


def _root_of(canonical: Symbol) -> str:
    """Root of an option chain key: the future's root for futures options (``"ES"``)."""
    return canonical.underlying.id.symbol


def _underlying_pts(security: Security | None, chain: OptionChain) -> float:
    if security is not None:
        bid, ask = quote_pts(security.bid_price), quote_pts(security.ask_price)
        if math.isfinite(bid) and math.isfinite(ask) and ask >= bid:
            return (bid + ask) / 2.0
        last = quote_pts(security.price)
        if math.isfinite(last):
            return last
    underlying = chain.underlying
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
