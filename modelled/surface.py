"""The MODELLED smile: IV as a multiple of the ATM level, quadratic in scaled log-moneyness.

    IV(K, T) = ATM(T) x m(z),   z = ln(K / F) / (ATM(T) sqrt(T)),   m(z) = max(m_floor, 1 + a z + b z^2)

``F`` is the forward (the future for Black-76; ``S e^{(r-q)T}`` for Black-Scholes), ``T`` in
years, ``ATM(T)`` from :mod:`modelled.vol` (GARCH term mean x premium). ``z`` is the
log-moneyness in standard deviations to expiry: scaling by ``sqrt(T)`` makes one ``(a, b)``
serve every expiry (the smile of S&P 500 options flattens in log-moneyness roughly as
``1/sqrt(T)``: Gatheral, *The Volatility Surface*, 2006, ch. 7, the "square-root" skew term
structure), and scaling by the ATM level makes the smile widen with the level ("sticky
delta": Derman, "Regimes of volatility", Risk 12(4), 1999), so that in a crash the same strike
10 % below the money is fewer standard deviations away and is not given the calm-market
multiple of an ATM level that is itself four times higher. ``a < 0`` is the put skew, ``b > 0``
the smile's curvature;
``m_floor`` is the call wing's level (fitted: the ES calls flatten at ~0.74 of the ATM level).
The real chains in ``data/`` hold points for ``z`` in about ``[-2.5, 1.7]``; beyond the
parabola's vertex the multiplier is held (no turn of a wing: with the fitted ``b < 0`` the
vertex is on the put side, ``z = -2.84``, multiplier 1.58), and beyond ``z_lo = -4`` at the
furthest.

The constants :data:`CALIBRATED` come from :func:`modelled.calibration.calibrate` (least
squares on the real chains in ``data/``); ``tests/modelled/test_calibration.py`` refits them
and checks the stored values and the errors.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class SmileShape:
    """Smile parameters (module doc). ``a``, ``b`` per unit of ``z``; ``m_floor`` a multiple
    of the ATM level; ``z_lo`` the put-side edge beyond which the multiplier is held."""

    a: float
    b: float
    m_floor: float = 0.6
    z_lo: float = -4.0

    @property
    def z_bounds(self) -> tuple[float, float]:
        """``(lo, hi)`` beyond which the multiplier is held: the parabola's vertex
        ``-a / (2b)`` on whichever side it lies (no turn of the wing), and ``z_lo`` on the put
        side at the furthest."""
        if self.b == 0:
            return self.z_lo, float("inf")
        vertex = -self.a / (2.0 * self.b)
        if vertex < 0:
            return max(self.z_lo, vertex), float("inf")
        return self.z_lo, vertex

    def multiplier(self, z: np.ndarray) -> np.ndarray:
        """``(n,)`` smile multiplier ``m(z)`` (module doc)."""
        lo, hi = self.z_bounds
        zc = np.clip(z, lo, hi)
        out: np.ndarray = np.maximum(self.m_floor, 1.0 + self.a * zc + self.b * zc * zc)
        return out

    def iv_frac(self, atm_frac: np.ndarray, strike_pts: np.ndarray, forward_pts: np.ndarray,
                t_years: np.ndarray) -> np.ndarray:
        """``(n,)`` IV (fraction) for the arrays given (broadcast); NaN where ``t_years <= 0``."""
        with np.errstate(invalid="ignore", divide="ignore"):
            z = np.log(strike_pts / forward_pts) / (atm_frac * np.sqrt(t_years))
        out: np.ndarray = np.where(t_years > 0, atm_frac * self.multiplier(z), np.nan)
        return out


CALIBRATED = SmileShape(a=-0.4087, b=-0.072, m_floor=0.7425)
"""Shape fitted on ES 2020-01-06, SPXW 2023-06-23 and SPY 2023-12-28..2024-01-09 (see
``docs/modelled-chains.md`` for the per-chain errors)."""
