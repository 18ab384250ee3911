"""Independent hand calculation of the 90-day constant-maturity ATM IV of the REAL ES chain
of 2020-01-06 10:00 ET (15:00Z): Black-76 written out here and inverted with scipy's brentq
(not the project's solver), on the real quotes typed in below from
data/futureoption/cme/minute/es (read once with ``chain.index_of``; the test also checks the
chain still holds them).

Per expiry: F is the expiry's future mid; the two listed strikes bracketing F are 3220 and
3230 for both; each strike's IV is the mean of its put's and call's IV from the mids; the ATM
IV is linear in strike at F. Then total variance w = sigma^2 T is linear in T between the
two expiries, and the 90-day vol is sqrt(w(90/365) / (90/365)).
"""

from __future__ import annotations

import math

from scipy.optimize import brentq
from scipy.stats import norm

RATE = 0.0225  # LEAN's rate on 2020-01-06 (ctx.rate_frac; checked by the test)
DAY = 86400.0
# 2020-01-06 15:00Z to each expiry's 09:30 EDT (13:30Z) settlement: whole days minus 1.5 h, ACT/365
T_MAR = (74 * DAY - 1.5 * 3600) / (365 * DAY)   # to 2020-03-20
T_JUN = (165 * DAY - 1.5 * 3600) / (365 * DAY)  # to 2020-06-19
# (symbol, bid, ask) on the real chain; F the future's mid
QUOTES = {
    "2020-03-20": (3225.625, T_MAR, [
        ("ES202003 200320P03220000", 76.75, 77.25), ("ES202003 200320C03220000", 82.5, 83.0),
        ("ES202003 200320P03230000", 80.5, 81.0), ("ES202003 200320C03230000", 76.0, 76.5)]),
    "2020-06-19": (3225.125, T_JUN, [
        ("ES202006 200619P03220000", 121.75, 122.25), ("ES202006 200619C03220000", 127.0, 127.5),
        ("ES202006 200619P03230000", 125.25, 126.0), ("ES202006 200619C03230000", 120.5, 121.25)]),
}


def black76(f: float, k: float, t: float, r: float, sigma: float, call: bool) -> float:
    """e^{-rT} [F N(d1) - K N(d2)] (call), e^{-rT} [K N(-d2) - F N(-d1)] (put) (Black 1976)."""
    sd = sigma * math.sqrt(t)
    d1 = (math.log(f / k) + sd * sd / 2) / sd
    d2 = d1 - sd
    if call:
        return math.exp(-r * t) * (f * norm.cdf(d1) - k * norm.cdf(d2))
    return math.exp(-r * t) * (k * norm.cdf(-d2) - f * norm.cdf(-d1))


def iv(price: float, f: float, k: float, t: float, call: bool) -> float:
    return float(brentq(lambda s: black76(f, k, t, RATE, s, call) - price, 1e-4, 3.0, xtol=1e-12))


def atm_iv(f: float, t: float, mids: dict[tuple[float, bool], float]) -> float:
    """Mean put/call IV at 3220 and 3230, then linear in strike at F."""
    at = {k: (iv(mids[(k, False)], f, k, t, False) + iv(mids[(k, True)], f, k, t, True)) / 2
          for k in (3220.0, 3230.0)}
    wgt = (f - 3220.0) / 10.0
    return at[3220.0] + wgt * (at[3230.0] - at[3220.0])


def cm_iv(t1: float, v1: float, t2: float, v2: float, days: float = 90.0) -> float:
    """Linear in total variance, at ``days``/365."""
    tt = days / 365.0
    w = v1 * v1 * t1 + (v2 * v2 * t2 - v1 * v1 * t1) * (tt - t1) / (t2 - t1)
    return math.sqrt(w / tt)


def expiry_atm(expiry: str) -> tuple[float, float]:
    """``(T, ATM IV)`` of one expiry of :data:`QUOTES` by hand."""
    f, t, quotes = QUOTES[expiry]
    mids = {(float(sym[-8:]) / 1000, sym.split()[1][6] == "C"): (bid + ask) / 2 for sym, bid, ask in quotes}
    return t, atm_iv(f, t, mids)


def es_cm_iv_90d() -> float:
    """The 90-day constant-maturity ATM IV of the real ES chain of 2020-01-06 15:00Z."""
    return cm_iv(*expiry_atm("2020-03-20"), *expiry_atm("2020-06-19"))
