"""Kill switch on the REAL ES strangle of 2020-01-06 (data/): entries stop, exits pass, every
run-time change is audit-logged."""

from __future__ import annotations

import pytest

from risk.gate import Gate, GateAction
from risk.state import GateState, TradingState
from safety.kill_switch import kill_switch_on, release_override
from tests.risk.gate_builders import NOW, account, closing, market, params, position


def _entry(gate, strangle, ctx):
    intent, bp = strangle
    return gate.check(intent, account(), market(intent, ctx, bp), NOW)


def test_when_the_parameter_is_on_then_entries_are_refused_and_exits_pass(strangle, ctx):
    gate = Gate(params(kill_switch="true"))
    v = _entry(gate, strangle, ctx)
    assert v.codes == ("KILL_SWITCH",) and v.trading_state is TradingState.HALTED
    assert v.reasons[0].text == "kill switch on (parameter kill_switch=true): no new entries"
    intent, bp = strangle
    close = closing(intent, ctx)
    w = gate.check(close, account(positions=(position(intent.position_id),)), market(close, ctx, bp), NOW)
    assert w.action is GateAction.APPROVE


def test_when_an_operator_flips_the_switch_then_each_change_is_logged_old_to_new(strangle, ctx):
    gate = Gate(params())
    assert gate.set_kill_switch(True, "ops:bob", NOW, "flash crash") == "KILL_SWITCH on (was off), set by ops:bob: flash crash"
    assert _entry(gate, strangle, ctx).codes == ("KILL_SWITCH",)
    gate.set_kill_switch(False, "ops:bob", NOW, "all clear")
    assert _entry(gate, strangle, ctx).action is GateAction.APPROVE
    log = [(a.who, a.what, a.old, a.new, a.why) for a in gate.state.audit_log]
    assert log == [("ops:bob", "kill_switch", "False", "True", "flash crash"),
                   ("ops:bob", "kill_switch", "True", "False", "all clear")]


def test_when_the_override_is_released_then_the_parameter_decides_again():
    # issue 8: a run-time "off" no longer outranks kill_switch=true (this test asserted the
    # opposite before; changed on purpose): the switch stays on throughout
    p = params(kill_switch="true")
    gate = Gate(p)
    text = gate.set_kill_switch(False, "ops", NOW)
    assert kill_switch_on(gate.state, p) and gate.state.kill_switch_override is None
    assert text == ("KILL_SWITCH on (was on), set by ops; stays ON: parameter kill_switch=true outranks "
                    "any run-time 'off'")
    release_override(gate.state, p, "ops", NOW, "back to config")
    assert kill_switch_on(gate.state, p)
    assert gate.state.audit_log[-1].new == "parameter"


def test_when_a_saved_off_meets_the_kill_switch_parameter_then_the_parameter_wins(strangle, ctx):
    saved = GateState(kill_switch_override=False).to_dict()  # what an older run saved after an "off"
    gate = Gate(params(kill_switch="true"), GateState.from_dict(saved))
    v = _entry(gate, strangle, ctx)
    assert v.codes == ("KILL_SWITCH",) and v.trading_state is TradingState.HALTED
    assert v.reasons[0].text == "kill switch on (parameter kill_switch=true): no new entries"


def test_when_a_saved_on_is_restored_then_only_an_explicit_clear_turns_trading_back_on(strangle, ctx):
    first = Gate(params())
    first.set_kill_switch(True, "ops:amy", NOW, "broker outage")
    gate = Gate(params(), GateState.from_dict(first.state.to_dict()))  # a restart
    assert _entry(gate, strangle, ctx).codes == ("KILL_SWITCH",)
    assert gate.state.trading_state(False) is TradingState.HALTED
    gate.set_kill_switch(False, "ops:amy", NOW, "broker back")
    assert _entry(gate, strangle, ctx).action is GateAction.APPROVE
    assert [(a.who, a.old, a.new, a.why) for a in gate.state.audit_log] == [
        ("ops:amy", "False", "True", "broker outage"), ("ops:amy", "True", "False", "broker back")]


@pytest.mark.parametrize("saved", ["off", "false", 0, 1, "on"])
def test_when_a_saved_override_is_not_a_boolean_then_restoring_it_is_an_error(saved):
    data = GateState().to_dict()
    data["kill_switch_override"] = saved
    with pytest.raises(TypeError, match="kill_switch_override"):
        GateState.from_dict(data)
