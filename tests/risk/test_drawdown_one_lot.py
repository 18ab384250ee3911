"""A one-contract entry under the drawdown HALVE step (docs/strategy-rules.md, "Loss limits
and drawdown": "-10% halves new position sizes (a one-contract entry moves to the micro
product or is refused)"). Issue 11 changed the 1-lot case deliberately: an ES 1-lot is now
refused with ``DRAWDOWN_HALVE_MICRO`` naming MES (the gate sees only the ES chain; the move
itself is :func:`risk.micro_move.micro_intent`), not with a bare ``DRAWDOWN_HALVE``; nothing
of it is remembered as sent.

Entries: the REAL ES 3010/3000 put credit spread of 2020-03-20 on the 2020-01-06 chain
(tests/risk/gate_builders.py; defined risk (10 - 1.25) x 50 = 437.50 USD per unit). NLV
marks are given. Each mark is in a new month, so only the drawdown from the 100,000 peak
can trip (no daily/weekly/monthly loss limit).

Sizing by hand (GOOD_STATS: 34 wins / 6 losses, avg win 400, avg loss 800 USD):
f* = 0.85 - 0.15 / (400 / 800) = 0.55; Kelly budget 0.25 x 0.55 x 90,000 = 12,375 USD ->
floor(12,375 / 437.50) = 28 units; the 2% per-trade target 1,800 / 437.50 -> 4 units. So
an asked 1, 2 or 3 passes every cap unchanged, and only the halve step cuts it:
floor(1 / 2) = 0, floor(2 / 2) = 1, floor(3 / 2) = 1.
"""

from __future__ import annotations

from datetime import date

import pytest

from risk.gate import Gate, GateAction
from risk.state import TradingState
from tests.risk.gate_builders import GOOD_STATS, account, at_et, fresh, market, params, put_spread, stats

PEAK_DAY, FEB = date(2020, 1, 6), date(2020, 2, 4)


def _gate_at(nlv_after_peak: float) -> Gate:
    gate = Gate(params())
    gate.on_nlv(100_000, at_et(PEAK_DAY))
    gate.on_nlv(nlv_after_peak, at_et(FEB))
    return gate


def _check(gate: Gate, ctx, quantity: int, nlv: float, short_k: float = 3010, minute: int = 0):
    spread, bp = put_spread(ctx, short_k, 3000, quantity=quantity)
    when = at_et(FEB, 10, minute)
    acct = account(nlv, strategy_stats=(stats(spread.strategy, *GOOD_STATS),))
    return gate.check(spread, acct, fresh(market(spread, ctx, bp), when), when)


def test_drawdown_halve_step_refuses_a_one_lot_entry_with_its_arithmetic(ctx):
    gate = _gate_at(90_000)  # (100,000 - 90,000) / 100,000 = 10.0%: the halve step trips
    assert set(gate.state.tripped) == {"drawdown_halve"}
    v = _check(gate, ctx, 1, 90_000)
    assert (v.action, v.quantity) == (GateAction.REFUSE, 0)
    assert v.codes == ("DRAWDOWN_HALVE_MICRO",)
    assert v.reason_text == ("DRAWDOWN_HALVE_MICRO: drawdown step halves new sizes: 1 -> 0 unit(s) of ES; a "
                             "1-contract ES entry moves to the micro MES (same strikes and expiry), but the gate "
                             "sees no MES chain: refused")
    # the halve step is not an entry block: the book stays ACTIVE (a 2-lot would still trade)
    assert v.trading_state is TradingState.ACTIVE and not v.close_losers_requested
    assert gate.state.sent_today == []  # a refused 1-lot is not remembered as sent


def test_drawdown_halve_step_refusal_of_a_one_lot_does_not_block_the_same_spread_as_a_duplicate(ctx):
    gate = _gate_at(90_000)
    assert _check(gate, ctx, 1, 90_000).action is GateAction.REFUSE
    v = _check(gate, ctx, 2, 90_000, minute=1)  # same structure, same day: not a duplicate of a refusal
    assert (v.action, v.quantity, v.codes) == (GateAction.RESIZE, 1, ("DRAWDOWN_HALVE",))
    assert v.reason_text == "DRAWDOWN_HALVE: drawdown step halves new sizes: 2 -> 1 unit(s)"


@pytest.mark.parametrize(("asked", "approved"), [(1, 0), (2, 1), (3, 1)])
def test_drawdown_halve_step_rounds_down(ctx, asked, approved):
    v = _check(_gate_at(90_000), ctx, asked, 90_000)
    assert v.quantity == approved
    assert v.action is (GateAction.REFUSE if approved == 0 else GateAction.RESIZE)
    assert v.reasons[-1].text.startswith(f"drawdown step halves new sizes: {asked} -> {approved} unit(s)")
    assert v.reasons[-1].code == ("DRAWDOWN_HALVE_MICRO" if approved == 0 else "DRAWDOWN_HALVE")


def test_one_lot_just_short_of_the_drawdown_halve_step_is_approved_whole(ctx):
    gate = _gate_at(90_001)  # 9,999 / 100,000 = 9.999% < 10%: nothing trips
    assert gate.state.tripped == {}
    v = _check(gate, ctx, 1, 90_001)
    assert (v.action, v.quantity) == (GateAction.APPROVE, 1)
    assert "DRAWDOWN_HALVE" not in v.codes


def test_one_lot_after_an_operator_clears_the_drawdown_halve_step_is_approved(ctx):
    gate = _gate_at(90_000)
    gate.clear("drawdown_halve", "operator", at_et(FEB, 9, 45), "reviewed")
    assert gate.state.peak_nlv_usd == 90_000  # re-based: the same NLV no longer re-trips
    v = _check(gate, ctx, 1, 90_000)
    assert (v.action, v.quantity) == (GateAction.APPROVE, 1) and "DRAWDOWN_HALVE" not in v.codes
