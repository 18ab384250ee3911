"""Every LEAN order call of the router, made so that none can stop the algorithm, and the
price LEAN will really send.

Why: an exception out of an order call inside a scheduled event or ``on_order_event`` stops a
LEAN algorithm (``Engine/RealTime/ScheduledEventException``, ``BrokerageTransactionHandler.
HandleOrderEvents`` -> ``SetRuntimeError``). What can raise, from LEAN's source:

* ``combo_limit_order`` with a limit of 0 (``-0.0`` too: ``limitPrice == 0`` in decimals)
  throws ``ArgumentException("ComboLimitOrder requires a limit price")``
  (``Algorithm/QCAlgorithm.Trading.cs``, ``ComboLimitOrder``), whatever the brokerage;
* any order call can throw for a symbol LEAN does not know (``QCAlgorithm.Trading.cs``,
  ``GetSecurityForOrder`` -> ``InvalidOperationException``) or a brokerage-side error;
* ``OrderTicket.update`` / ``cancel`` return a failed ``OrderResponse`` for a closed order
  (``BrokerageTransactionHandler.UpdateOrder`` / ``CancelOrder``), and pythonnet surfaces any
  .NET exception as a Python ``Exception``.

So each call here returns ``(result, error text)``: the router refuses the intent, journals
and alerts the text, and the algorithm goes on.

Prices: before sending, LEAN rounds every limit to the security's minimum price variation
(``BrokerageTransactionHandler.RoundOrderPrices``: a plain limit with its security's increment;
a ComboLimit group limit with the smallest positive increment among the legs; ``RoundOrderPrice``
is ``Math.Round(price / increment) * increment`` in decimals, midpoint to even;
``Common/Securities/SecurityPriceVariationModel.cs``: the increment is
``SymbolProperties.MinimumPriceVariation``). :func:`lean_sent_price` computes that price so the
router can refuse a limit that LEAN would send as 0.00 (zero, or a close worth less than half a
tick) and log one LEAN would move.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from decimal import ROUND_HALF_EVEN, Decimal, InvalidOperation
from typing import TYPE_CHECKING

from AlgorithmImports import Leg

if TYPE_CHECKING:
    from AlgorithmImports import OrderTicket, QCAlgorithm, Symbol

    from .order_groups import LegOrder


def lean_round(price: float, increment: float) -> float:
    """``price`` rounded as LEAN's ``RoundOrderPrice``: to a multiple of ``increment``,
    midpoint to even (``Math.Round`` on decimals); unchanged when ``increment <= 0``."""
    if not (increment > 0) or not math.isfinite(price):
        return price
    try:
        steps = (Decimal(repr(price)) / Decimal(repr(increment))).quantize(Decimal(1), rounding=ROUND_HALF_EVEN)
    except InvalidOperation:
        return price
    return float(steps * Decimal(repr(increment)))


def price_increment(algorithm: QCAlgorithm, symbol: Symbol) -> float:
    """The minimum price variation LEAN uses for ``symbol`` (0 when it has no security yet)."""
    securities = algorithm.securities
    if not securities.contains_key(symbol):
        return 0.0
    return float(securities[symbol].symbol_properties.minimum_price_variation)


def lean_sent_price(algorithm: QCAlgorithm, legs: Sequence[LegOrder], limit_pts: float) -> float:
    """The limit LEAN will send for these legs: the per-contract price of a single leg
    (``limit_pts / ratio``) rounded with its security's increment, or the combo's net limit
    rounded with the smallest positive increment among the legs."""
    if len(legs) == 1:
        [leg] = legs
        return lean_round(limit_pts / leg.ratio, price_increment(algorithm, leg.symbol))
    increments = [i for i in (price_increment(algorithm, leg.symbol) for leg in legs) if i > 0]
    return lean_round(limit_pts, min(increments)) if increments else limit_pts


def limit_refusal(algorithm: QCAlgorithm, legs: Sequence[LegOrder], limit_pts: float) -> str:
    """Why the limit cannot be sent (empty when it can): not a finite number, zero (LEAN's
    ``ComboLimitOrder`` throws), or rounding to 0.00 (or to the other side of zero) on LEAN's
    tick. Applies to every brokerage. A single leg needs a positive per-contract price."""
    if not math.isfinite(limit_pts):
        return f"LIMIT_PRICE: limit {limit_pts} is not a number"
    sent = lean_sent_price(algorithm, legs, limit_pts)
    asked = limit_pts / legs[0].ratio if len(legs) == 1 else limit_pts
    if len(legs) == 1 and not asked > 0:
        return f"LIMIT_PRICE: single-leg limit {asked} per contract is not a positive price"
    if sent == 0 or asked == 0 or (sent > 0) != (asked > 0):
        return (f"LIMIT_PRICE: limit {asked:+g} would go out as {sent:+.2f} on LEAN's tick "
                "(zero is neither a credit nor a debit; LEAN's ComboLimitOrder throws on it)")
    return ""


def place(algorithm: QCAlgorithm, legs: Sequence[LegOrder], quantity: int, limit_pts: float,
          tag: str) -> tuple[list[OrderTicket], str]:
    """Send one combo limit order (a plain limit for one leg: ``ratio x quantity`` contracts
    at ``limit_pts / ratio``). Returns ``(tickets, "")``, or ``([], why)`` when LEAN raised."""
    try:
        if len(legs) == 1:
            [leg] = legs
            ticket = algorithm.limit_order(leg.symbol, leg.target_qty, limit_pts / leg.ratio, tag=tag)
            return [ticket], ""
        tickets = algorithm.combo_limit_order(
            [Leg.create(leg.symbol, leg.ratio) for leg in legs], quantity, limit_pts, tag=tag)
        return list(tickets), ""
    except Exception as exc:  # noqa: BLE001 - LEAN/.NET errors of any type must not stop the run
        return [], f"ORDER_CALL: LEAN refused the order: {type(exc).__name__}: {exc}"


def place_limit(algorithm: QCAlgorithm, symbol: Symbol, quantity: int, price: float,
                tag: str) -> tuple[OrderTicket | None, str]:
    """One plain limit order; ``(None, why)`` when LEAN raised."""
    try:
        return algorithm.limit_order(symbol, quantity, price, tag=tag), ""
    except Exception as exc:  # noqa: BLE001 - see place()
        return None, f"ORDER_CALL: LEAN refused the limit order: {type(exc).__name__}: {exc}"


def update_limit(ticket: OrderTicket, limit_price: float, tag: str) -> str:
    """``ticket.update_limit_price(limit_price, tag)`` (``Common/Orders/OrderTicket.cs``,
    ``UpdateLimitPrice`` -> ``Update(new UpdateOrderFields {LimitPrice, Tag})``): "" when LEAN
    accepted the request,
    else why not (a failed response or an exception). On a combo leg the new limit is the whole
    group's (``Common/Orders/ComboLimitOrder.cs``, ``ApplyUpdateOrderRequest``); Tastytrade
    carries it out as a replace of the group (``TastytradeBrokerage.UpdateOrder`` ->
    ``ReplaceOrderById``)."""
    try:
        response = ticket.update_limit_price(limit_price, tag)
    except Exception as exc:  # noqa: BLE001 - see place()
        return f"update raised {type(exc).__name__}: {exc}"
    if response is not None and not response.is_success:
        return f"update refused: {response.error_message}"
    return ""


def request_cancel(ticket: OrderTicket, tag: str) -> str:
    """``ticket.cancel(tag)``: "" when LEAN took the request (in live it is only a request: the
    Canceled event, or a fill, comes later), else why not."""
    try:
        response = ticket.cancel(tag)
    except Exception as exc:  # noqa: BLE001 - see place()
        return f"cancel raised {type(exc).__name__}: {exc}"
    if response is not None and not response.is_success:
        return f"cancel refused: {response.error_message}"
    return ""
