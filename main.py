"""ThetaDesk in LEAN: the table of contents.

What runs: the strategies switched on by parameters (``strategies/registry.py``: each
``*_enabled``). What it subscribes: one feed per option kind and root that a strategy asks for
(ES/MES futures options, SPX/SPXW index options, SPY/QQQ equity options as chains or as single
LEAP contracts picked daily), VIX when a strategy reads it, and the user's events file
(:mod:`leanhost.market_data`, :mod:`leanhost.subscriptions`). What is scheduled: each
strategy's rules on its underlying's trading days, the daily single-contract refresh, and an
order time-out check every minute, and an NLV mark for the risk gate every 30 minutes. What
guards it: every intent passes the risk gate BEFORE the router (approve, resize or refuse;
flatten and close-losers requests; VIX, NLV, realized P&L of each exit; gate state and the
operator's kill switch in the object store; alerts by log, QC notify and SMTP:
:mod:`leanhost.risk_desk`, :mod:`leanhost.gate_store`, :mod:`leanhost.alerts`). What it
trades: one limit order per intent, a combo for several legs (:mod:`leanhost.orders`). Expiry,
exercise and assignment reach the owning strategy, loudly (:mod:`leanhost.settlement`). Every
decision and verdict is journaled within QuantConnect's log limits (:mod:`leanhost.journal`);
per-strategy charts and runtime/summary statistics come at the NLV marks
(:mod:`leanhost.dashboard`). The rules themselves live in the pure core (``strategies/``,
``thetacore/``, ``risk/``), which never imports LEAN.
"""

from __future__ import annotations

import os
from functools import partial
from typing import TYPE_CHECKING

from AlgorithmImports import QCAlgorithm

from leanhost.alerts import AlertChannel
from leanhost.brokerage import apply_brokerage
from leanhost.chains import ChainReader
from leanhost.dashboard import Dashboard
from leanhost.gate_store import load_gate_session, store_keys
from leanhost.iv_history import restore_iv_readings, save_iv_readings
from leanhost.journal import DecisionJournal
from leanhost.market_data import MarketData
from leanhost.orders import OrderRouter
from leanhost.parameters import read_parameters
from leanhost.risk_desk import RiskDesk
from leanhost.scheduling import now_utc, schedule_every_minute, schedule_rule
from leanhost.serial import EntryLock
from leanhost.settlement import SettlementDesk
from leanhost.subscriptions import UnderlyingFeed
from strategies.base import Strategy
from strategies.registry import build_strategies

if TYPE_CHECKING:
    from AlgorithmImports import OrderEvent


class ThetaDeskAlgorithm(QCAlgorithm):
    """Subscribes, schedules, decides through the core, gates and routes intents, journals."""

    def initialize(self) -> None:
        self.entry_lock = EntryLock()  # every entry point runs inside it (leanhost/serial.py)
        self.params = read_parameters(self)
        self.set_start_date(self.params.backtest_start)
        self.set_end_date(self.params.backtest_end)
        self.set_cash(self.params.starting_cash_usd)
        apply_brokerage(self, self.params)

        self.journal = DecisionJournal(self)
        self.chains = ChainReader(self, max_quote_age_min=self.params.max_quote_age_min)
        self.strategies = {s.name: s for s in build_strategies(self.params) if self._admitted(s)}
        self.market = MarketData.subscribe(self, self.chains, self.strategies.values())
        self.market.vix_prev_close_max_age_days = self.params.vix_prev_close_max_age_days
        self.router = OrderRouter(self, self.params, self.chains.symbols, self.strategies, self.journal)
        self.settlement = SettlementDesk(self, self.chains, self.strategies, self.journal)
        self.risk = self._risk_desk()
        self.dashboard = Dashboard(self, self.strategies, self.risk.session, self.router.fees_usd,
                                   self.risk.quote, self.market.vix_level)
        self.risk.on_mark = self.dashboard.update  # charts and statistics at the NLV marks
        self.iv_saved: dict[str, str] = {}  # IV readings survive a live restart (leanhost/iv_history.py)
        restore_iv_readings(self, self.risk.keys, self.strategies.values())

        for strategy in self.strategies.values():
            feed = self.market.feed_of(strategy)
            for rule in strategy.schedules():
                handler = partial(self._decide, strategy, feed)
                schedule_rule(self, feed.symbol, f"{strategy.name}:{rule.name}", rule, handler)
        for feed in list(self.market.feeds.values())[:1]:
            schedule_every_minute(self, feed.symbol, "orders:time-outs", self.router.check_timeouts)
            self.risk.schedule_marks(feed.symbol)
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

    def _risk_desk(self) -> RiskDesk:
        """The risk gate (state restored from the object store; a corrupt state stops here)
        wired to the router's and the settlement's outcomes."""
        keys = store_keys(self, self.params.state_key_prefix)
        session = load_gate_session(self, self.params, keys)
        alerts = AlertChannel.create(self, os.environ, self.params.alert_email, self.params.alert_webhook_url)
        desk = RiskDesk(self, self.params, session, self.market, self.router, self.strategies,
                        self.journal, alerts, keys)
        self.router.on_outcome = desk.on_outcome
        self.settlement.on_position_settled = desk.on_settled
        desk.announce(now_utc(self))
        return desk

    def _decide(self, strategy: Strategy, feed: UnderlyingFeed, rule_name: str) -> None:
        """One scheduled decision: kill switch and NLV mark -> context (one chain read) ->
        strategy -> journal -> risk gate -> orders."""
        now = now_utc(self)
        self.risk.before_decision(now)
        context = self.market.context(feed, now)
        self.dashboard.saw(strategy.name, context)
        for decision in strategy.on_schedule(rule_name, context):
            self.journal.record(decision)
            if decision.intent is not None:
                self.risk.route(strategy, decision, context)
        save_iv_readings(self, self.risk.keys, strategy, self.iv_saved)
        self.risk.after()

    def on_order_event(self, order_event: OrderEvent) -> None:
        handled = self.router.on_order_event(order_event) or self.settlement.on_order_event(order_event)
        if not handled and order_event.is_assignment:
            self.error(f"ALERT assignment no handler took: {order_event}")
        self.risk.after()

    def on_end_of_algorithm(self) -> None:
        self.risk.end()
        self.journal.log_summary()
        self.dashboard.summarize()
        for group in self.router.active_groups():
            self.error(f"order group still open at the end: {group.intent.tag}: {group.describe_legs()}")
        for ticket in self.router.unwind_tickets:
            self.log(f"orphan unwind order {ticket.order_id} {ticket.symbol}: {ticket.status.name}")
        for alert in self.settlement.alerts:
            self.log(f"alert during the run: {alert}")
