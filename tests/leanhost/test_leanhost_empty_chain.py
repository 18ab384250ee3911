"""Issue 7 item 9b: an empty option chain never drops tracked contracts.

LEAN source (QuantConnect/Lean): ``Algorithm/QCAlgorithm.cs`` ``OptionChain(Symbol, bool)``
returns ``OptionChains(...).Values.SingleOrDefault() ?? new OptionChain(canonical, Time.Date)``,
an EMPTY chain, when ``GetChainsData<OptionUniverse>`` has nothing for the day (a data gap;
live, a history provider without canonical option history); ``Engine/DataFeeds/TimeSliceFactory.cs`` puts an ``OptionChain`` in a slice only for
contracts with data in that step, so a chain can be empty or lack a held contract.
Stand-in: ``option_chain`` returns ``chains_by_underlying``; ``current_slice`` is set by the test.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, time, timedelta
from types import ModuleType
from typing import Any

from fake_strategies import Scripted
from usa_world import SPX_DAY, install_chain, spxw_real_chain

from strategies.base import Subscription
from strategies.zero_dte import ZeroDte
from thetacore.pricing import et_instant_utc

TODAY = datetime(2021, 1, 4)
LEAPS = Subscription("SPY", "equity_option", 300, 430, 0.30, resolution="hour", contracts_only=True)


def _leap_chain(lean: ModuleType, algorithm: Any, spy: Any, price: float, strikes: tuple[float, ...]) -> None:
    canonical = lean.Symbol.canonical_usa_option(spy, "SPY")
    expiry = TODAY + timedelta(days=365)
    contracts = [lean.OptionContract(lean.Symbol.usa_option(spy, "SPY", lean.OptionRight.PUT, k, expiry),
                                     k, expiry, lean.OptionRight.PUT, 0.0, 0.0, TODAY) for k in strikes]
    algorithm.chains_by_underlying[spy] = lean.OptionChain(canonical, lean.BaseData(spy, price), contracts)


def test_when_the_daily_chain_comes_back_empty_then_every_tracked_contract_is_kept(
        lean: ModuleType, make_algorithm: Callable[..., Any]) -> None:
    algorithm = make_algorithm(lambda p: [Scripted("fake", LEAPS, lambda s, r, c: [])])
    [(equity, _)] = algorithm.equities
    [refresh] = [e for e in algorithm.schedule.events if e.name == "equity_option:SPY:contracts"]
    algorithm.utc_time = datetime(2021, 1, 4, 14, 0)
    _leap_chain(lean, algorithm, equity.symbol, 370.0, (300.0, 400.0))
    refresh.callback()
    feed = algorithm.market.feeds[("equity_option", "SPY")]
    assert [s.id.strike_price for s in feed.contracts.symbols()] == [300.0, 400.0]

    algorithm.utc_time = datetime(2021, 1, 5, 14, 0)
    _leap_chain(lean, algorithm, equity.symbol, 370.0, ())  # empty: a data gap
    algorithm.securities[equity.symbol].price = 370.0
    refresh.callback()

    assert algorithm.removed_contracts == []
    assert [s.id.strike_price for s in feed.contracts.symbols()] == [300.0, 400.0]
    assert any("option chain is empty on 2021-01-05; keeping 2 contract(s)" in line for line in algorithm.logs)


def test_when_the_slice_chain_is_empty_then_a_held_contract_is_still_in_the_snapshot(
        lean: ModuleType, make_algorithm: Callable[..., Any]) -> None:
    """REAL SPXW chain at 10:30 ET 2021-01-04; at 10:35 the slice's chain holds no contract."""
    algorithm = make_algorithm(lambda p: [ZeroDte(p)], zdte_underlying="SPXW", zdte_entry_weekday="-1")
    real, _ = spxw_real_chain(time(10, 30))
    install_chain(lean, algorithm, real, "SPXW", "SPX")
    feed = algorithm.market.feeds[("index_option", "SPXW")]
    first = algorithm.chains.read(feed, et_instant_utc(SPX_DAY, time(10, 30))).snapshot
    assert first is not None and len(first) == 12
    held_key, other_key = first.symbol[0], first.symbol[1]
    held = algorithm.chains.symbols[held_key]
    algorithm.securities[held].holdings.quantity = -1
    for chain in algorithm.current_slice.option_chains.values():
        chain.contracts = []
    at = et_instant_utc(SPX_DAY, time(10, 35))
    algorithm.utc_time = at.astimezone(UTC).replace(tzinfo=None)

    read = algorithm.chains.read(feed, at)

    assert read.snapshot is not None and list(read.snapshot.symbol) == [held_key]
    assert other_key not in read.snapshot.symbol  # not held: not carried
    i = read.snapshot.index_of(held_key)
    assert (read.snapshot.bid_pts[i], read.snapshot.ask_pts[i]) == (first.bid_pts[0], first.ask_pts[0])
    assert "the SPXW option chain is empty at 2021-01-04 15:35Z" in read.problem
    assert "1 held SPXW contract(s) not in the chain: read from their securities" in read.problem
    assert sum("option chain is empty" in line for line in algorithm.logs) == 1
    algorithm.chains.read(feed, at)  # logged once per root and day
    assert sum("option chain is empty" in line for line in algorithm.logs) == 1
