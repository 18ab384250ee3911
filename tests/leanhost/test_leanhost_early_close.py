"""Issue 7 item 9c in the LEAN host: the 0DTE time stop and flatten are scheduled with
``time_rules.before_market_close`` so that early-close days keep them before the close.

LEAN source: QuantConnect/Lean ``Common/Scheduling/TimeRules.cs`` ``BeforeMarketClose(Symbol
symbol, double minutesBeforeClose, bool extendedMarketClose=false)`` (fires at
``exchangeHours.GetLastDailyMarketClose(date, false) - minutes`` on each open date of the
symbol's exchange) and ``Data/market-hours/market-hours-database.json`` (``Index-usa-SPX``:
08:30-15:15 America/Chicago; ``Index-usa-[*]`` early closes 2023-07-03 and 2023-11-24 at
12:00 CT = 13:00 ET), modelled by the stand-in (``before_market_close_utc``).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime, time
from types import ModuleType
from typing import Any
from zoneinfo import ZoneInfo

from switches import only

NEW_YORK = ZoneInfo("America/New_York")
EARLY_CLOSES_CT = {date(2023, 7, 3): time(12, 0), date(2023, 11, 24): time(12, 0)}


def _zero_dte(make_algorithm: Callable[..., Any]) -> Any:
    def setup(algorithm: Any) -> None:
        algorithm.index_early_closes.update(EARLY_CLOSES_CT)
    return make_algorithm(setup=setup, **only("zero_dte"))


def _fires_et(lean: ModuleType, algorithm: Any, name: str, day: date) -> time:
    [event] = [e for e in algorithm.schedule.events if e.name == name]
    assert event.time_rule.kind == "before_market_close"
    symbol = event.time_rule.args[0]
    utc = lean.before_market_close_utc(algorithm.securities[symbol], event.time_rule, day)
    return utc.replace(tzinfo=ZoneInfo("UTC")).astimezone(NEW_YORK).time()


def test_time_stop_and_flatten_are_before_close_rules_on_spx(lean: ModuleType, make_algorithm: Callable[..., Any]) -> None:
    algorithm = _zero_dte(make_algorithm)
    for name, minutes in (("zero_dte:time_stop", 75), ("zero_dte:flatten", 45)):  # 16:15 ET close - 15:00 / 15:30
        [event] = [e for e in algorithm.schedule.events if e.name == name]
        assert event.time_rule.args == (lean.Symbol.index("SPX"), minutes, False)
        assert event.date_rule.symbol == lean.Symbol.index("SPX")
    [entry] = [e for e in algorithm.schedule.events if e.name == "zero_dte:entry"]
    assert entry.time_rule.kind == "at"  # entries keep their clock time


def test_on_a_full_day_they_fire_at_1500_and_1530_et(lean: ModuleType, make_algorithm: Callable[..., Any]) -> None:
    algorithm = _zero_dte(make_algorithm)
    assert _fires_et(lean, algorithm, "zero_dte:time_stop", date(2023, 6, 30)) == time(15, 0)
    assert _fires_et(lean, algorithm, "zero_dte:flatten", date(2023, 6, 30)) == time(15, 30)


def test_on_a_1300_et_close_they_fire_before_it_as_in_the_replay(lean: ModuleType,
                                                                  make_algorithm: Callable[..., Any]) -> None:
    algorithm = _zero_dte(make_algorithm)
    for day in EARLY_CLOSES_CT:
        # 13:00 ET - 75 min = 11:45; 13:00 ET - 45 min = 12:15 (tests/replay/test_replay_early_close.py)
        assert _fires_et(lean, algorithm, "zero_dte:time_stop", day) == time(11, 45)
        assert _fires_et(lean, algorithm, "zero_dte:flatten", day) == time(12, 15)


def test_when_the_time_stop_fires_early_the_handler_closes_through_the_strategy(
        lean: ModuleType, make_algorithm: Callable[..., Any]) -> None:
    """The handler behind the event is the strategy's TIME_STOP rule (no clock check in the host)."""
    algorithm = _zero_dte(make_algorithm)
    [event] = [e for e in algorithm.schedule.events if e.name == "zero_dte:time_stop"]
    algorithm.utc_time = datetime(2023, 7, 3, 15, 45)  # 11:45 ET
    event.callback()
    assert algorithm.strategies["zero_dte"].time_stop_on == date(2023, 7, 3)
