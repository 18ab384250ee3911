"""The risk gate between the strategies and every order, through main.py on the REAL ES chain
of 2020-01-06 10:00 New York (the strangle's relaxed entry) with the REAL ES daily bars and a
GIVEN VIX (13.85, previous close 14.02): refusals send nothing and are journaled, approvals send
the combo, resizes send the smaller quantity, NLV marks trip the drawdown steps whose flatten
closes positions at the natural price, and exits report their realized P&L after LEAN's fees."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from datetime import time, timedelta
from types import ModuleType
from typing import Any

import numpy as np
import pytest
from es_world import RELAXED, calm_es_market, fill_close, fire, install_es_chain
from fake_strategies import Scripted, open_intent, row

from risk.flatten import close_intent
from strategies.base import MarketContext, PositionState, Subscription
from strategies.futures_strangle import FuturesStrangle
from thetacore.decisions import Decision, Reason
from thetacore.enums import Action, Right
from thetacore.schedule import DailyAt

STRANGLE = "futures_strangle"
MARCH = np.datetime64("2020-03-20")


def _strangle(lean: ModuleType, make_algorithm: Callable[..., Any], *, calm: bool = True, **params: str) -> Any:
    algorithm = make_algorithm(**RELAXED, **params)
    install_es_chain(lean, algorithm)
    if calm:
        calm_es_market(algorithm)
    fire(algorithm, f"{STRANGLE}:entry")
    return algorithm


def _filled(lean: ModuleType, make_algorithm: Callable[..., Any]) -> Any:
    """The strangle opened: put filled at 29.10, call at 3.40 (a 32.50 credit)."""
    algorithm = _strangle(lean, make_algorithm)
    put, call = algorithm.combo_orders[0].tickets
    algorithm.fill(put, 29.10)
    algorithm.fill(call, 3.40)
    return algorithm


def _position(algorithm: Any, name: str = STRANGLE) -> Any:
    [position] = algorithm.strategies[name].positions.values()
    return position


# ----- verdicts --------------------------------------------------------------------------------
def test_when_the_gate_approves_the_strangle_then_the_combo_goes_out_and_the_verdict_is_journaled(
    lean: ModuleType, make_algorithm: Callable[..., Any]
) -> None:
    algorithm = _strangle(lean, make_algorithm)

    [verdict] = algorithm.journal.verdicts()
    assert (verdict.action, verdict.details["quantity"], verdict.details["trading_state"]) == ("APPROVE", 1, "active")
    [order] = algorithm.combo_orders
    assert order.quantity == 1 and order.tag == verdict.details["position_id"] + " open"
    [row] = [r for r in algorithm.journal.rows() if r["kind"] == "gate"]
    assert row["action"] == "APPROVE" and row["details"]["asked"] == 1
    assert any(line.startswith("  gate futures_strangle APPROVE: 1") for line in algorithm.journal.summary_lines())
    assert algorithm.risk.session.account(100_000.0).buying_power_in_use_usd > 0  # booked


def test_when_the_kill_switch_parameter_is_on_then_the_entry_is_refused_nothing_is_sent_and_it_is_journaled(
    lean: ModuleType, make_algorithm: Callable[..., Any]
) -> None:
    algorithm = _strangle(lean, make_algorithm, kill_switch="true")

    assert algorithm.combo_orders == [] and algorithm.limit_orders == []
    [verdict] = algorithm.journal.verdicts()
    assert (verdict.action, verdict.codes) == ("REFUSE", ("KILL_SWITCH",))
    assert verdict.details["trading_state"] == "halted"
    position = _position(algorithm)
    assert position.state is PositionState.CLOSED
    assert position.exit_reason.startswith("never opened: refused by the risk gate: KILL_SWITCH")
    assert "KILL SWITCH parameter kill_switch=true: no new entries" in algorithm.errors


def test_when_vix_has_no_data_then_the_gate_refuses_never_assuming_a_level(
    lean: ModuleType, make_algorithm: Callable[..., Any]
) -> None:
    algorithm = _strangle(lean, make_algorithm, calm=False)

    [verdict] = algorithm.journal.verdicts()
    assert verdict.action == "REFUSE" and set(verdict.codes) == {"DATA_MISSING"}
    assert "vix_level=nan" in verdict.text and "vix_prev_close=nan" in verdict.text
    assert algorithm.combo_orders == []


class _AsksThree(FuturesStrangle):
    """The real strangle, asking for 3 units."""

    def on_schedule(self, rule_name: str, ctx: MarketContext) -> list[Decision]:
        out = []
        for decision in super().on_schedule(rule_name, ctx):
            if decision.intent is not None:
                self.positions[decision.intent.position_id].quantity = 3
                decision = replace(decision, intent=replace(decision.intent, quantity=3))
            out.append(decision)
        return out


def test_when_the_gate_resizes_then_the_smaller_quantity_goes_out_and_the_strategy_hears_it(
    lean: ModuleType, make_algorithm: Callable[..., Any]
) -> None:
    """3 units asked; 1 unit's margin stress loss is above the 2% target: 1 goes out."""
    algorithm = make_algorithm(lambda p: [_AsksThree(p)], **RELAXED)
    install_es_chain(lean, algorithm)
    calm_es_market(algorithm)
    fire(algorithm, f"{STRANGLE}:entry")

    [verdict] = algorithm.journal.verdicts()
    assert (verdict.action, verdict.details["asked"], verdict.details["quantity"]) == ("RESIZE", 3, 1)
    assert "TRADE_RISK_ABOVE_TARGET" in verdict.codes
    [order] = algorithm.combo_orders
    assert order.quantity == 1 and [leg.quantity for leg in order.legs] == [-1, -1]
    position = _position(algorithm)
    assert position.quantity == 1 and position.notes == ["resized by the risk gate: 3 -> 1"]


# ----- outcomes --------------------------------------------------------------------------------
def test_when_an_approved_entry_times_out_unfilled_then_the_gate_forgets_its_buying_power(
    lean: ModuleType, make_algorithm: Callable[..., Any]
) -> None:
    algorithm = _strangle(lean, make_algorithm)
    assert list(algorithm.risk.session.records) == [_position(algorithm).position_id]

    algorithm.utc_time += timedelta(minutes=5)
    fire(algorithm, "orders:time-outs")

    assert algorithm.risk.session.records == {}
    assert algorithm.risk.session.account(100_000.0).buying_power_in_use_usd == 0.0


def test_when_a_fill_is_charged_then_the_fees_lean_charged_are_kept_per_position(
    lean: ModuleType, make_algorithm: Callable[..., Any]
) -> None:
    """Tastytrade ES options: 2.50 commission + 0.30 clearing + 0.57 exchange per contract opened."""
    algorithm = _filled(lean, make_algorithm)
    key = (STRANGLE, _position(algorithm).position_id)
    assert algorithm.router.fees_usd[key] == pytest.approx(2 * 3.37)


# ----- NLV marks, flatten, realized P&L ---------------------------------------------------------
def test_when_nlv_falls_20_percent_then_the_flatten_closes_the_strangle_at_the_natural_price(
    lean: ModuleType, make_algorithm: Callable[..., Any]
) -> None:
    algorithm = _filled(lean, make_algorithm)
    position = _position(algorithm)
    legs = {t.symbol.value: t.symbol for t in algorithm.combo_orders[0].tickets}
    asks = {v: algorithm.securities[s].ask_price for v, s in legs.items()}

    algorithm.portfolio.total_portfolio_value = 79_000.0  # GIVEN: -21% from the 100,000 peak
    fire(algorithm, "gate:nlv")

    assert position.state is PositionState.CLOSING and position.exit_reason == "GATE_FLATTEN"
    close = algorithm.combo_orders[-1]
    assert [leg.quantity for leg in close.legs] == [1, 1] and close.quantity == 1
    assert close.limit_price == pytest.approx(round(sum(asks.values()), 4))  # buy back at the asks
    assert "close GATE_FLATTEN" in close.tag
    assert any("DRAWDOWN_FLATTEN tripped" in e for e in algorithm.errors)
    # issue 8: the flatten's close passes the gate's exit checks (it was never gated before)
    entry, flatten = algorithm.journal.verdicts()
    assert (flatten.details["purpose"], flatten.action, flatten.codes) == ("close", "APPROVE", ())

    fire(algorithm, "gate:nlv")  # the request holds: the CLOSING position is not closed twice
    assert len(algorithm.combo_orders) == 2

    realized, stats = fill_close(algorithm, close, 35.00, 4.00)

    assert position.state is PositionState.CLOSED and position.exit_net_pts == pytest.approx(39.0)
    # -(-32.50 + 39.00) x 1 x 50 = -325.00, less 2 x 3.37 to open and 2 x 0.87 to close
    assert realized.startswith(f"{position.position_id}: -333.48 USD after 8.48 USD fees (GATE_FLATTEN)")
    assert (stats.losses, stats.loss_sum_usd) == (1, pytest.approx(333.48))
    assert algorithm.risk.session.records == {}


def test_when_the_flatten_comes_while_an_entry_works_then_the_entry_is_canceled(
    lean: ModuleType, make_algorithm: Callable[..., Any]
) -> None:
    algorithm = _strangle(lean, make_algorithm)

    algorithm.portfolio.total_portfolio_value = 79_000.0
    fire(algorithm, "gate:nlv")

    put, call = algorithm.combo_orders[0].tickets
    assert put.status == call.status == lean.OrderStatus.CANCELED
    assert "GATE_FLATTEN" in put.cancel_tags[0]
    assert _position(algorithm).state is PositionState.CLOSED and algorithm.risk.session.records == {}


def test_when_a_decision_runs_then_the_gate_marks_the_nlv_first(
    lean: ModuleType, make_algorithm: Callable[..., Any]
) -> None:
    algorithm = _strangle(lean, make_algorithm)
    state = algorithm.risk.session.gate.state
    assert (state.peak_nlv_usd, state.last_nlv_usd, state.period_key["day"]) == (100_000.0, 100_000.0, "2020-01-06")


def _book(strategy: Scripted, rule: str, ctx: MarketContext) -> list[Decision]:
    """Opens the March 3000 put and 3460 call short at their net mid ("entry"); closes the
    open position at the natural price ("exit")."""
    chain = ctx.chain
    assert chain is not None
    if rule == "entry":
        rows = [(row(chain, MARCH, Right.PUT, 3000.0), -1), (row(chain, MARCH, Right.CALL, 3460.0), -1)]
        mid = sum(q * (chain.bid_pts[i] + chain.ask_pts[i]) / 2 for i, q in rows)
        return [open_intent(strategy, ctx, rows, round(float(mid) * 4) / 4)]
    [pos] = [p for p in strategy.positions.values() if p.state is PositionState.OPEN]
    quotes = {str(s): (float(b), float(a)) for s, b, a in zip(chain.symbol, chain.bid_pts, chain.ask_pts, strict=True)}
    close = close_intent(strategy.name, pos, quotes.__getitem__, "exit")
    assert close is not None
    pos.state = PositionState.CLOSING
    return [Decision(ctx.time_utc, strategy.name, Action.EXITED, (Reason("EXIT", "scripted"),), close)]


def test_when_a_strategy_exits_through_the_gate_then_the_close_goes_out_and_its_win_is_counted(
    lean: ModuleType, make_algorithm: Callable[..., Any]
) -> None:
    """Fills GIVEN: opened at 9.00 + 4.00 = 13.00 credit, closed at 5.00 + 2.00 = 7.00 debit."""
    sub = Subscription("ES", "future_option", 0, 135, 0.25)
    rules = [DailyAt("entry", time(10, 0)), DailyAt("exit", time(10, 0))]
    algorithm = make_algorithm(lambda p: [Scripted("book", sub, _book, rules)])
    install_es_chain(lean, algorithm)
    calm_es_market(algorithm)
    fire(algorithm, "book:entry")
    put, call = algorithm.combo_orders[0].tickets
    algorithm.fill(put, 9.00)
    algorithm.fill(call, 4.00)

    fire(algorithm, "book:exit")

    assert [v.action for v in algorithm.journal.verdicts()] == ["APPROVE", "APPROVE"]
    assert algorithm.journal.verdicts()[1].details["purpose"] == "close"
    close = algorithm.combo_orders[-1]
    assert [leg.quantity for leg in close.legs] == [1, 1]
    put, call = close.tickets
    algorithm.fill(put, 5.00)
    algorithm.fill(call, 2.00)
    position = _position(algorithm, "book")
    assert position.state is PositionState.CLOSED
    # -(-13.00 + 7.00) x 1 x 50 = +300.00, less 2 x 3.37 to open and 2 x 0.87 to close
    stats = algorithm.risk.session.stats["book"]
    assert (stats.wins, stats.win_sum_usd) == (1, pytest.approx(291.52))
    assert algorithm.risk.session.records == {}


def test_when_a_scripted_strategy_has_nothing_to_send_then_the_gate_sees_nothing(
    lean: ModuleType, make_algorithm: Callable[..., Any]
) -> None:
    sub = Subscription("ES", "future_option", 0, 135, 0.25)
    algorithm = make_algorithm(lambda p: [Scripted("idle", sub, lambda s, r, c: [])])
    install_es_chain(lean, algorithm)
    fire(algorithm, "idle:entry")
    assert algorithm.journal.verdicts() == [] and algorithm.risk.session.journal == []
