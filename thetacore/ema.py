"""Exponential moving average (EMA) of daily closes, for the IPMCC trend test.

Definition (the standard one; the same as LEAN's ``Indicators/ExponentialMovingAverage.cs``,
"first value is the SMA of the first period", and StockCharts ChartSchool, "Moving Averages -
Simple and Exponential"):

* smoothing ``alpha = 2 / (n + 1)``;
* seed: ``EMA[n-1] = mean(close[0:n])``, the simple moving average of the first ``n`` closes;
* then ``EMA[t] = alpha x close[t] + (1 - alpha) x EMA[t-1]`` for ``t >= n``.

The value before ``n`` closes exist is undefined (NaN), never a guess. Because the seed is an
SMA, the EMA depends on where the series starts; feed the same history to compare values.
"""

from __future__ import annotations

import numpy as np


def ema_series(closes_pts: np.ndarray, n: int) -> np.ndarray:
    """EMA of ``closes_pts`` (oldest first) over ``n`` periods.

    Args:
        closes_pts: ``(m,)`` daily closes in points, oldest first.
        n: EMA period in bars (>= 1).

    Returns:
        ``(m,)`` float64: NaN for the first ``n - 1`` entries, the SMA seed at ``n - 1``, the
        recursive EMA after it.

    Raises:
        ValueError: for ``n < 1`` or a non-finite close.
    """
    closes = np.asarray(closes_pts, dtype=float)
    if n < 1:
        raise ValueError(f"EMA period must be >= 1, got {n}")
    if not np.all(np.isfinite(closes)):
        raise ValueError("EMA input holds non-finite closes")
    out = np.full(closes.shape, np.nan)
    if closes.size < n:
        return out
    alpha = 2.0 / (n + 1.0)
    value = float(closes[:n].mean())
    out[n - 1] = value
    for i in range(n, closes.size):
        value = alpha * float(closes[i]) + (1.0 - alpha) * value
        out[i] = value
    return out


def last_ema(closes_pts: np.ndarray, n: int) -> float:
    """The latest EMA value (see :func:`ema_series`).

    Raises:
        ValueError: for fewer than ``n`` closes, ``n < 1`` or a non-finite close.
    """
    closes = np.asarray(closes_pts, dtype=float)
    if closes.size < n:
        raise ValueError(f"{closes.size} daily close(s) < {n} required for EMA({n})")
    return float(ema_series(closes, n)[-1])
