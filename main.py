"""ThetaDesk in LEAN: the table of contents.

What runs: the strategies switched on by parameters (``strategies/registry.py``: each
``*_enabled``). What it subscribes: one feed per option kind and root that a strategy asks for
(ES/MES futures options, SPX/SPXW index options, SPY/QQQ equity options as chains or as single
LEAP contracts picked daily), VIX when a strategy reads it, and the user's events file
(:mod:`leanhost.market_data`, :mod:`leanhost.subscriptions`). What is scheduled: each
strategy's rules on its underlying's trading days, the daily single-contract refresh, and an
order time-out check every minute. What it trades: one limit order per intent, a combo for
several legs (:mod:`leanhost.orders`). Expiry, exercise and assignment reach the owning
strategy, loudly (:mod:`leanhost.settlement`). Every decision is journaled
(:mod:`leanhost.journal`). The rules themselves live in the pure core (``strategies/``,
``thetacore/``), which never imports LEAN.
"""

from __future__ import annotations

from functools import partial
from typing import TYPE_CHECKING

from AlgorithmImports import QCAlgorithm

from leanhost.brokerage import apply_brokerage
from leanhost.chains import ChainReader
from leanhost.journal import DecisionJournal
from leanhost.market_data import MarketData
from leanhost.orders import OrderRouter
from leanhost.parameters import read_parameters
from leanhost.scheduling import now_utc, schedule_every_minute, schedule_rule
from leanhost.settlement import SettlementDesk
from leanhost.subscriptions import UnderlyingFeed
from strategies.base import Strategy
from strategies.registry import build_strategies

if TYPE_CHECKING:
    from AlgorithmImports import OrderEvent


class ThetaDeskAlgorithm(QCAlgorithm):
    """Subscribes, schedules, decides through the core, routes intents, journals."""

    def initialize(self) -> None:
        self.params = read_parameters(self)
        self.set_start_date(self.params.backtest_start)
        self.set_end_date(self.params.backtest_end)
        self.set_cash(self.params.starting_cash_usd)
        apply_brokerage(self, self.params)

        self.journal = DecisionJournal(self)
        self.chains = ChainReader(self)
        self.strategies = {s.name: s for s in build_strategies(self.params)}
        self.market = MarketData.subscribe(self, self.chains, self.strategies.values())
        self.router = OrderRouter(self, self.params, self.chains.symbols, self.strategies, self.journal)
        self.settlement = SettlementDesk(self, self.chains, self.strategies, self.journal)

        for strategy in self.strategies.values():
            feed = self.market.feed_of(strategy)
            for rule in strategy.schedules():
                handler = partial(self._decide, strategy, feed)
                schedule_rule(self, feed.symbol, f"{strategy.name}:{rule.name}", rule, handler)
        for feed in list(self.market.feeds.values())[:1]:
            schedule_every_minute(self, feed.symbol, "orders:time-outs", self.router.check_timeouts)
        self.log(
            f"ThetaDesk: brokerage {self.params.brokerage}, strategies "
            f"{', '.join(self.strategies) or 'none'}, feeds "
            f"{', '.join(f'{k}:{r}' for k, r in self.market.feeds) or 'none'}"
        )

    def _decide(self, strategy: Strategy, feed: UnderlyingFeed, rule_name: str) -> None:
        """One scheduled decision: context (one chain read) -> strategy -> journal -> orders."""
        context = self.market.context(feed, now_utc(self))
        for decision in strategy.on_schedule(rule_name, context):
            self.journal.record(decision)
            if decision.intent is not None:
                self.router.send(decision.intent)

    def on_order_event(self, order_event: OrderEvent) -> None:
        if self.router.on_order_event(order_event):
            return
        if self.settlement.on_order_event(order_event):
            return
        if order_event.is_assignment:
            self.error(f"ALERT assignment no handler took: {order_event}")

    def on_end_of_algorithm(self) -> None:
        self.journal.log_summary()
        for group in self.router.active_groups():
            self.error(f"order group still open at the end: {group.intent.tag}: {group.describe_legs()}")
        for ticket in self.router.unwind_tickets:
            self.log(f"orphan unwind order {ticket.order_id} {ticket.symbol}: {ticket.status.name}")
        for alert in self.settlement.alerts:
            self.log(f"alert during the run: {alert}")
