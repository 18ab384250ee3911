"""Reconciliation of the strategies' positions with LEAN's portfolio, through main.py: after
an expiry that no exercise event reported (live Tastytrade), after a restart, and whenever
the account holds what no strategy expects. Positions are opened by a scripted strategy on a
MODELLED SPY chain (``replay.model_chain``) around the REAL SPY close of 2021-01-04 (368.79),
every leg filled at 1.00; the SPY price at expiry is GIVEN.

LEAN sources: Lean.Brokerages.Tastytrade never raises ``OptionNotification``
(``TastytradeBrokerage.WebSocket.cs``, ``OnAccountUpdateMessageHandler`` ignores
``CurrentPosition``), so in live LEAN creates no exercise events
(``Engine/TransactionHandlers/BrokerageTransactionHandler.cs`` ``HandleOptionNotification``)
and the expired holding stays in ``portfolio`` (the stand-in simply does not call
``exercise``); a restart loads the broker's holdings (``Engine/Setup/BrokerageSetupHandler.cs``);
``on_warmup_finished`` is called after every start (``Engine/AlgorithmManager.cs``).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime, time
from types import ModuleType
from typing import Any

import numpy as np
from es_world import fire
from fake_strategies import Scripted, open_intent, row
from gate_world import give_vix
from usa_world import install_chain, modelled_chain, spy_close, spy_history_frame

from strategies.base import MarketContext, PositionState, Subscription
from thetacore.decisions import Decision
from thetacore.enums import Right
from thetacore.pricing import et_instant_utc

DAY, NEAR = date(2021, 1, 4), date(2021, 1, 15)
CHECK_UTC = datetime(2021, 1, 15, 21, 45)  # 16:45 New York, the daily check
SPREAD = [(NEAR, Right.PUT, 350.0, -1), (NEAR, Right.PUT, 340.0, 1)]
GATE_WIDENED = {"safety_max_spread_frac_of_mid": "2.0", "max_risk_per_trade_hard_frac": "0.1"}
"""As tests/leanhost/test_leanhost_settlement.py: the MODELLED far quotes are wide."""


def _world(lean: ModuleType, make_algorithm: Callable[..., Any], legs: list[tuple[date, Right, float, int]],
           live: bool = True, store: Any = None) -> Any:
    """A run whose scripted strategy ``book`` enters ``legs`` (expiry, right, strike, ratio) at
    10:00 ET on 2021-01-04 (not fired yet)."""

    def decide(strategy: Scripted, rule: str, ctx: MarketContext) -> list[Decision]:
        chain = ctx.chain
        assert chain is not None
        rows = [(row(chain, np.datetime64(e, "D"), r, k), q) for e, r, k, q in legs]
        mid = sum(q * (chain.bid_pts[i] + chain.ask_pts[i]) / 2 for i, q in rows)
        return [open_intent(strategy, ctx, rows, round(float(mid), 2))]

    def setup(algorithm: Any) -> None:
        algorithm.live_mode = live
        if store is not None:
            algorithm.object_store = store

    sub = Subscription("SPY", "equity_option", 0, 90, 0.2)
    algorithm = make_algorithm(lambda p: [Scripted("book", sub, decide)], setup=setup, **GATE_WIDENED)
    algorithm.history_frame = spy_history_frame(DAY)
    give_vix(algorithm, date(2020, 12, 31))
    chain = modelled_chain("SPY", et_instant_utc(DAY, time(10, 0)), spy_close(DAY), [NEAR], 1.0, 40)
    install_chain(lean, algorithm, chain, "SPY", "SPY")
    return algorithm


def _opened(lean: ModuleType, make_algorithm: Callable[..., Any], live: bool = True) -> Any:
    algorithm = _world(lean, make_algorithm, SPREAD, live)
    fire(algorithm, "book:entry")
    for ticket in [t for o in algorithm.combo_orders for t in o.tickets]:
        algorithm.fill(ticket, 1.0)
    [position] = algorithm.strategies["book"].positions.values()
    assert position.state is PositionState.OPEN
    return algorithm


def _security(algorithm: Any, value: str) -> Any:
    return next(s for s in algorithm.securities.values() if s.symbol.value == value)


def _option(algorithm: Any, strike: float) -> Any:
    return next(s for s in algorithm.securities.values() if s.symbol.id.date is not None
                and s.symbol.id.strike_price == strike and s.symbol.id.option_right.name == "PUT"
                and s.symbol.id.date.date() == NEAR)


def _blocked(algorithm: Any) -> bool:
    return "host_reconcile" in algorithm.risk.session.gate.state.tripped


# ----- expiry without exercise events ------------------------------------------------------------
def test_when_a_spread_expires_in_live_tastytrade_without_events_then_it_is_settled_at_intrinsic(
    lean: ModuleType, make_algorithm: Callable[..., Any]
) -> None:
    """SPY GIVEN at 345.00 at the check: the short 350P is worth 5.00, the long 340P 0 ->
    settle at -(-1 x 5.00) - (1 x 0) = +5.00 pts paid per unit; entry net -1.00 + 1.00 = 0;
    realized -(0 + 5.00) x 1 x 100 - 2.20 USD opening fees = -502.20 USD."""
    algorithm = _opened(lean, make_algorithm)
    algorithm.utc_time = CHECK_UTC
    _security(algorithm, "SPY").price = 345.0

    fire(algorithm, "host:reconcile")

    strategy = algorithm.strategies["book"]
    assert strategy.settlements == [("book-1", 5.0)]
    position = strategy.positions["book-1"]
    assert position.exit_reason.startswith("settled by reconciliation: expired without an exercise event")
    assert "-1 SPY 2021-01-15 350P at 5.00, +1 SPY 2021-01-15 340P at 0.00" in position.exit_reason
    realized = [e.text for e in algorithm.journal.entries if e.action == "REALIZED"]
    assert realized == ["book-1: -502.20 USD after 2.20 USD fees (" + position.exit_reason + ")"]
    assert any(e.startswith("ALERT RECONCILE SETTLED book-1 (book) at +5.00 pts per unit") for e in algorithm.errors)
    assert ("ALERT RECONCILE DELIVERY EXPECTED: -1 SPY 2021-01-15 350P expired in the money and settles "
            "physically: shares or futures no strategy manages will be in the account") in algorithm.errors
    # LEAN still lists the expired contracts (no event cleared them): journaled, not a block
    assert [e.action for e in algorithm.journal.entries if e.action == "STALE_EXPIRED"] == ["STALE_EXPIRED"] * 2
    assert not _blocked(algorithm)


def test_when_the_check_runs_before_the_expiry_has_settled_then_nothing_is_settled(
    lean: ModuleType, make_algorithm: Callable[..., Any]
) -> None:
    algorithm = _opened(lean, make_algorithm)
    algorithm.utc_time = datetime(2021, 1, 14, 21, 45)  # the day before

    fire(algorithm, "host:reconcile")

    assert algorithm.strategies["book"].settlements == []
    assert [e.action for e in algorithm.journal.entries if e.action == "ADOPTED"] == ["ADOPTED"]
    assert not _blocked(algorithm)


def test_when_a_backtest_reaches_the_check_then_lean_events_settle_and_nothing_is_alerted(
    lean: ModuleType, make_algorithm: Callable[..., Any]
) -> None:
    """Backtests get LEAN's exercise events (``BacktestingBrokerage.ProcessDelistings``)."""
    algorithm = _opened(lean, make_algorithm, live=False)
    algorithm.utc_time = CHECK_UTC

    fire(algorithm, "host:reconcile")
    algorithm.exercise(_option(algorithm, 350.0).symbol, in_the_money=False)
    algorithm.exercise(_option(algorithm, 340.0).symbol, in_the_money=False)

    assert algorithm.strategies["book"].settlements == [("book-1", 0.0)]
    assert algorithm.errors == []


# ----- holdings nobody expects --------------------------------------------------------------------
def test_when_the_short_put_vanished_before_expiry_and_shares_arrived_then_entries_are_blocked(
    lean: ModuleType, make_algorithm: Callable[..., Any]
) -> None:
    """An early assignment nobody reported: -1 350P gone, +100 SPY delivered."""
    algorithm = _opened(lean, make_algorithm)
    _option(algorithm, 350.0).holdings.quantity = 0.0
    _security(algorithm, "SPY").holdings.quantity = 100.0

    fire(algorithm, "host:reconcile")

    assert _blocked(algorithm)
    alerts = [e for e in algorithm.errors if e.startswith("ALERT RECONCILE")]
    assert len(alerts) == 2
    assert alerts[0].startswith("ALERT RECONCILE MISMATCH: ") and "the account holds +0, positions book-1 expect -1" in alerts[0]
    assert alerts[1] == ("ALERT RECONCILE DELIVERED_UNDERLYING: SPY: the account holds +100 of an underlying no "
                         "strategy manages (an assignment or exercise nobody reported?)")


def test_when_a_fresh_start_meets_holdings_then_they_are_unknown_and_entries_blocked_until_flat(
    lean: ModuleType, make_algorithm: Callable[..., Any]
) -> None:
    """The operator deleted the saved book and started with fresh_start=true while the account
    still holds the spread: nobody manages it (a restart WITH the book adopts it:
    test_leanhost_restart.py)."""
    first = _opened(lean, make_algorithm)
    held = [s for s in first.securities.values() if s.holdings.quantity]
    for key in ("thetadesk/book/a.json", "thetadesk/book/b.json"):
        first.object_store.delete(key)

    second = _world(lean, make_algorithm, [(NEAR, Right.PUT, 345.0, -1), (NEAR, Right.PUT, 342.0, 1)],
                    store=first.object_store)
    for security in held:  # the broker's holdings, loaded by LEAN at start
        second.securities[security.symbol].holdings.quantity = security.holdings.quantity
    second.on_warmup_finished()
    fire(second, "book:entry")
    verdict = second.journal.verdicts()[-1]

    assert (verdict.action, verdict.codes) == ("REFUSE", ("HOST_BLOCK",))
    unknown = [e for e in second.errors if e.startswith("ALERT RECONCILE UNKNOWN_HOLDING")]
    assert len(unknown) == 2 and "that no strategy position expects" in unknown[0]
    assert '"host_reconcile"' in second.object_store.values["thetadesk/gate_state.json"]

    for security in held:  # the operator closed them by hand
        second.securities[security.symbol].holdings.quantity = 0.0
    fire(second, "host:reconcile")

    assert not _blocked(second)
    assert "ALERT host_reconcile cleared by reconciliation: daily check after the close: holdings match the " \
           "strategies" in second.logs


def test_when_a_contract_has_a_working_order_then_it_is_not_judged(
    lean: ModuleType, make_algorithm: Callable[..., Any]
) -> None:
    algorithm = _world(lean, make_algorithm, SPREAD)
    fire(algorithm, "book:entry")
    first = algorithm.combo_orders[0].tickets[0]
    algorithm.emit(first, lean.OrderStatus.PARTIALLY_FILLED, 1.0, first.quantity)  # one leg filled, order working

    fire(algorithm, "host:reconcile")

    assert not _blocked(algorithm)
