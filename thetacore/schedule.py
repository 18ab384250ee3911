"""Schedule rules a strategy asks its host for, with one meaning in both hosts.

* :class:`DailyAt` = LEAN ``date_rules.every_day(symbol)`` + ``time_rules.at(h, m,
  TimeZones.NEW_YORK)``: once on every trading day of the underlying's exchange, at a wall
  clock time in America/New_York.
  With ``before_close=True`` the rule is tied to the close instead: ``time_et`` on a full
  day, and on a day the exchange closes early (2023-07-03, 2023-11-24: the US index and
  equity markets close at 13:00 ET) as many minutes before that day's close as ``time_et`` is
  before a full day's close. LEAN: ``time_rules.before_market_close(symbol, minutes)``
  (``Common/Scheduling/TimeRules.cs`` ``BeforeMarketClose``: the symbol's exchange hours,
  ``GetLastDailyMarketClose(date, extendedMarketClose=false)``, i.e. the regular-hours close
  of each day, early closes included) with ``minutes`` = full-day close - ``time_et``.
* :class:`EveryMinutes` = LEAN ``date_rules.every_day(symbol)`` +
  ``time_rules.every(timedelta(minutes=n))``: at every multiple of ``n`` minutes after
  midnight (New York), of which the host passes on those inside ``[start_et, end_et]``.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import time


@dataclass(frozen=True)
class DailyAt:
    """Fire once per trading day at ``time_et`` (America/New_York); with ``before_close``,
    earlier on an early-close day by as much as the close is early (see the module
    docstring)."""

    name: str
    time_et: time
    before_close: bool = False


def minutes_between(earlier: time, later: time) -> int:
    """Whole minutes from wall time ``earlier`` to ``later`` on the same day (may be < 0)."""
    return (later.hour * 60 + later.minute) - (earlier.hour * 60 + earlier.minute)


@dataclass(frozen=True)
class EveryMinutes:
    """Fire every ``interval_min`` minutes between ``start_et`` and ``end_et`` inclusive."""

    name: str
    interval_min: int
    start_et: time
    end_et: time

    def __post_init__(self) -> None:
        if self.interval_min <= 0:
            raise ValueError(f"{self.name}: interval must be > 0 minutes")

    def admits(self, t: time) -> bool:
        """True when wall time ``t`` (New York) is inside the window."""
        return self.start_et <= t <= self.end_et


ScheduleRule = DailyAt | EveryMinutes
