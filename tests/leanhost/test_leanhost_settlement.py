"""Expiry, exercise and assignment through ``on_order_event``: the owning strategy is settled
when every leg has settled, and everything that leaves LEAN's holdings and the strategy's
book apart is an alert. Positions are opened by a scripted strategy on a MODELLED SPY chain
(``replay.model_chain``) around the REAL SPY close of 2021-01-04 (368.79)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime, time
from types import ModuleType
from typing import Any

import numpy as np
import pytest
from es_world import fire
from fake_strategies import Scripted, open_intent, row
from gate_world import give_vix
from usa_world import install_chain, modelled_chain, spy_close, spy_history_frame

from strategies.base import MarketContext, PositionState, Subscription
from thetacore.decisions import Decision
from thetacore.enums import Right
from thetacore.pricing import et_instant_utc

DAY = date(2021, 1, 4)
NEAR, FAR = date(2021, 1, 15), date(2021, 3, 19)
GATE_WIDENED = {"safety_max_spread_frac_of_mid": "2.0", "max_risk_per_trade_hard_frac": "0.1"}
"""Gate limits widened for these settlement tests (the gate itself is tested elsewhere): the
MODELLED far put 340P is quoted 0.01/0.12 (a spread of 1.69 x mid) and a naked 380C carries a
margin stress loss of 6,346 USD, 6.3% of the 100,000 USD account. VIX is GIVEN (13.85, previous
close 14.02)."""


def _opened(lean: ModuleType, make_algorithm: Callable[..., Any], legs: list[tuple[date, Right, float, int]]) -> Any:
    """A scripted strategy opened ``legs`` (expiry, right, strike, ratio) as one position at
    its net mid, every leg filled at 1.00."""

    def decide(strategy: Scripted, rule: str, ctx: MarketContext) -> list[Decision]:
        chain = ctx.chain
        assert chain is not None
        rows = [(row(chain, np.datetime64(e, "D"), r, k), q) for e, r, k, q in legs]
        mid = sum(q * (chain.bid_pts[i] + chain.ask_pts[i]) / 2 for i, q in rows)
        return [open_intent(strategy, ctx, rows, round(float(mid), 2))]

    sub = Subscription("SPY", "equity_option", 0, 90, 0.2)
    algorithm = make_algorithm(lambda p: [Scripted("book", sub, decide)], **GATE_WIDENED)
    algorithm.history_frame = spy_history_frame(DAY)
    give_vix(algorithm, date(2020, 12, 31))
    chain = modelled_chain("SPY", et_instant_utc(DAY, time(10, 0)), spy_close(DAY), [NEAR, FAR], 1.0, 40)
    install_chain(lean, algorithm, chain, "SPY", "SPY")
    fire(algorithm, "book:entry")
    for ticket in [*algorithm.limit_orders, *(t for o in algorithm.combo_orders for t in o.tickets)]:
        algorithm.fill(ticket, 1.0)
    [position] = algorithm.strategies["book"].positions.values()
    assert position.state is PositionState.OPEN
    return algorithm


def _symbol(algorithm: Any, expiry: date, right: Right, strike: float) -> Any:
    return next(s for s in algorithm.securities if s.id.date is not None and s.id.date.date() == expiry
                and s.id.strike_price == strike and s.id.option_right.name == right.name)


def _actions(algorithm: Any) -> list[str]:
    return [e.action for e in algorithm.journal.entries if e.kind == "order"]


def test_when_both_legs_expire_worthless_then_the_position_settles_at_zero_quietly(
    lean: ModuleType, make_algorithm: Callable[..., Any]
) -> None:
    algorithm = _opened(lean, make_algorithm, [(NEAR, Right.PUT, 350.0, -1), (NEAR, Right.PUT, 340.0, 1)])
    algorithm.utc_time = datetime(2021, 1, 15, 21, 30)

    algorithm.exercise(_symbol(algorithm, NEAR, Right.PUT, 350.0), in_the_money=False)
    algorithm.exercise(_symbol(algorithm, NEAR, Right.PUT, 340.0), in_the_money=False)

    strategy = algorithm.strategies["book"]
    assert strategy.settlements == [("book-1", 0.0)]
    assert _actions(algorithm)[-4:] == ["EXPIRED", "EXPIRED", "SETTLED", "REALIZED"]
    assert algorithm.errors == [] and algorithm.settlement.settled == {}
    # both legs filled at 1.00 (net 0) and expired: the gate counts the 2 x 1.10 USD opening fees
    assert algorithm.journal.entries[-1].text.startswith("book-1: -2.20 USD after 2.20 USD fees")


def test_when_a_short_put_is_assigned_early_then_the_spread_is_flagged_and_stays_open(
    lean: ModuleType, make_algorithm: Callable[..., Any]
) -> None:
    """Early assignment on 2021-01-08 (before the 01-15 expiry) at a GIVEN SPY of 340.00."""
    algorithm = _opened(lean, make_algorithm, [(NEAR, Right.PUT, 350.0, -1), (NEAR, Right.PUT, 340.0, 1)])
    algorithm.utc_time = datetime(2021, 1, 8, 15, 0)
    next(s for s in algorithm.securities.values() if s.symbol.value == "SPY").price = 340.0

    algorithm.exercise(_symbol(algorithm, NEAR, Right.PUT, 350.0), in_the_money=True)

    [position] = algorithm.strategies["book"].positions.values()
    assert position.state is PositionState.OPEN and algorithm.strategies["book"].settlements == []
    assert position.notes[-1].startswith("PARTIAL_SETTLEMENT book-1: -1 SPY 2021-01-15 350P settled, still "
                                         "held: +1 SPY 2021-01-15 340P")
    assert [e.split(":")[0] for e in algorithm.errors] == ["ALERT ASSIGNED", "ALERT PARTIAL_SETTLEMENT",
                                                            "ALERT DELIVERY"]
    assert "+100 SPY at 350 delivered" in algorithm.errors[-1]


def test_when_the_near_leg_of_a_calendar_expires_then_the_far_leg_is_flagged(
    lean: ModuleType, make_algorithm: Callable[..., Any]
) -> None:
    algorithm = _opened(lean, make_algorithm, [(NEAR, Right.CALL, 380.0, -1), (FAR, Right.CALL, 380.0, 1)])
    algorithm.utc_time = datetime(2021, 1, 15, 21, 30)

    algorithm.exercise(_symbol(algorithm, NEAR, Right.CALL, 380.0), in_the_money=False)

    assert _actions(algorithm)[-2:] == ["EXPIRED", "PARTIAL_SETTLEMENT"]
    assert algorithm.strategies["book"].settlements == []


def test_when_lean_settles_another_quantity_or_an_unowned_contract_then_it_alerts(
    lean: ModuleType, make_algorithm: Callable[..., Any]
) -> None:
    algorithm = _opened(lean, make_algorithm, [(NEAR, Right.CALL, 380.0, -1)])
    short = _symbol(algorithm, NEAR, Right.CALL, 380.0)
    stray = _symbol(algorithm, NEAR, Right.CALL, 390.0)
    algorithm.securities[short].holdings.quantity = -3
    algorithm.securities[stray].holdings.quantity = 1
    algorithm.utc_time = datetime(2021, 1, 15, 21, 30)

    algorithm.exercise(short, in_the_money=False)
    algorithm.exercise(stray, in_the_money=False)

    assert [e.split(":")[0] for e in algorithm.errors] == ["ALERT QUANTITY_MISMATCH", "ALERT UNOWNED_EXERCISE"]
    assert "LEAN settled +3, positions book-1 expected +1" in algorithm.errors[0]
    assert algorithm.strategies["book"].settlements == [("book-1", 0.0)]


def test_when_an_order_event_is_an_ordinary_fill_then_settlement_ignores_it(
    lean: ModuleType, make_algorithm: Callable[..., Any]
) -> None:
    algorithm = _opened(lean, make_algorithm, [(NEAR, Right.CALL, 380.0, -1)])
    ticket = algorithm.market_order(_symbol(algorithm, NEAR, Right.CALL, 380.0), 1)

    algorithm.fill(ticket, 2.0)

    assert algorithm.settlement.alerts == [] and algorithm.strategies["book"].settlements == []
    assert pytest.approx(0.0) == algorithm.securities[ticket.symbol].holdings.quantity
