"""A newer close of a position while its close is still working (the 0DTE flatten re-sending
at the natural price): repriced in place, or held until the old close is known dead.

Why: a cancel in live LEAN is only a request (``Engine/TransactionHandlers/
BrokerageTransactionHandler.cs``, ``CancelOrder``: the order turns CancelPending; the Canceled
event, or a fill that raced it, comes later from the brokerage). Canceling and sending the new
close at once could close the position twice. So:

* the one working close with the same legs and size is updated in place:
  ``ticket.update_limit_price`` on any open leg (``Common/Orders/ComboLimitOrder.cs``,
  ``ApplyUpdateOrderRequest``: the group's limit; Lean.Brokerages.Tastytrade
  ``TastytradeBrokerage.UpdateOrder`` replaces the whole group) -> journal ``REPRICED``;
* otherwise (other legs or size, or LEAN/the brokerage refused the update) the working closes
  are canceled and the new close is HELD (journal ``HELD``; a newer close replaces the held
  one) until every leg of them ended; then it goes out for what is left of the position, or
  is dropped when the old close filled it (journal ``UNFILLED ... dropped``).
"""

from __future__ import annotations

from dataclasses import replace
from typing import TYPE_CHECKING

from strategies.base import PositionState
from thetacore.decisions import OrderIntent
from thetacore.enums import IntentPurpose

from .order_calls import update_limit
from .order_groups import ENDED, OrderGroup
from .scheduling import now_utc

if TYPE_CHECKING:
    from .orders import OrderRouter


def working_closes(active: list[OrderGroup], intent: OrderIntent) -> list[OrderGroup]:
    """The groups of ``active`` that close ``intent``'s position."""
    return [g for g in active
            if (g.intent.strategy, g.intent.position_id) == (intent.strategy, intent.position_id)
            and g.intent.purpose is IntentPurpose.CLOSE]


def reprice(router: OrderRouter, working: list[OrderGroup], intent: OrderIntent) -> OrderGroup | None:
    """Update the one working close of the same legs and size in place (returns it); otherwise
    cancel the working closes and hold ``intent`` until they are dead (returns ``None``)."""
    now = now_utc(router.algorithm)
    [group, *others] = working
    if not others and not group.cancel_requested and group.same_order(intent):
        ticket = next(leg.ticket for leg in group.legs if leg.ticket is not None and leg.status not in ENDED)
        price = intent.limit_pts / group.legs[0].ratio if len(group.legs) == 1 else intent.limit_pts
        why = update_limit(ticket, price, intent.tag)
        if not why:
            router.journal.note(now, intent.strategy, "REPRICED",
                                f"{group.intent.tag} -> {intent.tag}: limit {intent.limit_pts:+.2f} pts")
            group.intent = intent
            return group
        router.algorithm.log(f"{intent.tag}: {why}; canceling the working close instead")
    router.held[(intent.strategy, intent.position_id)] = intent
    router.journal.note(now, intent.strategy, "HELD", f"{intent.tag}: waits until the working close is known dead")
    for old in working:
        old.replaced = True
        if not old.cancel_requested:
            router.cancel(old, f"replaced by {intent.tag}")
    return None


def release_held(router: OrderRouter, group: OrderGroup) -> None:
    """After ``group`` ended: send the close held for its position once no close of it works,
    sized to what is left; drop it when the position is closed."""
    key = (group.intent.strategy, group.intent.position_id)
    if key not in router.held or working_closes(router.active_groups(), group.intent):
        return
    intent = router.held.pop(key)
    pos = router.strategies[intent.strategy].positions.get(intent.position_id)
    if pos is None or pos.state is PositionState.CLOSED:
        router.report_unfilled(intent, "dropped: the close it replaced filled first")
        return
    if pos.quantity != intent.quantity:
        intent = replace(intent, quantity=pos.quantity)
    pos.state = PositionState.CLOSING
    router.send(intent)
