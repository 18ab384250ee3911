"""A scripted desk for the order-lifecycle tests: main.py with one strategy that opens ES call
credit spreads of any size at a given limit and closes them at a given limit, on the real ES
chain of 2020-01-06 (:mod:`es_world`), with a gate that admits every scripted order."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from datetime import time
from types import ModuleType
from typing import Any

import numpy as np
from es_world import calm_es_market, fire, install_es_chain
from fake_strategies import Scripted, open_intent, row

from risk.gate_session import GateSession
from strategies.base import MarketContext, PositionState, StrategyPosition, Subscription
from thetacore.decisions import Decision, OrderIntent, Reason
from thetacore.enums import Action, IntentPurpose, Right
from thetacore.schedule import DailyAt

MARCH = np.datetime64("2020-03-20")

RELAXED_GATE = {
    "brokerage": "interactive_brokers",
    "max_open_positions_per_strategy": "1000", "corr_limit_a1": "1000", "corr_limit_any_group": "1000",
    "corr_limit_a1_a2": "1000", "safety_limit_band_frac": "100", "max_risk_per_trade_frac": "0.05",
}
"""Gate parameters under which every scripted order is approved at its size."""


class Desk(Scripted):
    """Opens ``plan = (short call, long call or 0 for none, quantity, limit)`` at ``entry``; closes every OPEN
    position at ``close_limit`` at ``exit``."""

    plan: tuple[float, float, int, float] = (3300.0, 3310.0, 1, -4.0)
    close_limit: float = 1.0


def _decide(s: Scripted, rule: str, ctx: MarketContext) -> list[Decision]:
    assert isinstance(s, Desk) and ctx.chain is not None
    if rule == "entry":
        short_k, long_k, quantity, limit = s.plan
        rows = [(row(ctx.chain, MARCH, Right.CALL, short_k), -1)]
        if long_k:  # 0: a single short call
            rows.append((row(ctx.chain, MARCH, Right.CALL, long_k), 1))
        return [open_intent(s, ctx, rows, limit, quantity)]
    return [close_decision(s, pos, s.close_limit, ctx) for pos in s.open_positions()
            if pos.state is PositionState.OPEN]


def close_decision(s: Scripted, pos: StrategyPosition, limit: float, ctx: MarketContext) -> Decision:
    """An EXITED decision closing ``pos`` whole at ``limit`` (LEAN sign); the position is
    booked CLOSING."""
    legs = tuple(replace(leg, ratio=-leg.ratio) for leg in pos.structure.legs)
    pos.state = PositionState.CLOSING
    intent = OrderIntent(s.name, IntentPurpose.CLOSE, replace(pos.structure, legs=legs), pos.quantity, limit,
                         pos.position_id, tag=f"{pos.position_id} close {limit:+g}")
    return Decision(ctx.time_utc, s.name, Action.EXITED, (Reason("TAKE_PROFIT", "scripted"),), intent)


def desk_algorithm(lean: ModuleType, make_algorithm: Callable[..., Any], **params: str) -> tuple[Any, Desk]:
    """main.py with the :class:`Desk` strategy on the ES chain at 10:00 ET, gate relaxed."""
    sub = Subscription("ES", "future_option", 30, 120, 0.2, needs_vix=True)
    desk = Desk("desk", sub, _decide, [DailyAt("entry", time(10, 0)), DailyAt("exit", time(10, 5))])
    algorithm = make_algorithm(lambda p: [desk], **{**RELAXED_GATE, **params})
    install_es_chain(lean, algorithm)
    calm_es_market(algorithm)
    session = algorithm.risk.session  # GIVEN a record of 15 wins and 5 losses of 500 USD: Kelly allows 14 units
    record = {"wins": 15, "losses": 5, "win_sum_usd": 7500.0, "loss_sum_usd": 2500.0}
    session.stats.update(GateSession.create(session.params, {"stats": {"desk": record}}).stats)
    return algorithm, desk


def enter(algorithm: Any, desk: Desk, plan: tuple[float, float, int, float]) -> Any:
    """Fire the entry with ``plan``; returns the combo LEAN received."""
    desk.plan = plan
    before = len(algorithm.combo_orders)
    fire(algorithm, "desk:entry")
    assert len(algorithm.combo_orders) == before + 1, algorithm.journal.entries[-1].line()
    return algorithm.combo_orders[-1]


def holding(algorithm: Any, ticket: Any) -> float:
    """Contracts held of the ticket's symbol (signed)."""
    return float(algorithm.securities[ticket.symbol].holdings.quantity)
