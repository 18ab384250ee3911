"""Saved order groups after a restart: re-attached to the orders LEAN loaded from the
brokerage, or ended by what the account holds when their orders are gone.

What LEAN does (``Engine/Setup/BrokerageSetupHandler.cs``): after ``initialize`` it asks the
brokerage for its open orders (``GetOpenOrders``) and adds each through
``BrokerageTransactionHandler.AddOpenOrder``, which gives it a NEW LEAN order id
(``GetIncrementOrderId``) and a new ticket, keeps the brokerage's ids (``Order.BrokerId``)
and sets it ``Submitted`` (``PartiallyFilled`` when the brokerage says so, e.g.
``TastytradeBrokerage.TryCreateLeanOrder``); the tag is not restored. So a saved leg is found
again by its contract (``Symbol``, equal by ``SecurityIdentifier``) and the brokerage ids it
had at the last save; when it had none yet, by contract and signed quantity.

Per saved group (:func:`reattach`), at ``on_warmup_finished`` before the start-up
reconciliation:

* every working leg found (among LEAN's open orders, and the orders whose events came before
  this call) -> re-attached: its ticket and new LEAN id join the router
  (``REATTACHED`` journaled); later events (and those that arrived before, held in
  :attr:`leanhost.orders.OrderRouter.deferred`) book into it as before the restart; a group
  whose cancel was requested (before the restart, or by a time-out meanwhile) is canceled
  again, now through its tickets;
* no working leg found -> the orders ended while the algorithm was down. The account
  decides: when it holds exactly what a whole fill leaves (an entry's legs beyond what other
  positions hold; a close: none of the position's legs), the group is booked filled at its
  limit (``FILLED_WHILE_DOWN``, alerted: the real fill price is at the broker); otherwise
  unfilled (an entry is forgotten; a close's position is open again and reconciliation
  adopts it or finds the difference);
* some legs found, others not -> re-attached as far as found, and alerted as a problem
  that blocks entries (``ORDERS_INCOMPLETE``): a person must look.

Open orders no group claims are judged by :class:`leanhost.reconciliation.Reconciler`
(``UNKNOWN_ORDER``: alerted, entries blocked).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping
from typing import TYPE_CHECKING

from strategies.base import PositionState, Strategy
from thetacore.enums import IntentPurpose

from .order_groups import ENDED, LegOrder, OrderGroup
from .orders import OrderRouter
from .scheduling import now_utc

if TYPE_CHECKING:
    from AlgorithmImports import Order

QTY_TOLERANCE = 1e-9


def reattach(router: OrderRouter, strategies: Mapping[str, Strategy]) -> list[str]:
    """Re-attach or end every restored group of ``router`` (see the module docstring);
    returns the problems that must block entries (groups found in part)."""
    if not router.restored:
        return []
    algorithm = router.algorithm
    now = now_utc(algorithm)
    orders = _candidates(router)
    taken: set[int] = set()
    problems = []
    restored, router.restored = router.restored, []
    for group in restored:
        working = [leg for leg in group.legs if leg.status not in ENDED]
        found = {id(leg): order for leg in working if (order := _match(leg, orders, taken)) is not None}
        for leg in working:
            match = found.get(id(leg))
            if match is not None:
                taken.add(match.id)
                leg.ticket = algorithm.transactions.get_order_ticket(match.id)
                router.groups[match.id] = group
        tag = group.intent.tag
        if working and len(found) == len(working):
            router.journal.note(now, group.intent.strategy, "REATTACHED", f"{tag}: {group.describe_legs()} "
                                f"(LEAN order ids now {', '.join(str(o.id) for o in found.values())})")
            if group.cancel_requested:  # asked before the restart (or during warm-up): ask again
                router.cancel(group, "cancel requested before the restart")
        elif found:
            problems.append(f"{tag}: only {len(found)} of its {len(working)} working leg orders are open at the "
                            f"broker after the restart ({group.describe_legs()})")
        else:
            filled = _whole_fill_held(router, strategies, group)
            why = ("its orders vanished while the algorithm was down and the account holds "
                   + ("what a whole fill leaves: booked filled at its limit "
                      f"{group.intent.limit_pts:+.2f} pts (the real price is in the broker's fills)" if filled
                      else "no whole fill of it: ended unfilled"))
            router.end_restored(group, filled, why)
            router.alert(f"RESTART {tag}: {why}")
    deferred, router.deferred = router.deferred, []
    for event in deferred:
        router.on_order_event(event)
    return problems


def _candidates(router: OrderRouter) -> list[Order]:
    """LEAN's open orders no group of the router claims, then the orders whose events came
    before the re-attachment (they may have ended meanwhile)."""
    transactions = router.algorithm.transactions
    orders = [o for o in transactions.get_open_orders() if not router.knows_order(o.id)]
    seen = {o.id for o in orders}
    for event in router.deferred:
        order = transactions.get_order_by_id(event.order_id)
        if order is not None and order.id not in seen:
            seen.add(order.id)
            orders.append(order)
    return orders


def _match(leg: LegOrder, orders: list[Order], taken: set[int]) -> Order | None:
    """The open order of ``leg``: same contract and one of its saved brokerage ids; without
    saved ids, same contract and signed quantity."""
    for order in orders:
        if order.id in taken or order.symbol != leg.symbol:
            continue
        ids = {str(b) for b in order.broker_id}
        if (ids & set(leg.broker_ids)) if leg.broker_ids else abs(float(order.quantity) - leg.target_qty) < 1e-9:
            return order
    return None


def _whole_fill_held(router: OrderRouter, strategies: Mapping[str, Strategy], group: OrderGroup) -> bool:
    """True when the account holds, on every leg's contract, what the other positions hold
    plus (an entry) the group's whole target, or (a close) nothing of its position."""
    intent = group.intent
    others: defaultdict[str, float] = defaultdict(float)
    for strategy in strategies.values():
        for pos in strategy.open_positions():
            if pos.state is PositionState.OPENING or (strategy.name, pos.position_id) == (intent.strategy,
                                                                                         intent.position_id):
                continue
            for option in pos.structure.legs:
                others[option.symbol] += option.ratio * pos.quantity
    opening = intent.purpose is IntentPurpose.OPEN
    for leg in group.legs:
        held = router.holding(leg.symbol)
        if abs(held - others[leg.key] - (leg.target_qty if opening else 0)) > QTY_TOLERANCE:
            return False
    return True
