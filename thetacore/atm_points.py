"""Every expiry's ATM point for the constant-maturity IV, solving IVs only where they are read.

:func:`expiry_atm_points_greeked` (the long way) greeks every row of every
listed expiry (one :func:`thetacore.chain_greeks.expiry_greeks` per expiry: 20-odd solver
calls over the whole chain) and then reads, per expiry, the IVs of at most two strikes: the
listed strikes that bracket the forward (:func:`atm_iv_at_forward`,
linear interpolation between neighbours). :func:`expiry_atm_points` gives the same points
from far less work (issue 10 goal 2; the strangle's IV reading cost 17 ms of an 18 ms
decision at 1,840 contracts):

* only the expiries a reading looks at are timed and have their rows sorted by strike --
  stably, so rows of one strike keep the chain's order, the order the long way averages
  them in (:mod:`thetacore.atm_rows`);
* per expiry the forward is the long way's (:func:`forward_pts`: for
  Black-76 the median of the finite underlying prices, taken directly when they are all
  equal, as they are for one future per expiry);
* the IVs of only the rows at the two bracketing strikes, of every expiry, are solved in one
  :func:`thetacore.pricing.implied_vol` call with the exact inputs the long way gives those
  rows (the solver is elementwise: each row's IV does not depend on the other rows); a
  caller may add another expiry's rows to that call (``also``: the strangle's entry expiry,
  :func:`thetacore.chain_greeks.expiry_iv_request`), one solver call instead of two;
* each strike's IV is the mean of its finite IVs in row order (two: ``(a + b) / 2``, the
  operations ``np.mean`` performs for two numbers), then ``np.interp`` between the two.

Whenever a shortcut cannot show it reads what the long way reads (a bracketing strike
without a finite IV, the forward exactly on the highest strike, a non-finite strike), that
expiry takes the long way. ``tests/thetacore/test_atm_points.py`` compares both ways.
"""

from __future__ import annotations

import math
from bisect import bisect_left, bisect_right
from dataclasses import dataclass
from datetime import date, datetime, time

import numpy as np

from thetacore.atm_rows import Bracket, ExpiryGroups, ExpiryTimes
from thetacore.chain import ChainSnapshot
from thetacore.chain_greeks import ExpiryIvRequest, expiry_greeks, expiry_years
from thetacore.enums import Right
from thetacore.pricing import PricingModel, implied_vol


@dataclass(frozen=True)
class ExpiryAtm:
    """One listed expiry's ATM point.

    Attributes:
        expiry: the expiry date.
        t_years: time to expiry, ACT/365 years (> 0).
        forward_pts: the forward the ATM strike is taken at, points.
        atm_iv_frac: IV at ``K = forward_pts``, fraction per year.
    """

    expiry: date
    t_years: float
    forward_pts: float
    atm_iv_frac: float


def forward_pts(rows: ChainSnapshot, model: PricingModel, rate_frac: float, t_years: float) -> float:
    """Forward of one expiry's rows (see :mod:`thetacore.iv_rank`, step 1); NaN when unknown.

    Black-76: the median of the rows' finite ``underlying_pts`` (one future per expiry).
    Black-Scholes: put-call parity at the strike with a put and a call mid nearest spot.
    """
    und = rows.underlying_pts[np.isfinite(rows.underlying_pts)]
    if und.size == 0:
        return float("nan")
    if model is PricingModel.BLACK_76:
        return float(np.median(und))
    spot, mid = float(np.median(und)), rows.mid_pts
    best, best_dist = float("nan"), math.inf
    for k in np.unique(rows.strike_pts):
        at = rows.strike_pts == k
        c = mid[at & (rows.right == Right.CALL.value)]
        p = mid[at & (rows.right == Right.PUT.value)]
        if c.size and p.size and np.isfinite(c[0]) and np.isfinite(p[0]) and abs(k - spot) < best_dist:
            best, best_dist = float(k + math.exp(rate_frac * t_years) * (c[0] - p[0])), abs(k - spot)
    return best


def atm_iv_at_forward(rows: ChainSnapshot, fwd_pts: float) -> float:
    """IV at ``K = fwd_pts`` of one greeked expiry's rows (:mod:`thetacore.iv_rank`, step 2); NaN
    when ``fwd_pts`` is not between two listed strikes with an IV (or on one)."""
    ok = np.isfinite(rows.iv_frac)
    if not ok.any() or not math.isfinite(fwd_pts):
        return float("nan")
    strikes = np.unique(rows.strike_pts[ok])
    ivs = np.array([np.mean(rows.iv_frac[ok & (rows.strike_pts == k)]) for k in strikes])
    if fwd_pts < strikes[0] or fwd_pts > strikes[-1]:
        return float("nan")
    return float(np.interp(fwd_pts, strikes, ivs))


def expiry_atm_points_greeked(chain: ChainSnapshot, *, model: PricingModel, rate_frac: float, yield_frac: float,
                      expiry_time_et: time, now_utc: datetime) -> list[ExpiryAtm]:
    """:class:`ExpiryAtm` of every unexpired listed expiry of ``chain`` that has one, the long
    way: every row of every expiry greeked (:func:`expiry_atm_points` gives the same list)."""
    out = []
    for day in chain.expiries():
        if np.isnat(day):
            continue
        expiry = day.astype(date)
        t = expiry_years(expiry, now_utc, expiry_time_et)
        if t <= 0:
            continue
        rows = expiry_greeks(chain, expiry, model=model, rate_frac=rate_frac, yield_frac=yield_frac,
                             expiry_time_et=expiry_time_et)
        fwd = forward_pts(rows, model, rate_frac, t)
        iv = atm_iv_at_forward(rows, fwd)
        if math.isfinite(iv) and iv > 0:
            out.append(ExpiryAtm(expiry, t, fwd, iv))
    return out


def expiry_atm_points(chain: ChainSnapshot, *, model: PricingModel, rate_frac: float, yield_frac: float,
                      expiry_time_et: time, now_utc: datetime, near_years: float | None = None,
                      also: ExpiryIvRequest | None = None) -> list[ExpiryAtm]:
    """:class:`ExpiryAtm` of every unexpired listed expiry of ``chain`` that has one, in
    expiry order: the same list as :func:`expiry_atm_points_greeked` (module docstring).
    Times: :func:`thetacore.chain_greeks.expiry_years`, computed only for the expiries
    looked at (times grow with the date, so the unexpired ones and ``near_years``' place
    are found by bisection).

    ``near_years``: only the points a total-variance interpolation at ``near_years``
    (:func:`thetacore.iv_rank.interpolate_total_variance`) reads: the last expiry with a
    point before ``near_years`` and the first at or after it (one of them beyond the listed
    range), searched outwards from ``near_years``; every point when an expiry's time equals
    ``near_years`` exactly (then whether it is the last point decides the reading).

    ``also``: another expiry's IV request (:func:`thetacore.chain_greeks.expiry_iv_request`)
    whose rows are solved in the first solver call with the bracketing rows and then
    finished (its greeked snapshot cached on its chain): one solver call instead of two.

    Raises:
        ValueError: if ``model`` is unknown or ``now_utc`` is naive.
    """
    listed = chain.expiries()
    real = len(listed) - int(np.isnat(listed).sum())  # NaT sorts last
    years = ExpiryTimes(listed, now_utc, expiry_time_et)
    first = bisect_right(years, 0.0, 0, real)  # the first unexpired listed expiry (t > 0)
    days = [listed[i] for i in range(first, real)]
    if not days:
        return []
    years.offset = first
    years.size = len(days)
    ways = _Ways(chain, ExpiryGroups(chain, days), days, years, model, rate_frac, yield_frac, expiry_time_et, also)
    at = 0 if near_years is None else bisect_left(years, near_years)
    if near_years is None or (at < len(days) and years[at] == near_years):
        return [p for p in ways.points(list(range(len(days)))) if p is not None]
    below, above = at - 1, at
    found: dict[str, ExpiryAtm] = {}
    while (below >= 0 and "below" not in found) or (above < len(days) and "above" not in found):
        todo = {side: g for side, g in (("below", below), ("above", above))
                if side not in found and 0 <= g < len(days)}
        for (side, _), point in zip(todo.items(), ways.points(list(todo.values())), strict=True):
            if point is not None:
                found[side] = point
        below, above = below - ("below" not in found), above + ("above" not in found)
    return [found[side] for side in ("below", "above") if side in found]


class _Ways:
    """The points of chosen groups, with one IV solver call per request."""

    def __init__(self, chain: ChainSnapshot, groups: ExpiryGroups, days: list[np.datetime64], years: ExpiryTimes,
                 model: PricingModel, rate_frac: float, yield_frac: float, expiry_time_et: time,
                 also: ExpiryIvRequest | None) -> None:
        self.chain, self.groups, self.days, self.years = chain, groups, days, years
        self.model, self.rate_frac, self.yield_frac, self.expiry_time_et = model, rate_frac, yield_frac, expiry_time_et
        self.also = also

    def points(self, gs: list[int]) -> list[ExpiryAtm | None]:
        """The point of each group of ``gs`` (``None``: that expiry has none)."""
        chain, groups = self.chain, self.groups
        fwds = [_forward(chain, groups, g, self.model, self.rate_frac, self.years[g]) for g in gs]
        brackets = [groups.bracket(g, f) for g, f in zip(gs, fwds, strict=True)]
        ivs = self._solve(gs, brackets)
        out: list[ExpiryAtm | None] = []
        for g, fwd, br in zip(gs, fwds, brackets, strict=True):
            iv = float("nan") if br is None else _interpolated(groups, g, br, ivs, fwd)
            if br is not None and math.isnan(iv):  # the shortcut cannot tell: the long way decides
                rows = expiry_greeks(chain, self.days[g].astype(date), model=self.model, rate_frac=self.rate_frac,
                                     yield_frac=self.yield_frac, expiry_time_et=self.expiry_time_et)
                iv = atm_iv_at_forward(rows, fwd)
            ok = math.isfinite(iv) and iv > 0
            out.append(ExpiryAtm(self.days[g].astype(date), self.years[g], fwd, iv) if ok else None)
        return out

    def _solve(self, gs: list[int], brackets: list[Bracket | None]) -> dict[int, np.ndarray]:
        """:func:`_bracket_ivs` of the groups, with :attr:`also`'s rows in the same solver
        call the first time (then finished and dropped)."""
        also, self.also = self.also, None
        return _bracket_ivs(self.chain, self.groups, gs, brackets, [self.years[g] for g in gs], self.model,
                            self.rate_frac, self.yield_frac, also)


def _forward(chain: ChainSnapshot, groups: ExpiryGroups, g: int, model: PricingModel, rate_frac: float,
             t_years: float) -> float:
    """:func:`forward_pts` of group ``g``'s rows."""
    rows = groups.rows(g)
    if model is PricingModel.BLACK_76:
        und = chain.underlying_pts[rows]
        und = und[np.isfinite(und)]
        if und.size == 0:
            return float("nan")
        lo, hi = float(und.min()), float(und.max())
        return lo if lo == hi else float(np.median(und))  # the median of equal numbers is the number
    return forward_pts(chain.select(np.sort(rows)), model, rate_frac, t_years)


def _bracket_ivs(chain: ChainSnapshot, groups: ExpiryGroups, gs: list[int], brackets: list[Bracket | None],
                 years: list[float], model: PricingModel, rate_frac: float, yield_frac: float,
                 also: ExpiryIvRequest | None = None) -> dict[int, np.ndarray]:
    """Per group of ``gs``, the IV of every row of its bracket in its strike order (NaN
    elsewhere): one solver call, each row with the inputs
    :func:`thetacore.chain_greeks.with_greeks` gives it (mid, its underlying, strike, its
    expiry's time as one number, right as float64), only rows with a mid (as
    ``chain_greeks._quoted_iv``); ``also``'s quoted rows in the same call, then
    ``also.finish``."""
    parts: list[tuple[int, np.ndarray, np.ndarray]] = []  # (group, positions in its order, chain rows)
    t_rows: list[float] = []
    for g, br, t in zip(gs, brackets, years, strict=True):
        if br is not None and br[0] >= 0:
            pos = np.arange(br[0], br[2])
            parts.append((g, pos, groups.rows(g)[pos]))
            t_rows.extend([t] * (br[2] - br[0]))
    out = {g: np.full(groups.rows(g).size, np.nan) for g, _, _ in parts}
    if not parts and also is None:
        return out
    pos = np.concatenate([p for _, p, _ in parts]) if parts else np.empty(0, dtype=np.int64)
    rows = np.concatenate([r for _, _, r in parts]) if parts else np.empty(0, dtype=np.int64)
    mid = chain.mid_at(rows)
    quoted = np.isfinite(mid)
    idx = rows[quoted]
    inputs = [mid[quoted], chain.underlying_pts[idx], chain.strike_pts[idx], np.array(t_rows)[quoted],
              chain.right[idx].astype("float64")]
    n = int(quoted.sum())
    if also is not None:
        inputs = [np.concatenate([a, b]) for a, b in zip(inputs, also.inputs(), strict=True)]
    ivs = implied_vol(model, inputs[0], inputs[1], inputs[2], inputs[3], rate_frac, yield_frac, inputs[4])
    if also is not None:
        also.finish(ivs[n:])
    solved = np.full(rows.size, np.nan)
    solved[quoted] = ivs[:n]
    at = 0
    for g, p, _ in parts:
        out[g][p] = solved[at:at + p.size]
        at += p.size
    return out


def _strike_iv(values: np.ndarray) -> float:
    """``np.mean`` of the finite ``values`` (NaN when none)."""
    fin = values[np.isfinite(values)]
    if fin.size == 1:
        return float(fin[0])
    if fin.size == 2:
        return (float(fin[0]) + float(fin[1])) / 2.0
    return float(np.mean(fin)) if fin.size else float("nan")


def _interpolated(groups: ExpiryGroups, g: int, br: Bracket, ivs: dict[int, np.ndarray], fwd: float) -> float:
    """The IV at ``fwd`` between the bracket's two strikes; NaN when either has no finite IV
    (the caller then takes the long way)."""
    if br[0] < 0:
        return float("nan")
    iv = ivs[g]
    lo_iv, hi_iv = _strike_iv(iv[br[0]:br[1]]), _strike_iv(iv[br[1]:br[2]])
    if math.isnan(lo_iv) or math.isnan(hi_iv):
        return float("nan")
    k = groups.group(g)[1]
    return float(np.interp(fwd, [k[br[0]], k[br[1]]], [lo_iv, hi_iv]))
