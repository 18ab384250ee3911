"""Gate state persistence, period rollover and audit-logged operator overrides. Entries are
the 3010/3000 put spread on the REAL ES chain of 2020-01-06 (data/), re-stamped at later
decision times; NLV marks are given."""

from __future__ import annotations

import json
from datetime import date

import pytest

from risk.gate import Gate, GateAction
from risk.state import GateState, TradingState
from tests.risk.gate_builders import account, at_et, fresh, market, params, put_spread

MON = date(2020, 1, 6)


def _check(gate, ctx, when, nlv, short_k=3010):
    spread, bp = put_spread(ctx, short_k, 3000)
    return gate.check(spread, account(nlv), fresh(market(spread, ctx, bp), when), when)


def _restart(gate: Gate) -> Gate:
    """What a host does across a restart: JSON out, JSON in, a new gate."""
    return Gate(gate.p, GateState.from_dict(json.loads(json.dumps(gate.state.to_dict()))))


def _tripped_daily() -> Gate:
    gate = Gate(params())
    gate.on_nlv(100_000, at_et(MON, 9, 35))
    gate.on_nlv(94_000, at_et(MON, 10))
    return gate


def test_when_the_gate_restarts_then_a_tripped_daily_limit_still_holds(ctx):
    gate = _restart(_tripped_daily())
    assert set(gate.state.tripped) == {"loss_daily"}
    assert gate.state.period_start_nlv_usd["day"] == 100_000 and gate.state.peak_nlv_usd == 100_000
    v = _check(gate, ctx, at_et(MON, 11), 94_000)
    assert v.codes == ("LOSS_LIMIT_DAILY",)
    assert "lost 6,000 USD = 6.0% of start-of-day NLV 100,000 >= 5.0%" in v.reason_text
    assert v.trading_state is TradingState.REDUCING


def test_when_the_restarted_gate_sees_the_next_day_then_the_daily_limit_is_cleared(ctx):
    gate = _restart(_tripped_daily())
    tue = at_et(date(2020, 1, 7))
    v = _check(gate, ctx, tue, 94_000)
    assert v.action is GateAction.APPROVE
    assert "LOSS_LIMIT_DAILY cleared: its day 2020-01-06 ended (2020-01-07 began)" in v.alerts
    assert gate.state.period_start_nlv_usd["day"] == 94_000  # the new day's first mark


def test_when_an_operator_clears_the_daily_limit_then_it_is_audit_logged_and_rebased(ctx):
    gate, t = _tripped_daily(), at_et(MON, 11)
    text = gate.clear("loss_daily", "ops:alice", t, "broker mark error, checked by hand")
    assert text == "loss_daily cleared by ops:alice: start-of-day NLV 100000.0 -> 94000.0"
    [entry] = gate.state.audit_log
    assert (entry.time_utc, entry.who, entry.what) == (t.isoformat(), "ops:alice", "clear loss_daily")
    assert entry.old.startswith("lost 6,000 USD = 6.0%") and entry.new.startswith("cleared; start-of-day NLV")
    assert entry.why == "broker mark error, checked by hand"
    gate = _restart(gate)
    assert gate.state.audit_log == [entry]
    assert _check(gate, ctx, t, 94_000).action is GateAction.APPROVE
    # the daily limit now counts from the re-based 94,000 (the weekly one, from 100,000, trips on its own)
    daily = [a for a in gate.on_nlv(89_301, at_et(MON, 12)).alerts if a.startswith("LOSS_LIMIT_DAILY")]
    assert daily == []  # 4.999% below 94,000
    daily = [a for a in gate.on_nlv(89_300, at_et(MON, 13)).alerts if a.startswith("LOSS_LIMIT_DAILY")]
    assert daily[0].startswith("LOSS_LIMIT_DAILY tripped: lost 4,700 USD = 5.0% of start-of-day NLV 94,000")


def test_when_an_operator_clears_a_drawdown_step_then_the_peak_is_rebased():
    gate = Gate(params())
    gate.on_nlv(100_000, at_et(MON))
    gate.on_nlv(84_000, at_et(date(2020, 2, 3)))
    assert {"drawdown_halve", "drawdown_stop"} <= set(gate.state.tripped)
    gate.clear("drawdown_stop", "risk-desk", at_et(date(2020, 2, 3), 11))
    assert gate.state.peak_nlv_usd == 84_000 and not any(n.startswith("drawdown") for n in gate.state.tripped)
    assert gate.state.audit_log[-1].new == "cleared; peak NLV 100000.0 -> 84000.0"


def test_when_the_kill_switch_is_set_at_run_time_then_it_survives_a_restart_and_is_logged(ctx):
    gate, t = Gate(params()), at_et(MON, 11)
    gate.set_kill_switch(True, "monitor:latency-watch", t, "quote feed lagging")
    gate = _restart(gate)
    v = _check(gate, ctx, t, 100_000)
    assert v.codes == ("KILL_SWITCH",) and v.trading_state is TradingState.HALTED
    assert v.reasons[0].text == (f"kill switch on, set by monitor:latency-watch at {t.isoformat()} "
                                 "(quote feed lagging): no new entries")
    entry = gate.state.audit_log[-1]
    assert (entry.what, entry.old, entry.new) == ("kill_switch", "False", "True")


def test_when_a_clear_names_nothing_tripped_or_nobody_then_it_raises():
    gate = _tripped_daily()
    with pytest.raises(ValueError, match="not tripped"):
        gate.clear("loss_weekly", "ops", at_et(MON, 11))
    with pytest.raises(ValueError, match="who"):
        gate.clear("loss_daily", " ", at_et(MON, 11))
