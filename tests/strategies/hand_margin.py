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
* futures options (issue 11, SPAN-like): CME SPAN's 16 scenarios as the SPAN literature
  tabulates them (NSE Clearing, "sixteen risk scenarios"; McMillan, *Options as a Strategic
  Investment*, ch. 34): the future unchanged, +/- 1/3, 2/3, 3/3 of the price scan range,
  each with volatility up and down by the vol scan (absolute points), plus +/- 2 scan
  ranges at unchanged volatility counted at 35%; the requirement is the worst weighted
  loss of the whole position, never less than the short-option minimum (per uncovered
  short contract: for puts and for calls, shorts less longs; a fraction of its future's
  price). The scan range of the day is the outright
  future's initial margin / (multiplier x futures price) (LEAN's margin file).
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


def span_like_pts(legs: list[tuple[float, bool, int, float]], fwd: float, t: float, r: float, scan_frac: float,
                  vol_scan: float, short_min_frac: float) -> tuple[float, float]:
    """``(scan risk, short-option minimum)`` in points per unit for ``legs`` =
    ``[(strike, is_call, ratio, mid)]`` on one future at ``fwd``: the scenarios are written
    out one by one (no shared grid with the code), every leg at the volatility implied by its
    mid today, moved by the vol scan (never below 1 vol point)."""
    scenarios = []
    for step in (0.0, 1 / 3, 2 / 3, 1.0):
        for sign in ((1.0,) if step == 0 else (1.0, -1.0)):
            for dv in (vol_scan, -vol_scan):
                scenarios.append((sign * step * scan_frac, dv, 1.0))
    scenarios += [(2 * scan_frac, 0.0, 0.35), (-2 * scan_frac, 0.0, 0.35)]
    assert len(scenarios) == 16
    vols = [implied_vol_b76(mid, fwd, k, t, r, call) for k, call, _, mid in legs]
    worst = 0.0
    for move, dv, weight in scenarios:
        pnl = sum(ratio * (float(black76(fwd * (1 + move), k, t, r, max(vol + dv, 0.01), call)) - mid)
                  for (k, call, ratio, mid), vol in zip(legs, vols, strict=True))
        worst = max(worst, -pnl * weight)
    net_puts = sum(ratio for _, call, ratio, _ in legs if not call)
    net_calls = sum(ratio for _, call, ratio, _ in legs if call)
    uncovered = max(0, -net_puts) + max(0, -net_calls)
    return worst, uncovered * short_min_frac * fwd


def reg_t_naked_put_pts(strike: float, underlying: float, premium: float, base_frac: float) -> float:
    """Reg-T naked short put: ``premium + max(base x underlying - (underlying - strike)^+, 10% x strike)``."""
    return premium + max(base_frac * underlying - max(0.0, underlying - strike), 0.10 * strike)
