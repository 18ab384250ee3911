"""Replay schedule rules mean what LEAN's date/time rules mean (New York wall clock,
trading days of the underlying's exchange from LEAN's market-hours database)."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta

from replay.engine import minutes
from replay.lean_data.market_hours import MarketHours
from replay.schedule import due_rules
from tests.conftest import DATA
from thetacore.schedule import DailyAt, EveryMinutes

ES_HOURS = MarketHours.from_data_root(DATA).entry("future", "cme", "ES")
RULES = [DailyAt("entry", time(10, 0)), EveryMinutes("manage", 30, time(9, 30), time(16, 0))]


def _fired(day: date) -> list[tuple[str, str]]:
    out = []
    for t in minutes(day, day):
        for rule in due_rules(RULES, t, lambda d: ES_HOURS.is_trading_day(d, extended_hours=True)):
            out.append((rule.name, t.strftime("%H:%M")))
    return out


def test_when_a_winter_trading_day_then_entry_fires_at_1000_et_and_manage_every_30_min():
    fired = _fired(date(2020, 1, 6))
    assert ("entry", "15:00") in fired  # 10:00 EST = 15:00 UTC
    manage = [t for name, t in fired if name == "manage"]
    assert manage[0] == "14:30" and manage[-1] == "21:00" and len(manage) == 14


def test_when_summer_time_then_the_same_wall_clock_is_an_hour_earlier_in_utc():
    assert ("entry", "14:00") in _fired(date(2020, 6, 15))


def test_when_exchange_holiday_then_nothing_fires():
    assert _fired(date(2020, 12, 25)) == []


def test_the_clock_covers_every_minute_of_the_new_york_days():
    ts = minutes(date(2020, 1, 6), date(2020, 1, 7))
    assert len(ts) == 2 * 24 * 60
    assert ts[0] == datetime(2020, 1, 6, 5, 0, tzinfo=UTC)
    assert all(b - a == timedelta(minutes=1) for a, b in zip(ts, ts[1:], strict=False))


def test_when_the_rules_are_tabled_by_minute_then_every_minute_fires_the_same_rules_as_due_rules():
    # issue 10: the engine looks the minute up in a table built once; across a DST change
    from datetime import UTC, datetime, timedelta

    from replay.schedule import NEW_YORK, due_rules, due_table
    from strategies.registry import build_strategies
    from thetacore.parameters import load_parameters

    for strategy in build_strategies(load_parameters({})):
        rules = strategy.schedules()
        table = due_table(rules)
        start = datetime(2024, 3, 9, 5, 0, tzinfo=UTC)
        fired = 0
        for i in range(3 * 1440):
            t = start + timedelta(minutes=i)
            local = t.astimezone(NEW_YORK)
            expected = due_rules(rules, t, lambda d: True)
            assert table[local.hour * 60 + local.minute] == expected, (strategy.name, t)
            fired += len(expected)
        assert fired >= 3  # each strategy has rules that fire: the comparison is not empty


def test_when_a_day_closes_early_then_the_table_fires_the_same_rules_as_due_rules():
    # issue 10: the table is built rule by rule; before_close rules move with the early close
    from datetime import UTC, datetime, timedelta

    from replay.schedule import NEW_YORK, due_rules, due_table
    from strategies.registry import build_strategies
    from thetacore.parameters import load_parameters
    from thetacore.schedule import DailyAt

    for shift in (0, 1, 60, 180):
        for strategy in build_strategies(load_parameters({})):
            rules = strategy.schedules()
            table = due_table(rules, shift)
            start = datetime(2024, 11, 29, 5, 0, tzinfo=UTC)  # the day after Thanksgiving
            for i in range(1440):
                t = start + timedelta(minutes=i)
                local = t.astimezone(NEW_YORK)
                expected = due_rules(rules, t, lambda d: True, lambda d, s=shift: s)
                assert table[local.hour * 60 + local.minute] == expected, (strategy.name, shift, t)
            moved = [r for r in rules if isinstance(r, DailyAt) and r.before_close]
            for rule in moved if shift else ():
                at = datetime.combine(start.date(), rule.time_et) - timedelta(minutes=shift)
                assert rule in table[at.hour * 60 + at.minute] and rule not in table[
                    rule.time_et.hour * 60 + rule.time_et.minute]
