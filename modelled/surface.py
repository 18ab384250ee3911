"""The MODELLED smile: IV as a multiple of the ATM level, quadratic in scaled log-moneyness.

    IV(K, T) = ATM(T) x m(x),   x = ln(K / F) / sqrt(T),   m(x) = max(m_floor, 1 + a x + b x^2)

``F`` is the forward (the future for Black-76; ``S e^{(r-q)T}`` for Black-Scholes), ``T`` in
years, ``ATM(T)`` from :mod:`modelled.vol` (GARCH term mean x premium). Scaling ``ln(K/F)`` by
``sqrt(T)`` makes one ``(a, b)`` serve every expiry: the smile of S&P 500 options flattens in
log-moneyness roughly as ``1/sqrt(T)`` (Gatheral, *The Volatility Surface*, 2006, ch. 7, the
"square-root" skew term structure). ``a < 0`` is the put skew, ``b > 0`` the smile's curvature;
``m_floor`` keeps far calls priced (a quadratic can turn down). The real chains in ``data/``
hold points for ``x`` in about ``[-0.3, 0.6]``; outside, the multiplier is held: on the call
side beyond the parabola's vertex (no upturn: the ES calls up to ``x = 0.6`` show none), on the
put side beyond ``x_lo = -1`` (about three times the deepest calibrated put, where the
calibrated multiplier is already ~4.5: a far put's IV is then 4.5 x ATM, not an extrapolated
parabola).

The constants :data:`CALIBRATED` come from :func:`modelled.calibration.calibrate` (least
squares on the real chains in ``data/``); ``tests/modelled/test_calibration.py`` refits them
and checks the stored values and the errors.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class SmileShape:
    """Smile parameters (module doc). ``a``, ``b`` per unit of ``x``; ``m_floor`` a multiple
    of the ATM level; ``x_lo`` the put-side edge beyond which the multiplier is held."""

    a: float
    b: float
    m_floor: float = 0.6
    x_lo: float = -1.0

    @property
    def x_hi(self) -> float:
        """Call-side edge: the parabola's vertex ``-a / (2b)`` (no upturn beyond it), or
        ``+inf`` when ``b <= 0``."""
        return -self.a / (2.0 * self.b) if self.b > 0 else float("inf")

    def multiplier(self, x: np.ndarray) -> np.ndarray:
        """``(n,)`` smile multiplier ``m(x)`` (module doc)."""
        xc = np.clip(x, self.x_lo, self.x_hi)
        out: np.ndarray = np.maximum(self.m_floor, 1.0 + self.a * xc + self.b * xc * xc)
        return out

    def iv_frac(self, atm_frac: np.ndarray, strike_pts: np.ndarray, forward_pts: np.ndarray,
                t_years: np.ndarray) -> np.ndarray:
        """``(n,)`` IV (fraction) for the arrays given (broadcast); NaN where ``t_years <= 0``."""
        with np.errstate(invalid="ignore", divide="ignore"):
            x = np.log(strike_pts / forward_pts) / np.sqrt(t_years)
        out: np.ndarray = np.where(t_years > 0, atm_frac * self.multiplier(x), np.nan)
        return out


CALIBRATED = SmileShape(a=-2.2079, b=1.3271)
"""Shape fitted on ES 2020-01-06, SPXW 2023-06-23 and SPY 2023-12-28..2024-01-09 (see
``docs/modelled-chains.md`` for the per-chain errors)."""
