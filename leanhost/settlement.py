"""Option expiry, exercise and assignment: the owning strategy is told, and a person is too.

LEAN (``Common/Orders/OptionExercise/DefaultExerciseModel.cs``, ``OptionPortfolioModel.cs``):
at expiry, and on an early assignment of a short American option, LEAN creates an
``OptionExercise`` order (``transactions.get_order_by_id(id).type == OrderType.OPTION_EXERCISE``)
and reports FILLED events: one for the option (price 0, the holding's quantity;
``is_assignment`` when a short was assigned, ``is_in_the_money``), and for an in-the-money
physically settled option one more for the underlying at the strike (shares of SPY, or the ES
future). Cash-settled options (SPX, SPXW) are paid their intrinsic value in cash at the
underlying's close. docs/lean-notes.md: handle assignment in ``on_order_event``
(``on_assignment_order_event`` can fire before the assigned position exists, Lean#9321).

What this host does with them (never silently):

* the leg's owner (the open strategy position holding that contract) is found; each leg is
  valued at its intrinsic value (0 when out of the money); once every leg of the position has
  settled, ``strategy.on_settled(position_id, settle_net_pts, time)`` closes it, with
  ``settle_net_pts = sum(-ratio x intrinsic)`` per unit (LEAN sign of a closing trade:
  + paid, - received);
* an assignment, an in-the-money physical exercise, delivered shares or futures, a contract
  no position owns, a quantity that does not match the positions, and a position left with
  some legs settled and others still held (early assignment, a LEAP with its weekly call) are
  ALERTS: ``algorithm.error`` plus a journal note, and a note on the position. The delivered
  underlying is left as LEAN booked it: no strategy manages it, a person must.

After a whole position settled, :attr:`SettlementDesk.on_position_settled` (the risk desk) is
called with the strategy and the now closed position, for the gate's realized P&L.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TYPE_CHECKING

from AlgorithmImports import OrderStatus, OrderType, SecurityType

from strategies.base import PositionState, Strategy, StrategyPosition
from thetacore.legs import OptionLeg

from .chains import ChainReader
from .journal import DecisionJournal
from .scheduling import NEW_YORK

if TYPE_CHECKING:
    from AlgorithmImports import Order, OrderEvent, QCAlgorithm, Symbol

OPTION_TYPES = frozenset({SecurityType.OPTION, SecurityType.INDEX_OPTION, SecurityType.FUTURE_OPTION})
HOST = "host"  # journal "strategy" of alerts no strategy owns


@dataclass(frozen=True)
class Owner:
    """One open position holding the exercised contract, and its leg."""

    strategy: Strategy
    position: StrategyPosition
    leg: OptionLeg


@dataclass
class SettlementDesk:
    """Turns LEAN exercise events into ``on_settled`` calls and alerts."""

    algorithm: QCAlgorithm
    reader: ChainReader
    strategies: Mapping[str, Strategy]
    journal: DecisionJournal
    settled: dict[tuple[str, str], dict[str, float]] = field(default_factory=dict)  # legs settled so far
    alerts: list[str] = field(default_factory=list)
    on_position_settled: Callable[[Strategy, StrategyPosition, datetime], None] | None = None

    def on_order_event(self, event: OrderEvent) -> bool:
        """Handle ``event`` if it comes from an exercise, assignment or expiry; True if so."""
        if event.status != OrderStatus.FILLED or not (event.is_assignment or self._is_exercise(event)):
            return False
        time_utc = _aware(event.utc_time)
        symbol = event.symbol
        if symbol.security_type not in OPTION_TYPES:
            self._alert(time_utc, HOST, "DELIVERY", f"{event.fill_quantity:+g} {symbol.value} at "
                        f"{event.fill_price:g} delivered by an option exercise or assignment; no "
                        f"strategy manages it: {event.message}")
            return True
        key = self.reader.key_of(symbol)
        owners = self._owners(key)
        if not owners:
            self._alert(time_utc, HOST, "UNOWNED_EXERCISE", f"{symbol.value} {event.fill_quantity:+g}: no open "
                        f"position holds it: {event.message}")
            return True
        self._check_quantity(time_utc, event, owners)
        intrinsic = self.intrinsic_pts(time_utc, symbol, owners[0].leg) if event.is_in_the_money else 0.0
        for owner in owners:
            self._settle_leg(time_utc, event, owner, intrinsic)
        return True

    # ----- one leg ----------------------------------------------------------------------------
    def _settle_leg(self, time_utc: datetime, event: OrderEvent, owner: Owner, intrinsic: float) -> None:
        strategy, pos, leg = owner.strategy, owner.position, owner.leg
        what = "ASSIGNED" if event.is_assignment else ("EXERCISED" if event.is_in_the_money else "EXPIRED")
        text = (f"{pos.position_id} {leg.describe()} x{pos.quantity}: {what.lower()} at intrinsic "
                f"{intrinsic:.2f} pts; {event.message}")
        physical = event.is_in_the_money and self._physical(event.symbol)
        if event.is_assignment or physical:
            self._alert(time_utc, strategy.name, what, text)
        else:
            self.journal.note(time_utc, strategy.name, what, text)
        done = self.settled.setdefault((strategy.name, pos.position_id), {})
        done[leg.symbol] = intrinsic
        remaining = [other for other in pos.structure.legs if other.symbol not in done]
        if not remaining:
            del self.settled[(strategy.name, pos.position_id)]
            net = sum(-other.ratio * done[other.symbol] for other in pos.structure.legs)
            self.journal.note(time_utc, strategy.name, "SETTLED", f"{pos.position_id} at {net:+.2f} pts per unit")
            strategy.on_settled(pos.position_id, net, time_utc)
            if self.on_position_settled is not None:
                self.on_position_settled(strategy, pos, time_utc)
            return
        early = time_utc.astimezone(NEW_YORK).date() < leg.expiry
        if early or all(other.expiry > leg.expiry for other in remaining):
            held = ", ".join(other.describe() for other in remaining)
            message = (f"PARTIAL_SETTLEMENT {pos.position_id}: {leg.describe()} settled, still held: {held}; "
                       "the strategy's position no longer matches LEAN's holdings")
            pos.notes.append(message)
            self._alert(time_utc, strategy.name, "PARTIAL_SETTLEMENT", message)

    def _owners(self, key: str | None) -> list[Owner]:
        if key is None:
            return []
        return [
            Owner(strategy, pos, leg)
            for strategy in self.strategies.values()
            for pos in strategy.open_positions()
            if pos.state in (PositionState.OPEN, PositionState.CLOSING)
            for leg in pos.structure.legs
            if leg.symbol == key
        ]

    def _check_quantity(self, time_utc: datetime, event: OrderEvent, owners: list[Owner]) -> None:
        expected = -sum(o.leg.ratio * o.position.quantity for o in owners)
        if abs(float(event.fill_quantity) - expected) > 1e-9:
            self._alert(time_utc, owners[0].strategy.name, "QUANTITY_MISMATCH",
                        f"{event.symbol.value}: LEAN settled {event.fill_quantity:+g}, positions "
                        f"{', '.join(o.position.position_id for o in owners)} expected {expected:+d}")

    def intrinsic_pts(self, time_utc: datetime, symbol: Symbol, leg: OptionLeg) -> float:
        """Intrinsic value of ``leg`` (``symbol``) from its underlying's price now, points;
        0 with a ``NO_UNDERLYING_PRICE`` alert when the underlying has no price."""
        securities = self.algorithm.securities
        under = symbol.underlying
        price = float(securities[under].price) if securities.contains_key(under) else math.nan
        if not (math.isfinite(price) and price > 0):
            self._alert(time_utc, HOST, "NO_UNDERLYING_PRICE", f"{symbol.value} settled in the money but "
                        f"{under.value} has no price; valued at 0 pts")
            return 0.0
        return leg.intrinsic_pts(price)

    def _physical(self, symbol: Symbol) -> bool:
        return symbol.security_type != SecurityType.INDEX_OPTION

    def _is_exercise(self, event: OrderEvent) -> bool:
        # None for an unknown id, although the stubs do not say so.
        order: Order | None = self.algorithm.transactions.get_order_by_id(event.order_id)
        return order is not None and order.type == OrderType.OPTION_EXERCISE

    def _alert(self, time_utc: datetime, strategy: str, code: str, text: str) -> None:
        line = f"ALERT {code}: {text}"
        self.alerts.append(line)
        self.algorithm.error(line)
        self.journal.note(time_utc, strategy, code, text)


def _aware(t: datetime) -> datetime:
    """LEAN's naive UTC event time as timezone-aware UTC."""
    return t.replace(tzinfo=UTC) if t.tzinfo is None else t.astimezone(UTC)
