"""The leg orders of one intent (:class:`OrderGroup`) and where each stands (:class:`LegOrder`),
as :class:`leanhost.orders.OrderRouter` books LEAN's order events into them."""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any

from AlgorithmImports import OrderStatus

from thetacore.decisions import OrderIntent
from thetacore.durable_state import Fields, iso

if TYPE_CHECKING:
    from AlgorithmImports import OrderTicket, Symbol

ENDED = frozenset({OrderStatus.FILLED, OrderStatus.CANCELED, OrderStatus.INVALID})
"""Order statuses after which a leg order sees no more events."""


@dataclass
class LegOrder:
    """One leg order of a group: ``target_qty = ratio x quantity`` contracts (signed)."""

    key: str
    symbol: Symbol
    ratio: int
    target_qty: int
    ticket: OrderTicket | None = None
    status: OrderStatus = OrderStatus.NEW
    filled_qty: float = 0.0
    fill_cost_pts: float = 0.0  # sum of fill quantity x fill price, signed contracts x points
    message: str = ""
    broker_ids: list[str] = field(default_factory=list)  # restored, until re-attached to a ticket

    @property
    def average_fill_pts(self) -> float:
        """Average fill price in points; NaN before any fill."""
        return self.fill_cost_pts / self.filled_qty if self.filled_qty else math.nan

    @property
    def fully_filled(self) -> bool:
        return abs(self.filled_qty - self.target_qty) < 1e-9


@dataclass
class OrderGroup:
    """The leg orders of one intent and where they stand."""

    intent: OrderIntent
    legs: list[LegOrder]
    sent_utc: datetime
    cancel_requested: bool = False
    done: bool = False
    replaced: bool = False  # canceled because a newer close of the position replaces it

    def same_order(self, intent: OrderIntent) -> bool:
        """True when ``intent`` trades exactly these legs (contracts and ratios) and size."""
        legs = [(leg.symbol, leg.ratio) for leg in intent.structure.legs]
        return intent.quantity == self.intent.quantity and legs == [(leg.key, leg.ratio) for leg in self.legs]

    def whole_units(self) -> int:
        """Whole ratio units filled on every leg: ``min(floor(filled / ratio))``, at least 0
        (2 of 3 strangles when each leg filled 2 x its ratio)."""
        return max(0, min(math.floor(leg.filled_qty / leg.ratio + 1e-9) for leg in self.legs))

    @property
    def ended(self) -> bool:
        return all(leg.status in ENDED for leg in self.legs)

    def fill_net_pts(self) -> float:
        """Net fill price per unit in points (LEAN sign): ``sum(ratio x average fill)`` (after
        a partial fill: each leg's average over every fill of it, excess included)."""
        return float(sum(leg.ratio * leg.average_fill_pts for leg in self.legs))

    def describe_legs(self) -> str:
        return ", ".join(
            f"{leg.key} {leg.status.name} {leg.filled_qty:+g}/{leg.target_qty:+d}"
            + (f" ({leg.message})" if leg.message else "")
            for leg in self.legs
        )


# ----- durable state (leanhost/book.py) ----------------------------------------------------------
STATUS_NAMES = {"new": OrderStatus.NEW, "submitted": OrderStatus.SUBMITTED,
                "partially_filled": OrderStatus.PARTIALLY_FILLED, "filled": OrderStatus.FILLED,
                "canceled": OrderStatus.CANCELED, "none": OrderStatus.NONE, "invalid": OrderStatus.INVALID,
                "cancel_pending": OrderStatus.CANCEL_PENDING, "update_submitted": OrderStatus.UPDATE_SUBMITTED}
"""Saved names of LEAN's ``OrderStatus`` values (``Common/Orders/OrderTypes.cs``)."""


def status_name(status: OrderStatus) -> str:
    """The saved name of ``status`` (compared by value: pythonnet enums are not Python enums)."""
    return next((name for name, value in STATUS_NAMES.items() if value == status), "none")


def group_to_dict(group: OrderGroup, broker_ids: Callable[[int], list[str]]) -> dict[str, Any]:
    """The saved form of ``group`` (an ``orders`` item of :class:`thetacore.durable_state.BookState`):
    ``intent`` (``OrderIntent.to_dict``), ``submitted_utc``, ``order_id`` (the first leg's LEAN
    id, None before any ticket), flags, and per leg its contract key and LEAN
    ``SecurityIdentifier`` string, ratio, target and filled contracts, fill cost (contracts x
    points), status, LEAN order id and the brokerage's ids (``Order.BrokerId``, which survive a
    restart when LEAN's ids do not: ``BrokerageTransactionHandler.AddOpenOrder``)."""
    legs = []
    for leg in group.legs:
        order_id = leg.ticket.order_id if leg.ticket is not None else None
        legs.append({"key": leg.key, "sid": str(leg.symbol.id), "value": str(leg.symbol.value), "ratio": leg.ratio,
                     "target_qty": leg.target_qty, "filled_qty": leg.filled_qty, "fill_cost_pts": leg.fill_cost_pts,
                     "status": status_name(leg.status), "message": leg.message, "order_id": order_id,
                     "broker_ids": broker_ids(order_id) if order_id is not None else list(leg.broker_ids)})
    first = next((leg["order_id"] for leg in legs if leg["order_id"] is not None), None)
    return {"order_id": first, "intent": group.intent.to_dict(), "submitted_utc": iso(group.sent_utc),
            "cancel_requested": group.cancel_requested, "replaced": group.replaced, "legs": legs}


def group_from_dict(data: Any, path: str, symbol_of: Callable[[str, str], Symbol]) -> OrderGroup:
    """The group :func:`group_to_dict` wrote, without tickets (re-attached later to the orders
    LEAN loaded from the brokerage: :mod:`leanhost.reattach`).

    Raises:
        StateError: naming the key path of a missing, mistyped or inconsistent field (legs
            that are not the intent's, an unknown status, an unreadable identifier).
    """
    f = Fields(data, path)
    intent = OrderIntent.from_dict(f.raw("intent"), f.at("intent"))
    legs = []
    for item in f.objects("legs"):
        status = item.string("status")
        if status not in STATUS_NAMES:
            raise item.error("status", f"unknown order status {status!r}")
        try:
            symbol = symbol_of(item.string("sid"), item.string("value"))
        except ValueError as exc:
            raise item.error("sid", f"not a LEAN security identifier ({exc})") from None
        leg = LegOrder(item.string("key"), symbol, item.integer("ratio"), item.integer("target_qty"),
                       None, STATUS_NAMES[status], item.number("filled_qty"), item.number("fill_cost_pts"),
                       item.string("message"))
        leg.broker_ids = item.strings("broker_ids")
        legs.append(leg)
    if [(leg.key, leg.ratio) for leg in legs] != [(leg.symbol, leg.ratio) for leg in intent.structure.legs]:
        raise f.error("legs", "do not match the intent's legs (contracts and ratios)")
    return OrderGroup(intent, legs, f.instant("submitted_utc"), f.boolean("cancel_requested"), False,
                      f.boolean("replaced"))
