"""The project's own IV and greeks for a chain snapshot, computed from its quotes.

Hosts build a :class:`~thetacore.chain.ChainSnapshot` with bids and asks only; this module
fills in ``iv_frac``, ``delta``, ``gamma``, ``theta_pts_per_day`` and ``vega_pts_per_vol_pt``
from each contract's mid price and its own underlying price, with a European model
(:mod:`thetacore.pricing`). LEAN's greeks (lazy, per contract, across the C#/Python bridge)
and the greeks stored in LEAN's universe files are never used: see
:func:`thetacore.pricing.stored_greeks_coherence` for why.
"""

from __future__ import annotations

from datetime import date, datetime, time, timedelta

import numpy as np

from thetacore.chain import ChainSnapshot
from thetacore.pricing import PricingModel, et_instant_utc, greeks, implied_vol, time_to_expiry_years
from thetacore.pricing.models import DAYS_PER_YEAR

__all__ = ["EXPIRY_ROWS_GREEKS", "ExpiryIvRequest", "expiry_greeks", "expiry_iv_request", "expiry_rows",
           "expiry_rows_greeks", "expiry_years", "time_to_expiry_years", "with_greeks"]

_SECONDS_PER_YEAR = DAYS_PER_YEAR * 86_400.0
_SECOND = timedelta(seconds=1)


def with_greeks(
    chain: ChainSnapshot,
    *,
    model: PricingModel,
    rate_frac: float,
    yield_frac: float,
    expiry_time_et: time,
) -> ChainSnapshot:
    """A copy of ``chain`` whose IV and greeks are computed from each contract's mid.

    Args:
        chain: snapshot with quotes; its existing IV/greek arrays are ignored.
        model: ``BLACK_SCHOLES`` for index and equity options (spot underlying),
            ``BLACK_76`` for options on futures (``underlying_pts`` is the future's mid).
        rate_frac: continuously compounded risk-free rate, fraction per year.
        yield_frac: continuous dividend yield, fraction per year (ignored by Black-76).
        expiry_time_et: New York wall-clock time at which every contract of the snapshot
            expires on its expiry date (16:00 for SPXW/SPY, 9:30 for AM-settled SPX and ES
            quarterlies).

    Returns:
        A new :class:`ChainSnapshot` (:meth:`ChainSnapshot.with_computed`) with ``(n,)`` float64 arrays:
        ``iv_frac`` from :attr:`ChainSnapshot.mid_pts`; delta (signed), gamma, theta per
        calendar day and vega per vol point at that IV. Time to expiry is
        ``(expiry date at expiry_time_et New York, in UTC - chain.time_utc) / 365 days``.
        Contracts without a mid, without an underlying price, already expired, or whose mid
        has no IV solution (outside the no-arbitrage bounds) keep NaN everywhere. The
        result is cached on ``chain`` (a snapshot's arrays never change): every later call
        with the same arguments in the same decision -- the strategy's, the gate's --
        returns the same copy without computing anything.

    Raises:
        ValueError: if ``model`` is unknown.
    """
    key = ("with_greeks", model, rate_frac, yield_frac, expiry_time_et)
    cached = chain.derived.get(key)
    if isinstance(cached, ChainSnapshot):
        return cached
    t_years = _years(chain, expiry_time_et)
    right = chain.right.astype("float64")
    iv = _quoted_iv(chain, model, t_years, rate_frac, yield_frac, right)
    return _greeked(chain, key, iv, t_years, right, model, rate_frac, yield_frac)


def _greeked(chain: ChainSnapshot, key: tuple[object, ...], iv: np.ndarray, t_years: np.ndarray, right: np.ndarray,
             model: PricingModel, rate_frac: float, yield_frac: float) -> ChainSnapshot:
    """The greeked copy of ``chain`` at IVs ``iv`` (:func:`with_greeks`' result), cached
    under ``key`` on ``chain`` and on itself."""
    g = greeks(model, chain.underlying_pts, chain.strike_pts, t_years, rate_frac, yield_frac,
               iv, right)
    out = chain.with_computed(
        iv_frac=iv,
        delta=g.delta,
        gamma=g.gamma,
        theta_pts_per_day=g.theta_pts_per_day,
        vega_pts_per_vol_pt=g.vega_pts_per_vol_pt,
    )
    out.share_index_with(chain)
    chain.derived[key] = out
    out.derived[key] = out  # greeking the greeked copy again is free
    return out


def expiry_greeks(
    chain: ChainSnapshot,
    expiry: date,
    *,
    model: PricingModel,
    rate_frac: float,
    yield_frac: float,
    expiry_time_et: time,
) -> ChainSnapshot:
    """:func:`with_greeks` of only the contracts expiring on ``expiry`` (a new, smaller
    snapshot, in the chain's order), for a rule that has chosen its expiry from the dates
    alone. The IV and greeks are elementwise, so every contract gets exactly the numbers
    the whole chain's :func:`with_greeks` would give it. Cached on ``chain`` per expiry.

    Raises:
        ValueError: if ``model`` is unknown.
    """
    request = expiry_iv_request(chain, expiry, model=model, rate_frac=rate_frac, yield_frac=yield_frac,
                                expiry_time_et=expiry_time_et)
    if isinstance(request, ChainSnapshot):
        return request
    return request.finish(request.solve())


class ExpiryIvRequest:
    """One expiry's IV solve, split so that a caller can solve its rows together with others
    in one :func:`thetacore.pricing.implied_vol` call (the solver's cost is mostly per call,
    issue 10) and then get exactly :func:`expiry_greeks`' snapshot.

    :meth:`inputs` are the solver's arguments for the expiry's quoted rows (mid, underlying,
    strike, time, right as float64 -- the values :func:`with_greeks` passes for them; the
    solver is elementwise, so each row's IV does not depend on what else is in the call);
    :meth:`finish` takes their IVs and builds, caches and returns the greeked snapshot.
    """

    def __init__(self, chain: ChainSnapshot, expiry: date, rows: ChainSnapshot, key: tuple[object, ...],
                 model: PricingModel, rate_frac: float, yield_frac: float, expiry_time_et: time) -> None:
        self.chain, self.expiry, self.rows, self.key = chain, expiry, rows, key
        self.model, self.rate_frac, self.yield_frac = model, rate_frac, yield_frac
        self.t_years = _years(rows, expiry_time_et)
        self.right = rows.right.astype("float64")
        self.mid = rows.mid_pts
        self.quoted = np.flatnonzero(np.isfinite(self.mid))

    def inputs(self) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        """``(mid, underlying, strike, t_years, right)`` of the quoted rows, each ``(m,)``."""
        q, rows = self.quoted, self.rows
        return self.mid[q], rows.underlying_pts[q], rows.strike_pts[q], self.t_years[q], self.right[q]

    def solve(self) -> np.ndarray:
        """The quoted rows' IVs by one solver call of their own."""
        mid, under, strike, t_years, right = self.inputs()
        out: np.ndarray = implied_vol(self.model, mid, under, strike, t_years, self.rate_frac, self.yield_frac, right)
        return out

    def finish(self, quoted_iv: np.ndarray) -> ChainSnapshot:
        """:func:`expiry_greeks`' snapshot from the quoted rows' IVs ``quoted_iv`` (``(m,)``,
        in :meth:`inputs`' order; the unquoted rows are NaN), cached as it caches it."""
        iv = np.full(len(self.rows), np.nan)
        iv[self.quoted] = quoted_iv
        with_key = ("with_greeks", self.model, self.rate_frac, self.yield_frac, self.key[-1])
        out = _greeked(self.rows, with_key, iv, self.t_years, self.right, self.model, self.rate_frac,
                       self.yield_frac)
        self.chain.derived[self.key] = out
        return out


def expiry_iv_request(chain: ChainSnapshot, expiry: date, *, model: PricingModel, rate_frac: float,
                      yield_frac: float, expiry_time_et: time) -> ExpiryIvRequest | ChainSnapshot:
    """The :class:`ExpiryIvRequest` of :func:`expiry_greeks` (same arguments), or its cached
    snapshot when one exists (nothing left to solve)."""
    key = ("expiry_greeks", expiry, model, rate_frac, yield_frac, expiry_time_et)
    cached = chain.derived.get(key)
    if isinstance(cached, ChainSnapshot):
        return cached
    return ExpiryIvRequest(chain, expiry, expiry_rows(chain, expiry), key, model, rate_frac, yield_frac,
                           expiry_time_et)


def expiry_rows(chain: ChainSnapshot, expiry: date) -> ChainSnapshot:
    """The contracts of ``chain`` expiring on ``expiry``, in the chain's order, as quoted (no
    IV or greeks computed): a new snapshot, cached on ``chain`` per expiry."""
    key = ("expiry_rows", expiry)
    hit = chain.derived.get(key)
    if isinstance(hit, ChainSnapshot):
        return hit
    day = np.datetime64(expiry, "D")
    rows = _one_expiry(chain.select(chain.expiry == day), day)
    chain.derived[key] = rows
    return rows


def _one_expiry(rows: ChainSnapshot, day: np.datetime64) -> ChainSnapshot:
    """``rows`` (all expiring on ``day``) with their expiry list remembered: what
    :meth:`ChainSnapshot.expiries` (``np.unique``) would give, without computing it."""
    if len(rows):
        rows.derived["expiries"] = np.array([day])
    return rows


EXPIRY_ROWS_GREEKS = "expiry_greeks_rows"
"""First item of the :func:`expiry_rows_greeks` cache keys (``risk.gate_session.legs_chain``
looks for them)."""


def expiry_rows_greeks(chain: ChainSnapshot, expiry: date, positions: tuple[int, ...], *, model: PricingModel,
                       rate_frac: float, yield_frac: float, expiry_time_et: time) -> ChainSnapshot:
    """:func:`with_greeks` of only the rows at ``positions`` (in that order) of
    :func:`expiry_rows` ``(chain, expiry)``: for a rule that picks its contracts from the
    quotes and reads the greeks of the picks alone. The IV and greeks are elementwise, so
    every row gets exactly the numbers :func:`expiry_greeks` gives it. Cached on ``chain``
    under ``(EXPIRY_ROWS_GREEKS, expiry, model, rate_frac, yield_frac, expiry_time_et,
    positions)``.

    Raises:
        ValueError: if ``model`` is unknown.
        IndexError: for a position outside the expiry's rows.
    """
    key = (EXPIRY_ROWS_GREEKS, expiry, model, rate_frac, yield_frac, expiry_time_et, positions)
    hit = chain.derived.get(key)
    if isinstance(hit, ChainSnapshot):
        return hit
    rows = _one_expiry(expiry_rows(chain, expiry).select(np.array(positions, dtype=np.int64)),
                       np.datetime64(expiry, "D"))
    out = with_greeks(rows, model=model, rate_frac=rate_frac, yield_frac=yield_frac, expiry_time_et=expiry_time_et)
    chain.derived[key] = out
    return out


def _years(chain: ChainSnapshot, expiry_time_et: time) -> np.ndarray:
    """:func:`time_to_expiry_years` of every contract; for a one-expiry snapshot (the
    :func:`expiry_greeks` rows) the one date's value repeated, the same number."""
    days = chain.expiries()
    if len(days) == 1 and not np.isnat(days[0]):
        return np.full(len(chain), expiry_years(days[0].astype(date), chain.time_utc, expiry_time_et))
    years: np.ndarray = time_to_expiry_years(chain.expiry, chain.time_utc, expiry_time_et)
    return years


def _quoted_iv(chain: ChainSnapshot, model: PricingModel, t_years: np.ndarray, rate_frac: float,
               yield_frac: float, right: np.ndarray) -> np.ndarray:
    """:func:`implied_vol` of every contract's mid, solved only where there is a mid: the
    solver is elementwise and gives NaN for a NaN price, so the rows without one are NaN
    either way (this skips the solver's own second pass over the priced rows)."""
    mid = chain.mid_pts
    quoted = np.isfinite(mid)
    if quoted.all():
        out: np.ndarray = implied_vol(model, mid, chain.underlying_pts, chain.strike_pts, t_years, rate_frac,
                                      yield_frac, right)
        return out
    out = np.full(len(chain), np.nan)
    idx = np.flatnonzero(quoted)
    out[idx] = implied_vol(model, mid[idx], chain.underlying_pts[idx], chain.strike_pts[idx], t_years[idx],
                           rate_frac, yield_frac, right[idx])
    return out


def expiry_years(expiry: date, now_utc: datetime, expiry_time_et: time) -> float:
    """:func:`time_to_expiry_years` of one expiry date, as a float: the same operations on
    one number (expiry instant minus ``now_utc`` in seconds, over 365 days of seconds), without
    the array function's ``np.unique`` (a fixed cost per call, several calls per decision).

    Raises:
        ValueError: if ``now_utc`` is naive (no tzinfo).
    """
    if now_utc.tzinfo is None or now_utc.utcoffset() is None:
        raise ValueError(f"now_utc must be timezone-aware, got {now_utc!r}")
    return float((et_instant_utc(expiry, expiry_time_et) - now_utc) / _SECOND / _SECONDS_PER_YEAR)
