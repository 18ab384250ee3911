"""Drawdown steps hold while the drawdown is at or beyond their line and lift on recovery
(issue 11; docs/strategy-rules.md, "Risk", drawdown row), the flatten step's two-week break,
and the ES 1-lot moved to MES. Entries are the REAL ES 3010/3000 put credit spread of
2020-03-20 on the 2020-01-06 chain (tests/risk/gate_builders.py, 437.50 USD risk per unit).

Hand arithmetic (peak 100,000 USD): drawdown = (100,000 - NLV) / 100,000, so NLV 90,000 ->
10.000% (halve trips at >= 10%), 90,001 -> 9.999% (halve lifts), 85,000 -> 15.000% (stop),
86,000 -> 14.000% (stop lifts, halve holds), 80,000 -> 20.000% (flatten). Marks sit in
different months / weeks so that no loss limit trips (each period starts at its first mark
and NLV never falls within a period after it).
"""

from __future__ import annotations

from datetime import date

import numpy as np

from risk.gate import Gate, GateAction
from risk.micro_move import micro_intent
from risk.state import TradingState
from tests.risk.gate_builders import GOOD_STATS, account, at_et, fresh, market, params, put_spread, stats

JAN, FEB = date(2020, 1, 6), date(2020, 2, 3)


def _check(gate, ctx, when, nlv, quantity):
    spread, bp = put_spread(ctx, 3010, 3000, quantity=quantity)
    acct = account(nlv, strategy_stats=(stats(spread.strategy, *GOOD_STATS),))
    return gate.check(spread, acct, fresh(market(spread, ctx, bp), when), when)


def _gate_peaked() -> Gate:
    gate = Gate(params())
    gate.on_nlv(100_000, at_et(JAN))
    return gate


def test_halve_step_lifts_when_nlv_recovers_above_the_line_with_an_audit_entry(ctx):
    gate = _gate_peaked()
    gate.on_nlv(90_000, at_et(FEB))
    assert set(gate.state.tripped) == {"drawdown_halve"}
    when = at_et(date(2020, 2, 4))
    assert gate.on_nlv(90_001, when).alerts == (
        "DRAWDOWN_HALVE lifted: drawdown 9.999% (NLV 90,001) recovered above the 10.0% line",)
    assert gate.state.tripped == {}
    entry = gate.state.audit_log[-1]
    assert (entry.who, entry.what, entry.time_utc) == ("gate", "lift drawdown_halve", when.isoformat())
    assert entry.new.startswith("lifted: drawdown 9.999%")
    v = _check(gate, ctx, when, 90_001, 2)  # no halving any more: 2 asked, 2 approved
    assert (v.action, v.quantity) == (GateAction.APPROVE, 2)


def test_halve_step_holds_at_the_line_and_below_it(ctx):
    gate = _gate_peaked()
    gate.on_nlv(90_000, at_et(FEB))
    for day, nlv in ((4, 90_000), (5, 88_000)):  # 10.0% and 12.0%: at or beyond the 10% line
        assert gate.on_nlv(nlv, at_et(date(2020, 2, day))).alerts == ()
        assert "drawdown_halve" in gate.state.tripped
    v = _check(gate, ctx, at_et(date(2020, 2, 5)), 88_000, 3)
    assert (v.action, v.quantity, v.codes) == (GateAction.RESIZE, 1, ("DRAWDOWN_HALVE",))  # floor(3 / 2) = 1


def test_a_new_peak_lifts_the_halve_step_and_moves_the_reference(ctx):
    gate = _gate_peaked()
    gate.on_nlv(90_000, at_et(FEB))
    [alert] = gate.on_nlv(101_000, at_et(date(2020, 3, 2))).alerts
    assert alert.startswith("DRAWDOWN_HALVE lifted: drawdown 0.000% (NLV 101,000)")
    assert gate.state.peak_nlv_usd == 101_000
    # 10% of the new peak is 10,100: 90,900 trips again, 90,901 does not
    assert gate.on_nlv(90_901, at_et(date(2020, 4, 1))).alerts == ()
    assert gate.on_nlv(90_900, at_et(date(2020, 5, 1))).alerts[0].startswith("DRAWDOWN_HALVE tripped: drawdown 10.0%")


def test_stop_step_lifts_above_15pct_while_the_halve_step_holds(ctx):
    gate = _gate_peaked()
    notice = gate.on_nlv(85_000, at_et(FEB))
    assert notice.close_losers_requested and set(gate.state.tripped) == {"drawdown_halve", "drawdown_stop"}
    assert _check(gate, ctx, at_et(FEB, 11), 85_000, 2).codes == ("DRAWDOWN_STOP",)
    notice = gate.on_nlv(86_000, at_et(date(2020, 3, 2)))
    assert notice.alerts == ("DRAWDOWN_STOP lifted: drawdown 14.000% (NLV 86,000) recovered above the 15.0% line",)
    assert not notice.close_losers_requested and set(gate.state.tripped) == {"drawdown_halve"}
    v = _check(gate, ctx, at_et(date(2020, 3, 2), 11), 86_000, 2)
    assert (v.action, v.quantity, v.codes) == (GateAction.RESIZE, 1, ("DRAWDOWN_HALVE",))


def test_flatten_step_takes_a_14_calendar_day_break_then_entries_resume_above_the_stop_line(ctx):
    gate = _gate_peaked()
    notice = gate.on_nlv(80_000, at_et(FEB))  # Monday 2020-02-03 10:00 ET
    assert notice.flatten_requested
    assert gate.state.tripped["drawdown_flatten"].text.endswith(
        "break of 14 calendar days: entries resume after 2020-02-17 only with the drawdown above the 15.0% line, "
        "or by an operator clear")
    # a week later NLV is back to 90,000 (10%): the stop step lifts, the break still holds
    notice = gate.on_nlv(90_000, at_et(date(2020, 2, 10)))
    assert [a.split(":")[0] for a in notice.alerts] == ["DRAWDOWN_STOP lifted"]
    assert _check(gate, ctx, at_et(date(2020, 2, 10), 11), 90_000, 2).trading_state is TradingState.HALTED
    # 2020-02-03 10:00 ET + 14 days = 2020-02-17 10:00 ET: one minute before, the break holds
    assert gate.on_nlv(90_000, at_et(date(2020, 2, 17), 9, 59)).alerts == ()
    notice = gate.on_nlv(90_000, at_et(date(2020, 2, 17), 10, 0))
    assert notice.alerts == ("DRAWDOWN_FLATTEN lifted: break ended 2020-02-17T15:00:00+00:00 and drawdown "
                             "10.000% < stop line 15.0%",)
    assert not notice.flatten_requested
    v = _check(gate, ctx, at_et(date(2020, 2, 17), 11), 90_000, 2)  # the halve step still holds: 2 -> 1
    assert (v.action, v.quantity, v.codes) == (GateAction.RESIZE, 1, ("DRAWDOWN_HALVE",))
    assert v.trading_state is TradingState.ACTIVE


def test_flatten_step_holds_after_its_break_while_the_drawdown_is_beyond_the_stop_line_until_cleared(ctx):
    gate = _gate_peaked()
    gate.on_nlv(80_000, at_et(FEB))
    notice = gate.on_nlv(84_000, at_et(date(2020, 3, 2)))  # 28 days later, 16.0% >= 15%
    assert notice.alerts == () and notice.flatten_requested
    assert gate.state.trading_state(False) is TradingState.HALTED
    gate.clear("drawdown_flatten", "operator", at_et(date(2020, 3, 2), 11), "resume after review")
    assert gate.state.tripped == {} and gate.state.peak_nlv_usd == 84_000
    assert gate.state.audit_log[-1].what == "clear drawdown_flatten"


def test_break_parameter_is_in_calendar_days(ctx):
    gate = Gate(params(drawdown_break_days="3"))
    gate.on_nlv(100_000, at_et(JAN))
    gate.on_nlv(80_000, at_et(FEB))
    assert gate.on_nlv(90_000, at_et(date(2020, 2, 6), 9, 59)).alerts == ("DRAWDOWN_STOP lifted: drawdown "
                                                                           "10.000% (NLV 90,000) recovered above the 15.0% line",)
    assert gate.on_nlv(90_000, at_et(date(2020, 2, 6))).alerts[0].startswith("DRAWDOWN_FLATTEN lifted")


def test_micro_intent_moves_an_es_one_lot_to_the_same_strikes_on_mes(ctx):
    """MES is ES's chain at a tenth of the multiplier (here: the ES rows relabelled, 5 USD/pt):
    1 ES x 50 USD/pt = 10 MES x 5 USD/pt, so the micro intent asks 10 units and the halve step
    gives 5 MES = half the ES exposure."""
    spread, _ = put_spread(ctx, 3010, 3000, quantity=1)
    es = ctx.chain
    mes = es.select(np.arange(len(es)))
    object.__setattr__(mes, "multiplier_usd_per_pt", 5.0)
    object.__setattr__(mes, "symbol", np.array(["M" + str(s) for s in es.symbol], dtype=object))
    moved = micro_intent(spread, mes)
    assert moved is not None and moved.quantity == 10
    assert moved.structure.multiplier_usd_per_pt == 5.0
    assert [leg.symbol for leg in moved.structure.legs] == ["M" + leg.symbol for leg in spread.structure.legs]
    assert [(leg.strike_pts, leg.expiry, leg.ratio) for leg in moved.structure.legs] == [
        (leg.strike_pts, leg.expiry, leg.ratio) for leg in spread.structure.legs]
    # a chain without the 3000 put: no move (the gate's DRAWDOWN_HALVE_MICRO refusal stands)
    assert micro_intent(spread, mes.select(mes.strike_pts != 3000)) is None
