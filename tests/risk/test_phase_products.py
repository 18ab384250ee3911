"""Account phase and products. ES entries: the 3010/3000 put spread on the REAL ES chain of
2020-01-06 (data/). MES entries: the same strikes on a MODELLED MES chain
(replay.model_chain, priced on the real ES 2020-03 future 3225.625 at 10:00 ET; the bundled
data holds no MES options)."""

from __future__ import annotations

import dataclasses

import pytest

from replay.model_chain import model_chain, strike_grid
from risk.gate import Gate, GateAction
from risk.phase_products import phase_reasons, traded_root
from strategies.futures_strangle import FuturesStrangle
from strategies.lt112 import Lt112
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
from thetacore.enums import Action, Right
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


# ----- issue 11: phase 1 trades micros instead of refusing; LT112 MES in phase 2, ES from 3 ------
@pytest.mark.parametrize(("strategy", "root", "expected"), [
    # phase:                          1      2      3     4
    ("futures_strangle", "ES", ("MES", "ES", "ES", "ES")),
    ("lt112", "ES", ("MES", "MES", "ES", "ES")),
    ("lt112", "SPY", ("SPY", "SPY", "SPY", "SPY")),
    ("zero_dte", "SPXW", ("SPXW", "SPXW", "SPXW", "SPXW")),
])
def test_traded_root_by_phase(strategy, root, expected):
    assert tuple(traded_root(strategy, root, phase, params()) for phase in (1, 2, 3, 4)) == expected


@pytest.mark.parametrize(("cash", "strangle_root", "lt112_root"), [
    ("39999", "MES", "MES"), ("40000", "ES", "MES"), ("54999", "ES", "MES"), ("55000", "ES", "ES")])
def test_strategies_subscribe_the_micro_their_starting_phase_allows(cash, strangle_root, lt112_root):
    """Thresholds 40,000 (phase 2) and 55,000 (phase 3) USD, the reference defaults."""
    p = params(starting_cash_usd=cash)
    assert FuturesStrangle(p).subscription().root == strangle_root
    assert Lt112(p).subscription().root == lt112_root


def test_when_lt112_on_es_asks_in_phase_2_then_refused_and_on_mes_approved(ctx, mes_ctx):
    es_spread, es_bp = put_spread(ctx, 3010, 3000)
    es_lt112 = dataclasses.replace(es_spread, strategy="lt112")
    v = Gate(params()).check(es_lt112, account(45_000), market(es_lt112, ctx, es_bp), NOW)
    assert v.codes == ("PHASE_PRODUCT",)
    assert v.reasons[0].text == "LT112 on ES needs phase 3 (MES before); account is phase 2 at NLV 45,000"
    mes, bp = _mes_spread(mes_ctx, strategy="lt112")
    v = Gate(params()).check(mes, account(45_000), market(mes, mes_ctx, bp), NOW)
    assert v.action is GateAction.APPROVE, v.reason_text
    assert phase_reasons("lt112", "ES", 55_000, params()) == []


def test_when_lt112_min_phase_is_1_then_lt112_on_mes_trades_in_phase_1(mes_ctx):
    mes, bp = _mes_spread(mes_ctx, strategy="lt112")
    v = Gate(params(lt112_min_phase="1")).check(mes, account(39_000), market(mes, mes_ctx, bp), NOW)
    assert v.action is GateAction.APPROVE, v.reason_text


def test_when_a_phase_1_strangle_runs_on_a_modelled_mes_chain_then_it_enters_mes_legs(mes_ctx):
    """Phase 1 (starting cash 30,000): the strangle trades MES options (multiplier 5 USD/pt)
    on the MODELLED MES chain instead of being refused."""
    from tests.conftest import RELAXED
    strat = FuturesStrangle(params(**RELAXED, starting_cash_usd="30000"))
    d = strat.entry_decision(mes_ctx)
    assert d.action is Action.ENTERED, d.reason_text
    assert {leg.symbol.split(" ")[0] for leg in d.intent.structure.legs} == {"MES202003"}
    assert d.intent.structure.multiplier_usd_per_pt == 5.0
    v = Gate(params()).check(d.intent, account(30_000), market(d.intent, mes_ctx, 1_000.0), NOW)
    assert "PHASE_PRODUCT" not in v.codes
