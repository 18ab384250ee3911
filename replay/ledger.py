"""Cash and positions of the replay account, in dollars and contracts."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, time

from thetacore.enums import Right


@dataclass
class Holding:
    """Contracts held in one instrument.

    ``right``/``strike_pts``/``expiry`` are ``None`` for a futures position (from the
    physical settlement of a futures option).
    """

    symbol: str
    underlying_symbol: str
    multiplier_usd_per_pt: float
    quantity: int = 0
    cost_usd: float = 0.0
    right: Right | None = None
    strike_pts: float | None = None
    expiry: date | None = None
    settle_time_et: time | None = None
    physical: bool = False


@dataclass
class Ledger:
    """Cash (USD) and holdings. Every trade goes through :meth:`trade`.

    Cash falls by ``quantity x price x multiplier`` for a purchase and rises for a sale;
    fees are paid from cash and summed in ``fees_usd``.
    """

    cash_usd: float
    holdings: dict[str, Holding] = field(default_factory=dict)
    fees_usd: float = 0.0

    def trade(self, template: Holding, quantity: int, price_pts: float, fees_usd: float) -> None:
        """Book ``quantity`` (signed contracts) of ``template``'s instrument at ``price_pts``."""
        h = self.holdings.setdefault(template.symbol, Holding(
            template.symbol, template.underlying_symbol, template.multiplier_usd_per_pt,
            right=template.right, strike_pts=template.strike_pts, expiry=template.expiry,
            settle_time_et=template.settle_time_et, physical=template.physical))
        value = quantity * price_pts * h.multiplier_usd_per_pt
        self.cash_usd -= value + fees_usd
        self.fees_usd += fees_usd
        h.quantity += quantity
        h.cost_usd += value
        if h.quantity == 0:
            del self.holdings[h.symbol]

    def cash_flow(self, amount_usd: float) -> None:
        """Add a cash amount (cash settlement)."""
        self.cash_usd += amount_usd
