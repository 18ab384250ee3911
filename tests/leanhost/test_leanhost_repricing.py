"""Repricing without double fills: a working close is repriced in place; when it cannot be,
the new close waits until the old one is known dead, and a fill that races the cancel is
never doubled.

LEAN sources: QuantConnect/Lean ``Common/Orders/ComboLimitOrder.cs``
``ApplyUpdateOrderRequest`` (an update's limit is the group's), ``Common/Orders/OrderTicket.cs``
``UpdateLimitPrice``, ``Engine/TransactionHandlers/BrokerageTransactionHandler.cs``
``UpdateOrder`` / ``CancelOrder`` (a cancel sets CancelPending; the Canceled event comes from
the brokerage later); Lean.Brokerages.Tastytrade ``TastytradeBrokerage.Brokerage.cs``
``UpdateOrder`` (a replace of the whole group). The stand-in models asynchronous cancels
(``algorithm.async_cancels``, ``confirm_cancel``) and a brokerage that refuses an update
(``algorithm.refuse_updates``).
"""

from __future__ import annotations

from collections.abc import Callable
from types import ModuleType
from typing import Any

import pytest
from es_world import fire
from order_world import close_decision, desk_algorithm, enter, holding

from strategies.base import PositionState


class _Now:
    def __init__(self, algorithm: Any) -> None:
        from leanhost.scheduling import now_utc

        self.time_utc = now_utc(algorithm)


def _closing(lean: ModuleType, make_algorithm: Callable[..., Any], quantity: int = 1) -> tuple[Any, Any, Any]:
    """An entry of ``quantity`` spreads filled, then a close working at +1.00 (live: cancels
    are requests)."""
    algorithm, desk = desk_algorithm(lean, make_algorithm)
    algorithm.async_cancels = True
    combo = enter(algorithm, desk, (3400.0, 3420.0, quantity, -2.40))
    algorithm.fill(combo.tickets[0], 8.75)
    algorithm.fill(combo.tickets[1], 6.35)
    desk.close_limit = 1.0
    fire(algorithm, "desk:exit")
    [position] = desk.positions.values()
    assert position.state is PositionState.CLOSING and len(algorithm.combo_orders) == 2
    return algorithm, desk, position


def _resend(algorithm: Any, desk: Any, position: Any, limit: float) -> Any:
    """The flatten re-sending the close of ``position`` at ``limit`` (what the 0DTE rules do)."""
    decision = close_decision(desk, position, limit, _Now(algorithm))
    with algorithm.entry_lock:
        return algorithm.router.send(decision.intent)


def test_when_a_working_close_is_repriced_then_it_is_updated_in_place_and_fills_once(
    lean: ModuleType, make_algorithm: Callable[..., Any]
) -> None:
    algorithm, desk, position = _closing(lean, make_algorithm)
    close = algorithm.combo_orders[1]

    group = _resend(algorithm, desk, position, 1.50)

    assert len(algorithm.combo_orders) == 2 and close.limit_price == pytest.approx(1.50)
    assert group is not None and group.intent.limit_pts == 1.50
    assert [t.cancel_tags for t in close.tickets] == [[], []]
    algorithm.fill(close.tickets[0], 8.85)
    algorithm.fill(close.tickets[1], 7.35)
    assert position.state is PositionState.CLOSED and position.exit_net_pts == pytest.approx(1.50)
    assert holding(algorithm, close.tickets[0]) == 0 and holding(algorithm, close.tickets[1]) == 0


def test_when_a_fill_races_the_cancel_then_the_held_close_never_goes_out(
    lean: ModuleType, make_algorithm: Callable[..., Any]
) -> None:
    algorithm, desk, position = _closing(lean, make_algorithm)
    algorithm.refuse_updates = True  # the brokerage cannot replace: cancel, then send
    close = algorithm.combo_orders[1]

    assert _resend(algorithm, desk, position, 1.50) is None
    assert [t.status for t in close.tickets] == [lean.OrderStatus.CANCEL_PENDING] * 2
    assert len(algorithm.combo_orders) == 2  # nothing new while the old close may still fill

    algorithm.fill(close.tickets[0], 8.75)  # the fills arrive before the cancel took effect
    algorithm.fill(close.tickets[1], 7.75)
    for ticket in close.tickets:
        algorithm.confirm_cancel(ticket)  # too late: nothing happens

    assert len(algorithm.combo_orders) == 2 and algorithm.router.held == {}
    assert position.state is PositionState.CLOSED and position.exit_net_pts == pytest.approx(1.0)
    assert holding(algorithm, close.tickets[0]) == 0 and holding(algorithm, close.tickets[1]) == 0
    assert algorithm.risk.session.stats["desk"].wins == 16  # counted once (15 given)


def test_when_the_cancel_is_confirmed_then_the_held_close_goes_out_once(
    lean: ModuleType, make_algorithm: Callable[..., Any]
) -> None:
    algorithm, desk, position = _closing(lean, make_algorithm)
    algorithm.refuse_updates = True
    close = algorithm.combo_orders[1]
    _resend(algorithm, desk, position, 1.50)
    _resend(algorithm, desk, position, 1.60)  # a newer price while held: only the newest is kept

    algorithm.confirm_cancel(close.tickets[0])
    assert len(algorithm.combo_orders) == 2  # one leg still not known dead
    algorithm.confirm_cancel(close.tickets[1])

    assert len(algorithm.combo_orders) == 3 and algorithm.combo_orders[2].limit_price == pytest.approx(1.60)
    assert position.state is PositionState.CLOSING and algorithm.router.held == {}
    assert [e.action for e in algorithm.journal.entries if e.kind == "order"][-3:] == ["HELD", "REPLACED", "SENT"]


def test_when_the_old_close_filled_one_of_two_units_then_the_held_close_is_for_the_rest(
    lean: ModuleType, make_algorithm: Callable[..., Any]
) -> None:
    algorithm, desk, position = _closing(lean, make_algorithm, quantity=2)
    algorithm.refuse_updates = True
    close = algorithm.combo_orders[1]
    _resend(algorithm, desk, position, 1.50)

    algorithm.emit(close.tickets[0], lean.OrderStatus.PARTIALLY_FILLED, 8.75, +1)
    algorithm.emit(close.tickets[1], lean.OrderStatus.PARTIALLY_FILLED, 7.75, -1)
    for ticket in close.tickets:
        algorithm.confirm_cancel(ticket)

    assert position.quantity == 1 and position.state is PositionState.CLOSING
    [held_close] = algorithm.combo_orders[2:]
    assert held_close.quantity == 1 and held_close.limit_price == pytest.approx(1.50)
    assert holding(algorithm, close.tickets[0]) == -1 and holding(algorithm, close.tickets[1]) == +1
    # the gate: one unit realized (-(-2.40 + 1.00) x 1 x 50 = +70 USD, a win; 15 given), one still booked
    stats = algorithm.risk.session.stats["desk"]
    assert (stats.wins, stats.win_sum_usd) == (16, pytest.approx(7500.0 + 70.0))
    assert position.position_id in algorithm.risk.session.records
    # the dashboard's realized P&L counts the unit closed early (+70 USD before fees, by hand
    # above), not only positions closed whole (none yet)
    assert algorithm.dashboard.figures("desk").realized_usd == pytest.approx(70.0)
