"""Fat-finger limits on the REAL ES strangle of 2020-01-06 (data/): ES 2020-03 at 3225.625,
multiplier 50, so one short contract per side is 161,281.25 USD of notional; net mid -32.50,
net natural -32.30, combo tick 0.05. Structures for the per-unit counts are built on the
same real chain."""

from __future__ import annotations

import dataclasses

import pytest

from risk.gate import Gate, GateAction
from risk.state import roll_periods
from safety.fat_finger import contracts_per_unit, notional_contracts_per_unit
from tests.risk.gate_builders import (
    GOOD_STATS,
    JUNE,
    MARCH,
    NOW,
    account,
    at_et,
    es_structure,
    market,
    params,
    stats,
)
from thetacore.enums import Right
from thetacore.structures import StructureKind

LOOSE = {"safety_max_notional_usd": "100000000"}


def _check(strangle, ctx, p, quantity=1, limit=None, gate=None):
    intent, bp = strangle
    ask = dataclasses.replace(intent, quantity=quantity, limit_pts=intent.limit_pts if limit is None else limit)
    held = account(10_000_000, strategy_stats=(stats(intent.strategy, *GOOD_STATS),))
    return (gate or Gate(p)).check(ask, held, market(ask, ctx, bp), NOW)


@pytest.mark.parametrize(("quantity", "action"), [(10, GateAction.APPROVE), (11, GateAction.REFUSE)])
def test_when_an_order_carries_more_than_20_contracts_then_refused_not_resized(strangle, ctx, quantity, action):
    v = _check(strangle, ctx, params(**LOOSE), quantity)
    assert v.action is action
    if action is GateAction.REFUSE:
        assert v.codes == ("FAT_FINGER_CONTRACTS",) and v.reasons[0].text == "11 units x 2 contracts = 22 > 20 per order"


@pytest.mark.parametrize(("quantity", "action"), [(6, GateAction.APPROVE), (7, GateAction.REFUSE)])
def test_when_notional_exceeds_one_million_then_refused(strangle, ctx, quantity, action):
    v = _check(strangle, ctx, params(), quantity)
    assert v.action is action
    if action is GateAction.REFUSE:
        assert v.codes == ("FAT_FINGER_NOTIONAL",)
        assert v.reasons[0].text == "notional 1,128,969 USD (7 x 1 x 3,225.62 pts x 50) > 1,000,000"


@pytest.mark.parametrize(("limit", "ok"), [(-32.60, True), (-32.20, True), (-32.65, False), (-32.15, False),
                                           (+32.40, False), (-324.0, False)])
def test_when_the_limit_leaves_the_band_then_refused(strangle, ctx, limit, ok):
    """slack = 0.25 x (natural - mid = 0.20) + tick 0.05 = 0.10: band [-32.60, -32.20]."""
    v = _check(strangle, ctx, params(), limit=limit)
    if ok:
        assert v.action is GateAction.APPROVE
    else:
        assert v.codes == ("LIMIT_OUTSIDE_BAND",)
        assert v.reasons[0].text == (f"limit {limit:+.2f} pts outside [-32.60, -32.20] (mid -32.50, natural -32.30, "
                                     "slack 0.10)")


def test_when_the_same_structure_is_sent_twice_on_a_day_then_the_second_is_refused(strangle, ctx):
    gate = Gate(params())
    assert _check(strangle, ctx, params(), gate=gate).action is GateAction.APPROVE
    v = _check(strangle, ctx, params(), gate=gate)
    assert v.codes == ("FAT_FINGER_DUPLICATE",)
    assert v.reasons[0].text == ("futures_strangle already sent [ES202003 200320C03460000x-1,"
                                 "ES202003 200320P03000000x-1] on 2020-01-06")
    roll_periods(gate.state, at_et(NOW.date().replace(day=7)))
    assert gate.state.sent_today == []


def test_when_a_refused_entry_is_checked_again_then_it_is_not_a_duplicate(strangle, ctx):
    gate = Gate(params())
    assert _check(strangle, ctx, params(), limit=+32.4, gate=gate).action is GateAction.REFUSE
    assert _check(strangle, ctx, params(), gate=gate).action is GateAction.APPROVE


def test_when_structures_are_counted_then_hedged_wings_are_not_notional(ctx):
    condor, _ = es_structure(ctx, [(Right.PUT, 3000, 1, MARCH), (Right.PUT, 3050, -1, MARCH),
                                   (Right.CALL, 3460, -1, MARCH), (Right.CALL, 3510, 1, MARCH)], "zero_dte",
                             StructureKind.IRON_CONDOR)
    lt112, _ = es_structure(ctx, [(Right.PUT, 3000, 1, JUNE), (Right.PUT, 2950, -1, JUNE),
                                  (Right.PUT, 2900, -2, JUNE)], "lt112", StructureKind.RATIO_SPREAD)
    long_call, _ = es_structure(ctx, [(Right.CALL, 3460, 1, MARCH)], "ipmcc", StructureKind.SINGLE)
    got = [(contracts_per_unit(i.structure), notional_contracts_per_unit(i.structure)) for i in (condor, lt112, long_call)]
    assert got == [(4, 1), (4, 3), (1, 1)]
