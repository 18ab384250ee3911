"""Time to expiry in years: from a UTC instant to an expiry date at a New York clock time.

Day count: actual elapsed time / 365 days (calendar, no business-day calendar), the
convention of LEAN's ``OptionGreekIndicatorsHelper.TimeTillExpiry`` and of the greeks in
LEAN's universe files. The expiry instant is the expiry date at ``expiry_time_et`` in
America/New_York, converted to UTC with the DST rules of that date (``zoneinfo``), so
intervals that span a DST change are exact in elapsed time.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, date, datetime, time, timedelta
from functools import lru_cache
from zoneinfo import ZoneInfo

import numpy as np
from numpy.typing import ArrayLike

from thetacore.pricing.models import DAYS_PER_YEAR, FloatArray

NEW_YORK = ZoneInfo("America/New_York")
_SECONDS_PER_YEAR = DAYS_PER_YEAR * 86_400.0


@lru_cache(maxsize=8192)
def et_instant_utc(day: date, clock_et: time) -> datetime:
    """``day`` at New York wall-clock ``clock_et`` as a timezone-aware UTC datetime.

    Remembered (a pure function of two immutable values; a decision asks for every listed
    expiry, a run for the same few hundred dates again and again)."""
    return datetime.combine(day, clock_et, tzinfo=NEW_YORK).astimezone(UTC)


def time_to_expiry_years(
    expiry: ArrayLike,
    now_utc: datetime,
    expiry_time_et: time,
    *,
    expiry_time_overrides_et: Mapping[date, time] | None = None,
) -> FloatArray:
    """Years from ``now_utc`` to each expiry date at ``expiry_time_et`` New York time.

    Args:
        expiry: expiry dates, anything ``np.asarray(..., "datetime64[D]")`` accepts (shape
            ``(n,)`` or scalar).
        now_utc: the valuation instant, timezone-aware (any zone; compared in UTC).
        expiry_time_et: wall-clock expiry time in New York (16:00 for PM-settled SPY and
            SPXW closes, 9:30 for AM-settled SPX and the ES quarterly options' opening
            quotation).
        expiry_time_overrides_et: optional expiry times for particular dates (early closes
            such as 2023-07-03 at 13:00 ET).

    Returns:
        float64 array of the shape of ``expiry``: (expiry instant - now) / 365 days. Zero or
        negative once the expiry instant has passed; NaN for NaT dates.

    Raises:
        ValueError: if ``now_utc`` is naive (no tzinfo).
    """
    if now_utc.tzinfo is None or now_utc.utcoffset() is None:
        raise ValueError(f"now_utc must be timezone-aware, got {now_utc!r}")
    days = np.asarray(expiry, dtype="datetime64[D]")
    overrides = expiry_time_overrides_et or {}
    unique, inverse = np.unique(days.ravel(), return_inverse=True)
    seconds = np.full(unique.shape, np.nan)
    for i, day64 in enumerate(unique):
        if np.isnat(day64):
            continue
        day = day64.astype(date)
        instant = et_instant_utc(day, overrides.get(day, expiry_time_et))
        seconds[i] = (instant - now_utc) / timedelta(seconds=1)
    years: FloatArray = (seconds[inverse] / _SECONDS_PER_YEAR).reshape(days.shape)
    return years
