"""The replay's simulated broker with the order faults of :mod:`replay.faults`.

:class:`FaultyBroker` is :class:`replay.broker.SimBroker` (its fill rule, fees and settlement
unchanged) plus, when the plan arms them:

* a rejected order (``rejected_order``, or any order while ``broker_disconnect`` holds): status
  REJECTED at submission, reported to the engine at the next :meth:`step` (LEAN reports an
  ``Invalid`` order event after the submit call returns);
* a partial fill (``partial_fill``): the fill the base broker made is cut back. A combo of
  ``q > 1`` units keeps ``k = q // 2`` whole units on every leg and the rest is canceled (the
  order's intent becomes ``k`` units; :attr:`partials` tells the engine's hook what was asked).
  A one-unit combo keeps its first leg and not the others, the legs of a live combo filled
  unevenly (LEAN's ``FillModel.ComboLimitFill`` itself never does this: all legs or none): the
  leg out of ratio is unwound at once with a marketable limit through the far side by
  ``unwind_through_ticks`` ticks (the LEAN host's rule, ``leanhost/unwinds.py``
  ``UnwindDesk.marketable_price``), and the order ends CANCELED without a position. An unwind
  that cannot be priced waits and is retried each minute; after ``unwind_timeout_min`` it
  blocks entries with :class:`risk.host_blocks.HostBlock.UNWIND_FAILED` (as the LEAN host's
  risk desk does) until it fills;
* a delayed cancel (``delayed_cancel``): the time-out of the next order due for one takes effect
  ``MINUTES`` later; fills stay possible until then.

Every order sent while the gate's trading state is HALTED is recorded in
:attr:`FaultPlan.sent_while_halted` (order id, purpose; the plan outlives a restart) for :mod:`replay.invariants`.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace
from datetime import datetime, timedelta

import numpy as np

from replay.broker import QuoteSource, SimBroker, WorkingOrder
from replay.faults import FaultKind, FaultPlan
from replay.ledger import Holding, Ledger
from risk.gate_session import GateSession
from risk.host_blocks import HostBlock, block_entries
from strategies.base import Strategy
from thetacore.decisions import OrderIntent
from thetacore.enums import IntentPurpose, OrderStatus, Settlement
from thetacore.fees import tastytrade_leg_fee_usd
from thetacore.parameters import Parameters
from thetacore.products import OptionProduct
from thetacore.structures import UnderlyingKind


@dataclass
class Partial:
    """What a partially filled order asked for and what it got."""

    asked: OrderIntent
    units: int
    split_leg: str = ""  # one-unit combo: the leg that filled alone (then unwound)


@dataclass
class PendingUnwind:
    """A leg out of ratio still to be closed: ``quantity`` signed contracts of ``template``."""

    template: Holding
    quantity: int
    product: OptionProduct
    kind: UnderlyingKind
    since_utc: datetime
    origin: str
    blocked: bool = False


class FaultyBroker(SimBroker):
    """:class:`SimBroker` with the plan's order faults (module docstring)."""

    def __init__(self, params: Parameters, ledger: Ledger, quotes: QuoteSource, plan: FaultPlan) -> None:
        super().__init__(params, ledger, quotes)
        self.plan = plan
        self.partials: dict[int, Partial] = {}
        self.unwinds: list[PendingUnwind] = []
        self.unwound: list[dict[str, object]] = []
        self._rejected: list[WorkingOrder] = []
        self._late: dict[int, datetime] = {}

    def submit(self, intent: OrderIntent, t_utc: datetime, product: OptionProduct) -> WorkingOrder:
        """Accept (or reject, per the plan) a combo; see :meth:`SimBroker.submit`."""
        order = super().submit(intent, t_utc, product)
        if self.plan.halted():
            self.plan.sent_while_halted.append((order.order_id, intent.purpose.value))
        down = self.plan.active(FaultKind.BROKER_DISCONNECT, t_utc)
        fault = down or self.plan.take(FaultKind.REJECTED_ORDER, t_utc)
        if fault is not None:
            why = "brokerage disconnected" if down else "rejected by the broker"
            order.status, order.status_utc = OrderStatus.REJECTED, t_utc
            order.note = f"{why} (fault {fault.text})"
            self._rejected.append(order)
            self.plan.note(fault, t_utc, f"order {order.order_id} {intent.tag} rejected: {why}")
        return order

    def step(self, t_utc: datetime) -> list[WorkingOrder]:
        """:meth:`SimBroker.step` (fill or time out each working order) with the rejected orders
        reported, the delayed cancels held back and pending unwinds retried."""
        self._retry_unwinds(t_utc)
        ended, self._rejected = self._rejected, []
        for order in self.working():
            if t_utc <= order.submitted_utc:
                continue
            if self._try_fill(order, t_utc):
                ended.append(order)
            elif self._timed_out(order, t_utc):
                order.status, order.status_utc = OrderStatus.CANCELED, t_utc
                order.note = f"not filled within {self.p.order_timeout_min} min at limit {order.intent.limit_pts:+.2f}"
                ended.append(order)
        return ended

    def on_order_ended(self, strategy: Strategy, order: WorkingOrder, session: GateSession, t_utc: datetime) -> None:
        """Engine hook, before the strategy hears of an ended order: a partial fill of ``k > 0``
        units resizes an entry to ``k`` (strategy and gate) or closes ``k`` units of a position
        (the gate counts their P&L, :meth:`GateSession.on_reduced`), as the LEAN host's router
        and risk desk do (``leanhost/orders.py`` ``OrderRouter._partial``, ``leanhost/risk_desk.py``
        ``RiskDesk.on_partial``). A one-unit leg split (``k = 0``) needs nothing here: the order
        ended without a position and the strategy hears it as unfilled."""
        partial = self.partials.pop(order.order_id, None)
        if partial is None or partial.units == 0:
            return
        asked, k = partial.asked, partial.units
        if asked.purpose is IntentPurpose.OPEN:
            strategy.on_resized(asked, k, why="partial fill")
            session.resize(asked.position_id, k, abs(asked.quantity))
            return
        pos = strategy.positions.get(asked.position_id)
        if pos is None or order.fill_net_pts is None:
            return
        before = pos.quantity
        pnl = -((pos.entry_net_pts or 0.0) + order.fill_net_pts) * k * pos.structure.multiplier_usd_per_pt
        strategy.on_partially_closed(asked, k, order.fill_net_pts, t_utc)
        notice = session.on_reduced(pos.position_id, strategy.name, before - k, before, pnl, t_utc)
        for text in notice.alerts:
            self.plan.alert(text, t_utc)

    def _timed_out(self, order: WorkingOrder, t_utc: datetime) -> bool:
        due = order.submitted_utc + timedelta(minutes=self.p.order_timeout_min)
        if t_utc < due:
            return False
        if order.order_id not in self._late:
            fault = self.plan.take(FaultKind.DELAYED_CANCEL, t_utc)
            self._late[order.order_id] = due if fault is None else t_utc + timedelta(minutes=fault.minutes)
            if fault is not None:
                self.plan.note(fault, t_utc, f"order {order.order_id} time-out delayed to "
                                             f"{self._late[order.order_id]:%H:%M}Z; it keeps working")
        return t_utc >= self._late[order.order_id]

    def _try_fill(self, order: WorkingOrder, t_utc: datetime) -> bool:
        if self.plan.due(FaultKind.PARTIAL_FILL, t_utc) is None:
            return super()._try_fill(order, t_utc)
        real, self.ledger = self.ledger, Ledger(0.0)  # the base rule decides and prices; nothing booked yet
        try:
            filled = super()._try_fill(order, t_utc)
        finally:
            self.ledger = real
        if not filled:
            return False
        fault = self.plan.take(FaultKind.PARTIAL_FILL, t_utc)
        assert fault is not None
        intent, order.fees_usd = order.intent, 0.0
        q, sign = abs(intent.quantity), (1 if intent.quantity > 0 else -1)
        if q > 1:
            keep = q // 2
            for i, leg in enumerate(intent.structure.legs):
                self._book(order, i, leg.ratio * keep * sign)
            self.partials[order.order_id] = Partial(intent, keep)
            order.intent = replace(intent, quantity=keep * sign)
            order.note = f"partial fill: {keep} of {q} units; the rest canceled"
            if intent.purpose is IntentPurpose.CLOSE:
                order.status = OrderStatus.CANCELED
            self.plan.note(fault, t_utc, f"order {order.order_id} filled {keep} of {q} units; rest canceled")
            return True
        first = intent.structure.legs[0]
        qty = first.ratio * sign
        self._book(order, 0, qty)
        self.partials[order.order_id] = Partial(intent, 0, first.symbol)
        order.status = OrderStatus.CANCELED
        order.fill_net_pts = None
        order.note = f"legs filled unevenly: only {first.describe()} filled ({qty:+d}); unwound, no position"
        self.unwinds.append(PendingUnwind(_template(order, 0), -qty, order.product, intent.structure.underlying_kind,
                                          t_utc, intent.tag))
        self._retry_unwinds(t_utc)
        self.plan.note(fault, t_utc, f"order {order.order_id}: only {first.describe()} filled; unwinding it")
        return True

    def _book(self, order: WorkingOrder, leg_index: int, qty: int) -> None:
        """Book ``qty`` contracts of leg ``leg_index`` at the price the fill rule gave it, with its fee."""
        intent = order.intent
        fee = tastytrade_leg_fee_usd(self.p, intent.structure.underlying_kind, qty,
                                     intent.purpose is IntentPurpose.OPEN, micro=order.product.micro)
        self.ledger.trade(_template(order, leg_index), qty, order.leg_fills_pts[leg_index], fee)
        order.fees_usd += fee

    def _retry_unwinds(self, t_utc: datetime) -> None:
        for u in list(self.unwinds):
            price = self._marketable(u, t_utc)
            if price is not None:
                fee = tastytrade_leg_fee_usd(self.p, u.kind, u.quantity, False, micro=u.product.micro)
                self.ledger.trade(u.template, u.quantity, price, fee)
                self.unwinds.remove(u)
                self.unwound.append({"time_utc": t_utc.isoformat(), "symbol": u.template.symbol,
                                     "quantity": u.quantity, "price_pts": price, "origin": u.origin})
            elif not u.blocked and t_utc - u.since_utc >= timedelta(minutes=self.p.unwind_timeout_min):
                u.blocked = True
                session = self.plan.session
                text = f"{u.template.symbol} {u.quantity:+d} of {u.origin}: no quote to unwind after " \
                       f"{self.p.unwind_timeout_min} min"
                alert = block_entries(session.gate.state, HostBlock.UNWIND_FAILED, text, t_utc) if session else None
                if alert:
                    self.plan.alert(alert, t_utc)

    def _marketable(self, u: PendingUnwind, t_utc: datetime) -> float | None:
        """Buy at ask + n ticks, sell at bid - n ticks (at least one tick); ``None`` without a
        valid two-sided quote (a crossed or missing quote is no price)."""
        bid, ask = self.quotes.quote(u.template.symbol, t_utc)
        if not (np.isfinite(bid) and np.isfinite(ask) and 0 <= bid <= ask):
            return None
        far = ask if u.quantity > 0 else bid
        if far <= 0:
            return None
        tick = u.product.leg_tick_pts(far)
        n = self.p.unwind_through_ticks
        if u.quantity > 0:
            return round(math.ceil(far / tick - 1e-9) * tick + n * tick, 10)
        return round(max(math.floor(far / tick + 1e-9) * tick - n * tick, tick), 10)


def _template(order: WorkingOrder, leg_index: int) -> Holding:
    leg = order.intent.structure.legs[leg_index]
    return Holding(leg.symbol, leg.underlying_symbol, order.intent.structure.multiplier_usd_per_pt,
                   right=leg.right, strike_pts=leg.strike_pts, expiry=leg.expiry,
                   settle_time_et=order.product.expiry_time_et,
                   physical=order.product.settlement is Settlement.PHYSICAL)

