"""Account phase and products. ES entries: the 3010/3000 put spread on the REAL ES chain of
2020-01-06 (data/). MES entries: the same strikes on a MODELLED MES chain
(replay.model_chain, priced on the real ES 2020-03 future 3225.625 at 10:00 ET; the bundled
data holds no MES options)."""

from __future__ import annotations

import dataclasses

import pytest

from replay.model_chain import model_chain, strike_grid
from risk.gate import Gate, GateAction
from risk.phase_products import phase_reasons
from tests.risk.gate_builders import (
    GOOD_STATS,
    MARCH,
    NOW,
    account,
    es_structure,
    market,
    params,
    put_spread,
    stats,
)
from thetacore.enums import Right
from thetacore.products import product
from thetacore.structures import StructureKind


@pytest.fixture(scope="module")
def mes_ctx(ctx):
    chain = model_chain(product("MES"), NOW, 3225.625, [MARCH], strike_grid(3225.625, 10.0, 40),
                        multiplier_usd_per_pt=5.0, rate_frac=ctx.rate_frac, underlying_symbol="MES202003")
    return dataclasses.replace(ctx, chain=chain)


def _mes_spread(mes_ctx, strategy="put_spread", quantity=1):
    return es_structure(mes_ctx, [(Right.PUT, 3000, 1, MARCH), (Right.PUT, 3010, -1, MARCH)], strategy,
                        StructureKind.VERTICAL, quantity, root="MES")


@pytest.mark.parametrize(("nlv", "action"), [(39_000.0, GateAction.REFUSE), (40_000.0, GateAction.APPROVE)])
def test_when_the_account_is_in_phase_1_then_es_is_refused(ctx, nlv, action):
    spread, bp = put_spread(ctx, 3010, 3000)
    v = Gate(params()).check(spread, account(nlv), market(spread, ctx, bp), NOW)
    assert v.action is action
    if action is GateAction.REFUSE:
        assert v.codes == ("PHASE_PRODUCT",)
        assert v.reasons[0].text == ("phase 1 (NLV 39,000 < 40,000) trades micros only (MES, MCL, MGC); "
                                     "ES is not one")


def test_when_the_account_is_in_phase_1_then_a_micro_passes(mes_ctx):
    spread, bp = _mes_spread(mes_ctx)
    assert spread.structure.multiplier_usd_per_pt == 5.0
    v = Gate(params()).check(spread, account(39_000), market(spread, mes_ctx, bp), NOW)
    assert v.action is GateAction.APPROVE, v.reason_text


def test_when_lt112_asks_in_phase_1_then_refused(mes_ctx):
    spread, bp = _mes_spread(mes_ctx, strategy="lt112")
    v = Gate(params()).check(spread, account(39_000), market(spread, mes_ctx, bp), NOW)
    assert v.codes == ("PHASE_STRATEGY",)
    assert v.reasons[0].text == "lt112 needs phase 2 (NLV >= 40,000); account is phase 1 at NLV 39,000"
    assert phase_reasons("lt112", "MES", 40_000, params()) == []


@pytest.mark.parametrize(("nlv", "phase_cap"), [(39_000.0, 1), (45_000.0, 2), (60_000.0, 3), (80_000.0, 4)])
def test_when_zero_dte_asks_five_then_the_phase_caps_its_units(mes_ctx, nlv, phase_cap):
    spread, bp = _mes_spread(mes_ctx, strategy="zero_dte", quantity=5)
    v = Gate(params()).check(spread, account(nlv, strategy_stats=(stats("zero_dte", *GOOD_STATS),)),
                             market(spread, mes_ctx, bp), NOW)
    assert v.action is GateAction.RESIZE and v.quantity == phase_cap
    assert v.codes == ("PHASE_ZDTE_CONTRACTS",)
    assert f"asked 5, phase {phase_cap} (NLV {nlv:,.0f}) allows {phase_cap} 0DTE unit(s)" == v.reasons[0].text
