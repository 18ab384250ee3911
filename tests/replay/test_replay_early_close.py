"""Issue 7 item 9c: the 0DTE time stop and flatten run before the close on early-close days
(the replay's side; the LEAN host's is tests/leanhost/test_leanhost_early_close.py).

LEAN source: QuantConnect/Lean ``Common/Scheduling/TimeRules.cs`` ``BeforeMarketClose(symbol,
minutesBeforeClose, extendedMarketClose=false)``: ``exchangeHours.GetLastDailyMarketClose(date,
false) - minutes``, on the dates ``IsDateOpen``; the hours and early closes are the bundled
``data/market-hours/market-hours-database.json`` (``Index-usa-SPX``: 08:30-15:15 CT, i.e. 16:15
ET; its market's ``Index-usa-[*]`` early closes 2023-07-03 and 2023-11-24 at 12:00 CT = 13:00
ET), read by ``replay/lean_data/market_hours.py`` as LEAN's ``MarketHoursDatabase`` does.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from replay.lean_data.market_hours import MarketHours
from replay.schedule import due_rules
from strategies.zero_dte import FLATTEN, TIME_STOP, ZeroDte
from thetacore.parameters import load_parameters

DATA = Path(__file__).resolve().parents[2] / "data"
NEW_YORK = ZoneInfo("America/New_York")


def _fired_et(day: date) -> dict[str, list[time]]:
    """Every rule of the default 0DTE strategy and the New York minutes it fires on ``day``."""
    hours = MarketHours.from_data_root(DATA).entry("index", "usa", "SPX")
    rules = ZeroDte(load_parameters({})).schedules()
    fired: dict[str, list[time]] = {}
    t = datetime.combine(day, time(0), tzinfo=NEW_YORK).astimezone(UTC)
    for _ in range(24 * 60):
        for rule in due_rules(rules, t, hours.is_trading_day, hours.early_close_min):
            fired.setdefault(rule.name, []).append(t.astimezone(NEW_YORK).time())
        t += timedelta(minutes=1)
    return fired


@pytest.mark.parametrize("day", [date(2023, 7, 3), date(2023, 11, 24)])
def test_when_the_index_closes_at_1300_et_then_time_stop_and_flatten_run_before_it(day: date) -> None:
    fired = _fired_et(day)
    # full day: close 16:15 ET; time stop 15:00 = 75 min before, flatten 15:30 = 45 min before.
    # early close 13:00 ET: 13:00 - 75 min = 11:45, 13:00 - 45 min = 12:15 (independent arithmetic)
    assert fired[TIME_STOP] == [time(11, 45)] and fired[FLATTEN] == [time(12, 15)]
    # move read from 10:00 (M1, issue 11): the reading at 10:01, the close of the 10:00-10:01 bar
    assert fired["entry"] == [time(10, 30)] and fired["move_start"] == [time(10, 1)]


def test_on_a_full_day_the_rules_keep_their_clock_times() -> None:
    fired = _fired_et(date(2023, 6, 30))
    assert fired[TIME_STOP] == [time(15, 0)] and fired[FLATTEN] == [time(15, 30)]
    assert fired["manage"][0] == time(10, 30) and fired["manage"][-1] == time(15, 30)


def test_the_early_close_is_read_from_the_market_hours_database() -> None:
    hours = MarketHours.from_data_root(DATA).entry("index", "usa", "SPX")
    assert hours.early_close_min(date(2023, 7, 3)) == 195  # 16:15 -> 13:00 ET
    assert hours.early_close_min(date(2023, 6, 30)) == 0
    assert hours.early_close_min(date(2023, 7, 4)) == 0  # a holiday: closed, nothing to shift
