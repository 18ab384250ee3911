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
  about 30 s, docs/lean-notes.md; a cancel that raced fills) -> a fill is a fill: ``k`` whole ratio
  units filled on every leg (:meth:`OrderGroup.whole_units`) are a ``k``-unit position
  (an entry: ``strategy.on_resized(k)`` then ``on_filled``; a close:
  ``strategy.on_partially_closed``), and the gate hears the real size (:attr:`on_partial`).
  Only the contracts beyond ``k x ratio`` are unwound, with marketable LIMIT orders
  (:mod:`leanhost.unwinds`; never ``market_order``), logged as an error; ``k = 0`` ->
  ``strategy.on_unfilled``;
* not ended ``order_timeout_min`` minutes after sending -> its open legs are canceled
  (:meth:`OrderRouter.check_timeouts`, run every minute by a scheduled event);
* a newer CLOSE intent of the same position (the 0DTE flatten re-sending at the natural
  price) REPRICES it in place: ``ticket.update`` with the new limit
  (:func:`leanhost.order_calls.update_limit`), no second order. When that is impossible (other
  legs or quantity, or LEAN refused the update) the old close is canceled and the new one is
  HELD until the old one is known dead (every leg Canceled/Filled/Invalid): a cancel in live
  is only a request and a fill may still come, so two closes of one position are never
  working at once. A held close whose old close filled is dropped; one whose old close filled
  some units goes out for what is left.

After the strategy has heard of an outcome, :attr:`OrderRouter.on_outcome` (the risk desk,
:mod:`leanhost.risk_desk`) hears ``(intent, filled)`` too: a whole fill, or an end without a
whole fill (never sent, unfilled, or partially filled and unwound). The fee LEAN charged each
fill (``OrderEvent.order_fee.value.amount``, USD) is summed per position in
:attr:`OrderRouter.fees_usd` (entry and exit orders; not the orphan unwinds) for the realized
P&L the risk gate counts.

Under the Tastytrade model (``TastytradeBrokerageModel``: Market, Limit and ComboLimit orders,
at most 4 legs, and no ComboLimit order that takes a holding through zero, LEAN's
``ValidateCrossZeroOrder``; plain Limit orders may cross zero), an intent breaking these rules
is refused here, logged and reported as unfilled, instead of being sent to be rejected. For
every brokerage, a limit that LEAN would send as 0.00 is refused
(:func:`leanhost.order_calls.limit_refusal`), and an order call that raises refuses the intent
(journaled, alerted through :attr:`OrderRouter.on_alert`), never stops the algorithm.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING

from AlgorithmImports import OrderStatus

from strategies.base import Strategy
from thetacore.decisions import OrderIntent
from thetacore.enums import IntentPurpose
from thetacore.parameters import Parameters

from .brokerage import tastytrade_combo_refusal
from .journal import DecisionJournal
from .order_calls import limit_refusal, place, request_cancel
from .order_groups import ENDED, LegOrder, OrderGroup
from .repricing import release_held, reprice, working_closes
from .scheduling import now_utc
from .unwinds import UnwindDesk

if TYPE_CHECKING:
    from AlgorithmImports import OrderEvent, OrderTicket, QCAlgorithm, Symbol

ACCOUNT_CURRENCY = "USD"

Outcome = Callable[[OrderIntent, bool], None]
"""``(intent, filled)``: the intent filled whole (True) or ended without a whole fill."""

Partial = Callable[[OrderIntent, int, float], None]
"""``(intent, units, fill_net_pts)``: ``units`` whole units of ``intent`` (fewer than asked,
at least one) filled before it ended."""


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
    fees_usd: defaultdict[tuple[str, str], float] = field(default_factory=lambda: defaultdict(float))
    held: dict[tuple[str, str], OrderIntent] = field(default_factory=dict)  # closes waiting for a dead close
    on_outcome: Outcome | None = None
    on_partial: Partial | None = None
    on_alert: Callable[[str], None] | None = None
    unwinds: UnwindDesk = field(init=False)
    restored: list[OrderGroup] = field(default_factory=list)  # saved groups not re-attached yet
    deferred: list[OrderEvent] = field(default_factory=list)  # their events before re-attachment
    _sending: bool = False
    _early_events: list[OrderEvent] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.unwinds = UnwindDesk(self.algorithm, self.params)

    @property
    def unwind_tickets(self) -> list[OrderTicket]:
        """Every unwind order sent (:mod:`leanhost.unwinds`)."""
        return self.unwinds.tickets

    # ----- sending ----------------------------------------------------------------------
    def send(self, intent: OrderIntent) -> OrderGroup | None:
        """Send ``intent`` as one combo limit order (a plain limit order for a single leg).
        Returns its group (for a close that repriced a working one: that group); ``None``
        when refused (the strategy has then been told through ``on_unfilled``) or held
        until the close it replaces is dead."""
        refusal = self.refusal(intent)
        if refusal:
            if intent.purpose is IntentPurpose.CLOSE:  # a position that cannot be closed needs a person
                self.alert(f"{intent.tag}: close refused before sending: {refusal}")
            self.report_unfilled(intent, f"refused before sending: {refusal}", loud=True)
            return None
        if intent.purpose is IntentPurpose.CLOSE:
            working = working_closes(self.active_groups(), intent)
            if working:  # reprice in place, or hold until it is dead (leanhost/repricing.py)
                return reprice(self, working, intent)
            self.held.pop((intent.strategy, intent.position_id), None)
        return self._send_now(intent)

    def _send_now(self, intent: OrderIntent) -> OrderGroup | None:
        legs = self._legs(intent)
        self._sending, self._early_events = True, []
        try:
            tickets, error = place(self.algorithm, legs, intent.quantity, intent.limit_pts, intent.tag)
        finally:
            self._sending = False
        if error:
            self.alert(f"{intent.tag}: {error}")
            self.report_unfilled(intent, f"refused by LEAN: {error}")
            return None
        group = OrderGroup(intent, legs, now_utc(self.algorithm))
        self._attach(group, tickets)
        kind = "limit" if len(legs) == 1 else "combo limit"
        self.journal.note(group.sent_utc, intent.strategy, "SENT", f"{intent.tag}: {intent.quantity} x "
                          f"{intent.structure.describe()} {kind} {intent.limit_pts:+.2f} pts")
        early, self._early_events = self._early_events, []
        for event in early:  # delivered on this thread while LEAN was still placing the order
            self.on_order_event(event)
        self._finish_if_ended(group, group.sent_utc)
        return group

    def _legs(self, intent: OrderIntent) -> list[LegOrder]:
        return [LegOrder(leg.symbol, self.symbols[leg.symbol], leg.ratio, leg.ratio * intent.quantity)
                for leg in intent.structure.legs]

    def refusal(self, intent: OrderIntent) -> str:
        """Why ``intent`` cannot be sent (empty when it can), in the order checked."""
        if self.algorithm.is_warming_up:
            return "WARMING_UP: LEAN rejects orders during warm-up"
        unknown = [leg.symbol for leg in intent.structure.legs if leg.symbol not in self.symbols]
        if unknown:
            return f"UNKNOWN_CONTRACT: {', '.join(unknown)} never seen in a chain"
        if intent.quantity < 1:
            return f"QUANTITY: {intent.quantity} units"
        price = limit_refusal(self.algorithm, self._legs(intent), intent.limit_pts)
        if price or len(intent.structure.legs) == 1 or self.params.brokerage != "tastytrade":
            return price
        return tastytrade_combo_refusal(intent, lambda key: self.holding(self.symbols[key]))

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
        """Book one LEAN order event; True when it belongs to a group or an unwind of this
        router."""
        group = self.groups.get(event.order_id)
        if group is None:
            if self.unwinds.on_order_event(event):
                return True
            if self._sending:
                self._early_events.append(event)
            elif self._of_restored(event):  # booked once re-attached (leanhost/reattach.py)
                self.deferred.append(event)
                return True
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
        if event.status is not OrderStatus.NONE:
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
        """Cancel the open legs of every group older than ``order_timeout_min``; fail the
        unwinds older than ``unwind_timeout_min``."""
        now = now_utc(self.algorithm)
        limit = timedelta(minutes=self.params.order_timeout_min)
        for group in self.active_groups():
            if any(group is r for r in self.restored):  # no tickets before re-attachment: cancel_requested is kept for it
                group.cancel_requested = group.cancel_requested or now - group.sent_utc >= limit
                continue
            if not group.cancel_requested and now - group.sent_utc >= limit:
                self.cancel(group, f"time-out after {self.params.order_timeout_min} min")
        self.unwinds.check_timeouts(now)

    def cancel(self, group: OrderGroup, why: str) -> None:
        """Request the cancel of the open legs of ``group`` (its outcome follows from the
        events: Canceled, or fills that raced the cancel)."""
        group.cancel_requested = True
        self.algorithm.log(f"{group.intent.tag}: {why}; canceling open legs")
        for leg in list(group.legs):
            if leg.ticket is not None and leg.status not in ENDED:
                error = request_cancel(leg.ticket, f"{group.intent.tag} {why}")
                if error:
                    self.alert(f"{group.intent.tag}: {leg.key} {error}")

    def cancel_entries(self, why: str) -> int:
        """Cancel every working entry (OPEN) group; returns how many (the gate's flatten)."""
        entries = [g for g in self.active_groups()
                   if g.intent.purpose is IntentPurpose.OPEN and not g.cancel_requested]
        for group in entries:
            self.cancel(group, why)
        return len(entries)

    def active_groups(self) -> list[OrderGroup]:
        """Groups still waiting for fills or cancels (restored ones included), oldest first."""
        seen: dict[int, OrderGroup] = {id(g): g for g in [*self.groups.values(), *self.restored] if not g.done}
        return sorted(seen.values(), key=lambda g: g.sent_utc)

    def knows_order(self, order_id: int) -> bool:
        """True for an order of one of this router's groups or unwinds."""
        return order_id in self.groups or any(t.order_id == order_id for t in self.unwinds.tickets)

    def _of_restored(self, event: OrderEvent) -> bool:
        return not event.is_assignment and any(leg.symbol == event.symbol for g in self.restored for leg in g.legs)

    def end_restored(self, group: OrderGroup, filled: bool, why: str) -> None:
        """A restored group whose orders vanished while the algorithm was down: booked filled
        at its limit (a limit order fills at its limit or better; the real price is at the
        broker) or unfilled, with ``why`` journaled."""
        group.done = True
        self.finished.append(group)
        intent = group.intent
        if filled:
            self.journal.note(now_utc(self.algorithm), intent.strategy, "FILLED_WHILE_DOWN", f"{intent.tag}: {why}")
            self._filled(intent, intent.limit_pts, now_utc(self.algorithm))
        else:
            self.report_unfilled(intent, why, loud=True)

    # ----- outcomes -----------------------------------------------------------------------
    def _finish_if_ended(self, group: OrderGroup, time_utc: datetime) -> None:
        if group.done or not group.ended:
            return
        group.done = True
        self.finished.append(group)
        intent, units = group.intent, group.whole_units()
        if units == intent.quantity:
            self._filled(intent, group.fill_net_pts(), time_utc)
        elif not any(leg.filled_qty for leg in group.legs):
            if group.replaced:
                self.journal.note(time_utc, intent.strategy, "REPLACED", f"{intent.tag}: {group.describe_legs()}")
            else:
                self.report_unfilled(intent, f"ended without a fill: {group.describe_legs()}")
        else:
            self._partial(group, units, time_utc)
        release_held(self, group)

    def _filled(self, intent: OrderIntent, net: float, time_utc: datetime) -> None:
        self.journal.note(time_utc, intent.strategy, "FILLED", f"{intent.tag} at {net:+.2f} pts")
        self.strategies[intent.strategy].on_filled(intent, net, time_utc)
        if self.on_outcome is not None:
            self.on_outcome(intent, True)

    def _partial(self, group: OrderGroup, units: int, time_utc: datetime) -> None:
        """``units`` whole units filled: that is the position; legs out of ratio are unwound."""
        intent = group.intent
        for leg in group.legs:
            excess = leg.filled_qty - units * leg.ratio
            if abs(excess) > 1e-9:
                self.unwinds.unwind(leg, -round(excess), intent.tag, time_utc)
        text = f"{units} of {intent.quantity} units filled, legs out of ratio unwound: {group.describe_legs()}"
        self.algorithm.error(f"{intent.tag}: PARTIAL FILL {text}")
        if units == 0:
            self.report_unfilled(intent, f"partially filled: {text}")
            return
        net = group.fill_net_pts()
        self.journal.note(time_utc, intent.strategy, "PARTIAL", f"{intent.tag}: {text} at {net:+.2f} pts")
        strategy = self.strategies[intent.strategy]
        if intent.purpose is IntentPurpose.OPEN:
            strategy.on_resized(intent, units, why="partial fill")
            if self.on_partial is not None:
                self.on_partial(intent, units, net)
            self._filled(replace(intent, quantity=units), net, time_utc)
        else:
            if self.on_partial is not None:
                self.on_partial(intent, units, net)
            strategy.on_partially_closed(intent, units, net, time_utc)

    def report_unfilled(self, intent: OrderIntent, reason: str, loud: bool = False) -> None:
        """``intent`` ended (or never went out) without a whole fill: journal, strategy, gate."""
        time_utc = now_utc(self.algorithm)
        if loud:
            self.algorithm.error(f"{intent.tag}: {reason}")
        self.journal.note(time_utc, intent.strategy, "UNFILLED", f"{intent.tag}: {reason}")
        self.strategies[intent.strategy].on_unfilled(intent, reason)
        if self.on_outcome is not None:
            self.on_outcome(intent, False)

    def alert(self, text: str) -> None:
        """Through :attr:`on_alert` (the risk desk's channel), else logged as an error."""
        if self.on_alert is not None:
            self.on_alert(text)
        else:
            self.algorithm.error(f"ALERT {text}")

    def holding(self, symbol: Symbol) -> float:
        """Signed contracts the account holds of ``symbol`` (0 for an unknown security)."""
        securities = self.algorithm.securities
        return (
            float(securities[symbol].holdings.quantity) if securities.contains_key(symbol) else 0.0
        )


def _aware(t: datetime) -> datetime:
    """LEAN's naive UTC event time as timezone-aware UTC."""
    return t.replace(tzinfo=UTC) if t.tzinfo is None else t.astimezone(UTC)
