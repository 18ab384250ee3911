"""Contract facts per option root that the rules need and that no data file states.

Multipliers and tick sizes come from LEAN's symbol-properties database at run time (each
host reads them); what is here is exercise style, settlement, the time of day the expiry
settles (for time to expiry) and the pricing model used for IV and greeks.

Sources: CME contract specs (E-mini S&P 500 quarterly options: American, exercise into
the future, trading ends 08:30 CT = 09:30 ET on the expiry Friday; price increments 0.25
index points, 0.05 for premiums at or below 5.00); Cboe SPX (AM-settled, European, cash)
and SPXW (PM-settled 16:00 ET, European, cash; 0.05 below 3.00, 0.10 above); OCC (SPY:
American, physical delivery of shares; penny increments).

Ticks: LEAN's symbol-properties database has no ES future-option row, so LEAN reports the
future's 0.25 for ES options; the exchange's reduced tick below 5.00 is kept here, and combo
limits use the finest tick among their legs (spreads may trade in the legs' smallest
increment).

Daily expiries (``daily_expiries``, what a 0DTE trade needs): SPXW lists an expiry every
trading day (Cboe: Tuesday/Thursday SPXW added 2022; Monday/Wednesday/Friday before). ES and
MES options in LEAN expire once per futures contract month:
``Common/Securities/FutureOption/FuturesOptionsExpiryFunctions.cs`` maps ES to
``FuturesExpiryUtilityFunctions.ThirdFriday`` of the contract month and has no MES entry (the
future's own expiry), so an ES "0DTE" chain exists on a handful of days a year.
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
    tick_pts: float
    small_tick_pts: float
    small_tick_below_pts: float
    micro: bool = False
    daily_expiries: bool = False

    def leg_tick_pts(self, premium_pts: float) -> float:
        """Price increment of one option at ``premium_pts`` (points)."""
        return self.small_tick_pts if premium_pts <= self.small_tick_below_pts else self.tick_pts

    def combo_tick_pts(self, leg_premiums_pts: list[float]) -> float:
        """Increment for a combo's net limit: the finest tick among its legs."""
        return min(self.leg_tick_pts(p) for p in leg_premiums_pts)


PRODUCTS: dict[str, OptionProduct] = {
    "ES": OptionProduct("ES", UnderlyingKind.FUTURE, ExerciseStyle.AMERICAN, Settlement.PHYSICAL,
                        time(9, 30), PricingModel.BLACK_76, 0.25, 0.05, 5.0),
    "MES": OptionProduct("MES", UnderlyingKind.FUTURE, ExerciseStyle.AMERICAN, Settlement.PHYSICAL,
                         time(9, 30), PricingModel.BLACK_76, 0.25, 0.05, 5.0, micro=True),
    "SPX": OptionProduct("SPX", UnderlyingKind.INDEX, ExerciseStyle.EUROPEAN, Settlement.CASH,
                         time(9, 30), PricingModel.BLACK_SCHOLES, 0.10, 0.05, 3.0),
    "SPXW": OptionProduct("SPXW", UnderlyingKind.INDEX, ExerciseStyle.EUROPEAN, Settlement.CASH,
                          time(16, 0), PricingModel.BLACK_SCHOLES, 0.10, 0.05, 3.0, daily_expiries=True),
    "SPY": OptionProduct("SPY", UnderlyingKind.EQUITY, ExerciseStyle.AMERICAN, Settlement.PHYSICAL,
                         time(16, 0), PricingModel.BLACK_SCHOLES, 0.01, 0.01, 0.0),
    "QQQ": OptionProduct("QQQ", UnderlyingKind.EQUITY, ExerciseStyle.AMERICAN, Settlement.PHYSICAL,
                         time(16, 0), PricingModel.BLACK_SCHOLES, 0.01, 0.01, 0.0),
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
