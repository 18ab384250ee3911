"""Circuit breakers with the REAL ES 2020-03 future (3225.625 at 10:00 ET on 2020-01-06, prior
close 3235.50; data/) and given VIX levels. Entries: the 3050/3000 put spread on the real chain
(short puts, so the VIX > 30 rule lets it through and only the breaker under test refuses)."""

from __future__ import annotations

from datetime import date

import pytest

from risk.gate import Gate, GateAction
from tests.risk.gate_builders import NOW, account, at_et, fresh, market, params, put_spread


def _check(gate, ctx, when=NOW, short_k=3050, **m):
    spread, bp = put_spread(ctx, short_k, 3000)
    return gate.check(spread, account(), fresh(market(spread, ctx, bp, **m), when), when)


@pytest.mark.parametrize(("vix", "action"), [(39.99, GateAction.APPROVE), (40.0, GateAction.REFUSE)])
def test_when_vix_reaches_40_then_entries_stop(ctx, vix, action):
    v = _check(Gate(params()), ctx, vix_level=vix, vix_prev_close=35.0)
    assert v.action is action
    if action is GateAction.REFUSE:
        assert v.codes == ("CIRCUIT_VIX_LEVEL",) and v.reasons[0].text == "VIX 40.00 >= 40"


@pytest.mark.parametrize(("vix", "action"), [(18.22, GateAction.APPROVE), (18.23, GateAction.REFUSE)])
def test_when_vix_jumps_more_than_30pct_on_the_day_then_entries_stop(ctx, vix, action):
    v = _check(Gate(params()), ctx, vix_level=vix, vix_prev_close=14.02)
    assert v.action is action
    if action is GateAction.REFUSE:
        assert v.reasons[0].text == "VIX 18.23 up 30.03% from previous close 14.02 > 30.00%"


@pytest.mark.parametrize(("under", "action"), [(3107.0, GateAction.APPROVE), (3105.0, GateAction.REFUSE),
                                               (3364.0, GateAction.APPROVE), (3366.0, GateAction.REFUSE)])
def test_when_the_underlying_moves_more_than_4pct_then_entries_on_it_stop(ctx, under, action):
    v = _check(Gate(params()), ctx, underlying_pts=under)
    assert v.action is action
    if action is GateAction.REFUSE:
        assert v.codes == ("CIRCUIT_UNDERLYING_MOVE",)
        assert v.reasons[0].text.startswith(f"ES {under:,.2f} moved ")
        assert v.reasons[0].text.endswith("from previous close 3,235.50; |move| > 4.00%")


def test_when_a_breaker_trips_then_it_holds_for_the_day_and_clears_the_next(ctx):
    gate = Gate(params())
    v = _check(gate, ctx, vix_level=41.0, vix_prev_close=38.0)
    assert v.alerts == ("CIRCUIT_VIX_LEVEL tripped: VIX 41.00 >= 40; no new entries today",)
    later = at_et(date(2020, 1, 6), 11)
    assert _check(gate, ctx, later, short_k=3040, vix_level=25.0, vix_prev_close=24.0).codes == ("CIRCUIT_VIX_LEVEL",)
    tue = at_et(date(2020, 1, 7))
    assert _check(gate, ctx, tue, vix_level=25.0, vix_prev_close=24.0).action is GateAction.APPROVE


def test_when_circuit_flatten_is_on_then_a_tripped_breaker_requests_a_flatten(ctx):
    assert _check(Gate(params(circuit_flatten="true")), ctx, vix_level=45.0, vix_prev_close=40.0).flatten_requested
    assert not _check(Gate(params()), ctx, vix_level=45.0, vix_prev_close=40.0).flatten_requested
