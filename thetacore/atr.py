"""Average true range (ATR) of daily bars, Wilder's definition.

Source: J. Welles Wilder Jr., *New Concepts in Technical Trading Systems* (1978), section
"Volatility" (the true range and its average):

* true range of day ``t``: ``TR_t = max(H_t - L_t, |H_t - C_{t-1}|, |L_t - C_{t-1}|)``
  (the day's range extended to the previous close when the day gapped);
* ATR over ``N`` days: the first value is the plain mean of the first ``N`` true ranges,
  each later one is smoothed ``ATR_t = ((N - 1) x ATR_{t-1} + TR_t) / N`` (Wilder's
  smoothing, an exponential average with ``alpha = 1 / N``).

Conventions (the same as TA-Lib's ``ATR``): a true range needs the previous close, so the
first bar only supplies that close and ``N`` true ranges need ``N + 1`` bars. Wilder's
smoothing runs over every bar given, so the value depends (less and less: the seed's weight
after ``k`` further bars is ``((N - 1) / N) ** k``) on how much history the host passes;
:func:`simple_atr_pts` is the plain mean of the last ``N`` true ranges, for comparison.
"""

from __future__ import annotations

import numpy as np

from thetacore.market_stats import DailyBars


class AtrError(ValueError):
    """Too few bars, or bars with non-finite or inconsistent prices."""


def true_range_pts(bars: DailyBars) -> np.ndarray:
    """``(n - 1,)`` true ranges in points of bars ``1..n-1`` (bar 0 gives only its close).

    Raises:
        AtrError: when a bar holds a non-finite price or a high below its low.
    """
    high, low, close = bars.high_pts, bars.low_pts, bars.close_pts
    if not (np.isfinite(high).all() and np.isfinite(low).all() and np.isfinite(close).all()):
        raise AtrError("daily bars hold non-finite prices")
    if (high < low).any():
        bad = int(np.flatnonzero(high < low)[0])
        raise AtrError(f"daily bar {bars.day[bad]} has high {high[bad]:g} < low {low[bad]:g}")
    prev = close[:-1]
    h, lo = high[1:], low[1:]
    tr: np.ndarray = np.maximum(h - lo, np.maximum(np.abs(h - prev), np.abs(lo - prev)))
    return tr


def _true_ranges(bars: DailyBars, days: int) -> np.ndarray:
    if days < 1:
        raise AtrError(f"ATR window must be >= 1 day, got {days}")
    if len(bars.day) < days + 1:
        raise AtrError(f"{len(bars.day)} daily bar(s) < {days + 1} needed for a {days}-day ATR")
    return true_range_pts(bars)


def wilder_atr_pts(bars: DailyBars, days: int) -> float:
    """Wilder's ``days``-day ATR in points at the last bar (see the module docstring).

    Args:
        bars: completed daily bars, oldest first (pass ``bars.before(today)``: no look-ahead).
        days: the window ``N`` (14 in Wilder and in docs/strategy-rules.md).

    Raises:
        AtrError: with fewer than ``days + 1`` bars or bad prices.
    """
    tr = _true_ranges(bars, days)
    atr = float(tr[:days].mean())
    for x in tr[days:]:
        atr = ((days - 1) * atr + float(x)) / days
    return atr


def simple_atr_pts(bars: DailyBars, days: int) -> float:
    """Plain mean of the last ``days`` true ranges in points (no smoothing).

    Raises:
        AtrError: with fewer than ``days + 1`` bars or bad prices.
    """
    return float(_true_ranges(bars, days)[-days:].mean())
