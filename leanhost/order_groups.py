"""The leg orders of one intent (:class:`OrderGroup`) and where each stands (:class:`LegOrder`),
as :class:`leanhost.orders.OrderRouter` books LEAN's order events into them."""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING

from AlgorithmImports import OrderStatus

from thetacore.decisions import OrderIntent

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
