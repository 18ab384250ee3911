"""Contract facts per option root that the rules need and that no data file states.

Multipliers and tick sizes come from LEAN's symbol-properties database at run time (each
host reads them); what is here is exercise style, settlement, the time of day the expiry
settles (for time to expiry) and the pricing model used for IV and greeks.

Sources: CME contract specs (E-mini S&P 500 quarterly options: American, exercise into
the future, trading ends 08:30 CT = 09:30 ET on the expiry Friday); Cboe SPX (AM-settled,
European, cash) and SPXW (PM-settled 16:00 ET, European, cash); OCC (SPY: American,
physical delivery of shares).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import time

from thetacore.enums import ExerciseStyle, Settlement
from thetacore.pricing import PricingModel
from thetacore.structures import UnderlyingKind


@dataclass(frozen=True)
class OptionProduct:
    """Static facts about one option root."""

    root: str
    underlying_kind: UnderlyingKind
    style: ExerciseStyle
    settlement: Settlement
    expiry_time_et: time
    model: PricingModel
    micro: bool = False


PRODUCTS: dict[str, OptionProduct] = {
    "ES": OptionProduct("ES", UnderlyingKind.FUTURE, ExerciseStyle.AMERICAN, Settlement.PHYSICAL,
                        time(9, 30), PricingModel.BLACK_76),
    "MES": OptionProduct("MES", UnderlyingKind.FUTURE, ExerciseStyle.AMERICAN, Settlement.PHYSICAL,
                         time(9, 30), PricingModel.BLACK_76, micro=True),
    "SPX": OptionProduct("SPX", UnderlyingKind.INDEX, ExerciseStyle.EUROPEAN, Settlement.CASH,
                         time(9, 30), PricingModel.BLACK_SCHOLES),
    "SPXW": OptionProduct("SPXW", UnderlyingKind.INDEX, ExerciseStyle.EUROPEAN, Settlement.CASH,
                          time(16, 0), PricingModel.BLACK_SCHOLES),
    "SPY": OptionProduct("SPY", UnderlyingKind.EQUITY, ExerciseStyle.AMERICAN, Settlement.PHYSICAL,
                         time(16, 0), PricingModel.BLACK_SCHOLES),
}


def product(root: str) -> OptionProduct:
    """Facts for ``root``.

    Raises:
        KeyError: naming the root when the project has no facts for it.
    """
    try:
        return PRODUCTS[root]
    except KeyError:
        raise KeyError(f"no option product facts for root {root!r}; known: {', '.join(PRODUCTS)}") from None
