"""No order call can stop the algorithm: a zero limit is refused for every brokerage, an order
call that raises refuses the intent (journaled, alerted) and the run goes on; the fee model
never raises.

LEAN sources (QuantConnect/Lean): ``Algorithm/QCAlgorithm.Trading.cs`` ``ComboLimitOrder``
(``if (limitPrice == 0) throw new ArgumentException("ComboLimitOrder requires a limit
price")``, modelled by the stand-in), ``Common/Python/FeeModelPythonWrapper.cs``
``GetOrderFee`` (after one exception it switches for good to the legacy call).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from datetime import timedelta
from types import ModuleType
from typing import Any

import pytest
from es_world import fire
from order_world import desk_algorithm, enter

from strategies.base import PositionState
from thetacore.parameters import Parameters


@pytest.mark.parametrize("limit", [0.0, -0.0])
def test_when_lean_gets_a_zero_combo_limit_then_it_throws(lean: ModuleType, limit: float) -> None:
    """The stand-in copies ``QCAlgorithm.ComboLimitOrder``'s check (decimal ``-0.0 == 0``)."""
    algorithm = lean.QCAlgorithm()
    legs = [lean.Leg.create(lean.Symbol.equity("SPY"), 1), lean.Leg.create(lean.Symbol.equity("QQQ"), -1)]
    with pytest.raises(lean.ArgumentException, match="ComboLimitOrder requires a limit price"):
        algorithm.combo_limit_order(legs, 1, limit)


@pytest.mark.parametrize("brokerage", ["tastytrade", "interactive_brokers"])
@pytest.mark.parametrize("limit", [0.0, -0.0, 0.02])
def test_when_an_entry_has_a_zero_limit_then_every_brokerage_refuses_it_before_lean(
    lean: ModuleType, make_algorithm: Callable[..., Any], brokerage: str, limit: float
) -> None:
    algorithm, desk = desk_algorithm(lean, make_algorithm, brokerage=brokerage)
    desk.plan = (3400.0, 3420.0, 1, limit)

    fire(algorithm, "desk:entry")

    assert algorithm.combo_orders == []
    [position] = desk.positions.values()
    assert position.state is PositionState.CLOSED and "LIMIT_PRICE" in position.exit_reason
    assert algorithm.risk.session.records == {}  # the approved entry is forgotten by the gate


def test_when_an_order_call_raises_then_the_intent_is_refused_alerted_and_the_run_goes_on(
    lean: ModuleType, make_algorithm: Callable[..., Any]
) -> None:
    algorithm, desk = desk_algorithm(lean, make_algorithm)
    algorithm.order_error = lean.InvalidOperationException("The symbol ESH20 is not found in the algorithm's securities")
    desk.plan = (3400.0, 3420.0, 1, -2.40)

    fire(algorithm, "desk:entry")  # does not raise

    [position] = desk.positions.values()
    assert position.state is PositionState.CLOSED and "refused by LEAN" in position.exit_reason
    assert any(a.startswith("desk-1 open: ORDER_CALL: LEAN refused the order: InvalidOperationException")
               for a in algorithm.risk.alerts.raised)
    assert [e.action for e in algorithm.journal.entries if e.kind == "order"] == ["UNFILLED"]
    assert algorithm.risk.session.records == {}
    enter(algorithm, desk, (3400.0, 3410.0, 1, -1.40))  # the next intent goes out


def test_when_a_cancel_raises_then_it_is_logged_and_the_run_goes_on(
    lean: ModuleType, make_algorithm: Callable[..., Any]
) -> None:
    algorithm, desk = desk_algorithm(lean, make_algorithm, order_timeout_min="5")
    enter(algorithm, desk, (3400.0, 3420.0, 1, -2.40))
    algorithm.cancel_error = lean.InvalidOperationException("brokerage disconnected")
    algorithm.utc_time += timedelta(minutes=5)

    fire(algorithm, "orders:time-outs")

    assert sum("cancel raised InvalidOperationException: brokerage disconnected" in e for e in algorithm.errors) == 2
    assert [g.cancel_requested for g in algorithm.router.active_groups()] == [True]


class _Broken:
    """An ``OrderFeeParameters`` whose security cannot be read."""

    @property
    def security(self) -> Any:
        raise AttributeError("security is None")

    order = None


def test_when_the_fee_model_gets_bad_input_then_it_returns_a_conservative_fee_and_logs(
    lean: ModuleType, host: Callable[[str], ModuleType]
) -> None:
    brokerage = host("brokerage")
    p = Parameters()
    problems: list[str] = []
    model = brokerage.TastytradeOptionFeeModel(p, problems.append)
    option = lean.Security(lean.Symbol.equity("SPY"), lean.SecurityType.FUTURE_OPTION, lean.SymbolProperties(50, 0.05))
    nan_order = lean.Order(1, option.symbol, math.nan, lean.OrderType.LIMIT)
    three = lean.Order(2, option.symbol, -3, lean.OrderType.LIMIT)
    option.holdings.quantity = math.inf

    broken = model.get_order_fee(_Broken())
    from_nan = model.get_order_fee(lean.OrderFeeParameters(option, nan_order))
    from_inf = model.get_order_fee(lean.OrderFeeParameters(option, three))

    per_contract = max(p.fee_future_option_open_usd + p.fee_future_option_clearing_usd + p.fee_future_option_exchange_usd,
                       p.fee_option_open_usd + p.fee_option_clearing_usd + p.fee_index_option_proprietary_usd,
                       min(p.fee_option_open_usd, p.fee_option_cap_per_leg_usd) + p.fee_option_clearing_usd)
    assert per_contract == pytest.approx(3.37)  # ES: 2.50 + 0.30 + 0.57
    assert broken.value.amount == pytest.approx(per_contract) and from_nan.value.amount == pytest.approx(per_contract)
    assert from_inf.value.amount == pytest.approx(3 * per_contract) and from_inf.value.currency == "USD"
    assert len(problems) == 3 and all(t.startswith("fee model: ") for t in problems)
