"""The replay's scheduler: LEAN's date/time rules evaluated on the replay clock.

Same meaning as the LEAN host (see :mod:`thetacore.schedule`): rules fire only on trading
days of the underlying's exchange (LEAN ``date_rules.every_day(symbol)``), at New York wall
clock times. A ``DailyAt(..., before_close=True)`` rule fires earlier on an early-close day by
the minutes the close is early (LEAN ``time_rules.before_market_close``: the same number of
minutes before that day's close as on a full day), read from the market-hours database.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from thetacore.schedule import DailyAt, EveryMinutes, ScheduleRule

NEW_YORK = ZoneInfo("America/New_York")


def due_rules(rules: list[ScheduleRule], t_utc: datetime, is_trading_day: Callable[[date], bool],
              early_close_min: Callable[[date], int] | None = None,
              local: datetime | None = None) -> list[ScheduleRule]:
    """Rules that fire at minute ``t_utc`` (a whole minute, timezone-aware).
    ``early_close_min(day)``: minutes by which ``day`` closes early (0 on a full day; ``None``:
    never early); ``local``, when given, is ``t_utc`` in New York time (computed once per
    minute by the caller)."""
    local = local or t_utc.astimezone(NEW_YORK)
    if not is_trading_day(local.date()):
        return []
    wall = local.time().replace(second=0, microsecond=0)
    minute_of_day = local.hour * 60 + local.minute
    shift_min = early_close_min(local.date()) if early_close_min is not None else 0
    out: list[ScheduleRule] = []
    for rule in rules:
        if isinstance(rule, DailyAt) and wall == _fire_time(rule, local.date(), shift_min) or isinstance(rule, EveryMinutes) and minute_of_day % rule.interval_min == 0 and rule.admits(wall):
            out.append(rule)
    return out


def _fire_time(rule: DailyAt, day: date, shift_min: int) -> time:
    if not rule.before_close or shift_min <= 0:
        return rule.time_et
    return (datetime.combine(day, rule.time_et) - timedelta(minutes=shift_min)).time()


def due_table(rules: list[ScheduleRule], shift_min: int = 0) -> list[list[ScheduleRule]]:
    """``table[minute_of_day]``: the rules :func:`due_rules` fires at that New York minute of
    a trading day that closes ``shift_min`` minutes early (0: a full day), built once: rule by
    rule, a :class:`DailyAt` at the one whole minute its fire time names (``wall ==`` fire time
    of :func:`due_rules`), an :class:`EveryMinutes` tested at each of the 1,440 minutes (issue
    10: one pass per rule instead of every rule at every minute; tests/replay/test_schedule.py
    compares every minute with :func:`due_rules`, full and early-close days)."""
    table: list[list[ScheduleRule]] = [[] for _ in range(24 * 60)]
    any_day = date(2000, 1, 3)  # only the wall-clock arithmetic of _fire_time is used
    for rule in rules:  # rule by rule, in order: each minute's list keeps the rules' order
        if isinstance(rule, DailyAt):  # wall == fire time: the one whole minute it names
            fire = _fire_time(rule, any_day, shift_min)
            if fire.second == 0 and fire.microsecond == 0:
                table[fire.hour * 60 + fire.minute].append(rule)
        elif isinstance(rule, EveryMinutes):
            for minute in range(24 * 60):
                if minute % rule.interval_min == 0 and rule.admits(time(minute // 60, minute % 60)):
                    table[minute].append(rule)
    return table
