"""Which option contracts a feed keeps: a chain filter, or single contracts picked daily.

Both keep a contract when ANY subscription of the feed holds it: expiry within that
subscription's ``[dte_min, dte_max]`` calendar days and strike within its
``strike_range_frac`` of the underlying price (:func:`in_window`). Several strategies share
one feed, each with its own window, so the union stays as small as their windows.

LEAN APIs:

* chain filter (docs: "Index Options > Requesting Data > Filter Contracts"; algorithms
  ``BasicTemplateSPXWeeklyIndexOptionsAlgorithm``, ``BasicTemplateOptionsFilterUniverseAlgorithm``):
  ``universe.include_weeklys().expiration(lo, hi).contracts(selector)``. LEAN runs it once per
  trading day (``universe.local_time`` = that day) with ``universe.underlying`` at that
  moment, so strike windows are fractions wide enough for the day's move. ``expiration(0, 0)``
  keeps 0DTE on every engine version; ``include_weeklys()`` is a no-op on engines that include
  weeklies by default and needed on older ones (SPXW dailies are "weeklies" to LEAN,
  ``IndexOptionSymbol.IsStandard``);
* single contracts (LEAPs; algorithms ``OptionAssignmentRegressionAlgorithm``,
  ``IndexOptionCallITMExpiryRegressionAlgorithm``): ``option_chain(underlying)`` lists the day's
  contracts (``OptionContract``: ``symbol``, ``id.date``, ``id.strike_price``) with
  ``underlying`` = the previous close; ``add_option_contract(symbol, resolution)`` subscribes one;
  ``remove_option_contract(symbol)`` drops one. :class:`ContractUniverse` does this once a day.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import date
from typing import TYPE_CHECKING, Protocol

from strategies.base import Subscription

if TYPE_CHECKING:
    from AlgorithmImports import (
        OptionFilterUniverse,
        QCAlgorithm,
        Resolution,
        SecurityIdentifier,
        Symbol,
    )


def strike_window(underlying_pts: float, strike_range_frac: float) -> tuple[float, float]:
    """``(low, high)`` strikes in points kept around ``underlying_pts``."""
    return underlying_pts * (1.0 - strike_range_frac), underlying_pts * (1.0 + strike_range_frac)


def in_window(sub: Subscription, expiry: date, strike_pts: float, today: date, underlying_pts: float) -> bool:
    """True when a contract (``expiry``, ``strike_pts``) lies in ``sub``'s window on ``today``
    with the underlying at ``underlying_pts`` (points, > 0)."""
    if not sub.dte_min <= (expiry - today).days <= sub.dte_max:
        return False
    low, high = strike_window(underlying_pts, sub.strike_range_frac)
    return low <= strike_pts <= high


def _in_any(subs: Sequence[Subscription], sid: SecurityIdentifier, today: date, price: float) -> bool:
    expiry = sid.date.date()
    strike = float(sid.strike_price)
    return any(in_window(sub, expiry, strike, today, price) for sub in subs)


def option_filter(*subs: Subscription) -> Callable[[OptionFilterUniverse], OptionFilterUniverse]:
    """LEAN option filter keeping the contracts of any of ``subs`` (see the module docstring).

    Without an underlying price every strike of the expiry span is kept (a wider chain, never
    a silently empty one).

    Raises:
        ValueError: when called without a subscription.
    """
    if not subs:
        raise ValueError("option_filter needs at least one subscription")
    lo = min(s.dte_min for s in subs)
    hi = max(s.dte_max for s in subs)

    def apply(universe: OptionFilterUniverse) -> OptionFilterUniverse:
        # The stubs leave the generic return types of these chained filters unbound (Any).
        window: OptionFilterUniverse = universe.include_weeklys().expiration(lo, hi)
        underlying = universe.underlying
        price = float(underlying.price) if underlying is not None else 0.0
        if not price > 0:
            return window
        today = universe.local_time.date()
        kept: OptionFilterUniverse = window.contracts(
            lambda contracts: [c for c in contracts if _in_any(subs, c.id, today, price)]
        )
        return kept

    return apply


@dataclass
class ContractUniverse:
    """Single contracts of ``underlying``'s options, picked once a day for ``subs``.

    :meth:`refresh` subscribes the contracts now in a window and drops those that left every
    window, unless held (a held contract stays subscribed until it is closed or settles).
    :attr:`tracked` is what the chain snapshot reads.
    """

    algorithm: QCAlgorithm
    underlying: Symbol
    subs: tuple[Subscription, ...]
    resolution: Resolution
    tracked: dict[str, Symbol] = field(default_factory=dict)  # by Symbol.value
    refreshed_on: date | None = None

    def refresh(self) -> None:
        """Re-pick the contracts for today (New York date of ``algorithm.time``). A failing
        chain request, an empty chain (``option_chain`` in a data gap, or live with a history
        provider that has no canonical option history) or a missing underlying price keeps the
        current contracts, logged."""
        today = self.algorithm.time.date()
        try:
            chain = self.algorithm.option_chain(self.underlying)
            contracts = list(chain)
            price = _chain_price(chain.underlying) or _chain_price(self.algorithm.securities[self.underlying])
        except Exception as exc:  # noqa: BLE001 - any engine error keeps the current contracts, logged
            self.algorithm.error(f"{self.underlying} option chain request failed: {exc}")
            return
        if not price:
            self.algorithm.log(
                f"{self.underlying} contracts: no underlying price on {today}; "
                f"keeping {len(self.tracked)} contract(s)"
            )
            return
        if not contracts:  # a data gap, or a live history provider without canonical history
            self.algorithm.log(
                f"{self.underlying} contracts: the option chain is empty on {today}; "
                f"keeping {len(self.tracked)} contract(s)"
            )
            return
        wanted = {c.symbol.value: c.symbol for c in contracts if _in_any(self.subs, c.id, today, price)}
        added = [s for k, s in wanted.items() if k not in self.tracked]
        for symbol in added:
            self.algorithm.add_option_contract(symbol, self.resolution)
            self.tracked[symbol.value] = symbol
        dropped = [s for k, s in self.tracked.items() if k not in wanted and not self._held(s)]
        for symbol in dropped:
            self.algorithm.remove_option_contract(symbol)
            del self.tracked[symbol.value]
        self.refreshed_on = today
        self.algorithm.log(
            f"{self.underlying} contracts {today}: {len(wanted)} in window of {len(contracts)} listed "
            f"at {price:g}; +{len(added)} -{len(dropped)}; {len(self.tracked)} tracked"
        )

    def symbols(self) -> list[Symbol]:
        """The subscribed contracts, in the order they were added."""
        return list(self.tracked.values())

    def _held(self, symbol: Symbol) -> bool:
        securities = self.algorithm.securities
        return securities.contains_key(symbol) and securities[symbol].holdings.quantity != 0


class _Priced(Protocol):
    @property
    def price(self) -> float: ...


def _chain_price(data: _Priced | None) -> float:
    """A positive price of ``data`` (BaseData or Security), else 0."""
    if data is None:
        return 0.0
    price = float(data.price)
    return price if price > 0 else 0.0
