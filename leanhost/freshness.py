"""How old a quote really is, the way LEAN serves data: fill-forward bars are not news.

LEAN fills a subscription forward (``Engine/DataFeeds/Enumerators/FillForwardEnumerator.cs``):
when a contract has no new bar in a step, the slice repeats its last bar with
``BaseData.IsFillForward = true`` and an end time of NOW. An option chain built from such a
slice (``Engine/DataFeeds/TimeSliceFactory.cs`` ``HandleOptionData`` ->
``OptionContract.Create(baseData, ...)``: ``Time = baseData.EndTime``) therefore reports a
fresh time for an old quote. The security's cache does not: ``Common/Securities/SecurityCache.cs``
stores by type only non-fill-forward data (``AddDataList`` filters ``IsFillForward``;
``ProcessDataPoint`` returns on a fill-forward point before it sets ``_lastData``, the bid or
the ask), so ``security.cache.get_data(QuoteBar)`` is the last REAL quote bar and its
``end_time`` the real age of the quote. A bar that still says ``is_fill_forward`` has no real
time known here: its quote is treated as stale (no time, which the strategies and the gate
read as older than ``max_quote_age_min``).
"""

from __future__ import annotations

import math
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from AlgorithmImports import QuoteBar, Resolution

if TYPE_CHECKING:
    from AlgorithmImports import BaseData, Security

BAR_MINUTES = {Resolution.MINUTE: 1, Resolution.HOUR: 60, Resolution.DAILY: 24 * 60}
"""Length of a bar per resolution, minutes: a quote of hour bars is up to an hour old by
design, so the age allowed is ``max_quote_age_min`` plus one bar."""

UNKNOWN = object()
"""Marker: the security holds no bar at all (before its first data)."""


def bar_minutes(resolution: Resolution) -> int:
    """Minutes per bar of ``resolution`` (1 for tick/second/minute data)."""
    return BAR_MINUTES.get(resolution, 1)


def last_real_bar(security: Security) -> BaseData | None:
    """The security's last real quote bar, else its last real data point (a trade bar for an
    index); ``None`` before its first data."""
    quote: BaseData | None = security.cache.get_data(QuoteBar)
    if quote is not None:
        return quote
    last: BaseData | None = security.get_last_data()
    return last


def real_quote_time_utc(security: Security) -> datetime | None | object:
    """UTC end of the last real quote of ``security``; ``None`` when the last bar is
    fill-forwarded (stale, real age unknown); :data:`UNKNOWN` when it has no bar yet."""
    bar = last_real_bar(security)
    if bar is None:
        return UNKNOWN
    if bar.is_fill_forward:
        return None
    zone = exchange_zone(security)
    if zone is None:
        return UNKNOWN
    return bar.end_time.replace(tzinfo=zone).astimezone(UTC)


def is_fresh(security: Security, now_utc: datetime, max_age_min: float) -> bool:
    """False when the last real quote of ``security`` is fill-forwarded or older than
    ``max_age_min`` minutes at ``now_utc``; True when fresh or when the security holds no
    bar to judge by (the caller's quote check then decides)."""
    when = real_quote_time_utc(security)
    if when is UNKNOWN or not math.isfinite(max_age_min):
        return True
    return isinstance(when, datetime) and now_utc - when <= timedelta(minutes=max_age_min)


def exchange_zone(security: Security) -> ZoneInfo | None:
    """The exchange time zone of ``security`` (NodaTime zone id via ``str``), if known."""
    try:
        return ZoneInfo(str(security.exchange.time_zone))
    except (ZoneInfoNotFoundError, ValueError):
        return None
