"""Brokerage events reach the operator, through main.py on the REAL ES chain of 2020-01-06
10:00 New York (the strangle's relaxed entry, REAL ES daily bars, GIVEN VIX 13.85 / 14.02).

LEAN sources: ``Engine/Engine.cs`` (the brokerage's ``Message`` handler calls
``on_brokerage_message``, then ``on_brokerage_disconnect`` / ``on_brokerage_reconnect``:
modelled by ``QCAlgorithm.brokerage_message``); ``Engine/Setup/BrokerageSetupHandler.cs``
``Setup`` (the live brokerage's model is set before ``initialize``:
``TastytradeBrokerageFactory`` / ``InteractiveBrokersBrokerageFactory`` /
``PaperBrokerageFactory.GetBrokerageModel``; margin calls null in live);
``Common/Securities/DefaultMarginCallModel.cs`` ``GetMarginCallOrders`` (5% warning, 10%
buffer) and ``AlgorithmPythonWrapper.OnMarginCall`` (an empty list stops the algorithm).
"""

from __future__ import annotations

from collections.abc import Callable
from types import ModuleType
from typing import Any

import numpy as np
import pytest
from es_world import RELAXED, entry_verdict, fire, relaxed_es_algorithm
from fake_strategies import open_intent, row
from test_leanhost_reconciliation import NEAR, _world

from thetacore.enums import Right


def _algorithm(lean: ModuleType, make_algorithm: Callable[..., Any], live_model: Any = None, live: bool = True,
               **params: str) -> Any:
    def setup(algorithm: Any) -> None:
        algorithm.live_mode = live
        if live_model is not None:
            algorithm.brokerage_model = live_model

    return relaxed_es_algorithm(lean, make_algorithm, setup, **params)


_entry = entry_verdict


def _alerts(algorithm: Any) -> list[str]:
    return [e for e in algorithm.errors if e.startswith("ALERT ")]


# ----- messages -----------------------------------------------------------------------------------
def test_when_the_brokerage_warns_twice_then_the_operator_gets_one_alert_and_information_is_only_logged(
    lean: ModuleType, make_algorithm: Callable[..., Any]
) -> None:
    algorithm = _algorithm(lean, make_algorithm)
    kind = lean.BrokerageMessageType

    algorithm.brokerage_message(kind.WARNING, "Update Order: rejected by exchange", "-1")
    algorithm.brokerage_message(kind.WARNING, "Update Order: rejected by exchange", "-1")
    algorithm.brokerage_message(kind.INFORMATION, "account base currency: USD")
    algorithm.brokerage_message(kind.ERROR, "InvalidPlaceOrder: insufficient buying power", "InvalidPlaceOrder")

    assert _alerts(algorithm) == [
        "ALERT BROKERAGE WARNING -1: Update Order: rejected by exchange",
        "ALERT BROKERAGE ERROR InvalidPlaceOrder: InvalidPlaceOrder: insufficient buying power (LEAN stops the "
        "algorithm on a brokerage error)"]
    assert "(again) BROKERAGE WARNING -1: Update Order: rejected by exchange" in algorithm.logs
    assert "BROKERAGE INFORMATION 0: account base currency: USD" in algorithm.logs


def test_when_the_brokerage_disconnects_then_entries_are_blocked_until_it_reconnects(
    lean: ModuleType, make_algorithm: Callable[..., Any]
) -> None:
    algorithm = _algorithm(lean, make_algorithm)
    kind = lean.BrokerageMessageType

    algorithm.brokerage_message(kind.DISCONNECT, "Connection lost")
    refused = _entry(algorithm)
    state = algorithm.risk.session.gate.state
    blocked_state = state.trading_state(False)
    algorithm.brokerage_message(kind.RECONNECT, "Connection restored")
    approved = _entry(algorithm)

    assert (refused.action, refused.codes) == ("REFUSE", ("HOST_BLOCK",))
    assert "host_disconnected: brokerage disconnected at 2020-01-06 15:00:00Z" in refused.text
    assert blocked_state.value == "reducing" and algorithm.combo_orders[0].tickets  # the approved entry went out
    assert approved.action == "APPROVE" and len(algorithm.combo_orders) == 1
    assert [e.action for e in algorithm.journal.entries if e.kind == "order" and "BLOCK" in e.action] == [
        "BLOCK_ENTRIES", "UNBLOCK_ENTRIES"]
    assert any(e.startswith("ALERT HOST_BLOCK host_disconnected") for e in algorithm.errors)
    assert "ALERT host_disconnected cleared by brokerage: reconnected at 15:00:00Z" in algorithm.logs
    assert not any("BROKERAGE DISCONNECT" in e for e in algorithm.errors)  # one alert, not two


def test_when_a_run_starts_after_a_disconnect_was_saved_then_the_block_is_released(
    lean: ModuleType, make_algorithm: Callable[..., Any]
) -> None:
    first = _algorithm(lean, make_algorithm)
    first.brokerage_message(lean.BrokerageMessageType.DISCONNECT, "Connection lost")
    first.risk.after()
    store = first.object_store

    def restart(algorithm: Any) -> None:
        algorithm.live_mode = True
        algorithm.object_store = store

    second = make_algorithm(setup=restart, **RELAXED)

    assert "host_disconnected" not in second.risk.session.gate.state.tripped
    assert second.risk.session.gate.state.audit_log[-1].who == "start"


# ----- the live brokerage against the parameter --------------------------------------------------
@pytest.mark.parametrize(
    ("model", "brokerage", "blocked"),
    [("InteractiveBrokersBrokerageModel", "tastytrade", True),
     ("TastytradeBrokerageModel", "interactive_brokers", True),
     ("TastytradeBrokerageModel", "tastytrade", False),
     ("DefaultBrokerageModel", "tastytrade", False)],  # LEAN's paper brokerage
)
def test_when_the_live_brokerage_differs_from_the_parameter_then_it_refuses_to_trade_without_crashing(
    lean: ModuleType, make_algorithm: Callable[..., Any], model: str, brokerage: str, blocked: bool
) -> None:
    algorithm = _algorithm(lean, make_algorithm, getattr(lean, model)(), brokerage=brokerage)

    verdict = _entry(algorithm)

    assert ("HOST_BLOCK" in verdict.codes) is blocked
    mismatch = [e for e in algorithm.errors if e.startswith("ALERT HOST_BLOCK host_brokerage_mismatch")]
    if blocked:
        assert mismatch == [f"ALERT HOST_BLOCK host_brokerage_mismatch: parameter brokerage={brokerage} expects "
                            f"{'TastytradeBrokerageModel' if brokerage == 'tastytrade' else 'InteractiveBrokersBrokerageModel'}"
                            f", but the live brokerage's model is {model}: refusing to trade; no new entries until "
                            "it is released or cleared"]
        assert algorithm.combo_orders == []
    else:
        assert mismatch == []


def test_when_a_backtest_runs_then_the_default_model_is_no_mismatch(
    lean: ModuleType, make_algorithm: Callable[..., Any]
) -> None:
    algorithm = _algorithm(lean, make_algorithm, live=False)

    assert _entry(algorithm).action == "APPROVE"


# ----- margin --------------------------------------------------------------------------------------
def _filled(lean: ModuleType, make_algorithm: Callable[..., Any]) -> Any:
    """The strangle opened: put filled at 29.10, call at 3.40 (a 32.50 credit)."""
    algorithm = _algorithm(lean, make_algorithm)
    _entry(algorithm)
    put, call = algorithm.combo_orders[0].tickets
    algorithm.fill(put, 29.10)
    algorithm.fill(call, 3.40)
    return algorithm


def _margin(algorithm: Any, used: float, remaining: float, value: float) -> None:
    """GIVEN LEAN margin figures, then the scheduled margin check."""
    portfolio = algorithm.portfolio
    portfolio.total_margin_used, portfolio.margin_remaining, portfolio.total_portfolio_value = used, remaining, value
    fire(algorithm, "host:margin")


def test_when_the_algorithm_starts_then_leans_margin_call_model_is_the_null_model(
    lean: ModuleType, make_algorithm: Callable[..., Any]
) -> None:
    assert _algorithm(lean, make_algorithm, live=False).portfolio.margin_call_model == lean.MarginCallModel.NULL


def test_when_margin_remaining_falls_to_5_percent_then_one_warning_is_alerted(
    lean: ModuleType, make_algorithm: Callable[..., Any]
) -> None:
    algorithm = _filled(lean, make_algorithm)

    _margin(algorithm, used=95_500.0, remaining=4_500.0, value=100_000.0)  # 4.5% <= 5%
    _margin(algorithm, used=95_600.0, remaining=4_400.0, value=100_000.0)

    warnings = [e for e in _alerts(algorithm) if "MARGIN_CALL_WARNING" in e]
    assert warnings == ["ALERT MARGIN_CALL_WARNING: margin used 95,500 USD, remaining 4,500 USD, portfolio value "
                        "100,000 USD (warning at <= 5%)"]
    assert len(algorithm.combo_orders) == 1  # nothing closed


def test_when_a_margin_call_comes_then_the_strangle_is_closed_whole_and_entries_blocked(
    lean: ModuleType, make_algorithm: Callable[..., Any]
) -> None:
    """Deficit = used - value = 112,000 - 100,000 = 12,000 USD > 10% buffer exceeded
    (112,000 > 110,000); margin remaining -12,000 <= 0."""
    algorithm = _filled(lean, make_algorithm)

    _margin(algorithm, used=112_000.0, remaining=-12_000.0, value=100_000.0)
    _margin(algorithm, used=112_000.0, remaining=-12_000.0, value=100_000.0)  # a minute later: no second close

    [_, close] = algorithm.combo_orders
    assert [leg.quantity for leg in close.legs] == [1, 1] and close.quantity == 1  # both legs, one combo
    assert algorithm.market_orders == []  # never LEAN's single-leg market liquidation
    [position] = algorithm.strategies["futures_strangle"].positions.values()
    assert (position.state.value, position.exit_reason) == ("closing", "MARGIN_CALL")
    assert any(e.startswith("ALERT MARGIN_CALL: closing futures_strangle-") and "to cover a deficit of 12,000 USD"
               in e for e in algorithm.errors)
    assert "host_margin_call" in algorithm.risk.session.gate.state.tripped

    _margin(algorithm, used=50_000.0, remaining=50_000.0, value=100_000.0)
    assert "host_margin_call" not in algorithm.risk.session.gate.state.tripped


def test_when_lean_calls_on_margin_call_anyway_then_its_requests_are_returned_and_entries_blocked(
    lean: ModuleType, make_algorithm: Callable[..., Any]
) -> None:
    """AlgorithmPythonWrapper.OnMarginCall raises on an empty list: the list is returned as is."""
    algorithm = _algorithm(lean, make_algorithm)
    requests = ["SubmitOrderRequest(ES call)"]

    returned = algorithm.on_margin_call(requests)

    assert returned == requests
    assert any(e.startswith("ALERT HOST_BLOCK host_margin_call: LEAN issued a margin call with 1 single-leg")
               for e in algorithm.errors)


def test_when_a_margin_call_needs_less_than_the_largest_structure_then_only_the_largest_is_closed(
    lean: ModuleType, make_algorithm: Callable[..., Any]
) -> None:
    """Two SPY put spreads on the MODELLED chain of tests/leanhost/test_leanhost_reconciliation.py:
    1 x -350P/+340P (10 points wide) and 1 x -345P/+343P (2 points wide); the gate's buying
    power of each (its own figure, by which they are ranked) decides: a GIVEN deficit 1 USD
    above the narrower one's buying power is covered by closing the wider one alone."""
    spreads = [(NEAR, "PUT", 350.0, -1), (NEAR, "PUT", 340.0, 1)], [(NEAR, "PUT", 345.0, -1), (NEAR, "PUT", 343.0, 1)]
    algorithm = _two_spreads(lean, make_algorithm, _world, spreads)
    records = algorithm.risk.session.records
    wide, narrow = records["book-1"].bp_usd, records["book-2"].bp_usd
    assert wide > narrow > 0

    # DefaultMarginCallModel: deficit = used - value, a call only when used > 1.1 x value
    value = 10 * narrow
    deficit = narrow + 1.0
    _margin(algorithm, used=value + deficit, remaining=-deficit, value=value)

    positions = algorithm.strategies["book"].positions
    assert (positions["book-1"].state.value, positions["book-2"].state.value) == ("closing", "open")
    assert algorithm.market_orders == []


def _two_spreads(lean: ModuleType, make_algorithm: Callable[..., Any], world: Callable[..., Any],
                 spreads: tuple[list[Any], list[Any]]) -> Any:
    def legs(spec: list[Any]) -> list[Any]:
        return [(e, Right[r], k, q) for e, r, k, q in spec]

    algorithm = world(lean, make_algorithm, legs(spreads[0]))
    strategy = algorithm.strategies["book"]
    first = strategy.decide

    def decide(s: Any, rule: str, ctx: Any) -> list[Any]:
        out = first(s, rule, ctx)
        chain = ctx.chain
        rows = [(row(chain, np.datetime64(e, "D"), r, k), q) for e, r, k, q in legs(spreads[1])]
        mid = sum(q * (chain.bid_pts[i] + chain.ask_pts[i]) / 2 for i, q in rows)
        return [*out, open_intent(s, ctx, rows, round(float(mid), 2))]

    strategy.decide = decide
    fire(algorithm, "book:entry")
    for ticket in [t for o in algorithm.combo_orders for t in o.tickets]:
        algorithm.fill(ticket, 1.0)
    assert [p.state.value for p in strategy.positions.values()] == ["open", "open"], algorithm.journal.verdicts()
    return algorithm


def test_when_lean_calls_on_margin_call_warning_then_it_is_alerted(
    lean: ModuleType, make_algorithm: Callable[..., Any]
) -> None:
    algorithm = _algorithm(lean, make_algorithm)

    algorithm.on_margin_call_warning()

    assert "ALERT MARGIN_CALL_WARNING from LEAN: margin remaining is at most 5% of the portfolio value" in algorithm.errors


def test_when_the_margin_call_closed_everything_then_the_flat_account_releases_the_block(
    lean: ModuleType, make_algorithm: Callable[..., Any]
) -> None:
    """A flat account has no margin in use (DefaultMarginCallModel issues nothing at
    TotalMarginUsed 0): the block set by the margin call must not outlive it."""
    algorithm = _filled(lean, make_algorithm)
    _margin(algorithm, used=112_000.0, remaining=-12_000.0, value=100_000.0)
    assert "host_margin_call" in algorithm.risk.session.gate.state.tripped

    _margin(algorithm, used=0.0, remaining=100_000.0, value=100_000.0)  # the close filled: flat

    assert "host_margin_call" not in algorithm.risk.session.gate.state.tripped


def test_when_a_margin_call_close_is_refused_then_it_is_not_counted_and_the_next_structure_is_closed(
    lean: ModuleType, make_algorithm: Callable[..., Any]
) -> None:
    """The wider spread's close raises in LEAN (order_error): it never went out, so its buying
    power is not 'released' and the narrower spread is closed instead of nothing."""
    spreads = [(NEAR, "PUT", 350.0, -1), (NEAR, "PUT", 340.0, 1)], [(NEAR, "PUT", 345.0, -1), (NEAR, "PUT", 343.0, 1)]
    algorithm = _two_spreads(lean, make_algorithm, _world, spreads)
    narrow = algorithm.risk.session.records["book-2"].bp_usd
    value, deficit = 10 * narrow, narrow + 1.0
    algorithm.order_error = RuntimeError("brokerage refused the order")  # the next order call raises

    _margin(algorithm, used=value + deficit, remaining=-deficit, value=value)

    positions = algorithm.strategies["book"].positions
    assert (positions["book-1"].state.value, positions["book-2"].state.value) == ("open", "closing")
