"""ThetaDesk in LEAN: the table of contents.

What runs: the strategies switched on by parameters (``strangle_enabled``: the futures-option
short strangle on ES). What it subscribes: each strategy's future and option chains
(:mod:`leanhost.subscriptions`). What is scheduled: each strategy's rules (entry 10:00 New
York, management every ``strangle_manage_interval_min``) plus an order time-out check every
minute. What it trades: one combo limit order per intent (:mod:`leanhost.orders`). Every
decision is journaled (:mod:`leanhost.journal`). The rules themselves live in the pure core
(``strategies/``, ``thetacore/``), which never imports LEAN.
"""

from __future__ import annotations

from functools import partial
from typing import TYPE_CHECKING

from AlgorithmImports import QCAlgorithm

from leanhost.brokerage import apply_brokerage
from leanhost.chains import ChainReader, market_context
from leanhost.journal import DecisionJournal
from leanhost.orders import OrderRouter
from leanhost.parameters import read_parameters
from leanhost.scheduling import now_utc, schedule_every_minute, schedule_rule
from leanhost.subscriptions import UnderlyingFeed, subscribe
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
        self.router = OrderRouter(
            self, self.params, self.chains.symbols, self.strategies, self.journal
        )
        self.feeds: dict[str, UnderlyingFeed] = {}

        for strategy in self.strategies.values():
            feed = self._feed_for(strategy)
            for rule in strategy.schedules():
                schedule_rule(
                    self,
                    feed.symbol,
                    f"{strategy.name}:{rule.name}",
                    rule,
                    partial(self._decide, strategy, feed),
                )
        for feed in list(self.feeds.values())[:1]:
            schedule_every_minute(self, feed.symbol, "orders:time-outs", self.router.check_timeouts)
        self.log(
            f"ThetaDesk: brokerage {self.params.brokerage}, strategies "
            f"{', '.join(self.strategies) or 'none'}"
        )

    def _feed_for(self, strategy: Strategy) -> UnderlyingFeed:
        """The subscription of ``strategy``'s root, made once per root."""
        sub = strategy.subscription()
        if sub.root not in self.feeds:
            self.feeds[sub.root] = subscribe(self, sub)
        return self.feeds[sub.root]

    def _decide(self, strategy: Strategy, feed: UnderlyingFeed, rule_name: str) -> None:
        """One scheduled decision: context -> strategy -> journal -> orders."""
        context = market_context(self, self.chains, feed, now_utc(self))
        for decision in strategy.on_schedule(rule_name, context):
            self.journal.record(decision)
            if decision.intent is not None:
                self.router.send(decision.intent)

    def on_order_event(self, order_event: OrderEvent) -> None:
        if self.router.on_order_event(order_event):
            return
        if order_event.is_assignment:
            self.error(f"assignment not handled yet: {order_event}")

    def on_end_of_algorithm(self) -> None:
        self.journal.log_summary()
        for group in self.router.active_groups():
            self.error(
                f"order group still open at the end: {group.intent.tag}: {group.describe_legs()}"
            )
        for ticket in self.router.unwind_tickets:
            self.log(f"orphan unwind order {ticket.order_id} {ticket.symbol}: {ticket.status.name}")
