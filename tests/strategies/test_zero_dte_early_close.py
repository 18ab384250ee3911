"""Issue 7 item 9c, the strategy's side: when the host fires the time stop and the flatten
early (an early-close day; LEAN ``Common/Scheduling/TimeRules.cs`` ``BeforeMarketClose``), the
time stop closes whatever the P&L at that minute and the manage rule stops at the flatten.
MODELLED chains of tests/strategies/test_zero_dte_lifecycle.py (2021-01-04 standing in for a
13:00 ET close day: the host's clock, not the date, decides when the rules fire)."""

from __future__ import annotations

from datetime import time

from strategies.zero_dte import ENTRY, FLATTEN, MANAGE, TIME_STOP
from tests.strategies.test_zero_dte_lifecycle import SPOT_1030, ctx_at, enter, strategy
from thetacore.enums import Action


def test_when_the_time_stop_fires_at_1145_then_it_closes_whatever_the_pnl() -> None:
    strat = strategy()
    enter(strat, ctx_at(time(10, 30)))
    [x] = strat.on_schedule(TIME_STOP, ctx_at(time(11, 45), SPOT_1030))
    assert x.action is Action.EXITED and x.codes == ("TIME_STOP",)
    assert x.reasons[0].text.startswith("11:45 ET: time stop moved earlier by today's early close: close whatever")


def test_after_an_early_time_stop_no_entry_and_after_the_early_flatten_no_manage() -> None:
    strat = strategy()
    strat.on_schedule(TIME_STOP, ctx_at(time(11, 45)))  # nothing open: no decision, the day's stop is noted
    [d] = strat.on_schedule(ENTRY, ctx_at(time(11, 50)))
    assert "OUTSIDE_ENTRY_WINDOW" in d.codes
    strat2 = strategy()
    enter(strat2, ctx_at(time(10, 30)))
    [f] = strat2.on_schedule(FLATTEN, ctx_at(time(12, 15)))
    assert f.codes == ("FLATTEN",)
    strat2.on_unfilled(f.intent, "not filled")
    assert strat2.on_schedule(MANAGE, ctx_at(time(12, 20))) == []  # the flatten owns the rest of the day
