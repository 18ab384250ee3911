"""The replay loop: a clock over the data's minutes driving the same core as LEAN.

Every enabled strategy gets the market its subscription asks for (futures options or
index options on minute data, equity options on end-of-day universes files); the clock
steps through every minute (New York time) of the days on which any of those markets has
data, and each strategy's schedule rules fire on its own market's data days only.

Each minute, in this order: expired options settle; working combos try to fill (or time
out) and their strategies hear of it; every ``nlv_mark_interval_min`` the NLV is marked for the risk
gate's loss limits and drawdown steps; the schedule rules due at this minute run their
strategies on a fresh :class:`~strategies.base.MarketContext` (one chain read per
decision) and every intent they return passes the risk gate (:mod:`risk.gate_session`),
which approves, resizes or refuses it, before the simulated broker sees it. A flatten or
close-losers request from the gate closes positions at the natural price.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime, time, timedelta
from functools import partial
from pathlib import Path
from typing import Any

import numpy as np

from replay import marks
from replay.broker import SimBroker, WorkingOrder
from replay.durable import StateKeeper, restore_book
from replay.fault_broker import FaultyBroker
from replay.faults import FaultPlan, FaultyQuotes
from replay.lean_data.errors import NoDataError
from replay.ledger import Ledger
from replay.market import FutureOptionMarket, OptionMarket
from replay.markets import Quotes, load_market
from replay.schedule import NEW_YORK, due_table
from replay.start_reconcile import StartReconciliation
from risk.flatten import host_close
from risk.gate import GateAction
from risk.gate_session import GateSession
from strategies.base import MarketContext, PositionState, Strategy, StrategyPosition
from strategies.registry import build_strategies
from thetacore.decisions import Decision
from thetacore.durable_state import BookState
from thetacore.enums import IntentPurpose, OrderStatus
from thetacore.events import read_events_file
from thetacore.parameters import Parameters
from thetacore.products import OptionProduct, product
from thetacore.schedule import ScheduleRule

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
    session: GateSession | None = None
    alerts: list[str] = field(default_factory=list)
    end_utc: datetime | None = None
    problems: list[str] = field(default_factory=list)
    marks: list[dict[str, Any]] = field(default_factory=list)  # NLV and BP in use at each NLV mark
    resumed_from_utc: datetime | None = None  # clock_utc of the state the run resumed from
    reconciliation: list[dict[str, Any]] = field(default_factory=list)  # actions of the start reconciliation
    stopped_after_utc: datetime | None = None  # set when stop_after_utc ended the run early (a simulated kill)
    state_saves: int = 0
    faults: FaultPlan = field(default_factory=FaultPlan)  # injected faults and what they did (replay.faults)


def minutes(start: date, end: date) -> list[datetime]:
    """Every whole minute from ``start`` 00:00 to ``end`` 24:00 New York time, as UTC."""
    t = datetime.combine(start, time(0), tzinfo=NEW_YORK)
    stop = datetime.combine(end + timedelta(days=1), time(0), tzinfo=NEW_YORK)
    out = []
    while t < stop:
        out.append(t.astimezone(UTC))
        t += timedelta(minutes=1)
    return out


def run_replay(params: Parameters, data_root: Path | str, start: date | None, end: date | None,
               saved_state: dict[str, Any] | None = None, *, resume: BookState | None = None,
               save: Callable[[BookState], None] | None = None, stop_after_utc: datetime | None = None,
               state_source: str = "state", faults: FaultPlan | None = None,
               market_cache: dict[tuple[Any, ...], OptionMarket] | None = None) -> ReplayResult:
    """Replay every enabled strategy over the LEAN-format data in ``data_root``, on the days
    within ``[start, end]`` (New York dates; ``None``: all the data) that have data.

    A strategy whose data is absent from the folder, or that refuses its parameters
    (:meth:`~strategies.base.Strategy.start_refusal`: a 0DTE underlying without daily
    expiries), is skipped with a reason in ``problems``; a corrupt file stops the run before
    its first minute. ``saved_state``: a gate-only state (``GateSession.state_dict()``) to start
    the gate from (library use).

    Durable state (:mod:`replay.durable`): ``save`` receives the whole book after every minute
    in which something it holds changed, once at the start and once at the end.
    ``resume`` (from ``state_source``): the strategies, the gate and the simulated broker are
    restored from it, reconciled (:mod:`replay.start_reconcile`), and the run continues at the
    minute after its ``clock_utc``. ``stop_after_utc``: the run stops after that minute as if
    killed (no final save: the last save stands).

    ``faults``: faults to inject (:mod:`replay.faults`; default none). ``market_cache``: loaded
    markets kept across runs by the caller (the fault matrix; markets only memoize, a run never
    changes them).

    Raises:
        replay.lean_data.errors.DataError: for a corrupt or malformed data file.
        thetacore.durable_state.StateError: for a ``resume`` book that does not fit (naming
            ``state_source`` and the key path).
    """
    data_root = Path(data_root)
    lo, hi = start or ALL_DATA[0], end or ALL_DATA[1]
    result = ReplayResult(params, start, end, [])
    markets, owner = _load_markets(result, build_strategies(params), data_root, lo, hi, market_cache)
    plan = result.faults = faults or FaultPlan()
    quotes = FaultyQuotes(Quotes(list(markets.values())), plan)
    ledger = Ledger(params.starting_cash_usd)
    broker = FaultyBroker(params, ledger, quotes, plan)
    result.ledger, result.broker, result.quotes = ledger, broker, quotes
    session = result.session = GateSession.create(params, saved_state)
    mark_book = marks.attach(quotes, params)
    if resume is not None:
        session, problems = restore_book(resume, params, result.strategies, broker, state_source, mark_book)
        result.session, result.resumed_from_utc = session, resume.clock_utc
        result.problems += problems
    plan.attach(session, result)
    run = _Run(result, session, broker, quotes, ledger)
    keeper = StateKeeper(result.strategies, session, broker, save, mark_book)
    events = _events(data_root)
    by_name = {s.name: s for s in result.strategies}
    tables: dict[tuple[str, int], list[list[ScheduleRule]]] = {}  # = due_rules, precomputed per early-close shift
    all_days = sorted(set().union(*result.days.values())) if result.days else []
    vix = params.vix_level if params.vix_level >= 0 else float("nan")
    vix_prev = params.vix_prev_close if params.vix_prev_close >= 0 else float("nan")
    after = resume.clock_utc if resume is not None else None
    if resume is not None:
        first = (after + timedelta(minutes=1)) if after is not None else _first_minute(all_days)
        _reconcile_on_start(run, resume, first)
    keeper.save(after)
    for day in all_days:
        if after is not None and day < after.astimezone(NEW_YORK).date():
            continue
        active = [s for s in result.strategies if day in result.days[s.name]]
        today = {s.name: _day_table(tables, s, owner[s.name], day) for s in active}  # minutes(day, day): all of day
        for t in minutes(day, day):
            if after is not None and t <= after:
                continue
            if stop_after_utc is not None and t > stop_after_utc:
                result.stopped_after_utc = stop_after_utc
                break
            if plan.on_minute(t):
                keeper.touch_all()
            if ledger.holdings and broker.settle_expired(t, partial(quotes.underlying_mids, t),
                                                         quotes.next_underlying_quote_utc):
                for strat, pos in _settle_positions(result.strategies, broker, t):
                    run.closed(strat, pos, t)
            for order in broker.step(t):
                broker.on_order_ended(by_name[order.intent.strategy], order, session, t)
                _notify(by_name[order.intent.strategy], order)
                run.after_order(by_name[order.intent.strategy], order, t)
                keeper.touch_all()
            if (t.hour * 60 + t.minute) % params.nlv_mark_interval_min == 0:
                run.mark(t)
                keeper.touch("gate", "marks")
            local = t.astimezone(NEW_YORK)
            minute = local.hour * 60 + local.minute
            for strat in active:
                market = owner[strat.name]
                table = today[strat.name]
                for rule in table[minute] if table is not None else ():
                    keeper.touch(strat.name, "marks")
                    ctx = plan.context(market.context(t, nlv_usd=nlv_usd(ledger, quotes, t), vix_level=vix,
                                         event_dates=events.get(market.front_underlying(day).upper(), ())), t)
                    for decision in strat.on_schedule(rule.name, ctx):
                        _journal(result, decision)
                        if decision.intent is not None:
                            keeper.touch_all()
                            run.route(strat, decision, ctx, vix_prev, market.product, t)
            keeper.end_minute(t)
            result.end_utc = t
        if result.stopped_after_utc is not None:
            break
    if result.stopped_after_utc is None:
        keeper.save(result.end_utc or after)
    result.orders = broker.orders
    result.state_saves = keeper.saves
    return result


def _load_markets(result: ReplayResult, strategies: list[Strategy], data_root: Path, lo: date, hi: date,
                  cache: dict[tuple[Any, ...], OptionMarket] | None = None,
                  ) -> tuple[dict[tuple[str, str, str], OptionMarket], dict[str, OptionMarket]]:
    """The market of every strategy that can run (others listed in ``result.problems``);
    fills ``result.strategies`` and ``result.days``."""
    markets: dict[tuple[str, str, str], OptionMarket] = {}
    owner: dict[str, OptionMarket] = {}
    for strat in strategies:
        refusal = strat.start_refusal()
        if refusal is not None:
            result.problems.append(f"{strat.name}: refused at start, {refusal}")
            continue
        sub = strat.subscription()
        key = (sub.kind, sub.root, sub.resolution)
        try:
            if key not in markets:
                age = result.params.max_quote_age_min
                cache = cache if cache is not None else {}
                if (*key, str(data_root), lo, hi, age) not in cache:
                    cache[(*key, str(data_root), lo, hi, age)] = load_market(sub, data_root, lo, hi, age)
                markets[key] = cache[(*key, str(data_root), lo, hi, age)]
        except NoDataError as exc:
            result.problems.append(f"{strat.name}: skipped, {exc}")
            continue
        owner[strat.name] = markets[key]
        result.strategies.append(strat)
        result.days[strat.name] = sorted(d for d in markets[key].data_days() if lo <= d <= hi)
    return markets, owner


def _first_minute(days: list[date]) -> datetime:
    """The first minute a run over ``days`` processes (midnight New York of the first day)."""
    return minutes(days[0], days[0])[0] if days else datetime.now(UTC)


def _reconcile_on_start(run: _Run, book: BookState, now_utc: datetime) -> None:
    """Reconcile the restored book with the restored simulated broker (:mod:`replay.start_reconcile`)."""
    ids = {int(o["order_id"]) for o in book.orders}
    rec = StartReconciliation(run.result.strategies, run.session, run.broker, now_utc,
                              lambda sym: run.quotes.quote(sym, now_utc), run.closed, ids)
    run.result.reconciliation = rec.run()
    run._alert(tuple(rec.alerts), now_utc)
    for a in rec.actions:
        log.warning("reconciliation on resume: %s %s: %s", a["action"], a["subject"], a["text"])


def _day_table(tables: dict[tuple[str, int], list[list[ScheduleRule]]], strat: Strategy, market: OptionMarket,
               day: date) -> list[list[ScheduleRule]] | None:
    """``table[minute]``: the rules of ``strat`` due at each New York minute of ``day``
    (:func:`replay.schedule.due_rules`, from a table built once per strategy and early-close
    shift); ``None`` when ``day`` is not a trading day of ``market`` (nothing is due). Looked
    up once per day, not once per strategy and minute."""
    if not market.is_trading_day(day):
        return None
    shift = market.early_close_min(day)
    key = (strat.name, shift)
    if key not in tables:
        tables[key] = due_table(strat.schedules(), shift)
    return tables[key]


def nlv_usd(ledger: Ledger, quotes: Quotes, t: datetime) -> float:
    """Cash plus every holding at its validated mark, dollars (:func:`replay.marks.nlv_usd`:
    a quote that fails the orders' validation never moves it; the holding keeps its last
    good mark and the quote is logged with its data file and minute)."""
    return marks.nlv_usd(ledger, quotes, t)


def _events(data_root: Path) -> dict[str, tuple[date, ...]]:
    path = data_root / "events" / "events.csv"
    if not path.exists():
        log.warning("no events file at %s: event avoidance sees no events", path)
        return {}
    return read_events_file(path)


def _notify(strategy: Strategy, order: WorkingOrder) -> None:
    if order.status is OrderStatus.FILLED:
        assert order.fill_net_pts is not None and order.status_utc is not None
        strategy.on_filled(order.intent, order.fill_net_pts, order.status_utc)
        log.info("%s filled %s at %+.2f pts", order.status_utc, order.intent.tag, order.fill_net_pts)
    else:
        strategy.on_unfilled(order.intent, order.note)
        log.warning("%s %s %s: %s", order.status_utc, order.status.value, order.intent.tag, order.note)


def _settle_positions(strategies: list[Strategy], broker: SimBroker,
                      t: datetime) -> list[tuple[Strategy, StrategyPosition]]:
    """Close strategy positions whose legs all settled; returns them."""
    out = []
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
            out.append((strat, pos))
    return out


def _journal(result: ReplayResult, decision: Decision) -> None:
    result.decisions.append(decision)
    level = logging.INFO if decision.intent or decision.action.value != "declined" else logging.DEBUG
    log.log(level, "%s %s %s: %s", decision.time_utc.astimezone(NEW_YORK).strftime("%Y-%m-%d %H:%M ET"),
            decision.strategy, decision.action.value, decision.reason_text)





@dataclass
class _Run:
    """Gate routing and the gate's notices for one replay."""

    result: ReplayResult
    session: GateSession
    broker: SimBroker
    quotes: Quotes
    ledger: Ledger

    def route(self, strat: Strategy, decision: Decision, ctx: MarketContext, vix_prev: float,
              prod: OptionProduct, t: datetime) -> None:
        """Send ``decision.intent`` through the gate; send what it approves."""
        intent = decision.intent
        assert intent is not None
        verdict = self.session.review(decision, ctx, vix_prev_close=vix_prev, now_utc=t)
        self._alert(verdict.alerts, t)
        if verdict.action is GateAction.REFUSE:
            log.warning("%s gate refused %s: %s", t, intent.tag, verdict.reason_text)
            strat.on_unfilled(intent, f"refused by the risk gate: {verdict.reason_text}")
        else:
            if verdict.quantity != intent.quantity:
                strat.on_resized(intent, verdict.quantity)
                intent = replace(intent, quantity=verdict.quantity)
            self.broker.submit(intent, t, prod)
        self._act(verdict.flatten_requested, verdict.close_losers_requested, t)

    def after_order(self, strat: Strategy, order: WorkingOrder, t: datetime) -> None:
        """Tell the gate about a closed position or a forgotten entry."""
        pid = order.intent.position_id
        pos = strat.positions.get(pid)
        if order.status is not OrderStatus.FILLED and order.intent.purpose is IntentPurpose.OPEN:
            self.session.forget(pid)
        elif pos is not None and pos.state is PositionState.CLOSED and order.intent.purpose is IntentPurpose.CLOSE:
            self.closed(strat, pos, t)

    def closed(self, strat: Strategy, pos: StrategyPosition, t: datetime) -> None:
        """A whole position closed or settled: its realized P&L goes to the gate."""
        notice = self.session.on_closed(pos.position_id, strat.name, realized_usd(pos, self.broker.orders), t)
        self._alert(notice.alerts, t)
        self._act(notice.flatten_requested, notice.close_losers_requested, t)

    def mark(self, t: datetime) -> None:
        """An NLV mark for the loss limits and drawdown steps, from validated marks only."""
        marks.attach(self.quotes, self.session.params)
        nlv = nlv_usd(self.ledger, self.quotes, t)
        if np.isfinite(nlv):
            self.mark_bp(t)
            self.result.marks.append({"time_utc": t.isoformat(), "nlv_usd": round(nlv, 2),
                                      "bp_in_use_usd": round(self.session.account(nlv).buying_power_in_use_usd, 2)})
            notice = self.session.on_nlv(nlv, t)
            self._alert(notice.alerts, t)
            self._act(notice.flatten_requested, notice.close_losers_requested, t)

    def mark_bp(self, t: datetime) -> None:
        """Re-mark the booked positions' buying power from the mids the NLV marks validated
        (:func:`replay.marks.bp_mids`; :meth:`GateSession.mark_bp`), with the strategies'
        current structures and each futures market's exchange margin of the day (the entry's
        scan range)."""
        structures = {p.position_id: p.structure for s in self.result.strategies for p in s.open_positions()}
        mids = marks.bp_mids(self.quotes, self.session.mark_symbols(), t)
        day = t.astimezone(NEW_YORK).date()
        markets = getattr(self.quotes, "markets", ())
        rate = next((m.rates.rate_on(day) for m in markets), 0.0)
        margins = {m.root: m.initial_margin_usd(day) for m in markets if isinstance(m, FutureOptionMarket)}
        for text in self.session.mark_bp(mids, t, rate, structures, margins):
            log.info("%s %s", t, text)

    def _alert(self, alerts: tuple[str, ...], t: datetime) -> None:
        for a in alerts:
            log.warning("ALERT %s: %s", t, a)
            self.result.alerts.append(f"{t.isoformat()} {a}")

    def _act(self, flatten: bool, losers_only: bool, t: datetime) -> None:
        """Close every open position (flatten) or the losing ones, at the natural price; each
        close passes the gate's exit checks first (:func:`risk.flatten.host_close`)."""
        if not (flatten or losers_only):
            return
        why = "GATE_FLATTEN" if flatten else "GATE_CLOSE_LOSER"
        for strat in self.result.strategies:
            root = strat.subscription().root
            for pos in [p for p in strat.open_positions() if p.state is PositionState.OPEN]:
                close = host_close(self.session, strat.name, pos, lambda sym: marks.holding_quote(self.quotes, sym, t)[0],
                                   root, why, not flatten, t)
                if close.alert:
                    self._alert((close.alert,), t)
                if close.intent is None:
                    continue
                pos.state, pos.exit_reason = PositionState.CLOSING, why
                self.broker.submit(close.intent, t, product(root))


def realized_usd(pos: StrategyPosition, orders: list[WorkingOrder]) -> float:
    """Realized P&L of a closed position in dollars: ``-(entry + exit) x quantity x
    multiplier`` less every fee its orders paid."""
    gross = -((pos.entry_net_pts or 0.0) + (pos.exit_net_pts or 0.0)) * pos.quantity * pos.structure.multiplier_usd_per_pt
    fees = sum(o.fees_usd for o in orders if o.intent.position_id == pos.position_id)
    return gross - fees
