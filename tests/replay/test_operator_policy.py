"""The MODELLED operator of an unattended replay (replay/operator_policy.py, issue 12): it clears a
drawdown stop/flatten step that has held N trading days on a flat book, with the operator's own
clear (risk/loss_limits.py ``clear_limit``), which re-bases the drawdown peak.

Hand arithmetic: peak 100,000 USD; NLV 85,000 -> drawdown 15.000% (the stop trips, at its line
inclusive; the 10% halve step too). After the clear the peak is 85,000: the halve line is
85,000 x 0.90 = 76,500 and the stop line 85,000 x 0.85 = 72,250, so 72,251 (14.9988%) trips the
halve step only and 72,250 (15.000%) trips the stop again. Marks that fall sit in different
months so that no loss limit (start of the period's first mark) trips.
"""

from __future__ import annotations

from datetime import date

import pytest

from analytics.crisis import crisis_table
from replay.__main__ import EXIT_BAD_INPUT, main
from replay.modelled_run import label_summary, render_modelled, run_modelled
from replay.operator_policy import OPERATOR, OperatorClearPolicy
from replay.summary import build_summary
from risk.gate import GateAction
from risk.gate_session import GateSession
from tests.modelled.world import DATA, full_market
from tests.risk.gate_builders import GOOD_STATS, account, at_et, ctx, fresh, market, params, put_spread, stats  # noqa: F401
from thetacore.parameters import load_parameters

JAN, FEB = date(2020, 1, 6), date(2020, 2, 3)
AFTER_CLOSE = (16, 30)


def _entry(session: GateSession, ctx, day: date, nlv: float, quantity: int = 2):  # noqa: F811
    spread, bp = put_spread(ctx, 3010, 3000, quantity=quantity)
    acct = account(nlv, strategy_stats=(stats(spread.strategy, *GOOD_STATS),))
    when = at_et(day, 10)
    return session.gate.check(spread, acct, fresh(market(spread, ctx, bp), when), when)


def _stopped() -> GateSession:
    """Peak 100,000 on 2020-01-06, 85,000 on Monday 2020-02-03: stop (and halve) tripped."""
    session = GateSession.create(params())
    session.on_nlv(100_000, at_et(JAN, 16, 16))
    notice = session.on_nlv(85_000, at_et(FEB, 16, 16))
    assert notice.close_losers_requested
    assert set(session.gate.state.tripped) == {"drawdown_halve", "drawdown_stop"}
    return session


def _day(session: GateSession, policy: OperatorClearPolicy, day: date, nlv: float, flat: bool = True):
    session.on_nlv(nlv, at_et(day, 16, 16))
    return policy.on_day(session, flat, at_et(day, *AFTER_CLOSE))


def test_a_stop_held_3_trading_days_on_a_flat_book_is_cleared_and_entries_resume(ctx):  # noqa: F811
    session, policy = _stopped(), OperatorClearPolicy(3)
    assert policy.on_day(session, True, at_et(FEB, *AFTER_CLOSE)) is None  # the trip day counts 0
    assert _day(session, policy, date(2020, 2, 4), 85_000) is None  # held 1
    assert _day(session, policy, date(2020, 2, 5), 85_000) is None  # held 2
    assert _entry(session, ctx, date(2020, 2, 5), 85_000).codes == ("DRAWDOWN_STOP",)
    done = _day(session, policy, date(2020, 2, 6), 85_000)  # held 3: cleared
    assert done is not None
    assert (done.step, done.code, done.held_trading_days) == ("drawdown_stop", "DRAWDOWN_STOP", 3)
    assert (done.peak_before_usd, done.nlv_usd) == (100_000, 85_000)
    state = session.gate.state
    assert state.tripped == {} and state.peak_nlv_usd == 85_000
    audit = state.audit_log[-1]
    assert (audit.who, audit.what) == (OPERATOR, "clear drawdown_stop")
    assert audit.new == "cleared; peak NLV 100000.0 -> 85000.0"
    assert "--operator-clear-after 3" in audit.why and "flat book" in audit.why
    assert done.to_dict()["date"] == "2020-02-06" and policy.clears == [done]
    # the next day an entry is approved whole: no stop, and no halving from the re-based peak
    v = _entry(session, ctx, date(2020, 2, 7), 85_000)
    assert (v.action, v.quantity, v.codes) == (GateAction.APPROVE, 2, ())


def test_after_the_clear_a_new_15pct_fall_from_the_rebased_peak_trips_the_stop_again(ctx):  # noqa: F811
    session, policy = _stopped(), OperatorClearPolicy(1)
    policy.on_day(session, True, at_et(FEB, *AFTER_CLOSE))
    assert _day(session, policy, date(2020, 2, 4), 85_000) is not None
    assert session.on_nlv(76_501, at_et(date(2020, 3, 2), 16, 16)).alerts == ()  # 9.9988% of 85,000
    [halve] = session.on_nlv(72_251, at_et(date(2020, 4, 1), 16, 16)).alerts  # 14.9988%
    assert halve.startswith("DRAWDOWN_HALVE tripped: drawdown 15.0% from peak NLV 85,000 (NLV 72,251)")
    notice = session.on_nlv(72_250, at_et(date(2020, 5, 1), 16, 16))  # 15.000%
    assert notice.alerts == ("DRAWDOWN_STOP tripped: drawdown 15.0% from peak NLV 85,000 (NLV 72,250) >= 15.0%: "
                             "no new entries; close losing positions; holds while the drawdown is at or beyond "
                             "15.0%",)
    assert notice.close_losers_requested


def test_no_clear_while_the_book_holds_a_position_then_the_first_flat_day_clears(ctx):  # noqa: F811
    session, policy = _stopped(), OperatorClearPolicy(2)
    policy.on_day(session, False, at_et(FEB, *AFTER_CLOSE))
    for d in (4, 5, 6):  # held 1, 2, 3 days: not flat (a loser's close did not fill)
        assert _day(session, policy, date(2020, 2, d), 85_000, flat=False) is None
    assert "drawdown_stop" in session.gate.state.tripped
    done = _day(session, policy, date(2020, 2, 7), 85_000)
    assert done is not None and done.held_trading_days == 4


def test_a_stop_that_lifts_and_trips_again_counts_from_its_new_trip(ctx):  # noqa: F811
    session, policy = _stopped(), OperatorClearPolicy(2)
    policy.on_day(session, True, at_et(FEB, *AFTER_CLOSE))
    assert _day(session, policy, date(2020, 2, 4), 85_000) is None  # held 1
    assert _day(session, policy, date(2020, 2, 5), 86_000) is None  # 14%: the stop lifts by itself
    assert "drawdown_stop" not in session.gate.state.tripped
    assert _day(session, policy, date(2020, 2, 6), 85_000) is None  # trips again today: 0
    assert _day(session, policy, date(2020, 2, 7), 85_000) is None  # 1
    done = _day(session, policy, date(2020, 2, 10), 85_000)  # 2
    assert done is not None and done.tripped_utc == at_et(date(2020, 2, 6), 16, 16).isoformat()


def test_a_flatten_step_is_cleared_after_its_break_with_every_drawdown_step_and_the_peak_rebased(ctx):  # noqa: F811
    session, policy = GateSession.create(params()), OperatorClearPolicy(1)
    session.on_nlv(100_000, at_et(JAN, 16, 16))
    assert session.on_nlv(80_000, at_et(FEB, 16, 16)).flatten_requested  # 20.000%
    policy.on_day(session, True, at_et(FEB, *AFTER_CLOSE))
    # held 1 trading day, but the 14-calendar-day break (2020-02-03 16:16 ET + 14 days) holds
    for d in (4, 14):
        assert _day(session, policy, date(2020, 2, d), 80_000) is None
    assert _day(session, policy, date(2020, 2, 17), 80_000, flat=False) is None  # break over, not flat
    done = _day(session, policy, date(2020, 2, 18), 80_000)
    assert done is not None and (done.step, done.code) == ("drawdown_flatten", "DRAWDOWN_FLATTEN")
    assert session.gate.state.tripped == {} and session.gate.state.peak_nlv_usd == 80_000


@pytest.mark.parametrize("days", [0, -1])
def test_the_policy_needs_at_least_one_trading_day(days: int) -> None:
    with pytest.raises(ValueError, match=">= 1"):
        OperatorClearPolicy(days)


def test_the_cli_refuses_the_policy_for_the_minute_replay_and_a_zero(tmp_path, capsys) -> None:
    assert main(["--operator-clear-after", "20", "--out", str(tmp_path)]) == EXIT_BAD_INPUT
    assert "--chains modelled" in capsys.readouterr().err
    assert main(["--chains", "modelled", "--operator-clear-after", "0", "--out", str(tmp_path)]) == EXIT_BAD_INPUT
    assert ">= 1" in capsys.readouterr().err


# ----- the daily MODELLED run with the policy (tests/modelled/world.py: the full REAL SPY path) ----------
TIGHT = {"drawdown_halve_frac": "0.02", "drawdown_stop_frac": "0.03"}  # lines low enough to trip in Feb 2018


def _feb_2018(operator: OperatorClearPolicy | None) -> dict:
    res = run_modelled(load_parameters(TIGHT), DATA, date(2018, 1, 2), date(2018, 3, 29), market=full_market(),
                       operator=operator)
    return label_summary(build_summary(res), res)


def _opens(s: dict) -> list[str]:
    return [o["status_time_utc"][:10] for o in s["orders"] if o["status"] == "filled" and o["purpose"] == "open"]


def test_in_the_modelled_run_the_operator_clears_the_stop_on_a_flat_book_and_entries_resume() -> None:
    s = _feb_2018(OperatorClearPolicy(5))
    [trip] = [a for a in s["gate"]["alerts"] if "DRAWDOWN_STOP tripped" in a]
    [clear] = s["operator_clears"]
    assert (clear["code"], clear["held_trading_days"], clear["who"], clear["label"]) == (
        "DRAWDOWN_STOP", 5, OPERATOR, "MODELLED")
    assert clear["tripped_utc"] == trip.split()[0] and clear["date"] == "2018-02-12"
    assert clear["nlv_usd"] < clear["peak_before_usd"] * (1 - 0.03)  # still beyond the old line: no self-lift
    # flat: every position opened before the clear was closed by then
    closed = {o["position_id"]: o["status_time_utc"] for o in s["orders"]
              if o["status"] == "filled" and o["purpose"] != "open"}
    opened_before = {o["position_id"] for o in s["orders"] if o["status"] == "filled" and o["purpose"] == "open"
                     and o["status_time_utc"] < clear["time_utc"]}
    assert all(closed.get(pid, "9999") < clear["time_utc"] for pid in opened_before)
    assert [d for d in _opens(s) if d > clear["date"]]  # entries resumed
    audit = [e for e in s["gate"]["state"]["gate"]["audit_log"] if e["who"] == OPERATOR]
    assert [e["what"] for e in audit] == ["clear drawdown_stop"]
    assert any(a.startswith(clear["time_utc"] + " OPERATOR_CLEAR drawdown_stop") for a in s["gate"]["alerts"])
    assert s["invariants"]["all_held"] is True
    feb = crisis_table(s).query("window == 'Feb 2018' and strategy == 'account'").iloc[0]
    assert feb["gate"]["operator clear DRAWDOWN_STOP"] == 1
    assert "1 clear(s): 2018-02-12 DRAWDOWN_STOP" in render_modelled(s)


def test_without_the_operator_the_same_run_never_enters_again_after_the_stop() -> None:
    s = _feb_2018(None)
    [trip] = [a for a in s["gate"]["alerts"] if "DRAWDOWN_STOP tripped" in a]
    assert s["operator_clears"] == [] and s["run"]["operator_policy"].startswith("none")
    assert not [d for d in _opens(s) if d > trip[:10]]
    assert any("DRAWDOWN_STOP" in v["codes"] for v in s["gate"]["verdicts"])
