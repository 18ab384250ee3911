"""Calibration of the MODELLED surface on the REAL chains in ``data/``.

Real chains (LEAN universe files, end-of-day closes; ``replay.lean_data.universes``):

* ``ES``: ``futureoption/cme/universes/es/{202003,202006}/20200106.csv`` -- CME settlements of
  the March and June 2020 options (all strikes, zero volume: settlement prices).
* ``SPXW``: ``indexoption/usa/universes/spxw/20230623.csv`` -- 3 strikes x 2 expiries.
* ``SPY``: ``option/usa/universes/spy/20231228..20240109.csv`` -- deep in-the-money calls only;
  only rows whose time value (close minus discounted intrinsic on the forward) is at least
  :data:`MIN_TIME_VALUE_FRAC` of the spot carry information on IV (the LEAP rows, mostly); an
  expiry with fewer than two such rows is left out (one point only fixes its own level).

Market IV: Black-76 on the forward of each expiry (the European price is ``e^{-rT}`` Black on
``F``), :func:`thetacore.pricing.implied_vol`, out-of-the-money side where both rights exist.
Forwards: ES and SPXW by put-call parity, median over strikes of ``(C - P) e^{rT} + K``; SPY
(calls only) ``S e^{(r - q)T}`` with ``q`` = the trailing dividend yield of SPY's factor file at
its last date (1.41 %, 2021-03; carried forward, an approximation) -- SPY options are American
and priced here as European (the project's convention for SPY, ``thetacore.products``).
Rates: LEAN's series (:class:`modelled.paths.RateCurve`). Times to expiry: 16:00 ET close to the
product's expiry time (:func:`thetacore.pricing.time_to_expiry_years`).

Fit: IV = ``L_g x m(x / L_g)`` (:mod:`modelled.surface`) with one free level ``L_g`` per chain and
expiry and one shared ``(a, b, m_floor)``, least squares in vol points, each chain weighted
equally (``1/sqrt(n)`` per point). The term parameter ``horizon_scale`` of :mod:`modelled.vol` is fitted
on the two ES expiries of 2020-01-06 (the only real chain with two expiries months apart inside
the path's dates): the ratio of their ATM levels is matched by the GARCH term mean.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, time
from pathlib import Path

import numpy as np
from scipy.optimize import brentq, least_squares

from modelled.paths import RateCurve
from modelled.surface import SmileShape
from modelled.vol import VolPath
from replay.lean_data.universes import read_universe
from thetacore.pricing import PricingModel, et_instant_utc, implied_vol, time_to_expiry_years

CLOSE_ET = time(16, 0)
MIN_TIME_VALUE_FRAC = 0.002
SPY_YIELD_FRAC = 0.0141
CHAIN_FILES: dict[str, tuple[str, ...]] = {
    "ES 2020-01-06": ("futureoption/cme/universes/es/202003/20200106.csv",
                      "futureoption/cme/universes/es/202006/20200106.csv"),
    "SPXW 2023-06-23": ("indexoption/usa/universes/spxw/20230623.csv",),
    "SPY 2023-12-28..2024-01-09": tuple(f"option/usa/universes/spy/{d}.csv" for d in (
        "20231228", "20231229", "20240102", "20240103", "20240104", "20240105", "20240108", "20240109")),
}
_EXPIRY_ET = {"ES": time(9, 30), "SPXW": time(16, 0), "SPY": time(16, 0)}


@dataclass(frozen=True)
class MarketPoints:
    """Market IV points of one real chain, arrays ``(n,)``: ``group`` (one per file and
    expiry), ``x = ln(K/F) / sqrt(T)`` (divided by the group's ATM level it is the smile's
    ``z``), ``t_years``, ``iv_frac``, ``forward_pts``."""

    name: str
    group: np.ndarray
    x: np.ndarray
    t_years: np.ndarray
    iv_frac: np.ndarray
    forward_pts: np.ndarray
    day: np.ndarray


def _parity_forward(close: np.ndarray, strike: np.ndarray, right: np.ndarray, df: float) -> float:
    calls = {float(k): float(c) for k, c, r in zip(strike, close, right, strict=True) if r > 0}
    puts = {float(k): float(c) for k, c, r in zip(strike, close, right, strict=True) if r < 0}
    pairs = sorted(set(calls) & set(puts))
    if not pairs:
        raise ValueError("no call/put pair for put-call parity")
    return float(np.median([(calls[k] - puts[k]) / df + k for k in pairs]))


def market_points(name: str, data_root: Path, rates: RateCurve) -> MarketPoints:
    """Market IV points of the chain ``name`` (a key of :data:`CHAIN_FILES`), module doc."""
    root = name.split()[0]
    rows: list[tuple[int, float, float, float, float, np.datetime64]] = []
    group = 0
    for rel in CHAIN_FILES[name]:
        u = read_universe(Path(data_root) / rel, drop_malformed_greeks=True)
        now = et_instant_utc(u.date, CLOSE_ET)
        r = rates.rate_frac(u.date)
        for e in np.unique(u.expiry):
            at = (u.expiry == e) & np.isfinite(u.close_pts) & (u.close_pts > 0)
            t = float(time_to_expiry_years(e, now, _EXPIRY_ET[root]))
            df = float(np.exp(-r * t))
            k, c, w = u.strike_pts[at], u.close_pts[at], u.right[at]
            if root == "SPY":
                f = float(u.underlying_close_pts * np.exp((r - SPY_YIELD_FRAC) * t))
                keep = c - df * np.maximum(w * (f - k), 0.0) >= MIN_TIME_VALUE_FRAC * u.underlying_close_pts
            else:
                f = _parity_forward(c, k, w, df)
                keep = (w * (k - f)) >= 0  # out of the money (calls above F, puts below)
            iv = implied_vol(PricingModel.BLACK_76, c[keep], f, k[keep], t, r, 0.0, w[keep])
            added = [(group, float(np.log(ki / f) / np.sqrt(t)), t, float(vi), f, np.datetime64(u.date, "D"))
                     for ki, vi in zip(k[keep], iv, strict=True) if np.isfinite(vi)]
            if len(added) >= 2:  # a lone point only fixes its own level: no shape information
                rows += added
                group += 1
    cols = list(zip(*rows, strict=True))
    return MarketPoints(name, np.array(cols[0]), np.array(cols[1]), np.array(cols[2]), np.array(cols[3]),
                        np.array(cols[4]), np.array(cols[5], dtype="datetime64[D]"))


@dataclass(frozen=True)
class CalibrationResult:
    """The fitted shape and, per chain name, ``(points, rms_vol_pts, max_vol_pts)`` of the
    fitted surface against the market IVs."""

    shape: SmileShape
    errors: dict[str, tuple[int, float, float]]


def calibrate(points: list[MarketPoints], z_lo: float = -4.0) -> CalibrationResult:
    """Least-squares fit of the shared ``(a, b, m_floor)`` with a free level per chain group
    (module doc); ``m_floor`` bounded to ``[0.3, 1]``, levels to ``[0.01, 5]``."""
    offsets = np.cumsum([0] + [int(p.group.max()) + 1 for p in points])
    x = np.concatenate([p.x for p in points])
    g = np.concatenate([p.group + o for p, o in zip(points, offsets[:-1], strict=True)])
    iv = np.concatenate([p.iv_frac for p in points])
    w = np.concatenate([np.full(len(p.x), 1.0 / np.sqrt(len(p.x))) for p in points])
    levels0 = np.array([np.median(iv[g == j]) for j in range(offsets[-1])])

    def resid(theta: np.ndarray) -> np.ndarray:
        shape = SmileShape(theta[0], theta[1], theta[2], z_lo)
        level = theta[3:][g]
        out: np.ndarray = w * 100.0 * (level * shape.multiplier(x / level) - iv)
        return out

    lo = np.concatenate(([-5.0, -5.0, 0.3], np.full(len(levels0), 0.01)))
    hi = np.concatenate(([5.0, 5.0, 1.0], np.full(len(levels0), 5.0)))
    fit = least_squares(resid, np.concatenate(([-0.2, 0.0, 0.7], levels0)), bounds=(lo, hi))
    shape = SmileShape(*(round(float(v), 4) for v in fit.x[:3]), z_lo=z_lo)
    errors: dict[str, tuple[int, float, float]] = {}
    for p, o in zip(points, offsets[:-1], strict=True):
        level = fit.x[3:][p.group + o]
        model = level * shape.multiplier(p.x / level)
        err = 100.0 * np.abs(model - p.iv_frac)
        errors[p.name] = (len(p.x), float(np.sqrt(np.mean(err ** 2))), float(err.max()))
    return CalibrationResult(shape, errors)


def atm_level(p: MarketPoints, group: int, shape: SmileShape) -> float:
    """The level ``L`` of one group (least squares with ``shape`` fixed): the market's ATM IV."""
    x, iv = p.x[p.group == group], p.iv_frac[p.group == group]
    fit = least_squares(lambda lv: lv[0] * shape.multiplier(x / lv[0]) - iv, [float(np.median(iv))],
                        bounds=([0.01], [5.0]))
    return float(fit.x[0])


def fit_horizon_scale(es: MarketPoints, vol: VolPath, shape: SmileShape) -> float:
    """``horizon_scale`` such that the model's ratio of the June to the March ATM level on
    2020-01-06 equals the market's (module doc). Returns the fitted value.

    Raises:
        ValueError: when no value in ``[0.01, 1]`` matches (the ratio is not monotone in the
            scale beyond 1: the root sought is the slower mean reversion).
    """
    target = atm_level(es, 1, shape) / atm_level(es, 0, shape)
    t = np.array([float(es.t_years[es.group == 0][0]), float(es.t_years[es.group == 1][0])])
    i = vol.index_of(np.datetime64(date(2020, 1, 6), "D"))

    def gap(scale: float) -> float:
        v = VolPath(vol.day, vol.var_next_pct2, vol.omega, vol.alpha, vol.beta, vol.fit_day,
                    vol.premium_vol_mult, scale)
        lv = v.atm_iv_frac(i, t)
        return float(lv[1] / lv[0] - target)

    return float(brentq(gap, 0.01, 1.0))
