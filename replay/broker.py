"""Simulated broker for the replay: combo limit orders, fills, fees, expiry settlement.

Fill model (an exchange's limit-order rules on minute quotes). Each leg's *model point* is
``mid + f x (far side - mid)`` (``f`` = ``replay_fill_toward_far_frac``; far side: ask when
buying, bid when selling); the *natural* is every leg at its far side. LEAN sign: + debit,
- credit, so "at or better than the limit" is ``net <= limit``.

* Arrival (the first minute after submission): when the natural is at or better than the
  limit, the order is marketable and takes the resting quotes: it fills at the natural, each
  leg at its far side (a price at least as good as the limit, as an exchange gives an
  incoming marketable order).
* Resting (otherwise, and every later minute): the order fills when the model net is at or
  better than the limit, and then at **its limit exactly**: a resting order is the passive
  side and trades at its own price, never better (even when the market later moves through
  it) and never worse. Each leg fills at the same point of its own spread,
  ``mid + g x (far - mid)``, with the one ``g`` (``>= f``) that makes the legs' net equal the
  limit; when that ``g`` would pass the far side (the natural is through the limit), the legs
  start at their far sides and the difference is taken as :func:`_past_natural` says.

A combo never fills partly, so no leg is ever left orphaned. An order that has not filled
after ``order_timeout_min`` minutes is canceled. Fees: :func:`thetacore.fees.tastytrade_leg_fee_usd`
per leg.

How this relates to LEAN (Common/Orders/Fills/FillModel.cs, ``FillModel.ComboLimitFill``):
LEAN takes, per leg, the quote bar of the side the leg trades on (``GetPrices``: ask bar for a
bought leg, bid bar for a sold one) and, for the whole group, that bar's low (the group is a
buy, ``GroupOrderManager.Direction``) or high (a sell); it fills every leg, whole, when the
ratio-weighted sum of those prices is strictly below (buy) or above (sell) the group limit,
each leg at that bar low/high -- not at the limit, and with no check per leg. So LEAN's
backtest fill is the best extreme of each leg's minute, usually better than the limit; ours
is the limit itself (or the natural on arrival), which is what a resting order gets.

Settlement: at the expiry time, every option still held settles at intrinsic value against
the underlying's price; cash-settled options pay cash. A physically settled futures option
exercised (in the money) delivers its future at the settlement price. A quarterly ES/MES
option expires on its future's last trading day, and the delivered future expires at the same
special opening quotation that morning: both settle at that one print, so the exercise is
effectively cash and no future is left held. A future delivered before its own expiry (an
option expiring earlier than its future) is held until the future's last trading day
(:func:`replay.market.future_expiry`), then settles at its price then.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any, Protocol, cast

import numpy as np

from replay.ledger import Holding, Ledger
from replay.market import future_expiry
from thetacore.decisions import OrderIntent
from thetacore.durable_state import Fields, StateError, iso
from thetacore.enums import IntentPurpose, OrderStatus, Settlement
from thetacore.fees import tastytrade_leg_fee_usd
from thetacore.parameters import Parameters
from thetacore.pricing import et_instant_utc
from thetacore.products import PRODUCTS, OptionProduct

_NEVER = datetime(9999, 12, 31, tzinfo=UTC)
_EPS = 1e-9


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
    resting: bool = False  # True once the order has been looked at after its submission minute

    def to_dict(self) -> dict[str, Any]:
        """JSON-safe dict: the intent, times ISO UTC, ``product`` by option root, prices in
        points (LEAN sign), fees in USD, status by value."""
        return {"order_id": self.order_id, "intent": self.intent.to_dict(), "submitted_utc": iso(self.submitted_utc),
                "product": self.product.root, "status": self.status.value, "status_utc": iso(self.status_utc),
                "fill_net_pts": self.fill_net_pts, "leg_fills_pts": list(self.leg_fills_pts),
                "fees_usd": self.fees_usd, "note": self.note, "resting": self.resting}

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
                   f.number("fees_usd"), f.string("note"), f.boolean("resting"))


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
        arriving, order.resting = not order.resting, True
        mids, fars = [], []
        for leg in intent.structure.legs:
            bid, ask = self.quotes.quote(leg.symbol, t_utc)
            buying = leg.ratio * (1 if intent.quantity > 0 else -1) > 0
            if buying and (np.isnan(bid) or bid == 0) and np.isfinite(ask) and ask > 0:
                bid = 0.0  # a bought leg needs only an offer: a no-bid wing trades between 0 and the ask
            if not (np.isfinite(bid) and np.isfinite(ask) and 0 <= bid <= ask and (buying or bid > 0)):
                order.note = f"{t_utc:%H:%M}Z no valid quote for {leg.describe()} (bid={bid}, ask={ask})"
                return False
            mids.append((bid + ask) / 2.0)
            fars.append(ask if buying else bid)
        prices = combo_fill_prices([leg.ratio for leg in intent.structure.legs], mids, fars,
                                   intent.limit_pts, f, arriving)
        if prices is None:
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
        net = float(np.dot([leg.ratio for leg in intent.structure.legs], prices))
        order.status, order.status_utc = OrderStatus.FILLED, t_utc
        order.fill_net_pts, order.leg_fills_pts = round(net, 6), [round(p, 6) for p in prices]
        return True

    def settle_expired(self, t_utc: datetime,
                       underlying_mid: dict[str, float] | Callable[[], dict[str, float]],
                       next_quote_utc: Callable[[str, datetime], datetime | None] | None = None,
                       ) -> list[dict[str, object]]:
        """Settle every option, and every delivered future, whose expiry time has passed at ``t_utc``
        (options at intrinsic, futures at their price then: see the module docstring).

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
               if h.expiry is not None and h.settle_time_et is not None
               and t_utc >= self._expiry_of(h) and t_utc >= self._settle_wait.get(h.symbol, t_utc)]
        if not due:
            return []
        mids = underlying_mid() if callable(underlying_mid) else underlying_mid
        out = []
        for h in due:
            under = mids.get(h.underlying_symbol, float("nan"))
            if not np.isfinite(under):
                # keep the holding and try again when a quote can exist: never settle on no price
                if next_quote_utc is not None:
                    self._settle_wait[h.symbol] = next_quote_utc(h.underlying_symbol, t_utc) or _NEVER
                continue
            self._settle_wait.pop(h.symbol, None)
            out.append(self._settle_future(h, t_utc, under) if h.right is None else
                       self._settle_option(h, t_utc, under))
        self.settlements += out
        return out

    def _settle_option(self, h: Holding, t_utc: datetime, under: float) -> dict[str, object]:
        """One expired option at intrinsic against ``under``; an exercised physical futures
        option delivers its future, held to the future's own expiry unless that is today."""
        assert h.right is not None and h.strike_pts is not None and h.expiry is not None
        intrinsic = max(0.0, int(h.right) * (under - h.strike_pts))
        qty = h.quantity
        self.ledger.trade(h, -qty, intrinsic, 0.0)
        rec: dict[str, object] = {"time_utc": t_utc.isoformat(), "symbol": h.symbol, "quantity": qty,
                                  "underlying_pts": under, "intrinsic_pts": intrinsic}
        if intrinsic > 0 and h.physical:
            fut_qty = qty * int(h.right)
            fut_expiry = self._future_expiry(h.underlying_symbol)
            delivered: dict[str, object] = {"symbol": h.underlying_symbol, "quantity": fut_qty, "price_pts": under}
            if fut_expiry is not None and fut_expiry <= h.expiry:
                # quarterly: the delivered future expires at this same print (the SOQ), so
                # buying it at `under` and settling it at `under` nets to nothing: cash only.
                delivered.update(final_settlement_pts=under, held=False)
            else:
                fut = Holding(h.underlying_symbol, h.underlying_symbol, h.multiplier_usd_per_pt,
                              expiry=fut_expiry, settle_time_et=h.settle_time_et if fut_expiry else None)
                # the option's intrinsic was booked above; the future comes in at the
                # settlement price, so cash and P&L equal buying it at the strike.
                self.ledger.trade(fut, fut_qty, under, 0.0)
                delivered.update(held=True, expiry=fut_expiry.isoformat() if fut_expiry else None)
            rec["delivered"] = delivered
        return rec

    def _settle_future(self, h: Holding, t_utc: datetime, price: float) -> dict[str, object]:
        """A held future at its last trading day's settlement: closed at ``price``."""
        qty = h.quantity
        self.ledger.trade(h, -qty, price, 0.0)
        return {"time_utc": t_utc.isoformat(), "symbol": h.symbol, "quantity": qty, "underlying_pts": price,
                "intrinsic_pts": price, "kind": "future_final_settlement"}

    def _future_expiry(self, symbol: str) -> date | None:
        """Last trading day of future ``symbol``: from the quote source's exchange calendar
        when it has one (:meth:`replay.markets.Quotes.future_expiry`), else the third-Friday
        rule of :func:`replay.market.future_expiry` on the symbol's ``yyyymm`` tail."""
        lookup = getattr(self.quotes, "future_expiry", None)
        if lookup is not None:
            return cast("date | None", lookup(symbol))
        month = symbol[-6:]
        return future_expiry(month) if month.isdigit() else None

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


def combo_fill_prices(ratios: list[int], mids: list[float], fars: list[float], limit_pts: float,
                      toward_far_frac: float, arriving: bool) -> list[float] | None:
    """Per-leg fill prices (points) of a combo limit order at one minute, or ``None`` (no fill).

    See the module docstring for the rules. Args are per leg, in leg order: ``ratios``
    (signed, + bought), ``mids`` and ``fars`` (the far side: ask for a bought leg, bid for a
    sold one); ``limit_pts`` in LEAN's sign (+ debit, - credit); ``arriving``: the first
    look after submission. The returned legs' net ``sum(ratio x price)`` equals the limit for
    a resting fill and the natural for a marketable arrival.
    """
    r = np.asarray(ratios, dtype=float)
    mid, far = np.asarray(mids, dtype=float), np.asarray(fars, dtype=float)
    net_mid, natural = float(r @ mid), float(r @ far)
    if arriving and natural <= limit_pts + _EPS:
        return [float(x) for x in far]
    if not net_mid + toward_far_frac * (natural - net_mid) <= limit_pts + _EPS:
        return None  # the model point misses the limit (or the limit is not a number)
    width = natural - net_mid  # >= 0: the far side is never better than the mid
    g = (limit_pts - net_mid) / width if width > _EPS else np.inf
    if g <= 1.0:
        return [float(x) for x in mid + g * (far - mid)]
    return _past_natural(r, far, limit_pts - natural)


def _past_natural(r: np.ndarray, far: np.ndarray, shortfall_pts: float) -> list[float] | None:
    """Leg prices with a net of ``natural + shortfall_pts`` (``shortfall_pts >= 0``): the market
    is at or through a resting limit, which still trades at its limit. Every leg at its far
    side, then the shortfall added to the legs with a positive ratio (``+shortfall / sum of
    those ratios`` each) or, when every ratio is negative, every price scaled by
    ``limit / natural`` (no price ever goes negative). ``None`` when no allocation without a
    negative price exists (an all-sold combo with a limit of zero or a debit)."""
    up = r > 0
    if up.any():
        return [float(x) for x in far + up * shortfall_pts / float(r[up].sum())]
    natural = float(r @ far)
    scale = (natural + shortfall_pts) / natural if natural < 0 else -1.0
    return [float(x) for x in far * scale] if scale >= 0 else None
