"""Buying power by hand, for strategy tests: written out here, independently of
``thetacore.margin`` and ``thetacore.pricing`` (scipy's normal CDF and root finder), so a
strategy's ``buying_power_usd`` is checked against the rule, not against itself.

Rules (docs/strategy-rules.md, "Margin approximations for the pre-trade check"):

* Reg-T naked short option (Cboe Margin Manual, "Short puts or calls"; FINRA Rule 4210(f)(2)):
  premium + max(base x underlying - out-of-the-money amount, 10% x strike (put) or
  underlying (call)); base 15% for broad-based index options, 20% for equity/ETF options;
* LT112's 1 / -1 / -2 on index or equity options: the long put spread is paid in full (a
  debit spread's requirement is its cost, Cboe "Long put spread"), and the two extra short
  puts are each margined as naked (thetacore/margin.py docstring, "ratio spread");
* futures options: the project's SPAN approximation as thetacore/margin.py documents it
  today: each leg revalued with Black-76 at its own implied volatility (held) at 16 equally
  spaced futures prices from -scan to +scan of its future, the worst loss of the whole
  position. (docs/strategy-rules.md also describes volatility up/down moves and a
  short-option minimum that the code does not have yet: issue 11.)
"""

from __future__ import annotations

import numpy as np
from scipy.optimize import brentq
from scipy.stats import norm


def black76(fwd: float | np.ndarray, k: float, t: float, r: float, vol: float, call: bool) -> np.ndarray:
    """Black (1976) price of a European futures option (Hull, *Options, Futures and Other
    Derivatives*, eq. 18.9/18.10): ``e^(-rT) [F N(d1) - K N(d2)]`` for a call,
    ``e^(-rT) [K N(-d2) - F N(-d1)]`` for a put."""
    f = np.asarray(fwd, dtype=float)
    sd = vol * np.sqrt(t)
    d1 = (np.log(f / k) + 0.5 * sd * sd) / sd
    d2 = d1 - sd
    disc = np.exp(-r * t)
    return disc * (f * norm.cdf(d1) - k * norm.cdf(d2)) if call else disc * (k * norm.cdf(-d2) - f * norm.cdf(-d1))


def implied_vol_b76(price: float, fwd: float, k: float, t: float, r: float, call: bool) -> float:
    """The Black-76 volatility that reprices ``price`` (brentq on 0.1%..500%)."""
    return float(brentq(lambda v: float(black76(fwd, k, t, r, v, call)) - price, 1e-3, 5.0, xtol=1e-14))


def futures_scan_worst_loss_pts(legs: list[tuple[float, bool, int, float]], fwd: float, t: float, r: float,
                                scan_frac: float, points: int = 16) -> float:
    """Worst loss (points per unit, >= 0) of ``legs`` = ``[(strike, is_call, ratio, mid)]``
    over ``points`` futures prices ``fwd x (1 + m)``, ``m`` equally spaced from -scan to +scan
    (both ends included), every leg at the volatility implied by its mid today."""
    moves = np.linspace(-scan_frac, scan_frac, points)
    pnl = np.zeros(points)
    for k, call, ratio, mid in legs:
        vol = implied_vol_b76(mid, fwd, k, t, r, call)
        pnl += ratio * (black76(fwd * (1 + moves), k, t, r, vol, call) - mid)
    return float(max(0.0, -pnl.min()))


def reg_t_naked_put_pts(strike: float, underlying: float, premium: float, base_frac: float) -> float:
    """Reg-T naked short put: ``premium + max(base x underlying - (underlying - strike)^+, 10% x strike)``."""
    return premium + max(base_frac * underlying - max(0.0, underlying - strike), 0.10 * strike)
