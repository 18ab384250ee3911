"""The replay loop: a clock over the data's minutes driving the same core as LEAN.

Every enabled strategy gets the market its subscription asks for (futures options or
index options on minute data, equity options on end-of-day universes files); the clock
steps through every minute (New York time) of the days on which any of those markets has
data, and each strategy's schedule rules fire on its own market's data days only.

Each minute, in this order: expired options settle; working combos try to fill (or time
out) and their strategies hear of it; the schedule rules due at this minute run their
strategies on a fresh :class:`~strategies.base.MarketContext` (one chain read per
decision) and the intents they return go to the simulated broker.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path

import numpy as np

from replay.broker import SimBroker, WorkingOrder
from replay.lean_data.errors import NoDataError
from replay.ledger import Ledger
from replay.market import OptionMarket
from replay.markets import Quotes, load_market
from replay.schedule import NEW_YORK, due_rules
from strategies.base import Strategy
from strategies.registry import build_strategies
from thetacore.decisions import Decision
from thetacore.enums import OrderStatus
from thetacore.events import parse_events_csv
from thetacore.parameters import Parameters
from thetacore.products import product

log = logging.getLogger("replay")
ALL_DATA = (date(1990, 1, 1), date(2100, 1, 1))


@dataclass
class ReplayResult:
    """Everything a replay produced, for :mod:`replay.summary`."""

    params: Parameters
    start: date | None
    end: date | None
    strategies: list[Strategy]
    decisions: list[Decision] = field(default_factory=list)
    orders: list[WorkingOrder] = field(default_factory=list)
    ledger: Ledger | None = None
    broker: SimBroker | None = None
    quotes: Quotes | None = None
    days: dict[str, list[date]] = field(default_factory=dict)
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


def run_replay(params: Parameters, data_root: Path | str, start: date | None, end: date | None) -> ReplayResult:
    """Replay every enabled strategy over the LEAN-format data in ``data_root``, on the days
    within ``[start, end]`` (New York dates; ``None``: all the data) that have data.

    A strategy whose data is absent from the folder is skipped with a reason in
    ``problems``; a corrupt file stops the run before its first minute.

    Raises:
        replay.lean_data.errors.DataError: for a corrupt or malformed data file.
    """
    data_root = Path(data_root)
    lo, hi = start or ALL_DATA[0], end or ALL_DATA[1]
    strategies = build_strategies(params)
    result = ReplayResult(params, start, end, [])
    markets: dict[tuple[str, str, str], OptionMarket] = {}
    owner: dict[str, OptionMarket] = {}
    for strat in strategies:
        sub = strat.subscription()
        key = (sub.kind, sub.root, sub.resolution)
        try:
            if key not in markets:
                markets[key] = load_market(sub, data_root, lo, hi, params.max_quote_age_min)
        except NoDataError as exc:
            result.problems.append(f"{strat.name}: skipped, {exc}")
            continue
        owner[strat.name] = markets[key]
        result.strategies.append(strat)
        result.days[strat.name] = sorted(d for d in markets[key].data_days() if lo <= d <= hi)
    quotes = Quotes(list(markets.values()))
    ledger = Ledger(params.starting_cash_usd)
    broker = SimBroker(params, ledger, quotes)
    result.ledger, result.broker, result.quotes = ledger, broker, quotes
    events = _events(data_root)
    by_name = {s.name: s for s in result.strategies}
    rules = {s.name: s.schedules() for s in result.strategies}
    all_days = sorted(set().union(*result.days.values())) if result.days else []
    vix = params.vix_level if params.vix_level >= 0 else float("nan")
    for day in all_days:
        active = [s for s in result.strategies if day in result.days[s.name]]
        for t in minutes(day, day):
            if ledger.holdings:
                broker.settle_expired(t, quotes.underlying_mids(t))
                _settle_positions(result.strategies, broker, t)
            for order in broker.step(t):
                _notify(by_name[order.intent.strategy], order)
            for strat in active:
                market = owner[strat.name]
                for rule in due_rules(rules[strat.name], t, market.is_trading_day):
                    ctx = market.context(t, nlv_usd=nlv_usd(ledger, quotes, t), vix_level=vix,
                                         event_dates=events.get(market.front_underlying(day).upper(), ()))
                    for decision in strat.on_schedule(rule.name, ctx):
                        _journal(result, decision)
                        if decision.intent is not None:
                            broker.submit(decision.intent, t, market.product)
            result.end_utc = t
    result.orders = broker.orders
    return result


def nlv_usd(ledger: Ledger, quotes: Quotes, t: datetime) -> float:
    """Cash plus every holding at its mid (its last mid when the quote is stale), dollars."""
    value = 0.0
    for h in ledger.holdings.values():
        bid, ask = quotes.quote(h.symbol, t)
        mid = (bid + ask) / 2 if np.isfinite(bid) and np.isfinite(ask) else quotes.last_mid(h.symbol, t)
        if not np.isfinite(mid):
            return float("nan")
        value += h.quantity * mid * h.multiplier_usd_per_pt
    return ledger.cash_usd + value


def _events(data_root: Path) -> dict[str, tuple[date, ...]]:
    path = data_root / "events" / "events.csv"
    if not path.exists():
        log.warning("no events file at %s: event avoidance sees no events", path)
        return {}
    return parse_events_csv(path.read_text(), str(path))


def _notify(strategy: Strategy, order: WorkingOrder) -> None:
    if order.status is OrderStatus.FILLED:
        assert order.fill_net_pts is not None and order.status_utc is not None
        strategy.on_filled(order.intent, order.fill_net_pts, order.status_utc)
        log.info("%s filled %s at %+.2f pts", order.status_utc, order.intent.tag, order.fill_net_pts)
    else:
        strategy.on_unfilled(order.intent, order.note)
        log.warning("%s %s %s: %s", order.status_utc, order.status.value, order.intent.tag, order.note)


def _settle_positions(strategies: list[Strategy], broker: SimBroker, t: datetime) -> None:
    """Close strategy positions whose legs all settled."""
    held = broker.ledger.holdings
    settled = {str(r["symbol"]): float(r["intrinsic_pts"]) for r in broker.settlements}  # type: ignore[arg-type]
    for strat in strategies:
        for pos in strat.open_positions():
            if pos.opened_utc is None or any(leg.symbol in held for leg in pos.structure.legs):
                continue
            if not all(leg.symbol in settled for leg in pos.structure.legs):
                continue
            net = sum(-leg.ratio * settled[leg.symbol] for leg in pos.structure.legs)
            strat.on_settled(pos.position_id, net, t)


def _journal(result: ReplayResult, decision: Decision) -> None:
    result.decisions.append(decision)
    level = logging.INFO if decision.intent or decision.action.value != "declined" else logging.DEBUG
    log.log(level, "%s %s %s: %s", decision.time_utc.astimezone(NEW_YORK).strftime("%Y-%m-%d %H:%M ET"),
            decision.strategy, decision.action.value, decision.reason_text)


__all__ = ["ReplayResult", "minutes", "nlv_usd", "product", "run_replay"]
