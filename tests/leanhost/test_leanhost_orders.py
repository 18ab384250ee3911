"""The order router under LEAN order events: whole fills open the position, groups that end
partially filled leave no orphan leg, time-outs cancel, and Tastytrade's rules refuse intents
before they are sent."""

from __future__ import annotations

import math
from collections.abc import Callable
from datetime import datetime, timedelta
from types import ModuleType
from typing import Any

import pytest
from es_world import RELAXED, calm_es_market, fire, install_es_chain

from strategies.base import PositionState, Strategy
from thetacore.decisions import OrderIntent
from thetacore.enums import IntentPurpose, Right
from thetacore.legs import OptionLeg
from thetacore.parameters import Parameters
from thetacore.structures import Structure, StructureKind, UnderlyingKind


def _entered(lean: ModuleType, make_algorithm: Callable[..., Any], **extra: str) -> Any:
    algorithm = make_algorithm(**RELAXED, **extra)
    install_es_chain(lean, algorithm)
    calm_es_market(algorithm)
    fire(algorithm, "futures_strangle:entry")
    assert len(algorithm.combo_orders) == 1
    return algorithm


def _position(algorithm: Any) -> Any:
    [position] = algorithm.strategies["futures_strangle"].positions.values()
    return position


def test_when_every_leg_fills_then_the_position_is_open_at_the_net_fill(
    lean: ModuleType, make_algorithm: Callable[..., Any]
) -> None:
    algorithm = _entered(lean, make_algorithm)
    put, call = algorithm.combo_orders[0].tickets

    algorithm.fill(put, 29.10)
    assert _position(algorithm).state is PositionState.OPENING
    algorithm.fill(call, 3.40)

    position = _position(algorithm)
    assert position.state is PositionState.OPEN
    assert position.entry_net_pts == pytest.approx(-1 * 29.10 + -1 * 3.40)
    assert algorithm.market_orders == [] and algorithm.router.active_groups() == []
    assert [e.action for e in algorithm.journal.entries if e.kind == "order"] == ["SENT", "FILLED"]


def test_when_one_leg_fills_and_the_other_is_canceled_then_the_filled_leg_is_closed_with_a_marketable_limit(
    lean: ModuleType, make_algorithm: Callable[..., Any]
) -> None:
    """Unwinds are limit orders, never market orders (LEAN ``QCAlgorithm.Trading.cs``
    ``MarketOrder`` turns into MarketOnOpen out of hours; ``TastytradeBrokerageModel.
    CanSubmitOrder`` refuses those)."""
    algorithm = _entered(lean, make_algorithm)
    put, call = algorithm.combo_orders[0].tickets

    algorithm.fill(put, 29.10)
    call.cancel("IB passed on the rest of the combo")

    assert algorithm.market_orders == []
    [unwind] = algorithm.limit_orders
    ask = algorithm.securities[put.symbol].ask_price  # the put's ask, above 5.00: ES tick 0.25
    assert unwind.symbol == put.symbol and unwind.quantity == +1
    assert unwind.limit_price == pytest.approx(math.ceil(ask / 0.25 - 1e-9) * 0.25 + 2 * 0.25)
    assert "unwind" in unwind.tag
    assert any("ORPHAN LEG" in e for e in algorithm.errors)
    position = _position(algorithm)
    assert position.state is PositionState.CLOSED and position.exit_reason.startswith(
        "never opened"
    )


def test_when_nothing_fills_before_the_time_out_then_the_group_is_canceled_and_forgotten(
    lean: ModuleType, make_algorithm: Callable[..., Any]
) -> None:
    algorithm = _entered(lean, make_algorithm, order_timeout_min="5")
    put, call = algorithm.combo_orders[0].tickets

    algorithm.utc_time += timedelta(minutes=4)
    fire(algorithm, "orders:time-outs")
    assert put.cancel_tags == [] and _position(algorithm).state is PositionState.OPENING
    algorithm.utc_time += timedelta(minutes=1)
    fire(algorithm, "orders:time-outs")

    assert put.status == call.status == lean.OrderStatus.CANCELED
    assert algorithm.market_orders == []
    assert _position(algorithm).state is PositionState.CLOSED


def test_when_a_time_out_ends_a_partial_fill_then_the_filled_leg_is_closed_with_a_limit(
    lean: ModuleType, make_algorithm: Callable[..., Any]
) -> None:
    algorithm = _entered(lean, make_algorithm)
    put, call = algorithm.combo_orders[0].tickets

    algorithm.fill(call, 3.40)
    algorithm.utc_time += timedelta(minutes=5)
    fire(algorithm, "orders:time-outs")

    assert algorithm.market_orders == []
    [unwind] = algorithm.limit_orders
    assert unwind.symbol == call.symbol and unwind.quantity == +1
    assert put.status == lean.OrderStatus.CANCELED


# ----- refusals before sending ------------------------------------------------------------------
class _Recorder(Strategy):
    name = "recorder"

    def __init__(self) -> None:
        super().__init__()
        self.unfilled: list[str] = []

        self.filled: list[tuple[str, float]] = []

    def on_unfilled(self, intent: OrderIntent, reason: str) -> None:
        self.unfilled.append(reason)

    def on_filled(self, intent: OrderIntent, fill_net_pts: float, time_utc: datetime) -> None:
        self.filled.append((intent.tag, fill_net_pts))


def _router(
    lean: ModuleType, host: Callable[[str], ModuleType], brokerage: str
) -> tuple[Any, Any, _Recorder, dict[str, Any]]:
    algorithm = lean.QCAlgorithm()
    install_es_chain(lean, algorithm)
    future = lean.Symbol.future("ES", "ESH20", datetime(2020, 3, 20))
    symbols = {s.value: s for s in algorithm.securities if s.underlying == future}
    strategy = _Recorder()
    router = host("orders").OrderRouter(
        algorithm,
        Parameters(brokerage=brokerage),
        symbols,
        {strategy.name: strategy},
        host("journal").DecisionJournal(algorithm),
    )
    return algorithm, router, strategy, symbols


def _intent(
    symbols: dict[str, Any],
    legs: list[tuple[float, Right, int]],
    limit_pts: float,
    quantity: int = 1,
    purpose: IntentPurpose = IntentPurpose.OPEN,
    position_id: str = "p1",
) -> OrderIntent:
    def key(strike: float, right: Right) -> str:
        return next(
            v
            for v, s in symbols.items()
            if s.id.strike_price == strike and (s.id.option_right.name == right.name)
        )

    option_legs = tuple(
        OptionLeg(key(k, r), "ESH20", r, k, datetime(2020, 3, 20).date(), q) for k, r, q in legs
    )
    structure = Structure(StructureKind.IRON_CONDOR, option_legs, 50.0, UnderlyingKind.FUTURE)
    tag = f"{position_id} {purpose.value} {limit_pts:+g}"
    return OrderIntent("recorder", purpose, structure, quantity, limit_pts, position_id, tag=tag)


FIVE_LEGS = [
    (3000.0, Right.PUT, 1),
    (3100.0, Right.PUT, -1),
    (3400.0, Right.CALL, -1),
    (3500.0, Right.CALL, 1),
    (3460.0, Right.CALL, 1),
]


@pytest.mark.parametrize(
    ("brokerage", "sent"), [("tastytrade", False), ("interactive_brokers", True)]
)
def test_when_an_intent_has_five_legs_then_only_tastytrade_refuses_it(
    lean: ModuleType, host: Callable[[str], ModuleType], brokerage: str, sent: bool
) -> None:
    algorithm, router, strategy, symbols = _router(lean, host, brokerage)

    group = router.send(_intent(symbols, FIVE_LEGS, -1.0))

    assert (group is not None) is sent and len(algorithm.combo_orders) == int(sent)
    if not sent:
        assert strategy.unfilled and "TASTYTRADE_LEGS" in strategy.unfilled[0]


def test_when_a_leg_would_take_a_holding_through_zero_then_tastytrade_refuses(
    lean: ModuleType, host: Callable[[str], ModuleType]
) -> None:
    algorithm, router, strategy, symbols = _router(lean, host, "tastytrade")
    intent = _intent(symbols, [(3000.0, Right.PUT, -2), (3460.0, Right.CALL, -1)], -30.0)
    algorithm.securities[symbols[intent.structure.legs[0].symbol]].holdings.quantity = 1

    assert router.send(intent) is None
    assert algorithm.combo_orders == [] and "TASTYTRADE_CROSS_ZERO" in strategy.unfilled[0]


def test_when_a_leg_was_never_in_a_chain_then_the_intent_is_refused(
    lean: ModuleType, host: Callable[[str], ModuleType]
) -> None:
    algorithm, router, strategy, symbols = _router(lean, host, "interactive_brokers")
    intent = _intent(symbols, [(3000.0, Right.PUT, -1), (3460.0, Right.CALL, -1)], -30.0)
    del symbols[intent.structure.legs[1].symbol]

    assert router.send(intent) is None
    assert algorithm.combo_orders == [] and "UNKNOWN_CONTRACT" in strategy.unfilled[0]


def test_when_lean_reports_an_event_while_sending_then_it_is_booked_after_the_group_exists(
    lean: ModuleType, host: Callable[[str], ModuleType]
) -> None:
    algorithm, router, strategy, symbols = _router(lean, host, "interactive_brokers")
    algorithm.on_order_event = router.on_order_event
    send = algorithm.combo_limit_order

    def send_and_reject(*args: Any, **kwargs: Any) -> Any:
        tickets = send(*args, **kwargs)
        for ticket in tickets:
            algorithm.emit(ticket, lean.OrderStatus.INVALID, message="no margin")
        return tickets

    algorithm.combo_limit_order = send_and_reject
    router.send(_intent(symbols, [(3000.0, Right.PUT, -1), (3460.0, Right.CALL, -1)], -30.0))

    assert router.active_groups() == []
    assert len(strategy.unfilled) == 1 and "no margin" in strategy.unfilled[0]


# ----- single legs ----------------------------------------------------------------------------
def test_when_an_intent_has_one_leg_then_a_plain_limit_order_goes_out_at_the_per_contract_price(
    lean: ModuleType, host: Callable[[str], ModuleType]
) -> None:
    """LT112's naked-put close: one leg, ratio +1, quantity 2, a debit of 1.25 per contract."""
    algorithm, router, strategy, symbols = _router(lean, host, "tastytrade")
    algorithm.on_order_event = router.on_order_event
    intent = _intent(symbols, [(3000.0, Right.PUT, 1)], 1.25, quantity=2, purpose=IntentPurpose.CLOSE)

    group = router.send(intent)

    assert group is not None and algorithm.combo_orders == []
    [ticket] = algorithm.limit_orders
    assert (ticket.symbol, ticket.quantity, ticket.limit_price, ticket.tag) == (
        symbols[intent.structure.legs[0].symbol], 2, 1.25, intent.tag)
    algorithm.fill(ticket, 1.20)
    assert strategy.filled == [(intent.tag, pytest.approx(1.20))]
    assert any("SENT" in line and "limit +1.25 pts" in line for line in algorithm.logs)


def test_when_a_single_leg_sells_then_its_credit_becomes_a_positive_price(
    lean: ModuleType, host: Callable[[str], ModuleType]
) -> None:
    algorithm, router, strategy, symbols = _router(lean, host, "tastytrade")
    algorithm.on_order_event = router.on_order_event

    router.send(_intent(symbols, [(3460.0, Right.CALL, -1)], -3.50))

    [ticket] = algorithm.limit_orders
    assert (ticket.quantity, ticket.limit_price) == (-1, 3.50)
    algorithm.fill(ticket, 3.60)
    assert strategy.filled == [("p1 open -3.5", pytest.approx(-3.60))]


@pytest.mark.parametrize("limit_pts", [0.0, 2.0, float("nan")])
def test_when_a_single_leg_price_is_not_positive_then_it_is_refused(
    lean: ModuleType, host: Callable[[str], ModuleType], limit_pts: float
) -> None:
    algorithm, router, strategy, symbols = _router(lean, host, "interactive_brokers")

    assert router.send(_intent(symbols, [(3460.0, Right.CALL, -1)], limit_pts)) is None

    assert algorithm.limit_orders == [] and strategy.unfilled[0].startswith("refused before sending: LIMIT_PRICE")


def test_when_a_single_leg_crosses_zero_then_tastytrade_still_takes_the_plain_limit(
    lean: ModuleType, host: Callable[[str], ModuleType]
) -> None:
    algorithm, router, strategy, symbols = _router(lean, host, "tastytrade")
    intent = _intent(symbols, [(3000.0, Right.PUT, -1)], -30.0, quantity=2)
    algorithm.securities[symbols[intent.structure.legs[0].symbol]].holdings.quantity = 1

    assert router.send(intent) is not None and len(algorithm.limit_orders) == 1


# ----- replacing a working close --------------------------------------------------------------
def test_when_a_new_close_of_the_same_position_arrives_then_the_working_close_is_repriced_in_place(
    lean: ModuleType, host: Callable[[str], ModuleType]
) -> None:
    """LEAN ``Common/Orders/ComboLimitOrder.cs`` ``ApplyUpdateOrderRequest``: an update of one
    leg's limit is the group's limit; no second order goes out."""
    algorithm, router, strategy, symbols = _router(lean, host, "interactive_brokers")
    algorithm.on_order_event = router.on_order_event
    legs = [(3000.0, Right.PUT, 1), (3460.0, Right.CALL, 1)]
    first = router.send(_intent(symbols, legs, 10.0, purpose=IntentPurpose.CLOSE))
    other = router.send(_intent(symbols, legs, 10.0, purpose=IntentPurpose.CLOSE, position_id="p2"))

    second = router.send(_intent(symbols, legs, 12.0, purpose=IntentPurpose.CLOSE))

    assert first is not None and other is not None and second is first
    assert len(algorithm.combo_orders) == 2 and algorithm.combo_orders[0].limit_price == 12.0
    assert first.intent.tag == "p1 close +12" and first.legs[0].ticket.cancel_tags == []
    assert strategy.unfilled == [] and router.active_groups() == [first, other]
