"""Legs left out of ratio by a partial fill, closed with marketable LIMIT orders, watched
until filled.

Why limit orders: a ``market_order`` sent while the market is closed becomes a MarketOnOpen
order (``Algorithm/QCAlgorithm.Trading.cs``, ``MarketOrder``), which Tastytrade refuses
(``Common/Brokerages/TastytradeBrokerageModel.cs``, ``CanSubmitOrder``: Market, Limit,
StopMarket, StopLimit and ComboLimit only); a synchronous market order also waits for its fill
(``SecurityTransactionManager.WaitForOrder``), which inside ``on_order_event`` would hold
LEAN's order-event lock. An unwind is a plain limit order through the far side by
``unwind_through_ticks`` ticks of the option's exchange increment
(:meth:`thetacore.products.OptionProduct.leg_tick_pts`): buy at ask + n ticks, sell at bid - n
ticks (never below one tick).

An unwind that LEAN reports Invalid or Canceled, that cannot be priced (no quote) or sent, or
that is not filled ``unwind_timeout_min`` minutes after sending is a failure: ``on_failed``
(the risk desk) raises a critical alert and blocks new entries through the gate. A late
unwind keeps working and follows the market: each time-out check re-prices it through the far
side of the quote then (``ticket.update_limit_price``).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from AlgorithmImports import OrderStatus

from thetacore.parameters import Parameters
from thetacore.products import PRODUCTS

from .brokerage import option_root
from .freshness import is_fresh
from .order_calls import place_limit, price_increment, update_limit
from .order_groups import ENDED

if TYPE_CHECKING:
    from AlgorithmImports import OrderEvent, OrderTicket, QCAlgorithm, Symbol

    from .order_groups import LegOrder

Failed = Callable[[str], None]
"""``(text)``: an unwind failed; the text names the leg, the quantity and why."""


@dataclass
class Unwind:
    """One working unwind order."""

    ticket: OrderTicket
    key: str
    quantity: int
    price: float
    sent_utc: datetime
    origin_tag: str
    filled_qty: float = 0.0
    failed: bool = False


@dataclass
class UnwindDesk:
    """Sends and watches unwind orders (see the module docstring)."""

    algorithm: QCAlgorithm
    params: Parameters
    on_failed: Failed | None = None
    bar_minutes_of: Callable[[Symbol], int] = lambda symbol: 1
    """Bar length (minutes) of the subscription serving a contract (the market data's
    ``bar_minutes_of``): a quote older than ``max_quote_age_min`` plus one bar is no price."""
    working: dict[int, Unwind] = field(default_factory=dict)  # by order id
    tickets: list[OrderTicket] = field(default_factory=list)

    def unwind(self, leg: LegOrder, quantity: int, origin_tag: str, now_utc: datetime) -> None:
        """Close ``quantity`` contracts (signed: + buys) of ``leg`` with a marketable limit."""
        price = self.marketable_price(leg.symbol, quantity, now_utc)
        tag = f"{origin_tag} unwind"
        if price is None:
            self._fail(f"{leg.key} {quantity:+d} of {origin_tag}: no quote to price a marketable limit")
            return
        self.algorithm.error(f"ORPHAN LEG {leg.key}: {leg.filled_qty:+g} filled of {leg.target_qty:+d} "
                             f"in {origin_tag}; unwinding {quantity:+d} with a limit at {price:.2f}")
        ticket, why = place_limit(self.algorithm, leg.symbol, quantity, price, tag)
        if ticket is None:
            self._fail(f"{leg.key} {quantity:+d} of {origin_tag}: {why}")
            return
        self.tickets.append(ticket)
        self.working[ticket.order_id] = Unwind(ticket, leg.key, quantity, price, now_utc, origin_tag)
        if ticket.status in (OrderStatus.INVALID, OrderStatus.CANCELED):
            self._ended(self.working.pop(ticket.order_id), ticket.status, "at submission")

    def marketable_price(self, symbol: Symbol, quantity: int, now_utc: datetime) -> float | None:
        """Buy: ask + n ticks; sell: bid - n ticks, at least one tick; ``None`` without the
        side's quote, or when the last real quote is fill-forwarded or older than
        ``max_quote_age_min`` plus one bar (:func:`leanhost.freshness.is_fresh`): a missing or
        stale quote is never a price, and the unwind then fails loudly."""
        securities = self.algorithm.securities
        if not securities.contains_key(symbol):
            return None
        security = securities[symbol]
        if not is_fresh(security, now_utc, self.params.max_quote_age_min + self.bar_minutes_of(symbol)):
            return None
        far = float(security.ask_price if quantity > 0 else security.bid_price)
        if not (math.isfinite(far) and far > 0):
            return None
        facts = PRODUCTS.get(option_root(security))
        tick = facts.leg_tick_pts(far) if facts is not None else price_increment(self.algorithm, symbol)
        tick = tick if tick > 0 else 0.01
        n = self.params.unwind_through_ticks
        if quantity > 0:
            return round(math.ceil(far / tick - 1e-9) * tick + n * tick, 10)
        return round(max(math.floor(far / tick + 1e-9) * tick - n * tick, tick), 10)

    def on_order_event(self, event: OrderEvent) -> bool:
        """Book an event of an unwind order; True when it was one."""
        unwind = self.working.get(event.order_id)
        if unwind is None:
            return any(t.order_id == event.order_id for t in self.tickets)
        if event.fill_quantity:
            unwind.filled_qty += float(event.fill_quantity)
        if event.status in ENDED:
            del self.working[event.order_id]
            self._ended(unwind, event.status, event.message)
        return True

    def check_timeouts(self, now_utc: datetime) -> None:
        """Every working unwind older than ``unwind_timeout_min`` fails (once; alert and entry
        block) and is re-priced to the far side now (``ticket.update_limit_price``) whenever
        that moved."""
        limit = timedelta(minutes=self.params.unwind_timeout_min)
        for unwind in list(self.working.values()):
            if now_utc - unwind.sent_utc < limit:
                continue
            if not unwind.failed:
                unwind.failed = True
                self._fail(f"{unwind.key} {unwind.quantity:+d} of {unwind.origin_tag}: limit {unwind.price:.2f} "
                           f"not filled after {self.params.unwind_timeout_min} min "
                           f"({unwind.filled_qty:+g} filled)")
            self._reprice(unwind, now_utc)

    def _reprice(self, unwind: Unwind, now_utc: datetime) -> None:
        price = self.marketable_price(unwind.ticket.symbol, unwind.quantity, now_utc)
        if price is None or abs(price - unwind.price) < 1e-9:
            return
        why = update_limit(unwind.ticket, price, f"{unwind.origin_tag} unwind re-priced")
        if why:
            self.algorithm.error(f"unwind of {unwind.key}: re-price to {price:.2f} failed: {why}")
            return
        self.algorithm.log(f"unwind of {unwind.key} re-priced {unwind.price:.2f} -> {price:.2f}")
        unwind.price = price

    def _ended(self, unwind: Unwind, status: OrderStatus, message: str) -> None:
        if abs(unwind.filled_qty - unwind.quantity) < 1e-9:
            self.algorithm.log(f"unwind of {unwind.key} {unwind.quantity:+d} ({unwind.origin_tag}) filled")
            return
        self._fail(f"{unwind.key} {unwind.quantity:+d} of {unwind.origin_tag}: {status.name} with "
                   f"{unwind.filled_qty:+g} filled{f' ({message})' if message else ''}")

    def _fail(self, text: str) -> None:
        line = f"UNWIND_FAILED: {text}"
        if self.on_failed is not None:
            self.on_failed(line)
        else:
            self.algorithm.error(f"ALERT {line}")
