"""Entry-day rules shared by the strategies: "the n-th weekday of the month"."""

from __future__ import annotations

import calendar
from datetime import date, timedelta

from thetacore.decisions import Reason


def nth_weekday(year: int, month: int, weekday: int, n: int) -> date:
    """Date of the ``n``-th ``weekday`` (0=Mon) of a month."""
    first = date(year, month, 1)
    return first + timedelta(days=(weekday - first.weekday()) % 7 + 7 * (n - 1))


def ordinal(n: int) -> str:
    """``1st``, ``2nd``, ``3rd``, ``4th``..."""
    return {1: "1st", 2: "2nd", 3: "3rd"}.get(n, f"{n}th")


def entry_day_reason(today: date, weekday: int, nth: int) -> Reason | None:
    """``NOT_ENTRY_DAY`` unless ``today`` is the ``nth`` ``weekday`` (0=Mon) of its month.

    ``weekday`` -1 means any weekday; ``nth`` 0 means every such weekday. A holiday on the
    entry day is not moved: the rule is applied literally and the next entry day is named.
    """
    if weekday < 0 and nth == 0:
        return None
    week = (today.day - 1) // 7 + 1
    if (weekday < 0 or today.weekday() == weekday) and (nth == 0 or week == nth):
        return None
    want = calendar.day_name[weekday] if weekday >= 0 else "any weekday"
    which = f"the {ordinal(nth)} {want}" if nth else f"every {want}"
    nxt = ""
    if weekday >= 0 and nth:
        d = nth_weekday(today.year, today.month, weekday, nth)
        if d < today:
            y, m = (today.year + 1, 1) if today.month == 12 else (today.year, today.month + 1)
            d = nth_weekday(y, m, weekday, nth)
        nxt = f" (next {d.isoformat()})"
    return Reason("NOT_ENTRY_DAY", f"{today.isoformat()} is the {ordinal(week)} "
                  f"{calendar.day_name[today.weekday()]}; entry on {which}{nxt}")
