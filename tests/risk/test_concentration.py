"""Concentration and per-strategy limits on the REAL ES chain of 2020-01-06 (data/): the
strangle, put credit spreads and an LT112-shaped 1/-1/-2 put structure built on its quotes.
Open positions are given records; they sit in groups with room so that only the rule under
test can refuse."""

from __future__ import annotations

import dataclasses
from datetime import date

import pytest

from risk.concentration import (
    bullish_alert,
    concentration_reasons,
    is_bullish_multiweek,
    is_short_put_multiweek,
    strategy_positions_reason,
)
from risk.gate import Gate, GateAction
from risk.gate_inputs import OpenPosition
from tests.risk.gate_builders import (
    JUNE,
    MARCH,
    NOW,
    account,
    es_structure,
    market,
    params,
    position,
    put_spread,
)
from thetacore.enums import Right
from thetacore.structures import StructureKind

TODAY = date(2020, 1, 6)


def test_when_structures_are_classified_then_short_puts_and_long_calls_are_bullish_multiweek(ctx, strangle):
    lt112, _ = es_structure(ctx, [(Right.PUT, 3000, 1, JUNE), (Right.PUT, 2950, -1, JUNE),
                                  (Right.PUT, 2900, -2, JUNE)], "lt112", StructureKind.RATIO_SPREAD)
    leap_call, _ = es_structure(ctx, [(Right.CALL, 3460, 1, MARCH)], "ipmcc", StructureKind.SINGLE)
    spread, _ = put_spread(ctx, 3050, 3000)
    for intent, short_put, bullish in ((lt112, True, True), (spread, True, True), (leap_call, False, True),
                                       (strangle[0], False, False)):
        assert is_short_put_multiweek(intent.structure, TODAY, 14) is short_put
        assert is_bullish_multiweek(intent.structure, TODAY, 14) is bullish
    # 10 days before expiry the same spread is not multi-week (threshold 14 days)
    assert not is_short_put_multiweek(spread.structure, date(2020, 3, 10), 14)
    rec = OpenPosition.from_structure("lt112-1", "lt112", "ES", lt112.structure, TODAY, 2_075.0, 14)
    assert (rec.expiry, rec.is_short_put_multiweek, rec.is_bullish_multiweek, rec.group) == (JUNE, True, True, "A1")


@pytest.mark.parametrize(("expiry", "strategy", "action"), [
    (JUNE, "lt112", GateAction.APPROVE), (MARCH, "lt112", GateAction.REFUSE),
    # issue 11 (deliberate change): the rule is about LT112s only; another short-put
    # multi-week entry (a spread, a LEAP-put rung) may share an LT112's expiry
    (MARCH, "put_spread", GateAction.APPROVE)])
def test_when_an_lt112_holds_an_expiry_then_a_second_lt112_there_is_refused(ctx, expiry, strategy, action):
    spread, bp = put_spread(ctx, 3000, 2950, JUNE) if expiry == JUNE else put_spread(ctx, 3050, 3000)
    spread = dataclasses.replace(spread, strategy=strategy)
    held = (position("lt112-1", "ES", "lt112", MARCH, short_put=True, bullish=True),)
    v = Gate(params()).check(spread, account(positions=held), market(spread, ctx, bp), NOW)
    assert v.action is action, v.reason_text
    if action is GateAction.REFUSE:
        assert v.codes == ("CONCENTRATION_SAME_EXPIRY",)
        assert "1 LT112 position(s) already open on 2020-03-20; at most one per expiry" in v.reason_text


def test_when_leap_put_rungs_hold_an_expiry_then_another_rung_there_is_not_refused():
    # ten rungs on the same expiry: no same-expiry reason (a rung is no LT112)
    assert concentration_reasons(_rung(MARCH), TODAY, [], {"leap_puts"}, params(), strategy="leap_puts") == []


@pytest.mark.parametrize(("n_bullish", "action"), [(2, GateAction.APPROVE), (3, GateAction.REFUSE)])
def test_when_three_bullish_multiweek_programs_are_open_then_a_fourth_is_refused(ctx, n_bullish, action):
    held = tuple(position(f"b{i}", root, f"s{i}", JUNE, bullish=True) for i, root in
                 enumerate(("GC", "CL", "ZC")[:n_bullish]))
    spread, bp = put_spread(ctx, 3050, 3000)
    v = Gate(params()).check(spread, account(positions=held), market(spread, ctx, bp), NOW)
    assert v.action is action
    if action is GateAction.REFUSE:
        assert v.codes == ("CONCENTRATION_BULLISH",)
        assert "3 bullish multi-week programs open >= limit 3 (the LEAP-put ladder counts once)" in v.reason_text


def test_when_nine_rungs_an_lt112_and_an_ipmcc_are_open_then_the_ladder_counts_once(ctx):
    """Hand count: 9 rungs = 1 program, + LT112 + IPMCC = 3 programs. A 10th rung joins the
    ladder (no new program): allowed; a new LT112 would be a 4th program: refused."""
    rungs = tuple(position(f"leap_puts-{i}", "SPY", "leap_puts", JUNE, short_put=True, bullish=True) for i in range(9))
    others = (position("lt112-1", "ZC", "lt112", JUNE, short_put=True, bullish=True),
              position("ipmcc-1", "GC", "ipmcc", JUNE, bullish=True))
    programs = {"leap_puts", "lt112-1", "ipmcc-1"}
    assert concentration_reasons(_rung(MARCH), TODAY, [JUNE], programs, params(), strategy="leap_puts") == []
    spread, bp = put_spread(ctx, 3050, 3000)
    lt112 = dataclasses.replace(spread, strategy="lt112")
    v = Gate(params()).check(lt112, account(positions=rungs + others), market(lt112, ctx, bp), NOW)
    # (the nine SPY rungs also fill A1+A2 for an ES entry: CORRELATION_A1_A2 is the other reason)
    assert v.codes == ("CORRELATION_A1_A2", "CONCENTRATION_BULLISH")
    assert "3 bullish multi-week programs open >= limit 3" in v.reason_text


def test_when_four_bullish_programs_are_open_then_the_gate_alerts(ctx):
    held = tuple(position(f"b{i}", root, f"s{i}", JUNE, bullish=True) for i, root in enumerate(("GC", "CL", "ZC", "HG")))
    spread, bp = put_spread(ctx, 3050, 3000)
    v = Gate(params()).check(spread, account(positions=held), market(spread, ctx, bp), NOW)
    assert "CONCENTRATION_BULLISH_ALERT: 4 bullish multi-week programs open >= alert level 4" in v.alerts
    assert bullish_alert({"a", "b", "c"}, params()) is None


def _rung(expiry):
    """A one-leg short put on ``expiry`` (structure only; the classification reads legs)."""
    from thetacore.legs import OptionLeg
    from thetacore.structures import Structure, UnderlyingKind
    leg = OptionLeg("SPY 200320P00250000", "SPY", Right.PUT, 250.0, expiry, -1)
    return Structure(StructureKind.SINGLE, (leg,), 100.0, UnderlyingKind.EQUITY)


def test_when_the_entry_is_not_bullish_then_the_bullish_count_does_not_apply(strangle):
    assert concentration_reasons(strangle[0].structure, TODAY, [MARCH], {"a", "b", "c", "d", "e"}, params()) == []


@pytest.mark.parametrize(("n_open", "action"), [(2, GateAction.APPROVE), (3, GateAction.REFUSE)])
def test_when_a_strategy_has_three_open_then_a_fourth_is_refused(ctx, n_open, action):
    spread, bp = put_spread(ctx, 3050, 3000)
    held = tuple(position(f"p{i}", root, spread.strategy) for i, root in enumerate(("CL", "GC", "ZC")[:n_open]))
    v = Gate(params()).check(spread, account(positions=held), market(spread, ctx, bp), NOW)
    assert v.action is action
    if action is GateAction.REFUSE:
        assert v.codes == ("STRATEGY_POSITIONS",) and "put_spread has 3 open positions >= limit 3" in v.reason_text


def test_when_the_strategy_is_the_leap_put_ladder_then_its_rung_limit_applies():
    p = params()
    assert strategy_positions_reason("leap_puts", 9, p) is None
    r = strategy_positions_reason("leap_puts", 10, p)
    assert r is not None and r.text == "leap_puts has 10 open positions >= limit 10"
