"""Chain builders for the strategy tests: REAL chain snapshots from LEAN universe files
(``data/.../universes/<root>/<date>.csv``), and MODELLED SPY contexts driven by the REAL SPY
daily closes (end of the module).

A universe file is one end-of-day snapshot per contract: a daily OHLC bar, volume, open
interest and LEAN's stored greeks. It holds **no bid or ask**. The builder therefore uses the
contract's daily **close as its only price**:

* ``bid_pts = ask_pts = close_pts`` (a zero-width "quote"), so that
  :attr:`~thetacore.chain.ChainSnapshot.mid_pts` is the close and every spread-based number
  (limit between mid and natural, ``net_natural_pts``) collapses onto the close. A test that
  reads a limit price from such a chain is reading the close, not a market; this is stated
  in every test that uses the builder.
* a missing or non-positive close gives NaN on both sides (no quote), never zero.
* ``quote_time_utc`` is the close, 16:00 America/New_York of the file's date, the moment the
  snapshot describes; ``time_utc`` is the same instant.
* the stored IV and greeks are **not** copied: they are wrong in the old files (see
  :func:`thetacore.pricing.stored_greeks_coherence`); strategies compute their own with
  :func:`thetacore.chain_greeks.with_greeks`.

The underlying price: the file's underlying row when it has one, unless the caller passes
``underlying_pts`` (e.g. the same day's close from the underlying's own daily bars, when the
file's row belongs to another moment, as in ``aapl/20140602.csv``). A file without an
underlying row and no ``underlying_pts`` is an error: use :func:`parity_spot_pts`.
"""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from functools import lru_cache
from pathlib import Path

import numpy as np

from replay.lean_data.daily import read_equity_daily
from replay.lean_data.interest_rate import InterestRateSeries, interest_rate_path, read_interest_rates
from replay.lean_data.universes import UniverseSnapshot, read_universe
from replay.model_chain import model_chain
from strategies.base import MarketContext
from thetacore.chain import ChainSnapshot
from thetacore.enums import ExerciseStyle, Settlement
from thetacore.market_stats import DailyBars
from thetacore.pricing import et_instant_utc, time_to_expiry_years
from thetacore.products import product

DATA = Path(__file__).resolve().parents[2] / "data"
CLOSE_ET = time(16, 0)


@lru_cache(maxsize=1)
def _rates() -> InterestRateSeries:
    return read_interest_rates(interest_rate_path(DATA))


def rate_on(day: date) -> float:
    """LEAN's risk-free rate (primary credit, fraction) in force on ``day``."""
    return _rates().rate_on(day)


def close_instant_utc(day: date) -> datetime:
    """16:00 New York on ``day``, in UTC: the moment a universe file's closes describe."""
    return et_instant_utc(day, CLOSE_ET)


def osi_symbol(root: str, expiry: np.datetime64, right: int, strike_pts: float) -> str:
    """OSI-like contract id, ``AAPL 150417C00630000`` (strike x 1000, 8 digits)."""
    day = expiry.astype(date)
    return f"{root} {day:%y%m%d}{'C' if right > 0 else 'P'}{round(strike_pts * 1000):08d}"


def parity_spot_pts(u: UniverseSnapshot, expiry: date, rate_frac: float) -> float:
    """Underlying level implied by put-call parity at one expiry, from the closes.

    For European options ``C - P = S e^{-qT} - K e^{-rT}``; with the dividend yield folded in
    the result is ``S e^{-qT}``, the dividend-discounted spot (equal to the spot when the
    expiry is near). Median over every strike listed with both a call and a put close.

    Raises:
        ValueError: when the expiry has no strike with both closes.
    """
    key = np.datetime64(expiry, "D")
    at = (u.expiry == key) & np.isfinite(u.close_pts) & (u.close_pts > 0)
    calls = {float(k): float(c) for k, c, r in zip(u.strike_pts[at], u.close_pts[at], u.right[at],
                                                       strict=True) if r > 0}
    puts = {float(k): float(c) for k, c, r in zip(u.strike_pts[at], u.close_pts[at], u.right[at],
                                                      strict=True) if r < 0}
    pairs = sorted(set(calls) & set(puts))
    if not pairs:
        raise ValueError(f"{u.path.name}: no call/put pair at {expiry} for put-call parity")
    t = float(time_to_expiry_years(key, close_instant_utc(u.date), CLOSE_ET))
    implied = [calls[k] - puts[k] + k * np.exp(-rate_frac * t) for k in pairs]
    return float(np.median(implied))


def chain_from_universe(
    u: UniverseSnapshot,
    *,
    root: str,
    multiplier_usd_per_pt: float,
    style: ExerciseStyle,
    settlement: Settlement,
    underlying_pts: float | None = None,
    min_tick_pts: float = 0.01,
) -> ChainSnapshot:
    """A :class:`ChainSnapshot` from a universe file, close as the only price (module doc).

    Args:
        u: the file as read by :func:`replay.lean_data.universes.read_universe`.
        root: option root written into the snapshot and the symbols (``"AAPL"``).
        multiplier_usd_per_pt: contract multiplier (LEAN symbol properties: 100 for US
            equity and index options).
        style, settlement: contract facts of the root.
        underlying_pts: overrides the file's underlying row (see module doc).
        min_tick_pts: option tick in points.

    Raises:
        ValueError: when no underlying price is known.
    """
    spot = u.underlying_close_pts if underlying_pts is None else underlying_pts
    if not (spot is not None and np.isfinite(spot) and spot > 0):
        raise ValueError(f"{u.path.name}: no underlying row; pass underlying_pts (parity_spot_pts)")
    n = len(u)
    close = np.where(np.isfinite(u.close_pts) & (u.close_pts > 0), u.close_pts, np.nan)
    at = close_instant_utc(u.date)
    symbols = np.array([osi_symbol(root, e, int(r), float(k))
                        for e, r, k in zip(u.expiry, u.right, u.strike_pts, strict=True)], dtype=object)
    return ChainSnapshot(
        root=root, time_utc=at, multiplier_usd_per_pt=multiplier_usd_per_pt, style=style,
        settlement=settlement, symbol=symbols, underlying_symbol=np.full(n, root, dtype=object),
        underlying_pts=np.full(n, float(spot)), strike_pts=u.strike_pts.copy(), expiry=u.expiry.copy(),
        right=u.right.copy(), bid_pts=close.copy(), ask_pts=close.copy(),
        quote_time_utc=np.full(n, np.datetime64(at.replace(tzinfo=None), "ms")),
        min_tick_pts=min_tick_pts,
    )


def read_chain(relative: str, **kwargs: object) -> tuple[UniverseSnapshot, ChainSnapshot]:
    """Read ``data/<relative>`` and build its snapshot (keyword arguments as
    :func:`chain_from_universe`)."""
    u = read_universe(DATA / relative, drop_malformed_greeks=True)
    return u, chain_from_universe(u, **kwargs)  # type: ignore[arg-type]


# ----- MODELLED SPY contexts on the REAL SPY daily path ---------------------------------------
SPY_STRIKES_PTS = np.arange(150.0, 451.0, 1.0)  # $1 SPY strikes, wide enough for 2019-2020


@lru_cache(maxsize=1)
def spy_daily() -> DailyBars:
    """REAL SPY daily bars (``equity/usa/daily/spy.zip``, 1998-01-02..2021-03-31, unadjusted)."""
    b = read_equity_daily(DATA, "spy")
    return DailyBars(b.day, b.high, b.low, b.close)


def spy_close(day: date) -> float:
    """REAL SPY close of ``day``.

    Raises:
        KeyError: when ``day`` is not a session in the file.
    """
    bars = spy_daily()
    hit = np.flatnonzero(bars.day == np.datetime64(day, "D"))
    if hit.size == 0:
        raise KeyError(f"no SPY daily bar on {day}")
    return float(bars.close_pts[hit[0]])


def fridays(start: date, weeks: int) -> list[date]:
    """``weeks`` Fridays after ``start`` (the weekly expiries of a modelled chain)."""
    first = start + timedelta(days=(4 - start.weekday()) % 7 or 7)
    return [first + timedelta(weeks=i) for i in range(weeks)]


def spy_model_context(day: date, clock_et: time, long_expiries: list[date], *, spot_pts: float | None = None,
                      yield_frac: float = 0.014, weeks: int = 6, strikes_pts: np.ndarray = SPY_STRIKES_PTS,
                      events: tuple[date, ...] = ()) -> MarketContext:
    """A MODELLED SPY chain (:func:`replay.model_chain.model_chain`, product "SPY", default
    smile: 18% ATM IV, skew 2) at ``day`` ``clock_et``, driven by the REAL SPY close of that
    day (the daily close stands in for the intraday level), with weekly expiries on the next
    ``weeks`` Fridays plus ``long_expiries``; the context carries the REAL daily bars (for
    the EMAs) and LEAN's rate of that day. ``spot_pts`` replaces the close where a test needs
    a particular level (it says so)."""
    spot = spy_close(day) if spot_pts is None else spot_pts
    at = et_instant_utc(day, clock_et)
    chain = model_chain(product("SPY"), at, spot, fridays(day - timedelta(days=1), weeks) + long_expiries,
                        strikes_pts, multiplier_usd_per_pt=100.0, rate_frac=rate_on(day), yield_frac=yield_frac)
    return MarketContext(time_utc=at, today_et=day, chain=chain, rate_frac=rate_on(day),
                         underlying_daily=spy_daily(), underlying_pts=spot, event_dates=events)
