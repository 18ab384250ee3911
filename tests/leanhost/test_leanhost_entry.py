"""main.py at the strangle's entry time over the real ES futures-option chain of 2020-01-06
10:00 New York: the snapshot LEAN's slice becomes, and the orders the entry event sends."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, date, datetime
from types import ModuleType
from typing import Any

import numpy as np
from es_world import ENTRY_UTC, RELAXED, calm_es_market, fire, install_es_chain
from switches import only

from strategies.base import Subscription
from thetacore.enums import Right


def _es_feed(host: Callable[[str], ModuleType], algorithm: Any) -> Any:
    subscriptions = host("subscriptions")
    [plan] = subscriptions.plan_feeds([Subscription("ES", "future_option", 0, 135, 0.25)])
    return subscriptions.subscribe(algorithm, plan, {})


def test_when_slice_holds_the_es_chains_then_one_snapshot_holds_every_contract(
    lean: ModuleType, host: Callable[[str], ModuleType]
) -> None:
    algorithm = lean.QCAlgorithm()
    feed = _es_feed(host, algorithm)
    current = install_es_chain(lean, algorithm)
    reader = host("chains").ChainReader(algorithm)

    read = reader.read(feed, ENTRY_UTC.replace(tzinfo=UTC))

    snap = read.snapshot
    assert read.problem == "" and snap is not None
    n_contracts = sum(len(chain) for chain in current.option_chains.values())
    assert len(snap) == n_contracts > 100
    assert set(snap.expiries().astype(object)) == {date(2020, 3, 20), date(2020, 6, 19)}
    # 0.05: the CME option tick set by leanhost/ticks.py (LEAN's database alone gives the future's 0.25)
    assert snap.multiplier_usd_per_pt == 50.0 and snap.min_tick_pts == 0.05
    assert set(np.unique(snap.right)) == {int(Right.CALL), int(Right.PUT)}
    march = snap.underlying_symbol == "ESH20"
    future = algorithm.securities[next(s for s in algorithm.securities if s.value == "ESH20")]
    assert np.allclose(snap.underlying_pts[march], (future.bid_price + future.ask_price) / 2)
    assert not np.any(snap.bid_pts == 0) and not np.any(snap.ask_pts == 0)
    quoted = np.isfinite(snap.bid_pts) | np.isfinite(snap.ask_pts)
    assert (snap.quote_time_utc[quoted] <= np.datetime64(ENTRY_UTC, "ms")).all()
    assert all(reader.symbols[str(s)].value == s for s in snap.symbol)
    assert read.underlying_pts == snap.underlying_pts[march][0]  # the front future (Mar 2020)


def test_when_a_quote_side_is_missing_then_the_snapshot_holds_nan_not_zero(
    lean: ModuleType, host: Callable[[str], ModuleType]
) -> None:
    algorithm = lean.QCAlgorithm()
    feed = _es_feed(host, algorithm)
    current = install_es_chain(lean, algorithm)
    contract = next(iter(next(iter(current.option_chains.values()))))
    contract.bid_price = 0.0

    snap = host("chains").ChainReader(algorithm).read(feed, ENTRY_UTC.replace(tzinfo=UTC)).snapshot

    assert snap is not None
    assert np.isnan(snap.bid_pts[snap.index_of(contract.symbol.value)])


def test_when_there_is_no_slice_then_no_snapshot_and_a_problem(
    lean: ModuleType, host: Callable[[str], ModuleType]
) -> None:
    algorithm = lean.QCAlgorithm()
    feed = _es_feed(host, algorithm)

    read = host("chains").ChainReader(algorithm).read(feed, datetime(2020, 1, 6, 15, tzinfo=UTC))

    assert read.snapshot is None and "no data slice" in read.problem
    assert np.isnan(read.underlying_pts)


def test_when_entry_fires_with_relaxed_parameters_then_one_credit_strangle_combo_is_sent(
    lean: ModuleType, make_algorithm: Callable[..., Any]
) -> None:
    algorithm = make_algorithm(**RELAXED)
    install_es_chain(lean, algorithm)
    calm_es_market(algorithm)

    fire(algorithm, "futures_strangle:entry")

    assert len(algorithm.combo_orders) == 1, algorithm.journal.summary_lines()
    order = algorithm.combo_orders[0]
    assert order.quantity == 1 and order.limit_price < 0
    assert [leg.quantity for leg in order.legs] == [-1, -1]
    rights = sorted(leg.symbol.id.option_right.name for leg in order.legs)
    assert rights == ["CALL", "PUT"]
    assert {leg.symbol.id.date.date() for leg in order.legs} == {date(2020, 3, 20)}
    put = next(leg for leg in order.legs if leg.symbol.id.option_right == lean.OptionRight.PUT)
    call = next(leg for leg in order.legs if leg.symbol.id.option_right == lean.OptionRight.CALL)
    assert put.symbol.id.strike_price < call.symbol.id.strike_price
    assert [e.action for e in algorithm.journal.decisions()] == ["ENTERED"]


def test_when_entry_fires_with_default_parameters_then_no_order_and_a_declined_decision(
    lean: ModuleType, make_algorithm: Callable[..., Any]
) -> None:
    algorithm = make_algorithm()
    install_es_chain(lean, algorithm)

    fire(algorithm, "futures_strangle:entry")

    assert algorithm.combo_orders == []
    [entry] = algorithm.journal.decisions()
    assert entry.action == "DECLINED" and "NOT_ENTRY_DAY" in entry.codes
    assert any("DECLINED" in line and "NOT_ENTRY_DAY" in line for line in algorithm.logs)


def test_when_lt112_meets_the_real_es_chain_then_its_strikes_are_out_of_the_chain_and_nothing_is_sent(
    lean: ModuleType, make_algorithm: Callable[..., Any]
) -> None:
    """REAL ES chain of 2020-01-06 10:00 ET, which quotes no put below 3000 (March) and 2900
    (June); the DTE window is moved onto the March expiry (74 DTE) and any day allowed."""
    algorithm = make_algorithm(
        **only("lt112"), lt112_entry_weekday="-1", lt112_entry_nth_weekday="0", lt112_dte_min="60",
        lt112_dte_target="74", lt112_dte_max="100",
    )
    install_es_chain(lean, algorithm)

    fire(algorithm, "lt112:entry")

    [decision] = algorithm.journal.decisions()
    assert decision.action == "DECLINED"
    assert decision.codes == ("SHORT_PUT_OUT_OF_CHAIN", "NAKED_PUT_OUT_OF_CHAIN")
    assert "12% below the future 3225.62" in decision.text
    assert algorithm.combo_orders == [] and algorithm.limit_orders == []


def test_when_every_registered_strategy_runs_then_es_is_one_feed_and_each_rule_is_scheduled(
    lean: ModuleType, make_algorithm: Callable[..., Any]
) -> None:
    algorithm = make_algorithm()

    # ES, and MES next to it for the halve step's move (micro_move_enabled, issue 11); no strategy on MES
    assert [f.symbol.value for f, _ in algorithm.futures] == ["/ES", "/MES"]
    assert not any(algorithm.market.feed_of(s).root == "MES" for s in algorithm.strategies.values())
    assert len(make_algorithm(micro_move_enabled="false").futures) == 1
    expected = {f"{s.name}:{r.name}" for s in algorithm.strategies.values() for r in s.schedules()}
    assert expected <= {e.name for e in algorithm.schedule.events}
    for strategy in algorithm.strategies.values():
        feed = algorithm.market.feed_of(strategy)
        assert (feed.kind, feed.root) == (strategy.subscription().kind, strategy.subscription().root)


def test_when_the_manage_rule_has_nothing_to_manage_then_no_chain_is_read(
    lean: ModuleType, make_algorithm: Callable[..., Any]
) -> None:
    algorithm = make_algorithm(**RELAXED)
    install_es_chain(lean, algorithm)
    calm_es_market(algorithm)
    reader = algorithm.market.reader
    reads: list[object] = []
    original = reader.read
    reader.read = lambda feed, t: reads.append(t) or original(feed, t)

    fire(algorithm, "futures_strangle:manage")
    assert reads == []  # issue 10: a management decision reads only what it holds: nothing

    fire(algorithm, "futures_strangle:entry")
    assert len(reads) == 1 and len(algorithm.combo_orders) == 1  # the entry reads the chain once
