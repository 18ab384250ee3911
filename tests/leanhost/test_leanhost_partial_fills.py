"""Partial fills are fills: whole ratio units become the position, only legs out of ratio are
unwound, with marketable LIMIT orders; a failed unwind blocks new entries through the gate.

LEAN sources (QuantConnect/Lean): ``Algorithm/QCAlgorithm.Trading.cs`` ``MarketOrder`` (a
market order out of hours becomes MarketOnOpen), ``Common/Brokerages/TastytradeBrokerageModel.cs``
``CanSubmitOrder`` (no MarketOnOpen), ``Engine/TransactionHandlers/BrokerageTransactionHandler.cs``
``HandleOrderEvents`` (PartiallyFilled events, then Canceled for the rest).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from datetime import timedelta
from types import ModuleType
from typing import Any

import pytest
from es_world import fire
from order_world import desk_algorithm, enter, holding

from strategies.base import PositionState

SPREAD = (3400.0, 3420.0, 3, -2.40)
"""3 call credit spreads (3400/3420 March) for a 2.40 credit each."""


def _emit(lean: ModuleType, algorithm: Any, ticket: Any, qty: float, price: float) -> None:
    algorithm.emit(ticket, lean.OrderStatus.PARTIALLY_FILLED, price, qty)


def test_when_two_of_three_spreads_fill_then_the_position_and_the_gate_book_two(
    lean: ModuleType, make_algorithm: Callable[..., Any]
) -> None:
    algorithm, desk = desk_algorithm(lean, make_algorithm)
    combo = enter(algorithm, desk, SPREAD)
    short, long_ = combo.tickets
    [pid] = desk.positions
    booked_bp = algorithm.risk.session.records[pid].bp_usd

    _emit(lean, algorithm, short, -2, 8.75)
    _emit(lean, algorithm, long_, +2, 6.35)
    algorithm.confirm_cancel(short, "rest canceled")
    algorithm.confirm_cancel(long_, "rest canceled")

    position = desk.positions[pid]
    assert position.state is PositionState.OPEN and position.quantity == 2
    assert position.entry_net_pts == pytest.approx(-8.75 + 6.35)
    assert algorithm.risk.session.records[pid].bp_usd == pytest.approx(booked_bp * 2 / 3)
    assert algorithm.limit_orders == [] and algorithm.market_orders == []  # in ratio: nothing to unwind
    assert any(e.action == "PARTIAL" for e in algorithm.journal.entries)


def test_when_legs_fill_out_of_ratio_then_only_the_excess_is_unwound_with_a_marketable_limit(
    lean: ModuleType, make_algorithm: Callable[..., Any]
) -> None:
    algorithm, desk = desk_algorithm(lean, make_algorithm, unwind_through_ticks="2")
    combo = enter(algorithm, desk, SPREAD)
    short, long_ = combo.tickets

    algorithm.fill(short, 8.75)  # the short call filled whole
    _emit(lean, algorithm, long_, +2, 6.35)  # the long call only 2 of 3
    algorithm.confirm_cancel(long_)

    [position] = desk.positions.values()
    assert position.state is PositionState.OPEN and position.quantity == 2
    assert algorithm.market_orders == []
    [unwind] = algorithm.limit_orders
    ask = algorithm.securities[short.symbol].ask_price  # 9.00: above 5.00, CME tick 0.25
    assert (unwind.symbol, unwind.quantity) == (short.symbol, +1)  # buy back the one short too many
    assert unwind.limit_price == pytest.approx(math.ceil(ask / 0.25 - 1e-9) * 0.25 + 2 * 0.25) == 9.50
    algorithm.fill(unwind, 9.10)
    assert holding(algorithm, short) == -2 and holding(algorithm, long_) == +2
    assert "unwind_failed" not in algorithm.risk.session.gate.state.tripped


def test_when_a_single_leg_order_fills_two_of_three_then_the_position_is_two(
    lean: ModuleType, make_algorithm: Callable[..., Any]
) -> None:
    algorithm, desk = desk_algorithm(lean, make_algorithm)
    desk.plan = (3460.0, 0.0, 3, -3.35)
    fire(algorithm, "desk:entry")
    [ticket] = algorithm.limit_orders

    _emit(lean, algorithm, ticket, -2, 3.35)
    algorithm.confirm_cancel(ticket)

    [position] = desk.positions.values()
    assert position.quantity == 2 and position.state is PositionState.OPEN
    assert algorithm.limit_orders == [ticket]


def test_when_an_unwind_comes_back_invalid_then_a_critical_alert_blocks_new_entries(
    lean: ModuleType, make_algorithm: Callable[..., Any]
) -> None:
    algorithm, desk = desk_algorithm(lean, make_algorithm)
    combo = enter(algorithm, desk, SPREAD)
    short, long_ = combo.tickets
    _emit(lean, algorithm, short, -1, 8.75)
    algorithm.confirm_cancel(short)
    algorithm.confirm_cancel(long_)
    [unwind] = algorithm.limit_orders

    algorithm.emit(unwind, lean.OrderStatus.INVALID, message="insufficient buying power")

    state = algorithm.risk.session.gate.state
    assert "unwind_failed" in state.tripped and state.tripped["unwind_failed"].code == "HOST_BLOCK"
    assert state.trading_state(False).value == "reducing"
    assert any(a.startswith("CRITICAL UNWIND_FAILED") and "insufficient buying power" in a
               for a in algorithm.risk.alerts.raised)
    desk.plan = (3400.0, 3410.0, 1, -1.40)
    fire(algorithm, "desk:entry")  # the gate refuses the next entry

    assert len(algorithm.combo_orders) == 1
    [verdict] = [e for e in algorithm.journal.verdicts() if e.text.startswith("desk-2")]
    assert verdict.action == "REFUSE" and "HOST_BLOCK" in verdict.text and "unwind_failed" in verdict.text


def test_when_an_unwind_is_not_filled_in_time_then_entries_are_blocked(
    lean: ModuleType, make_algorithm: Callable[..., Any]
) -> None:
    algorithm, desk = desk_algorithm(lean, make_algorithm, unwind_timeout_min="2")
    combo = enter(algorithm, desk, SPREAD)
    short, long_ = combo.tickets
    _emit(lean, algorithm, long_, +1, 6.35)
    algorithm.confirm_cancel(short)
    algorithm.confirm_cancel(long_)
    [unwind] = algorithm.limit_orders
    assert (unwind.symbol, unwind.quantity) == (long_.symbol, -1)

    algorithm.utc_time += timedelta(minutes=1)
    fire(algorithm, "orders:time-outs")
    assert "unwind_failed" not in algorithm.risk.session.gate.state.tripped
    algorithm.utc_time += timedelta(minutes=1)
    fire(algorithm, "orders:time-outs")

    tripped = algorithm.risk.session.gate.state.tripped
    assert "unwind_failed" in tripped and "not filled after 2 min" in tripped["unwind_failed"].text

    bid = algorithm.securities[long_.symbol].bid_price  # 6.25: the market moves down to 5.50
    algorithm.securities[long_.symbol].bid_price = 5.50
    fire(algorithm, "orders:time-outs")
    assert unwind.limit_price == pytest.approx(5.50 - 2 * 0.25)  # re-priced through the new bid
    assert unwind.updates and bid == 6.25
    assert sum("CRITICAL UNWIND_FAILED" in a for a in algorithm.risk.alerts.raised) == 1  # alerted once
