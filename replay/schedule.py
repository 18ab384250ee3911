"""The replay's scheduler: LEAN's date/time rules evaluated on the replay clock.

Same meaning as the LEAN host (see :mod:`thetacore.schedule`): rules fire only on trading
days of the underlying's exchange (LEAN ``date_rules.every_day(symbol)``), at New York wall
clock times.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime, time
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


def due_table(rules: list[ScheduleRule]) -> list[list[ScheduleRule]]:
    """``table[minute_of_day]``: the rules :func:`due_rules` fires at that New York minute of
    a trading day, evaluated once for all 1,440 minutes (the same test, not a re-statement)."""
    table: list[list[ScheduleRule]] = []
    for minute in range(24 * 60):
        wall = time(minute // 60, minute % 60)
        table.append([rule for rule in rules
                      if isinstance(rule, DailyAt) and wall == rule.time_et
                      or isinstance(rule, EveryMinutes) and minute % rule.interval_min == 0 and rule.admits(wall)])
    return table
