"""Brokerage model, what Tastytrade accepts, and the Tastytrade option fee model.

LEAN APIs: ``QCAlgorithm.set_brokerage_model(BrokerageName, AccountType)`` (brokerage rules
and default models), ``QCAlgorithm.add_security_initializer`` (runs after the brokerage
model's own initializer for every security, so our fee model replaces LEAN's), and a
``FeeModel`` subclass overriding ``get_order_fee(OrderFeeParameters) -> OrderFee``.

Why a custom fee model: LEAN's ``TastytradeFeeModel`` charges only the opening commission
($2.50 per futures-option contract) and leaves out clearing, exchange/NFA fees and the
equity-option cap (docs/lean-notes.md, "Fees"). This model charges exactly
:func:`thetacore.fees.tastytrade_leg_fee_usd`, the function the replay host uses, so LEAN and
the replay book the same fees. Like LEAN's own model it decides opening vs closing from the
holding before the fill (LEAN computes the fee before the fill reaches the portfolio).
Interactive Brokers keeps LEAN's ``InteractiveBrokersFeeModel``.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import TYPE_CHECKING

from AlgorithmImports import (
    AccountType,
    BrokerageName,
    CashAmount,
    FeeModel,
    OrderFee,
    SecurityType,
)

from thetacore.decisions import OrderIntent
from thetacore.fees import tastytrade_leg_fee_usd
from thetacore.parameters import Parameters
from thetacore.products import PRODUCTS
from thetacore.structures import UnderlyingKind

if TYPE_CHECKING:
    from AlgorithmImports import OrderFeeParameters, QCAlgorithm, Security

TASTYTRADE_MAX_LEGS = 4
"""Most legs of a Tastytrade combo order (``TastytradeBrokerageModel``)."""

BROKERAGE_MODELS = {
    "tastytrade": BrokerageName.TASTYTRADE,
    "interactive_brokers": BrokerageName.INTERACTIVE_BROKERS_BROKERAGE,
}
"""``brokerage`` parameter value -> LEAN ``BrokerageName``."""

OPTION_KINDS = {
    SecurityType.OPTION: UnderlyingKind.EQUITY,
    SecurityType.INDEX_OPTION: UnderlyingKind.INDEX,
    SecurityType.FUTURE_OPTION: UnderlyingKind.FUTURE,
}
"""LEAN option security types -> the fee schedule's underlying kind."""


def apply_brokerage(algorithm: QCAlgorithm, params: Parameters) -> None:
    """Set the brokerage model (margin account) of ``params.brokerage``; under Tastytrade
    also install :class:`TastytradeOptionFeeModel` on every option security LEAN adds."""
    algorithm.set_brokerage_model(BROKERAGE_MODELS[params.brokerage], AccountType.MARGIN)
    if params.brokerage == "tastytrade":
        algorithm.add_security_initializer(lambda security: install_fee_model(security, params, algorithm.error))


def install_fee_model(security: Security, params: Parameters,
                      on_problem: Callable[[str], None] | None = None) -> None:
    """Security initializer: options get :class:`TastytradeOptionFeeModel`; futures and
    other securities keep the brokerage model's fee model."""
    if security.type in OPTION_KINDS:
        security.set_fee_model(TastytradeOptionFeeModel(params, on_problem))


def option_root(security: Security) -> str:
    """Root used for product facts: the future's root for futures options (``"MES"``),
    the option's own ticker otherwise (``"SPXW"``, ``"SPY"``)."""
    symbol = security.symbol
    if security.type == SecurityType.FUTURE_OPTION:
        return symbol.underlying.id.symbol
    return symbol.id.symbol


def order_fee_usd(
    params: Parameters, kind: UnderlyingKind, holding_qty: float, order_qty: float, micro: bool
) -> float:
    """Fee in dollars of one option order of ``order_qty`` contracts (signed) against a
    holding of ``holding_qty`` (signed, before the fill).

    The part of the order that reduces the holding is closing (no commission); the rest,
    including any part beyond zero, is opening.
    """
    reducing = holding_qty * order_qty < 0
    closing = min(abs(order_qty), abs(holding_qty)) if reducing else 0.0
    opening = abs(order_qty) - closing
    fee = 0.0
    if opening > 0:
        fee += tastytrade_leg_fee_usd(params, kind, round(opening), True, micro=micro)
    if closing > 0:
        fee += tastytrade_leg_fee_usd(params, kind, round(closing), False, micro=micro)
    return fee


def conservative_fee_usd(params: Parameters, quantity: float) -> float:
    """The most any option kind can cost to OPEN ``quantity`` contracts (at least one):
    what :class:`TastytradeOptionFeeModel` charges when it cannot compute the real fee."""
    n = max(1, round(abs(quantity))) if math.isfinite(quantity) else 1
    return max(tastytrade_leg_fee_usd(params, kind, n, True) for kind in UnderlyingKind)


class TastytradeOptionFeeModel(FeeModel):
    """LEAN fee model charging :func:`thetacore.fees.tastytrade_leg_fee_usd` per option order
    (one order = one leg of a combo). Returns USD.

    It never raises: LEAN calls a Python fee model through ``FeeModelPythonWrapper``
    (``Common/Python/FeeModelPythonWrapper.cs``, ``GetOrderFee``), which on the first
    exception silently switches for good to the legacy ``get_order_fee(security, order)``
    call, which this model does not have. Any bad input (a missing security or order, a
    non-finite quantity, an unknown kind of failure) is logged through ``on_problem`` (the
    algorithm's ``error``) and charged :func:`conservative_fee_usd`.
    """

    def __init__(self, params: Parameters, on_problem: Callable[[str], None] | None = None) -> None:
        super().__init__()
        self._params = params
        self._on_problem = on_problem

    def get_order_fee(self, parameters: OrderFeeParameters) -> OrderFee:
        try:
            fee = self._fee_usd(parameters)
        except Exception as exc:  # noqa: BLE001 - must never raise into LEAN (see the class docstring)
            quantity = _quantity(parameters)
            fee = conservative_fee_usd(self._params, quantity)
            if self._on_problem is not None:
                self._on_problem(f"fee model: {type(exc).__name__}: {exc}; charged a conservative {fee:.2f} USD")
        return OrderFee(CashAmount(fee, "USD"))

    def _fee_usd(self, parameters: OrderFeeParameters) -> float:
        security, order = parameters.security, parameters.order
        kind = OPTION_KINDS.get(security.type)
        if kind is None:
            return 0.0
        facts = PRODUCTS.get(option_root(security))
        micro = facts.micro if facts is not None else False
        held, qty = float(security.holdings.quantity), float(order.quantity)
        if not (math.isfinite(held) and math.isfinite(qty)):
            raise ValueError(f"holding {held} or order quantity {qty} is not a number")
        fee = order_fee_usd(self._params, kind, held, qty, micro)
        if not (math.isfinite(fee) and fee >= 0):
            raise ValueError(f"fee {fee} is not a price")
        return fee


def _quantity(parameters: OrderFeeParameters) -> float:
    try:
        return float(parameters.order.quantity)
    except Exception:  # noqa: BLE001 - any bad order: one contract
        return 1.0


def tastytrade_combo_refusal(intent: OrderIntent, holding: Callable[[str], float]) -> str:
    """Why LEAN's ``TastytradeBrokerageModel`` would reject ``intent`` as a ComboLimit order
    (empty when it would not): more than 4 legs, a net price that is neither a credit nor a
    debit, or a leg taking its holding (``holding(leg.symbol)``, signed contracts) through
    zero (``ValidateCrossZeroOrder``, which exempts plain Limit orders)."""
    n_legs = len(intent.structure.legs)
    if n_legs > TASTYTRADE_MAX_LEGS:
        return f"TASTYTRADE_LEGS: {n_legs} legs > {TASTYTRADE_MAX_LEGS}"
    if not math.isfinite(intent.limit_pts) or intent.limit_pts == 0:
        return f"TASTYTRADE_PRICE: combo limit {intent.limit_pts} is neither a credit nor a debit"
    for leg in intent.structure.legs:
        held = holding(leg.symbol)
        qty = leg.ratio * intent.quantity
        if held * qty < 0 and abs(qty) > abs(held):
            return (
                f"TASTYTRADE_CROSS_ZERO: {leg.symbol} holding {held:+g} with order {qty:+d} "
                "would cross zero in one combo"
            )
    return ""
