"""IV rank as a practitioner computes it: a 52-week rank of a constant-maturity ATM IV,
one reading per trading day (docs/strategy-rules.md, "Futures strangle"; the corrected rules
reference: "52-week rank of a constant-maturity ATM IV, one reading per trading day").

The reading (:func:`constant_maturity_atm_iv`):

1. Per listed expiry, the forward ``F``: for options on futures (Black-76) the expiry's own
   underlying future price (``underlying_pts`` of its rows: each futures option is written on
   one future contract, LEAN ``Common/Securities/FutureOption/FuturesOptionsUnderlyingMapper.cs``
   ``GetUnderlyingFutureFromFutureOption``); for index/equity options
   (Black-Scholes) put-call parity at the strike nearest spot with both mids,
   ``F = K + exp(r T) (C - P)``.
2. The expiry's ATM IV: the IV at ``K = F``, linear in strike between the two listed strikes
   bracketing ``F``, each strike's IV the mean of its put's and call's IV (from their mids,
   :func:`thetacore.chain_greeks.expiry_greeks`); ``F`` outside the listed strikes: none.
3. The constant-maturity IV at ``target_days`` calendar days (ACT/365, the chain's time
   convention): linear in total variance ``w = sigma^2 T`` between the two listed expiries
   that bracket the target, ``sigma = sqrt(w(T*) / T*)`` (the standard no-calendar-arbitrage
   interpolation, e.g. Gatheral, "The Volatility Surface", 2006, ch. 3; the VIX white paper,
   CBOE 2019, interpolates 30-day variance the same way). Beyond the listed range the vol is
   held flat (the nearest listed expiry's ATM IV): stated in the reading's ``basis``.

The rank (:func:`iv_rank_over_trading_days`): ``(today - min) / (max - min)`` over the
readings dated inside the last ``lookback_days`` trading days (252 = 52 weeks), today
included; a trading day without a reading is not a step (the window is a span of sessions,
not a count of readings). Refused (:class:`IvRankUnavailable`, with its reason) without a
reading today or with fewer than ``min_history`` readings in the window.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, time

import numpy as np

from thetacore.atm_points import (
    ExpiryAtm,
    atm_iv_at_forward,
    expiry_atm_points,
    expiry_atm_points_greeked,
    forward_pts,
)
from thetacore.chain import ChainSnapshot
from thetacore.chain_greeks import ExpiryIvRequest, expiry_iv_request
from thetacore.pricing import PricingModel
from thetacore.pricing.models import DAYS_PER_YEAR

__all__ = ["CmReading", "ExpiryAtm", "IvRank", "IvRankUnavailable", "atm_iv_at_forward", "constant_maturity_atm_iv",
           "expiry_atm_points", "expiry_atm_points_greeked", "forward_pts", "interpolate_total_variance",
           "iv_rank_over_trading_days", "window_start"]


class IvRankUnavailable(ValueError):
    """No IV rank can be computed; the message is the reason (journaled)."""


@dataclass(frozen=True)
class CmReading:
    """A constant-maturity ATM IV reading: ``iv_frac`` and how it was obtained (``basis``,
    e.g. ``"interpolated 2020-03-20/2020-06-19"`` or ``"flat beyond 2020-03-20"``)."""

    iv_frac: float
    basis: str


def interpolate_total_variance(points: Sequence[tuple[float, float]], target_years: float) -> tuple[float, int, int]:
    """Vol at ``target_years`` from ``(t_years, iv_frac)`` points, linear in ``sigma^2 T``.

    Returns:
        ``(iv_frac, i, j)``: the indices (into the points sorted by time) of the bracketing
        pair; ``i == j`` when the target lies beyond the listed range (flat in vol).

    Raises:
        ValueError: with no points, or a non-positive time or vol.
    """
    pts = sorted(points)
    if not pts or any(t <= 0 or not v > 0 for t, v in pts) or target_years <= 0:
        raise ValueError(f"need positive times and vols and target, got {pts} -> {target_years}")
    if target_years <= pts[0][0]:
        return pts[0][1], 0, 0
    if target_years >= pts[-1][0]:
        return pts[-1][1], len(pts) - 1, len(pts) - 1
    j = next(k for k, (t, _) in enumerate(pts) if t >= target_years)
    (t1, v1), (t2, v2) = pts[j - 1], pts[j]
    w = v1 * v1 * t1 + (v2 * v2 * t2 - v1 * v1 * t1) * (target_years - t1) / (t2 - t1)
    return math.sqrt(w / target_years), j - 1, j


def constant_maturity_atm_iv(chain: ChainSnapshot, target_days: int, *, model: PricingModel, rate_frac: float,
                             yield_frac: float, expiry_time_et: time, now_utc: datetime,
                             greek_expiry: date | None = None) -> CmReading:
    """The ``target_days`` constant-maturity ATM IV of ``chain`` (module docstring).

    Remembered on ``chain`` per arguments (a decision may ask twice), the refusal too.
    ``greek_expiry``: an expiry whose :func:`thetacore.chain_greeks.expiry_greeks` the
    caller reads next; its rows are solved in the reading's own solver call (one call
    instead of two; the snapshot is cached as ``expiry_greeks`` caches it, the same
    numbers: the solver is elementwise). It does not change the reading.

    Raises:
        IvRankUnavailable: when no listed expiry has an ATM IV (the message says why).
    """
    key = ("constant_maturity_atm_iv", target_days, model, rate_frac, yield_frac, expiry_time_et, now_utc)
    hit = chain.derived.get(key)
    if isinstance(hit, CmReading):
        return hit
    if isinstance(hit, str):
        raise IvRankUnavailable(hit)
    also = None
    if greek_expiry is not None:
        request = expiry_iv_request(chain, greek_expiry, model=model, rate_frac=rate_frac, yield_frac=yield_frac,
                                    expiry_time_et=expiry_time_et)
        also = request if isinstance(request, ExpiryIvRequest) else None
    pts = expiry_atm_points(chain, model=model, rate_frac=rate_frac, yield_frac=yield_frac,
                            expiry_time_et=expiry_time_et, now_utc=now_utc, near_years=target_days / DAYS_PER_YEAR,
                            also=also)
    if not pts:
        why = f"no expiry with an ATM IV for the {target_days}-day constant-maturity IV"
        chain.derived[key] = why
        raise IvRankUnavailable(why)
    pts.sort(key=lambda a: a.t_years)
    iv, i, j = interpolate_total_variance([(a.t_years, a.atm_iv_frac) for a in pts], target_days / DAYS_PER_YEAR)
    if i != j:
        basis = f"interpolated {pts[i].expiry.isoformat()}/{pts[j].expiry.isoformat()}"
    else:
        basis = f"flat beyond {pts[i].expiry.isoformat()}"
    out = chain.derived[key] = CmReading(iv, basis)
    return out


@dataclass(frozen=True)
class IvRank:
    """A rank: ``rank_frac`` in [0, 1] (0 when max == min) from ``count`` readings dated
    ``window_start`` .. today."""

    rank_frac: float
    count: int
    window_start: date


def window_start(today: date, lookback_days: int, sessions: np.ndarray | None) -> date:
    """First day of the ``lookback_days``-trading-day window ending ``today`` (inclusive).

    ``sessions``: the exchange's session dates before today (``datetime64[D]``, the
    underlying's daily bars from LEAN's history). When they reach back far enough the window
    starts at the ``lookback_days - 1``-th session before today; otherwise trading days are
    counted as weekdays (``np.busday_offset``; exchange holidays unknown, so the window is
    then at most a few sessions longer than 52 weeks of sessions).
    """
    if sessions is not None:
        before = np.unique(sessions[sessions < np.datetime64(today, "D")])
        if before.size >= lookback_days - 1:
            first: date = before[-(lookback_days - 1)].astype(date)
            return first
    start: date = np.busday_offset(np.datetime64(today, "D"), -(lookback_days - 1), roll="backward").astype(date)
    return start


def iv_rank_over_trading_days(readings: dict[date, float], today: date, lookback_days: int, min_history: int,
                              sessions: np.ndarray | None = None) -> IvRank:
    """IV rank of today's reading over the last ``lookback_days`` trading days.

    Raises:
        IvRankUnavailable: no finite reading today, or fewer than ``min_history`` finite
            readings in the window (the message gives the counts).
    """
    now = readings.get(today, float("nan"))
    start = window_start(today, lookback_days, sessions)
    window = np.array([v for d, v in readings.items() if start <= d <= today and math.isfinite(v)])
    if not math.isfinite(now):
        raise IvRankUnavailable(f"no IV reading today ({len(window)} in the window)")
    if window.size < min_history:
        raise IvRankUnavailable(f"{window.size} daily IV reading(s) since {start.isoformat()} < {min_history} "
                                "required for an IV rank")
    lo, hi = float(window.min()), float(window.max())
    return IvRank(0.0 if hi == lo else (now - lo) / (hi - lo), int(window.size), start)
