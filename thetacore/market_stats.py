"""Market statistics the entry filters need: IV rank and the consolidation range.

* IV rank = (IV now - min IV) / (max IV - min IV) over a look-back window of daily IV
  readings, as a fraction (tastytrade's definition; 0.30 = "IV rank 30").
* Consolidation = (highest high - lowest low) / last close over the last N daily bars
  (docs/strategy-rules.md: "20-day range < 8% of price").
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import date

import numpy as np


@dataclass(frozen=True)
class DailyBars:
    """Daily bars of one underlying, oldest first.

    Attributes:
        day: ``(n,)`` ``datetime64[D]`` session dates.
        high_pts, low_pts, close_pts: ``(n,)`` float64 prices in points.
    """

    day: np.ndarray
    high_pts: np.ndarray
    low_pts: np.ndarray
    close_pts: np.ndarray

    def before(self, today: date) -> DailyBars:
        """Only the bars of sessions strictly before ``today`` (no look-ahead)."""
        m = self.day < np.datetime64(today, "D")
        return DailyBars(self.day[m], self.high_pts[m], self.low_pts[m], self.close_pts[m])

    def last_close_before(self, today: date) -> float:
        """Close of the last bar of a session strictly before ``today`` (points; the last
        close of :meth:`before`, without building its bars); NaN when there is none."""
        close = self.close_pts[self.day < np.datetime64(today, "D")]
        return float(close[-1]) if close.size else math.nan


def iv_rank_frac(readings: np.ndarray, lookback: int) -> float:
    """IV rank of the last reading against the last ``lookback`` readings (NaNs dropped).

    Returns:
        Fraction in [0, 1]; 0.0 when max == min.

    Raises:
        ValueError: when there are no finite readings.
    """
    window = np.asarray(readings, dtype=float)[-lookback:]
    window = window[np.isfinite(window)]
    if window.size == 0:
        raise ValueError("no finite IV readings")
    lo, hi = window.min(), window.max()
    return 0.0 if hi == lo else float((window[-1] - lo) / (hi - lo))


def range_frac(bars: DailyBars, days: int) -> float:
    """``(max high - min low) / last close`` over the last ``days`` bars.

    Raises:
        ValueError: when fewer than ``days`` bars exist or prices are not positive.
    """
    if len(bars.day) < days:
        raise ValueError(f"{len(bars.day)} daily bars < {days} required")
    hi, lo, close = bars.high_pts[-days:], bars.low_pts[-days:], bars.close_pts[-1]
    if not (np.all(np.isfinite(hi)) and np.all(np.isfinite(lo)) and close > 0):
        raise ValueError("daily bars hold non-finite or non-positive prices")
    return float((hi.max() - lo.min()) / close)
