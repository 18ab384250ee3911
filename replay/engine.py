"""The replay loop: a clock over the data's minutes driving the same core as LEAN.

Each minute, in this order: expired options settle; working combos try to fill (or time
out) and their strategies hear of it; the schedule rules due at this minute run their
strategies on a fresh :class:`~strategies.base.MarketContext` (one chain read per
decision) and the intents they return go to the simulated broker.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from replay.broker import SimBroker, WorkingOrder
from replay.ledger import Ledger
from replay.market import FutureOptionMarket
from replay.schedule import NEW_YORK, due_rules
from strategies.base import Strategy
from strategies.registry import build_strategies
from thetacore.decisions import Decision
from thetacore.enums import OrderStatus
from thetacore.parameters import Parameters
from thetacore.products import product

log = logging.getLogger("replay")


@dataclass
class ReplayResult:
    """Everything a replay produced, for :mod:`replay.summary`."""

    params: Parameters
    start: date
    end: date
    strategies: list[Strategy]
    decisions: list[Decision] = field(default_factory=list)
    orders: list[WorkingOrder] = field(default_factory=list)
    ledger: Ledger | None = None
    broker: SimBroker | None = None
    market: FutureOptionMarket | None = None
    end_utc: datetime | None = None
    problems: list[str] = field(default_factory=list)


def minutes(start: date, end: date) -> list[datetime]:
    """Every whole minute from ``start`` 00:00 to ``end`` 24:00 New York time, as UTC."""
    t = datetime.combine(start, time(0), tzinfo=NEW_YORK)
    stop = datetime.combine(end + timedelta(days=1), time(0), tzinfo=NEW_YORK)
    out = []
    while t < stop:
        out.append(t.astimezone(UTC))
        t += timedelta(minutes=1)
    return out


def run_replay(params: Parameters, data_root: Any, start: date, end: date) -> ReplayResult:
    """Replay every enabled strategy from ``start`` to ``end`` (New York dates) over the
    LEAN-format data in ``data_root``.

    Raises:
        replay.lean_data.errors.DataError: when the data the run needs is missing or corrupt
            (raised before the first minute runs, never in the middle of a position).
    """
    strategies = build_strategies(params)
    result = ReplayResult(params, start, end, strategies)
    if not strategies:
        result.problems.append("no strategy enabled")
        return result
    prod = product(params.strangle_underlying)
    market = FutureOptionMarket.load(data_root, prod.root, start, end)
    ledger = Ledger(params.starting_cash_usd)
    broker = SimBroker(params, ledger, market, prod)
    result.ledger, result.broker, result.market = ledger, broker, market
    owners = {s.name: s for s in strategies}
    rules = {s.name: s.schedules() for s in strategies}
    for t in minutes(start, end):
        if ledger.holdings:
            broker.settle_expired(t, market.underlying_mids(t))
            _settle_positions(strategies, broker, t)
        for order in broker.step(t):
            _notify(owners[order.intent.strategy], order)
        for strat in strategies:
            for rule in due_rules(rules[strat.name], t, market.is_trading_day):
                ctx = market.context(t)
                for decision in strat.on_schedule(rule.name, ctx):
                    _journal(result, decision)
                    if decision.intent is not None:
                        broker.submit(decision.intent, t)
        result.end_utc = t
    result.orders = broker.orders
    return result


def _notify(strategy: Strategy, order: WorkingOrder) -> None:
    if order.status is OrderStatus.FILLED:
        assert order.fill_net_pts is not None and order.status_utc is not None
        strategy.on_filled(order.intent, order.fill_net_pts, order.status_utc)
        log.info("%s filled %s at %+.2f pts", order.status_utc, order.intent.tag, order.fill_net_pts)
    else:
        strategy.on_unfilled(order.intent, order.note)
        log.warning("%s %s %s: %s", order.status_utc, order.status.value, order.intent.tag, order.note)


def _settle_positions(strategies: list[Strategy], broker: SimBroker, t: datetime) -> None:
    """Close strategy positions whose legs all settled this minute."""
    held = broker.ledger.holdings
    for strat in strategies:
        for pos in strat.open_positions():
            if pos.opened_utc is None or any(leg.symbol in held for leg in pos.structure.legs):
                continue
            settled = {str(r["symbol"]): float(r["intrinsic_pts"]) for r in broker.settlements}  # type: ignore[arg-type]
            if not all(leg.symbol in settled for leg in pos.structure.legs):
                continue
            net = sum(-leg.ratio * settled[leg.symbol] for leg in pos.structure.legs)
            strat.on_settled(pos.position_id, net, t)


def _journal(result: ReplayResult, decision: Decision) -> None:
    result.decisions.append(decision)
    level = logging.INFO if decision.intent or decision.action.value != "declined" else logging.DEBUG
    log.log(level, "%s %s %s: %s", decision.time_utc.astimezone(NEW_YORK).strftime("%Y-%m-%d %H:%M ET"),
            decision.strategy, decision.action.value, decision.reason_text)
