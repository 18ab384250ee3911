"""Simulated broker for the replay: combo limit orders, fills, fees, expiry settlement.

Fill model: a working combo fills whole, at the first minute after submission when the
net price with each leg at ``mid + f x (far side - mid)`` (``f`` =
``replay_fill_toward_far_frac``; 0 = mid, 1 = the far side: ask when buying, bid when
selling) is at or better than the limit (LEAN sign: + debit, - credit, so a fill needs
``net <= limit``). Each leg fills at its own point. A combo never fills partly, so no leg
is ever left orphaned. An order that has not filled after ``order_timeout_min`` minutes is
canceled. Fees: :func:`thetacore.fees.tastytrade_leg_fee_usd` per leg.

Settlement: at the expiry time, every option still held settles at intrinsic value against
the underlying's mid; cash-settled options pay cash, physically settled futures options
become a position in the underlying (booked at the settlement price, never dropped).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any, Protocol

import numpy as np

from replay.ledger import Holding, Ledger
from thetacore.decisions import OrderIntent
from thetacore.durable_state import Fields, StateError, iso
from thetacore.enums import IntentPurpose, OrderStatus, Settlement
from thetacore.fees import tastytrade_leg_fee_usd
from thetacore.parameters import Parameters
from thetacore.pricing import et_instant_utc
from thetacore.products import PRODUCTS, OptionProduct

_NEVER = datetime(9999, 12, 31, tzinfo=UTC)


class QuoteSource(Protocol):
    """Where the broker reads quotes: ``(bid_pts, ask_pts)`` at ``t`` or NaNs."""

    def quote(self, symbol: str, t_utc: datetime) -> tuple[float, float]: ...


@dataclass
class WorkingOrder:
    """A combo order the broker holds, and what became of it."""

    order_id: int
    intent: OrderIntent
    submitted_utc: datetime
    product: OptionProduct
    status: OrderStatus = OrderStatus.SUBMITTED
    status_utc: datetime | None = None
    fill_net_pts: float | None = None
    leg_fills_pts: list[float] = field(default_factory=list)
    fees_usd: float = 0.0
    note: str = ""

    def to_dict(self) -> dict[str, Any]:
        """JSON-safe dict: the intent, times ISO UTC, ``product`` by option root, prices in
        points (LEAN sign), fees in USD, status by value."""
        return {"order_id": self.order_id, "intent": self.intent.to_dict(), "submitted_utc": iso(self.submitted_utc),
                "product": self.product.root, "status": self.status.value, "status_utc": iso(self.status_utc),
                "fill_net_pts": self.fill_net_pts, "leg_fills_pts": list(self.leg_fills_pts),
                "fees_usd": self.fees_usd, "note": self.note}

    @classmethod
    def from_dict(cls, f: Fields) -> WorkingOrder:
        """The order :meth:`to_dict` wrote. Raises: StateError naming the bad key path."""
        root = f.string("product")
        if root not in PRODUCTS:
            raise f.error("product", f"unknown option root {root!r}; known: {', '.join(PRODUCTS)}")
        fills = f.items("leg_fills_pts")
        if not all(isinstance(x, (int, float)) and not isinstance(x, bool) for x in fills):
            raise f.error("leg_fills_pts", f"expected numbers, got {fills!r}")
        return cls(f.integer("order_id"), OrderIntent.from_dict(f.raw("intent"), f.at("intent")),
                   f.instant("submitted_utc"), PRODUCTS[root], f.enum("status", OrderStatus),
                   f.opt_instant("status_utc"), f.opt_number("fill_net_pts"), [float(x) for x in fills],
                   f.number("fees_usd"), f.string("note"))


class SimBroker:
    """Holds working combos and the ledger; see the module docstring for the model."""

    def __init__(self, params: Parameters, ledger: Ledger, quotes: QuoteSource):
        self.p, self.ledger, self.quotes = params, ledger, quotes
        self.orders: list[WorkingOrder] = []
        self.settlements: list[dict[str, object]] = []
        self._settle_wait: dict[str, datetime] = {}
        self._expiry_cache: dict[str, datetime] = {}

    def submit(self, intent: OrderIntent, t_utc: datetime, product: OptionProduct) -> WorkingOrder:
        """Accept a combo (of ``product`` options) for filling from the next minute on."""
        order = WorkingOrder(len(self.orders) + 1, intent, t_utc, product)
        self.orders.append(order)
        return order

    def state_dict(self) -> dict[str, Any]:
        """The simulated broker's side of the account, JSON-safe: ``ledger`` (cash, fees,
        holdings), every ``orders`` record (working and ended, with fills and fees),
        ``settlements`` and ``settle_wait`` (holding -> when its settlement is retried)."""
        return {"ledger": self.ledger.to_dict(), "orders": [o.to_dict() for o in self.orders],
                "settlements": list(self.settlements),
                "settle_wait": {k: iso(v) for k, v in self._settle_wait.items()}}

    def restore_state(self, f: Fields) -> None:
        """Take the account :meth:`state_dict` wrote (checked whole before anything changes).

        Raises:
            StateError: naming the bad key path (order ids must be 1, 2, ... in order).
        """
        ledger = Ledger.from_dict(f.obj("ledger"))
        orders = [WorkingOrder.from_dict(item) for item in f.objects("orders")]
        for i, order in enumerate(orders, start=1):
            if order.order_id != i:
                raise StateError(f"{f.at('orders')}[{i - 1}].order_id", f"expected {i}, got {order.order_id}")
        settlements = []
        for item in f.objects("settlements"):
            item.string("symbol")
            item.number("intrinsic_pts")
            settlements.append(dict(item.data))
        wait_in = f.obj("settle_wait")
        wait = {k: wait_in.instant(k) for k in wait_in.names()}
        self.ledger.cash_usd, self.ledger.fees_usd = ledger.cash_usd, ledger.fees_usd
        self.ledger.holdings = ledger.holdings
        self.orders, self.settlements, self._settle_wait = orders, settlements, wait

    def working(self) -> list[WorkingOrder]:
        return [o for o in self.orders if o.status is OrderStatus.SUBMITTED]

    def step(self, t_utc: datetime) -> list[WorkingOrder]:
        """Try to fill or time out each working order at ``t_utc``; returns those that ended."""
        ended = []
        for order in self.working():
            if t_utc <= order.submitted_utc:
                continue
            if self._try_fill(order, t_utc):
                ended.append(order)
            elif t_utc - order.submitted_utc >= timedelta(minutes=self.p.order_timeout_min):
                order.status, order.status_utc = OrderStatus.CANCELED, t_utc
                order.note = f"not filled within {self.p.order_timeout_min} min at limit {order.intent.limit_pts:+.2f}"
                ended.append(order)
        return ended

    def _try_fill(self, order: WorkingOrder, t_utc: datetime) -> bool:
        intent, f = order.intent, self.p.replay_fill_toward_far_frac
        prices = []
        for leg in intent.structure.legs:
            bid, ask = self.quotes.quote(leg.symbol, t_utc)
            buying = leg.ratio * (1 if intent.quantity > 0 else -1) > 0
            if buying and (np.isnan(bid) or bid == 0) and np.isfinite(ask) and ask > 0:
                bid = 0.0  # a bought leg needs only an offer: a no-bid wing trades between 0 and the ask
            if not (np.isfinite(bid) and np.isfinite(ask) and 0 <= bid <= ask and (buying or bid > 0)):
                order.note = f"{t_utc:%H:%M}Z no valid quote for {leg.describe()} (bid={bid}, ask={ask})"
                return False
            mid, far = (bid + ask) / 2.0, ask if buying else bid
            prices.append(mid + f * (far - mid))
        net = float(np.dot([leg.ratio for leg in intent.structure.legs], prices))
        if net > intent.limit_pts + 1e-9:
            return False
        opening = intent.purpose is IntentPurpose.OPEN
        for leg, px in zip(intent.structure.legs, prices, strict=True):
            qty = leg.ratio * intent.quantity
            fee = tastytrade_leg_fee_usd(self.p, intent.structure.underlying_kind, qty, opening,
                                         micro=order.product.micro)
            template = Holding(leg.symbol, leg.underlying_symbol, intent.structure.multiplier_usd_per_pt,
                               right=leg.right, strike_pts=leg.strike_pts, expiry=leg.expiry,
                               settle_time_et=order.product.expiry_time_et,
                               physical=order.product.settlement is Settlement.PHYSICAL)
            self.ledger.trade(template, qty, px, fee)
            order.fees_usd += fee
        order.status, order.status_utc = OrderStatus.FILLED, t_utc
        order.fill_net_pts, order.leg_fills_pts = round(net, 6), [round(p, 6) for p in prices]
        return True

    def settle_expired(self, t_utc: datetime,
                       underlying_mid: dict[str, float] | Callable[[], dict[str, float]],
                       next_quote_utc: Callable[[str, datetime], datetime | None] | None = None,
                       ) -> list[dict[str, object]]:
        """Settle every option whose expiry time has passed at ``t_utc``.

        Args:
            underlying_mid: underlying symbol -> mid price (points) at ``t_utc``, or a function
                returning it (called only when a holding has expired: the replay calls this
                every minute).
            next_quote_utc: when given, ``(underlying, t)`` -> the time of the underlying's
                next quote after ``t`` (``None``: never). An expired holding whose underlying
                has no price waits for that time instead of being retried every minute (it
                cannot settle earlier: its price stays missing until then).

        Returns:
            One record per settled holding (also kept in :attr:`settlements`).
        """
        due = [h for h in self.ledger.holdings.values()
               if h.expiry is not None and h.right is not None and h.strike_pts is not None
               and t_utc >= self._expiry_of(h) and t_utc >= self._settle_wait.get(h.symbol, t_utc)]
        if not due:
            return []
        mids = underlying_mid() if callable(underlying_mid) else underlying_mid
        out = []
        for h in due:
            assert h.right is not None and h.strike_pts is not None
            under = mids.get(h.underlying_symbol, float("nan"))
            if not np.isfinite(under):
                # keep the holding and try again when a quote can exist: never settle on no price
                if next_quote_utc is not None:
                    self._settle_wait[h.symbol] = next_quote_utc(h.underlying_symbol, t_utc) or _NEVER
                continue
            self._settle_wait.pop(h.symbol, None)
            intrinsic = max(0.0, int(h.right) * (under - h.strike_pts))
            qty = h.quantity
            self.ledger.trade(h, -qty, intrinsic, 0.0)
            rec: dict[str, object] = {"time_utc": t_utc.isoformat(), "symbol": h.symbol, "quantity": qty,
                                      "underlying_pts": under, "intrinsic_pts": intrinsic}
            if intrinsic > 0 and h.physical:
                fut = Holding(h.underlying_symbol, h.underlying_symbol, h.multiplier_usd_per_pt)
                fut_qty = qty * int(h.right)
                # exercise: the option's intrinsic was booked above; the future comes in at
                # the settlement price, so cash and P&L equal buying it at the strike.
                self.ledger.trade(fut, fut_qty, under, 0.0)
                rec["delivered"] = {"symbol": h.underlying_symbol, "quantity": fut_qty, "price_pts": under}
            out.append(rec)
        self.settlements += out
        return out

    def _expiry_of(self, h: Holding) -> datetime:
        """:meth:`expiry_utc`, computed once per holding symbol."""
        when = self._expiry_cache.get(h.symbol)
        if when is None:
            when = self._expiry_cache[h.symbol] = self.expiry_utc(h)
        return when

    @staticmethod
    def expiry_utc(h: Holding) -> datetime:
        """Expiry instant of a holding: its expiry date at its product's settle time (ET)."""
        assert h.expiry is not None and h.settle_time_et is not None
        return et_instant_utc(h.expiry, h.settle_time_et)
