"""The replay's scheduler: LEAN's date/time rules evaluated on the replay clock.

Same meaning as the LEAN host (see :mod:`thetacore.schedule`): rules fire only on trading
days of the underlying's exchange (LEAN ``date_rules.every_day(symbol)``), at New York wall
clock times.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime
from zoneinfo import ZoneInfo

from thetacore.schedule import DailyAt, EveryMinutes, ScheduleRule

NEW_YORK = ZoneInfo("America/New_York")


def due_rules(rules: list[ScheduleRule], t_utc: datetime, is_trading_day: Callable[[date], bool],
              local: datetime | None = None) -> list[ScheduleRule]:
    """Rules that fire at minute ``t_utc`` (a whole minute, timezone-aware); ``local``, when
    given, is ``t_utc`` in New York time (computed once per minute by the caller)."""
    local = local or t_utc.astimezone(NEW_YORK)
    if not is_trading_day(local.date()):
        return []
    wall = local.time().replace(second=0, microsecond=0)
    minute_of_day = local.hour * 60 + local.minute
    out: list[ScheduleRule] = []
    for rule in rules:
        if isinstance(rule, DailyAt) and wall == rule.time_et or isinstance(rule, EveryMinutes) and minute_of_day % rule.interval_min == 0 and rule.admits(wall):
            out.append(rule)
    return out
