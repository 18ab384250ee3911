"""Issue 7 item 11: a months-long run stays inside QuantConnect's log and chart limits.

Sources: QuantConnect docs "Logging" (a cloud project's live log keeps at most 100,000 lines;
daily log volume capped by tier); QuantConnect/Lean ``Common/Packets/Controls.cs`` (defaults
``MaximumChartSeries`` 10 distinct series names, ``MaximumDataPointsPerChartSeries`` 4,000)
and ``Engine/Results/BacktestingResultHandler.cs`` ``SampleRange`` (how they are enforced);
``Algorithm/QCAlgorithm.Plotting.cs`` (``Plot``, ``SetRuntimeStatistic``,
``SetSummaryStatistic``), copied by the stand-in.

The run: six months of weekdays (2024-01-02 .. 2024-06-28) driven through the stand-in; a
scripted strategy declines every 5 minutes from 09:30 to 16:00 ET with the same reason (the
worst case for a per-minute journal) and once a day at 10:00 ET with another; the gate's NLV
mark runs every 30 minutes.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import numpy as np
from fake_strategies import Scripted, declined

from leanhost.journal import KEEP_ENTRIES, MAX_LINES_PER_DAY
from strategies.base import Subscription
from thetacore.schedule import DailyAt, EveryMinutes

NEW_YORK = ZoneInfo("America/New_York")
FIRST, LAST = date(2024, 1, 2), date(2024, 6, 28)
SUB = Subscription("SPXW", "index_option", 0, 0, 0.05, needs_vix=True)
RULES = [EveryMinutes("manage", 5, time(9, 30), time(16, 0)), DailyAt("entry", time(10, 0))]


def _decide(strategy: Any, rule: str, ctx: Any) -> list[Any]:
    if rule == "entry":
        return [declined(strategy, ctx, "NOT_ENTRY_DAY", "scripted: not today")]
    return [declined(strategy, ctx, "NO_SETUP", "scripted: nothing to do")]


def _run_six_months(make_algorithm: Callable[..., Any]) -> tuple[Any, int, int]:
    """Fire every event of every weekday; returns the algorithm, the days and the decisions."""
    algorithm = make_algorithm(lambda p: [Scripted("fake", SUB, _decide, RULES)])
    events = {e.name: e for e in algorithm.schedule.events}
    day, days, decisions = FIRST, 0, 0
    while day <= LAST:
        if day.weekday() < 5:
            days += 1
            t = datetime.combine(day, time(9, 30), tzinfo=NEW_YORK)
            while t.time() <= time(16, 0):
                algorithm.utc_time = t.astimezone(UTC).replace(tzinfo=None)
                events["fake:manage"].callback()
                decisions += 1
                if t.time() == time(10, 0):
                    events["fake:entry"].callback()
                    decisions += 1
                if t.minute % 30 == 0:
                    events["gate:nlv"].callback()
                t += timedelta(minutes=5)
        day += timedelta(days=1)
    algorithm.on_end_of_algorithm()
    return algorithm, days, decisions


def test_six_months_of_declines_every_five_minutes_stay_inside_the_limits(make_algorithm: Callable[..., Any]) -> None:
    algorithm, days, decisions = _run_six_months(make_algorithm)
    journal = algorithm.journal
    weekdays = int(np.busday_count(FIRST, LAST + timedelta(days=1)))
    assert days == weekdays == 129 and decisions == weekdays * (79 + 1)  # 09:30..16:00 every 5 min + 10:00

    # memory: a ring buffer of the latest entries; the counts cover the whole run
    assert len(journal.entries) == KEEP_ENTRIES < decisions
    assert journal.entries[-1].time_utc.astimezone(NEW_YORK).date() == LAST
    assert f"journal: {decisions} decision(s), {decisions} entries" in algorithm.logs
    assert f"  fake DECLINED: {decisions}" in algorithm.logs
    assert f"  reason NO_SETUP: {weekdays * 79}" in algorithm.logs

    # log lines per day: the first NO_SETUP decline, the NOT_ENTRY_DAY decline, and one line
    # counting the 78 NO_SETUP repeats (80 decisions -> 3 lines)
    assert journal.lines_logged == weekdays * 3
    collapsed = [line for line in algorithm.logs if "repeated 78 more time(s) that day" in line]
    assert len(collapsed) == weekdays
    per_year = len(algorithm.logs) / weekdays * 252
    assert per_year < 100_000 / 10  # a year of this run uses under a tenth of the live log's 100,000 lines
    assert max(map(len, algorithm.logs)) < 400

    # charts: one point a day per series, few series names
    names = {series for _, series, _, _ in algorithm.plots}
    assert names == {"P&L USD", "BP in use USD", "Net delta USD/pt"}  # VIX has no data here: not plotted
    per_series = {(c, s): sum(1 for c2, s2, _, _ in algorithm.plots if (c2, s2) == (c, s)) for c, s, _, _ in algorithm.plots}
    assert set(per_series.values()) == {weekdays} and weekdays <= 4000
    assert all(t.replace(tzinfo=UTC).astimezone(NEW_YORK).time() >= time(15, 45) for _, _, _, t in algorithm.plots)
    assert algorithm.runtime_statistics["Open positions"] == "0" and algorithm.runtime_statistics["Trips"] == "0"
    assert algorithm.summary_statistics["fake closed positions"] == "0"


def test_a_day_over_the_line_cap_logs_the_cap_and_counts_the_rest(make_algorithm: Callable[..., Any]) -> None:
    algorithm = make_algorithm(lambda p: [Scripted("fake", SUB, _decide, RULES)])
    journal = algorithm.journal
    start = datetime(2024, 1, 2, 15, 0, tzinfo=UTC)
    before = len(algorithm.logs)
    for k in range(MAX_LINES_PER_DAY + 50):  # distinct order notes: never collapsed
        journal.note(start + timedelta(seconds=k), "fake", "SENT", f"order {k}")
    journal.note(datetime(2024, 1, 3, 15, 0, tzinfo=UTC), "fake", "SENT", "next day")
    new = algorithm.logs[before:]
    assert len(new) == MAX_LINES_PER_DAY + 2
    assert new[-2] == (f"2024-01-02 journal: 50 line(s) over the {MAX_LINES_PER_DAY}-line daily cap not logged "
                       "(counted in the summary)")
    assert journal.counts[("order", "fake", "SENT")] == MAX_LINES_PER_DAY + 51
