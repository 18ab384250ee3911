"""Vectorised European option pricing, greeks and implied volatility (numpy / scipy).

Public API (every array argument broadcasts; units in the names):

* :class:`PricingModel` -- ``BLACK_SCHOLES`` (spot with continuous dividend yield) and
  ``BLACK_76`` (options on futures), both the generalised Black-Scholes-Merton formula with
  cost of carry (Haug, *The Complete Guide to Option Pricing Formulas*, 2nd ed., 1.1.6).
* :func:`price`, :func:`greeks` (:class:`Greeks`: delta, gamma, theta per calendar day,
  vega per vol point), :func:`implied_vol` (NaN where no solution),
  :func:`no_arbitrage_bounds`.
* :func:`time_to_expiry_years` -- calendar-day / 365 year fraction to a New York expiry time.
* :func:`stored_greeks_coherence` -- may stored (LEAN) IV and greeks be trusted?

:mod:`thetacore.pricing.reference` holds a slow scalar reference used by the tests.
"""

from thetacore.pricing.coherence import (
    CoherenceFlag,
    CoherenceReport,
    CoherenceTolerance,
    StoredGreeksChain,
    stored_greeks_coherence,
)
from thetacore.pricing.iv_solver import SIGMA_MAX_FRAC, SIGMA_MIN_FRAC, implied_vol
from thetacore.pricing.models import (
    DAYS_PER_YEAR,
    Greeks,
    PricingModel,
    greeks,
    no_arbitrage_bounds,
    price,
)
from thetacore.pricing.time_to_expiry import NEW_YORK, et_instant_utc, time_to_expiry_years

__all__ = [
    "DAYS_PER_YEAR",
    "NEW_YORK",
    "SIGMA_MAX_FRAC",
    "SIGMA_MIN_FRAC",
    "CoherenceFlag",
    "CoherenceReport",
    "CoherenceTolerance",
    "Greeks",
    "PricingModel",
    "StoredGreeksChain",
    "et_instant_utc",
    "greeks",
    "implied_vol",
    "no_arbitrage_bounds",
    "price",
    "stored_greeks_coherence",
    "time_to_expiry_years",
]
