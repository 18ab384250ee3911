"""main.py at the strangle's entry time over the real ES futures-option chain of 2020-01-06
10:00 New York: the snapshot LEAN's slice becomes, and the orders the entry event sends."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, date, datetime
from types import ModuleType
from typing import Any

import numpy as np
from es_world import ENTRY_UTC, RELAXED, fire, install_es_chain

from thetacore.enums import Right


def test_when_slice_holds_the_es_chains_then_one_snapshot_holds_every_contract(
    lean: ModuleType, host: Callable[[str], ModuleType]
) -> None:
    chains = host("chains")
    algorithm = lean.QCAlgorithm()
    current = install_es_chain(lean, algorithm)
    reader = chains.ChainReader(algorithm)

    snap, problem = reader.snapshot("ES", ENTRY_UTC.replace(tzinfo=UTC))

    assert problem == "" and snap is not None
    n_contracts = sum(len(chain) for chain in current.option_chains.values())
    assert len(snap) == n_contracts > 100
    assert set(snap.expiries().astype(object)) == {date(2020, 3, 20), date(2020, 6, 19)}
    assert snap.multiplier_usd_per_pt == 50.0 and snap.min_tick_pts == 0.25
    assert set(np.unique(snap.right)) == {int(Right.CALL), int(Right.PUT)}
    march = snap.underlying_symbol == "ESH20"
    future = algorithm.securities[next(s for s in algorithm.securities if s.value == "ESH20")]
    assert np.allclose(snap.underlying_pts[march], (future.bid_price + future.ask_price) / 2)
    assert not np.any(snap.bid_pts == 0) and not np.any(snap.ask_pts == 0)
    quoted = np.isfinite(snap.bid_pts) | np.isfinite(snap.ask_pts)
    assert (snap.quote_time_utc[quoted] <= np.datetime64(ENTRY_UTC, "ms")).all()
    assert all(reader.symbols[str(s)].value == s for s in snap.symbol)


def test_when_a_quote_side_is_missing_then_the_snapshot_holds_nan_not_zero(
    lean: ModuleType, host: Callable[[str], ModuleType]
) -> None:
    chains = host("chains")
    algorithm = lean.QCAlgorithm()
    current = install_es_chain(lean, algorithm)
    contract = next(iter(next(iter(current.option_chains.values()))))
    contract.bid_price = 0.0

    snap, _ = chains.ChainReader(algorithm).snapshot("ES", ENTRY_UTC.replace(tzinfo=UTC))

    assert snap is not None
    assert np.isnan(snap.bid_pts[snap.index_of(contract.symbol.value)])


def test_when_there_is_no_slice_then_no_snapshot_and_a_problem(
    lean: ModuleType, host: Callable[[str], ModuleType]
) -> None:
    snap, problem = (
        host("chains")
        .ChainReader(lean.QCAlgorithm())
        .snapshot("ES", datetime(2020, 1, 6, 15, tzinfo=UTC))
    )
    assert snap is None and "no data slice" in problem


def test_when_entry_fires_with_relaxed_parameters_then_one_credit_strangle_combo_is_sent(
    lean: ModuleType, make_algorithm: Callable[..., Any]
) -> None:
    algorithm = make_algorithm(**RELAXED)
    install_es_chain(lean, algorithm)

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
