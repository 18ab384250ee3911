"""Schedule rules a strategy asks its host for, with one meaning in both hosts.

* :class:`DailyAt` = LEAN ``date_rules.every_day(symbol)`` + ``time_rules.at(h, m,
  TimeZones.NEW_YORK)``: once on every trading day of the underlying's exchange, at a wall
  clock time in America/New_York.
* :class:`EveryMinutes` = LEAN ``date_rules.every_day(symbol)`` +
  ``time_rules.every(timedelta(minutes=n))``: at every multiple of ``n`` minutes after
  midnight (New York), of which the host passes on those inside ``[start_et, end_et]``.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import time


@dataclass(frozen=True)
class DailyAt:
    """Fire once per trading day at ``time_et`` (America/New_York)."""

    name: str
    time_et: time


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
