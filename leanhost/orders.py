"""Limit orders for order intents (one combo, or one plain limit for a single leg), and the
life of each order group.

LEAN APIs (docs: "Trading and Orders > Order Types > Combo Limit Orders / Limit Orders";
algorithm ``ComboOrderTicketDemoAlgorithm``): ``combo_limit_order([Leg.create(symbol, ratio),
...], quantity, limit_price, tag=...)`` sends one group and returns one ``OrderTicket`` per leg;
each leg order trades ``ratio x quantity`` and reports its own ``OrderEvent`` (``order_id``,
``status``, ``fill_quantity``, ``fill_price``, ``utc_time``). ``limit_price`` is the net
price per unit in points, LEAN's sign (negative = credit), as :class:`OrderIntent` carries it.
A combo needs at least two legs, so a single-leg intent (a LEAP bought, a weekly call sold,
LT112's naked puts closed alone) goes out as ``limit_order(symbol, ratio x quantity,
limit_pts / ratio, tag=...)``: the per-contract price, always positive, whose fill
``ratio x price`` is the same net per unit. Its one ticket is followed exactly like a leg.

Life of a group (one per intent):

* every leg ``FILLED`` -> ``strategy.on_filled(intent, fill_net_pts, time_utc)`` with
  ``fill_net_pts = sum(ratio x average leg fill price)`` per unit;
* every leg ended (canceled / invalid) without a fill -> ``strategy.on_unfilled``;
* ended with some legs filled (Interactive Brokers passes on partially filled combos after
  about 30 s, lean-notes.md) -> each filled quantity is reversed at once with a market order,
  so no leg is left orphaned, logged as an error; then ``strategy.on_unfilled``;
* not ended ``order_timeout_min`` minutes after sending -> its open legs are canceled
  (:meth:`OrderRouter.check_timeouts`, run every minute by a scheduled event);
* a newer CLOSE intent of the same position (the 0DTE flatten re-sending at the natural
  price) replaces it: its open legs are canceled before the new order goes out.

After the strategy has heard of an outcome, :attr:`OrderRouter.on_outcome` (the risk desk,
:mod:`leanhost.risk_desk`) hears ``(intent, filled)`` too: a whole fill, or an end without a
whole fill (never sent, unfilled, or partially filled and unwound). The fee LEAN charged each
fill (``OrderEvent.order_fee.value.amount``, USD) is summed per position in
:attr:`OrderRouter.fees_usd` (entry and exit orders; not the orphan unwinds) for the realized
P&L the risk gate counts.

Under the Tastytrade model (``TastytradeBrokerageModel``: Market, Limit and ComboLimit orders,
at most 4 legs, and no ComboLimit order that takes a holding through zero, LEAN's
``ValidateCrossZeroOrder``; plain Limit orders may cross zero), an intent breaking these rules
is refused here, logged and reported as unfilled, instead of being sent to be rejected. The
single-leg market orders of an unwind are plain ``Market`` orders, which Tastytrade accepts.
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING

from AlgorithmImports import Leg, OrderStatus

from strategies.base import Strategy
from thetacore.decisions import OrderIntent
from thetacore.enums import IntentPurpose
from thetacore.parameters import Parameters

from .brokerage import tastytrade_combo_refusal
from .journal import DecisionJournal
from .order_groups import ENDED, LegOrder, OrderGroup
from .scheduling import now_utc

if TYPE_CHECKING:
    from AlgorithmImports import OrderEvent, OrderTicket, QCAlgorithm, Symbol

ACCOUNT_CURRENCY = "USD"

Outcome = Callable[[OrderIntent, bool], None]
"""``(intent, filled)``: the intent filled whole (True) or ended without a whole fill."""


@dataclass
class OrderRouter:
    """Sends intents as limit orders (one combo, or one plain limit for a single leg) and
    reports their outcome to the strategies."""

    algorithm: QCAlgorithm
    params: Parameters
    symbols: Mapping[str, Symbol]
    strategies: Mapping[str, Strategy]
    journal: DecisionJournal
    groups: dict[int, OrderGroup] = field(default_factory=dict)  # by leg order id
    finished: list[OrderGroup] = field(default_factory=list)
    unwind_tickets: list[OrderTicket] = field(default_factory=list)
    fees_usd: defaultdict[tuple[str, str], float] = field(default_factory=lambda: defaultdict(float))
    on_outcome: Outcome | None = None
    _sending: bool = False
    _early_events: list[OrderEvent] = field(default_factory=list)

    # ----- sending ----------------------------------------------------------------------
    def send(self, intent: OrderIntent) -> OrderGroup | None:
        """Send ``intent`` as one combo limit order (a plain limit order for a single leg);
        ``None`` when refused (the strategy has then been told through ``on_unfilled``)."""
        refusal = self.refusal(intent)
        if refusal:
            self._report_unfilled(intent, f"refused before sending: {refusal}", loud=True)
            return None
        if intent.purpose is IntentPurpose.CLOSE:
            self._replace_working_closes(intent)
        legs = [
            LegOrder(leg.symbol, self.symbols[leg.symbol], leg.ratio, leg.ratio * intent.quantity)
            for leg in intent.structure.legs
        ]
        self._sending, self._early_events = True, []
        try:
            tickets = self._place(intent, legs)
        finally:
            self._sending = False
        group = OrderGroup(intent, legs, now_utc(self.algorithm))
        self._attach(group, tickets)
        kind = "limit" if len(legs) == 1 else "combo limit"
        self.journal.note(
            group.sent_utc,
            intent.strategy,
            "SENT",
            f"{intent.tag}: {intent.quantity} x "
            f"{intent.structure.describe()} {kind} {intent.limit_pts:+.2f} pts",
        )
        for event in self._early_events:
            self.on_order_event(event)
        self._early_events = []
        self._finish_if_ended(group, group.sent_utc)
        return group

    def _place(self, intent: OrderIntent, legs: list[LegOrder]) -> list[OrderTicket]:
        if len(legs) == 1:
            [leg] = legs
            price = intent.limit_pts / leg.ratio
            return [self.algorithm.limit_order(leg.symbol, leg.target_qty, price, tag=intent.tag)]
        tickets = self.algorithm.combo_limit_order(
            [Leg.create(leg.symbol, leg.ratio) for leg in legs],
            intent.quantity,
            intent.limit_pts,
            tag=intent.tag,
        )
        return list(tickets)

    def refusal(self, intent: OrderIntent) -> str:
        """Why ``intent`` cannot be sent (empty when it can), in the order checked."""
        if self.algorithm.is_warming_up:
            return "WARMING_UP: LEAN rejects orders during warm-up"
        unknown = [leg.symbol for leg in intent.structure.legs if leg.symbol not in self.symbols]
        if unknown:
            return f"UNKNOWN_CONTRACT: {', '.join(unknown)} never seen in a chain"
        n_legs = len(intent.structure.legs)
        if n_legs == 1:
            price = intent.limit_pts / intent.structure.legs[0].ratio
            if not (math.isfinite(price) and price > 0):
                return f"LIMIT_PRICE: single-leg limit {price} per contract is not a positive price"
            return ""
        if self.params.brokerage != "tastytrade":
            return ""
        return tastytrade_combo_refusal(intent, lambda key: self._holding(self.symbols[key]))

    def _attach(self, group: OrderGroup, tickets: list[OrderTicket]) -> None:
        for leg in group.legs:
            ticket = next((t for t in tickets if t.symbol == leg.symbol), None)
            if ticket is None:
                leg.status, leg.message = OrderStatus.INVALID, "no ticket returned"
                continue
            leg.ticket = ticket
            self.groups[ticket.order_id] = group
            if (
                ticket.status in (OrderStatus.INVALID, OrderStatus.CANCELED)
                and leg.status not in ENDED
            ):
                leg.status = ticket.status

    # ----- events -----------------------------------------------------------------------
    def on_order_event(self, event: OrderEvent) -> bool:
        """Book one LEAN order event; True when it belongs to a group of this router."""
        group = self.groups.get(event.order_id)
        if group is None:
            if self._sending:
                self._early_events.append(event)
            return False
        leg = next(
            leg
            for leg in group.legs
            if leg.ticket is not None and leg.ticket.order_id == event.order_id
        )
        if event.fill_quantity:
            leg.filled_qty += float(event.fill_quantity)
            leg.fill_cost_pts += float(event.fill_quantity) * float(event.fill_price)
            self._book_fee(group.intent, event)
        leg.status = event.status
        if event.message:
            leg.message = event.message
        self._finish_if_ended(group, _aware(event.utc_time))
        return True

    def _book_fee(self, intent: OrderIntent, event: OrderEvent) -> None:
        fee = event.order_fee.value
        amount = float(fee.amount)
        if fee.currency != ACCOUNT_CURRENCY and amount:
            self.algorithm.error(f"{intent.tag}: fee {amount:g} {fee.currency} booked as {ACCOUNT_CURRENCY}")
        self.fees_usd[(intent.strategy, intent.position_id)] += amount

    def check_timeouts(self) -> None:
        """Cancel the open legs of every group older than ``order_timeout_min``."""
        now = now_utc(self.algorithm)
        limit = timedelta(minutes=self.params.order_timeout_min)
        for group in self.active_groups():
            if not group.cancel_requested and now - group.sent_utc >= limit:
                self.cancel(group, f"time-out after {self.params.order_timeout_min} min")

    def _replace_working_closes(self, intent: OrderIntent) -> None:
        """A new close of a position replaces the closes of it still working (the 0DTE
        flatten re-sends at the natural price): their open legs are canceled first."""
        for group in self.active_groups():
            old = group.intent
            same = (old.strategy, old.position_id) == (intent.strategy, intent.position_id)
            if same and old.purpose is IntentPurpose.CLOSE and not group.cancel_requested:
                self.cancel(group, f"replaced by {intent.tag}")

    def cancel(self, group: OrderGroup, why: str) -> None:
        """Cancel the open legs of ``group`` (its outcome follows from the cancel events)."""
        group.cancel_requested = True
        self.algorithm.log(f"{group.intent.tag}: {why}; canceling open legs")
        for leg in list(group.legs):
            if leg.ticket is not None and leg.status not in ENDED:
                leg.ticket.cancel(f"{group.intent.tag} {why}")

    def cancel_entries(self, why: str) -> int:
        """Cancel every working entry (OPEN) group; returns how many (the gate's flatten)."""
        entries = [g for g in self.active_groups()
                   if g.intent.purpose is IntentPurpose.OPEN and not g.cancel_requested]
        for group in entries:
            self.cancel(group, why)
        return len(entries)

    def active_groups(self) -> list[OrderGroup]:
        """Groups still waiting for fills or cancels, oldest first."""
        seen: dict[int, OrderGroup] = {id(g): g for g in self.groups.values() if not g.done}
        return sorted(seen.values(), key=lambda g: g.sent_utc)

    # ----- outcomes -----------------------------------------------------------------------
    def _finish_if_ended(self, group: OrderGroup, time_utc: datetime) -> None:
        if group.done or not group.ended:
            return
        group.done = True
        self.finished.append(group)
        intent = group.intent
        if all(leg.fully_filled for leg in group.legs):
            net = group.fill_net_pts()
            self.journal.note(
                time_utc, intent.strategy, "FILLED", f"{intent.tag} at {net:+.2f} pts"
            )
            self.strategies[intent.strategy].on_filled(intent, net, time_utc)
            if self.on_outcome is not None:
                self.on_outcome(intent, True)
        elif not any(leg.filled_qty for leg in group.legs):
            self._report_unfilled(intent, f"ended without a fill: {group.describe_legs()}")
        else:
            self._unwind(group)
            self._report_unfilled(
                intent,
                f"partially filled, filled legs closed at market: {group.describe_legs()}",
                loud=True,
            )

    def _unwind(self, group: OrderGroup) -> None:
        """Reverse every filled quantity of ``group`` with a market order (no orphan legs)."""
        for leg in group.legs:
            if not leg.filled_qty:
                continue
            qty = -round(leg.filled_qty)
            self.algorithm.error(
                f"ORPHAN LEG {leg.key}: {leg.filled_qty:+g} filled of "
                f"{leg.target_qty:+d} in {group.intent.tag}; market order {qty:+d}"
            )
            self.unwind_tickets.append(
                self.algorithm.market_order(
                    leg.symbol, qty, tag=f"{group.intent.tag} orphan unwind"
                )
            )

    def _report_unfilled(self, intent: OrderIntent, reason: str, loud: bool = False) -> None:
        time_utc = now_utc(self.algorithm)
        if loud:
            self.algorithm.error(f"{intent.tag}: {reason}")
        self.journal.note(time_utc, intent.strategy, "UNFILLED", f"{intent.tag}: {reason}")
        self.strategies[intent.strategy].on_unfilled(intent, reason)
        if self.on_outcome is not None:
            self.on_outcome(intent, False)

    def _holding(self, symbol: Symbol) -> float:
        securities = self.algorithm.securities
        return (
            float(securities[symbol].holdings.quantity) if securities.contains_key(symbol) else 0.0
        )


def _aware(t: datetime) -> datetime:
    """LEAN's naive UTC event time as timezone-aware UTC."""
    return t.replace(tzinfo=UTC) if t.tzinfo is None else t.astimezone(UTC)
