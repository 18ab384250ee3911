"""ThetaDesk in LEAN: the table of contents.

What runs: the strategies switched on by parameters (``strategies/registry.py``: each
``*_enabled``). What it subscribes: one feed per option kind and root that a strategy asks for
(ES/MES futures options, SPX/SPXW index options, SPY/QQQ equity options as chains or as single
LEAP contracts picked daily; MES options next to ES ones for the drawdown halve step's move to
the micro, ``micro_move_enabled``: :mod:`risk.micro_move`), VIX when a strategy reads it, and the user's events file
(:mod:`leanhost.market_data`, :mod:`leanhost.subscriptions`). What is scheduled: each
strategy's rules on its underlying's trading days, the daily single-contract refresh, and an
order time-out check every minute, and an NLV mark for the risk gate every 30 minutes. What
guards it: every intent passes the risk gate BEFORE the router (approve, resize or refuse;
flatten and close-losers requests; VIX, NLV, realized P&L of each exit; gate state and the
operator's kill switch in the object store; alerts by log, QC notify and SMTP:
:mod:`leanhost.risk_desk`, :mod:`leanhost.gate_store`, :mod:`leanhost.alerts`). What it
trades: one limit order per intent, a combo for several legs (:mod:`leanhost.orders`). Expiry,
exercise and assignment reach the owning strategy, loudly (:mod:`leanhost.settlement`). The
whole book (positions, working order groups, the gate, histories) is saved in the object
store after every change and restored at every start (:mod:`leanhost.book`,
:mod:`leanhost.book_store`); saved orders are re-attached to the brokerage's
(:mod:`leanhost.reattach`), and a daily and start-up reconciliation settles, adopts or blocks
on LEAN's holdings and open orders (:mod:`leanhost.reconciliation`). Operator live commands
(:mod:`leanhost.operator`), brokerage messages, disconnects and margin (:mod:`leanhost.brokerage_events`) reach the gate. Every
decision and verdict is journaled within QuantConnect's log limits (:mod:`leanhost.journal`);
per-strategy charts and runtime/summary statistics come at the NLV marks
(:mod:`leanhost.dashboard`). The rules themselves live in the
pure core (``strategies/``, ``thetacore/``, ``risk/``), which never imports LEAN.
"""

from __future__ import annotations

import os
from functools import partial
from typing import TYPE_CHECKING, Any

from AlgorithmImports import QCAlgorithm

from leanhost.alerts import AlertChannel
from leanhost.book import HostBook
from leanhost.book_store import BookStore, check_fresh_start
from leanhost.brokerage import apply_brokerage
from leanhost.brokerage_events import BrokerageEvents, disable_lean_margin_calls, live_model_name
from leanhost.chains import ChainReader
from leanhost.daily_report import schedule_daily_report, send_daily_report
from leanhost.dashboard import Dashboard
from leanhost.gate_store import StoreKeys, load_gate_session, store_keys
from leanhost.iv_history import restore_iv_readings, save_iv_readings
from leanhost.journal import DecisionJournal
from leanhost.market_data import MarketData
from leanhost.operator import OperatorCommands
from leanhost.orders import OrderRouter
from leanhost.parameters import read_parameters
from leanhost.reattach import reattach
from leanhost.reconciliation import Reconciler
from leanhost.risk_desk import RiskDesk
from leanhost.scheduling import now_utc, schedule_every_minute, schedule_rule
from leanhost.serial import EntryLock
from leanhost.settlement import SettlementDesk
from leanhost.subscriptions import UnderlyingFeed
from strategies.base import Strategy
from strategies.registry import build_strategies

if TYPE_CHECKING:
    from AlgorithmImports import BrokerageMessageEvent, OrderEvent, SubmitOrderRequest


class ThetaDeskAlgorithm(QCAlgorithm):
    """Subscribes, schedules, decides through the core, gates and routes intents, journals."""

    def initialize(self) -> None:
        self.entry_lock = EntryLock()  # every entry point runs inside it (leanhost/serial.py)
        self.params = read_parameters(self)
        self.set_start_date(self.params.backtest_start)
        self.set_end_date(self.params.backtest_end)
        self.set_cash(self.params.starting_cash_usd)
        live_model = live_model_name(self)  # the live brokerage's model until ours is set
        apply_brokerage(self, self.params)
        disable_lean_margin_calls(self)  # no single-leg liquidation: leanhost.brokerage_events

        self.journal = DecisionJournal(self)
        self.chains = ChainReader(self, max_quote_age_min=self.params.max_quote_age_min)
        self.strategies = {s.name: s for s in build_strategies(self.params) if self._admitted(s)}
        self.market = MarketData.subscribe(self, self.chains, self.strategies.values(),
                                          micro_move=self.params.micro_move_enabled)
        self.market.vix_prev_close_max_age_days = self.params.vix_prev_close_max_age_days
        self.router = OrderRouter(self, self.params, self.chains.symbols, self.strategies, self.journal)
        self.settlement = SettlementDesk(self, self.chains, self.strategies, self.journal)
        keys = store_keys(self, self.params.state_key_prefix)
        self.book = HostBook(self, self.params, BookStore(self, keys), self.strategies, self.router, self.chains)
        self.risk = self._risk_desk(keys)
        self.operator = OperatorCommands(self, self.risk)
        self.brokerage_events = BrokerageEvents(self, self.params, self.risk)
        self.brokerage_events.at_start(live_model)
        self.reconciler = Reconciler(self, self.params, self.chains, self.chains.symbols, self.strategies,
                                     self.settlement, self.risk, self.router.knows_order)
        self.dashboard = Dashboard(self, self.strategies, self.risk.session, self.router.fees_usd,
                                   self.risk.quote, self.market.vix_level, self.risk.partial_realized_usd)
        self.risk.on_mark = self.dashboard.update  # charts and statistics at the NLV marks
        self.iv_saved: dict[str, str] = {}  # IV readings survive a live restart (leanhost/iv_history.py)
        restore_iv_readings(self, self.risk.keys, self.strategies.values())

        for strategy in self.strategies.values():
            feed = self.market.feed_of(strategy)
            for rule in strategy.schedules():
                handler = partial(self._decide, strategy, feed)
                schedule_rule(self, feed.symbol, f"{strategy.name}:{rule.name}", rule, handler)
        for feed in list(self.market.feeds.values())[:1]:
            schedule_every_minute(self, feed.symbol, "orders:time-outs", self._check_timeouts)
            self.risk.schedule_marks(feed.symbol)
            self.reconciler.schedule(feed.symbol)
            schedule_every_minute(self, feed.symbol, "host:margin", self._check_margin)
            schedule_daily_report(self, feed.symbol, self.params.daily_report_time_et, self._daily_report)
        self.log(
            f"ThetaDesk: brokerage {self.params.brokerage}, strategies "
            f"{', '.join(self.strategies) or 'none'}, feeds "
            f"{', '.join(f'{k}:{r}' for k, r in self.market.feeds) or 'none'}"
        )

    def _admitted(self, strategy: Strategy) -> bool:
        """False, with an error logged, for a strategy that refuses its parameters at start
        (e.g. a 0DTE underlying without daily expiries): it is neither subscribed nor scheduled."""
        refusal = strategy.start_refusal()
        if refusal is not None:
            self.error(f"ThetaDesk: {strategy.name} not started: {refusal}")
        return refusal is None

    def _risk_desk(self, keys: StoreKeys) -> RiskDesk:
        """The risk gate wired to the router's and the settlement's outcomes. Live runs restore
        the saved book (strategies, order groups, gate: leanhost/book.py); without one, the
        gate's own key (an older deployment) and ``fresh_start`` decide; anything unreadable
        stops here, before anything is saved."""
        saved = self.book.store.load()
        if saved is not None:
            session = self.book.restore(saved)
            self.log("risk gate: state restored from the saved book (trading state "
                     f"{session.gate.state.trading_state(self.params.kill_switch).value})")
            if self.params.fresh_start:
                self.error("fresh_start=true is ignored: a saved book exists; set it back to false so that a lost "
                           "book stops the next start")
        else:
            session = load_gate_session(self, self.params, keys)
            check_fresh_start(self, keys, self.params.fresh_start)
        alerts = AlertChannel.create(self, os.environ, self.params.alert_email, self.params.alert_webhook_url)
        desk = RiskDesk(self, self.params, session, self.market, self.router, self.strategies,
                        self.journal, alerts, keys)
        self.router.on_outcome = desk.on_outcome
        self.router.on_partial = desk.on_partial
        self.router.on_alert = desk.alerts.alert
        self.router.unwinds.on_failed = desk.block_entries
        self.router.unwinds.bar_minutes_of = self.market.bar_minutes_of
        self.settlement.on_position_settled = desk.on_settled
        self.book.session = lambda: desk.session
        desk.on_save = self.book.save_if_changed
        for warning in self.book.store.warnings + self.book.warnings:
            desk.alerts.alert(warning)
        desk.announce(now_utc(self))
        return desk

    def _decide(self, strategy: Strategy, feed: UnderlyingFeed, rule_name: str) -> None:
        """One scheduled decision: kill switch and NLV mark -> context (one chain read) ->
        strategy -> journal -> risk gate -> orders."""
        now = now_utc(self)
        self.risk.before_decision(now)
        context = self.market.context(feed, now)
        for decision in strategy.on_schedule(rule_name, context):
            self.journal.record(decision)
            if decision.intent is not None:
                self.risk.route(strategy, decision, context)
        self.dashboard.saw(strategy.name, context)
        save_iv_readings(self, self.risk.keys, strategy, self.iv_saved)
        self.risk.after()

    def _daily_report(self) -> None:
        """The after-close report (leanhost/daily_report.py) through the alert channel."""
        with self.entry_lock:
            if self.live_mode:  # expiries LEAN never reports (Tastytrade) settle before the report
                self.reconciler.run("before the daily report")
            send_daily_report(self.risk)

    def on_order_event(self, order_event: OrderEvent) -> None:
        """LEAN's brokerage thread in live (``BrokerageTransactionHandler.HandleOrderEvents``):
        booked under the entry lock; alerts leave through the alert worker (never blocks)."""
        with self.entry_lock:
            handled = self.router.on_order_event(order_event) or self.settlement.on_order_event(order_event)
            if not handled and order_event.is_assignment:
                self.error(f"ALERT assignment no handler took: {order_event}")
            self.risk.after()

    def _check_timeouts(self) -> None:
        """Order time-outs (late unwinds may block entries): alerts delivered and a changed
        gate state saved at once."""
        self.router.check_timeouts()
        self.risk.after()

    def _check_margin(self) -> None:
        self.brokerage_events.check_margin()
        self.risk.after()

    # ----- operator and brokerage events (leanhost.operator, leanhost.brokerage_events) -----
    def on_warmup_finished(self) -> None:
        """LEAN calls it once trading starts, after every (re)start: restored order groups
        re-attached to the orders LEAN loaded from the brokerage (leanhost/reattach.py), then
        holdings and open orders reconciled with the restored book."""
        with self.entry_lock:
            problems = reattach(self.router, self.strategies)
            self.reconciler.run("start", at_start=True, problems=problems)
            self.risk.after()

    def on_command(self, data: Any) -> bool | None:
        with self.entry_lock:
            result = self.operator.on_command(data)
            self.risk.after()
            return result

    def on_brokerage_message(self, message_event: BrokerageMessageEvent) -> None:
        with self.entry_lock:
            self.brokerage_events.on_message(message_event)
            self.risk.after()

    def on_brokerage_disconnect(self) -> None:
        with self.entry_lock:
            self.brokerage_events.on_disconnect()
            self.risk.after()

    def on_brokerage_reconnect(self) -> None:
        with self.entry_lock:
            self.brokerage_events.on_reconnect()
            self.risk.after()

    def on_margin_call(self, requests: list[SubmitOrderRequest]) -> list[SubmitOrderRequest]:  # type: ignore[override]
        """Unreachable while LEAN's margin-call model is the null one we install. If reached,
        LEAN's requests are returned unchanged: its Python wrapper stops the algorithm on an
        empty list (``AlgorithmPythonWrapper.OnMarginCall``); entries are blocked and alerted.
        (The stubs type the C# ``void``; LEAN's Python wrapper requires the list.)"""
        with self.entry_lock:
            self.brokerage_events.on_lean_margin_call(len(requests))
            self.risk.after()
        return requests

    def on_margin_call_warning(self) -> None:
        with self.entry_lock:
            self.brokerage_events.on_lean_margin_call_warning()
            self.risk.after()

    def on_end_of_algorithm(self) -> None:
        with self.entry_lock:
            self._end()

    def _end(self) -> None:
        self.risk.end()
        self.journal.log_summary()
        self.dashboard.summarize()
        for group in self.router.active_groups():
            self.error(f"order group still open at the end: {group.intent.tag}: {group.describe_legs()}")
        for ticket in self.router.unwind_tickets:
            self.log(f"orphan unwind order {ticket.order_id} {ticket.symbol}: {ticket.status.name}")
        for intent in self.router.held.values():
            self.error(f"close still held at the end: {intent.tag}")
        for alert in self.settlement.alerts:
            self.log(f"alert during the run: {alert}")
