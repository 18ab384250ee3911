"""Cash and positions of the replay account, in dollars and contracts."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, time
from typing import Any

from thetacore.durable_state import Fields, StateError
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

    def to_dict(self) -> dict[str, Any]:
        """JSON-safe dict: contracts (signed), cost in USD, multiplier USD/point, the option's
        right/strike (points)/expiry/settle time (ET) or null for a future."""
        return {"symbol": self.symbol, "underlying_symbol": self.underlying_symbol,
                "multiplier_usd_per_pt": self.multiplier_usd_per_pt, "quantity": self.quantity,
                "cost_usd": self.cost_usd, "right": None if self.right is None else self.right.name.lower(),
                "strike_pts": self.strike_pts, "expiry": None if self.expiry is None else self.expiry.isoformat(),
                "settle_time_et": None if self.settle_time_et is None else self.settle_time_et.isoformat(),
                "physical": self.physical}

    @classmethod
    def from_dict(cls, f: Fields) -> Holding:
        """The holding :meth:`to_dict` wrote. Raises: StateError naming the bad key path."""
        right = f.opt_string("right")
        if right not in (None, "call", "put"):
            raise f.error("right", f"expected 'call', 'put' or null, got {right!r}")
        settle = f.opt_string("settle_time_et")
        try:
            settle_time = None if settle is None else time.fromisoformat(settle)
        except ValueError:
            raise f.error("settle_time_et", f"expected hh:mm:ss, got {settle!r}") from None
        h = cls(f.string("symbol"), f.string("underlying_symbol"), f.number("multiplier_usd_per_pt"),
                f.integer("quantity"), f.number("cost_usd"), None if right is None else Right[right.upper()],
                f.opt_number("strike_pts"), f.opt_day("expiry"), settle_time, f.boolean("physical"))
        if h.quantity == 0 or h.multiplier_usd_per_pt <= 0:
            raise StateError(f.path, f"a holding needs a non-zero quantity and a positive multiplier, got "
                             f"{h.quantity} x {h.multiplier_usd_per_pt}")
        if h.right is not None and (h.strike_pts is None or h.expiry is None or h.settle_time_et is None):
            raise StateError(f.path, "an option holding needs its strike, expiry and settle time")
        return h


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

    def to_dict(self) -> dict[str, Any]:
        """JSON-safe dict: ``cash_usd``, ``fees_usd`` (USD) and ``holdings`` (list)."""
        return {"cash_usd": self.cash_usd, "fees_usd": self.fees_usd,
                "holdings": [h.to_dict() for h in self.holdings.values()]}

    @classmethod
    def from_dict(cls, f: Fields) -> Ledger:
        """The ledger :meth:`to_dict` wrote. Raises: StateError naming the bad key path."""
        ledger = cls(f.number("cash_usd"), fees_usd=f.number("fees_usd"))
        for item in f.objects("holdings"):
            h = Holding.from_dict(item)
            if h.symbol in ledger.holdings:
                raise StateError(item.at("symbol"), f"duplicate holding {h.symbol!r}")
            ledger.holdings[h.symbol] = h
        return ledger
