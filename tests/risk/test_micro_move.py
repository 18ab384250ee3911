"""A one-contract ES entry under the drawdown halve step moves to MES (issue 11; docs/strategy-
rules.md, "Loss limits and drawdown": "a one-contract entry moves to the micro product").

The MES chain here is CONSTRUCTED: the REAL ES chain of 2020-01-06 10:00 ET relabelled (``M``
before each symbol and future), root MES, 5 USD per point (CME: MES options 5 USD/pt, ES 50):
MES options on the same index trade at the same premiums in points. MES's exchange margin is
the REAL row of data/future/cme/margins/MES.csv in force on 2020-01-06 (2019-11-15: 693 USD).

Entry: the REAL ES 3010/3000 put credit spread of 2020-03-20 (tests/risk/gate_builders.py),
1 unit, limit -1.25 (a 1.25 credit): max loss (10 - 1.25) x 50 = 437.50 USD per ES unit,
(10 - 1.25) x 5 = 43.75 USD per MES unit. NLV 90,000 after a 100,000 peak: drawdown 10.0%,
the halve step holds.

Sizes by hand: 1 ES halves to floor(1 / 2) = 0 -> refused ``DRAWDOWN_HALVE_MICRO``. Moved:
1 x 50 / 5 = 10 MES asked. With GOOD_STATS (f* = 0.55): Kelly 0.25 x 0.55 x 90,000 = 12,375
USD / 43.75 = 282 units; the 2% target 1,800 / 43.75 = 41 units; min(10, 282, 41) = 10,
halved: floor(10 / 2) = 5 MES = round(1 x 10 x 0.5). Risk 5 x 43.75 = 218.75 USD = half of
437.50. Without a trade record (Kelly's one unit before 20 trades): one ES unit = 10 MES,
halved to 5 (one MES unit would halve to 0).
"""

from __future__ import annotations

import dataclasses
import math
from datetime import date

import numpy as np
import pytest

from risk.gate import Gate, GateAction
from risk.gate_session import GateSession, _Stats
from risk.micro_move import review_on_micro
from tests.risk.gate_builders import ES_VIX, ES_VIX_PREV, GOOD_STATS, at_et, es_strangle, params, put_spread
from thetacore.decisions import Decision
from thetacore.enums import Action

PEAK_DAY = date(2019, 12, 2)  # the peak a month earlier: no day/week/month loss limit trips
MES_MARGIN_USD = 693.0


def _mes(es):
    return dataclasses.replace(
        es, root="MES", multiplier_usd_per_pt=5.0,
        symbol=np.array(["M" + str(s) for s in es.symbol], dtype=object),
        underlying_symbol=np.array(["M" + str(s) for s in es.underlying_symbol], dtype=object))


def _session(with_stats: bool) -> GateSession:
    session = GateSession(params(), Gate(params()))
    session.on_nlv(100_000, at_et(PEAK_DAY))
    session.on_nlv(90_000, at_et(date(2020, 1, 6), 9, 45))  # -10.0%: the halve step
    assert set(session.gate.state.tripped) == {"drawdown_halve"}
    if with_stats:
        wins, losses, avg_win, avg_loss = GOOD_STATS
        session.stats["put_spread"] = _Stats(wins, losses, wins * avg_win, losses * avg_loss)
    return session


def _review(session: GateSession, ctx, micro_chain):
    spread, _ = put_spread(ctx, 3010, 3000, quantity=1)
    ctx = dataclasses.replace(ctx, vix_level=ES_VIX, nlv_usd=90_000.0)
    decision = Decision(ctx.time_utc, spread.strategy, Action.ENTERED, (), spread)
    verdict = session.review(decision, ctx, vix_prev_close=ES_VIX_PREV, now_utc=ctx.time_utc)
    moved = review_on_micro(session, decision, verdict, ctx, micro_chain, micro_margin_usd=MES_MARGIN_USD,
                            vix_prev_close=ES_VIX_PREV, now_utc=ctx.time_utc)
    return spread, verdict, moved


@pytest.mark.parametrize("with_stats", [True, False])
def test_a_one_lot_es_spread_under_the_halve_step_enters_five_mes(ctx, with_stats):
    session = _session(with_stats)
    spread, verdict, moved = _review(session, ctx, _mes(ctx.chain))
    assert (verdict.action, verdict.codes) == (GateAction.REFUSE, ("DRAWDOWN_HALVE_MICRO",))
    assert moved is not None
    decision, v = moved
    assert decision.intent.quantity == 10 and decision.intent.structure.multiplier_usd_per_pt == 5.0
    assert [leg.symbol for leg in decision.intent.structure.legs] == ["M" + leg.symbol for leg in spread.structure.legs]
    assert decision.intent.position_id == spread.position_id and decision.intent.limit_pts == spread.limit_pts
    assert (v.action, v.quantity) == (GateAction.RESIZE, 5)
    assert v.reasons[-1].code == "DRAWDOWN_HALVE"
    assert v.reasons[-1].text == "drawdown step halves new sizes: 10 -> 5 unit(s)"
    record = session.records[spread.position_id]
    assert (record.units, record.structure) == (5, decision.intent.structure)
    assert record.position.root == "MES"
    assert record.position.risk_usd == pytest.approx(5 * (10 - 1.25) * 5)  # 218.75 = 437.50 / 2
    assert record.position.risk_usd == pytest.approx(437.50 / 2)


def test_without_the_micro_chain_or_a_leg_on_it_the_refusal_stands(ctx):
    session = _session(True)
    _, verdict, moved = _review(session, ctx, None)
    assert moved is None and verdict.codes == ("DRAWDOWN_HALVE_MICRO",)
    mes = _mes(ctx.chain)
    _, _, moved = _review(_session(True), ctx, mes.select(np.flatnonzero(mes.strike_pts != 3000)))
    assert moved is None
    assert session.records == {}


def test_a_two_lot_is_halved_on_es_and_never_moved(ctx):
    session = _session(True)
    spread, _ = put_spread(ctx, 3010, 3000, quantity=2)
    c = dataclasses.replace(ctx, vix_level=ES_VIX, nlv_usd=90_000.0)
    decision = Decision(c.time_utc, spread.strategy, Action.ENTERED, (), spread)
    verdict = session.review(decision, c, vix_prev_close=ES_VIX_PREV, now_utc=c.time_utc)
    assert (verdict.action, verdict.quantity) == (GateAction.RESIZE, 1)
    assert review_on_micro(session, decision, verdict, c, _mes(ctx.chain), micro_margin_usd=MES_MARGIN_USD,
                           vix_prev_close=ES_VIX_PREV, now_utc=c.time_utc) is None
    assert not math.isnan(session.records[spread.position_id].bp_usd)


def test_a_one_lot_es_strangle_moves_to_mes_and_every_limit_is_checked_on_the_micro(ctx):
    """The strategy's ES strangle (-1 3000P / -1 3460C 2020-03-20, limit -32.40): SPAN-like
    buying power 4,838.44 USD per ES unit (gate_builders; scan 6930 / (50 x 3225.625) =
    4.297%); on MES the scan is 693 / (5 x 3225.625) = the same 4.297%, so each MES unit needs a
    tenth: 483.844 USD. Peak 110,000, NLV 99,000 (-10%): ES 1 unit passes the 5% hard cap
    (4,950) above the 2% target (1,980), halves to 0 -> moved: 10 MES asked; the 2% target
    caps it at floor(1,980 / 483.844) = 4 (Kelly 0.25 x 0.55 x 99,000 / 483.844 = 28); halved:
    2 MES, 967.69 USD of buying power (not 5: the micro's own per-trade target binds)."""
    strangle, bp_es = es_strangle(ctx)
    assert bp_es == pytest.approx(4_838.44, abs=0.01)
    session = GateSession(params(), Gate(params()))
    session.on_nlv(110_000, at_et(PEAK_DAY))
    session.on_nlv(99_000, at_et(date(2020, 1, 6), 9, 45))
    wins, losses, avg_win, avg_loss = GOOD_STATS
    session.stats[strangle.strategy] = _Stats(wins, losses, wins * avg_win, losses * avg_loss)
    c = dataclasses.replace(ctx, vix_level=ES_VIX, nlv_usd=99_000.0)
    decision = Decision(c.time_utc, strangle.strategy, Action.ENTERED, (), strangle)
    verdict = session.review(decision, c, vix_prev_close=ES_VIX_PREV, now_utc=c.time_utc)
    assert (verdict.action, verdict.codes) == (GateAction.REFUSE, ("DRAWDOWN_HALVE_MICRO",))
    moved = review_on_micro(session, decision, verdict, c, _mes(ctx.chain), micro_margin_usd=MES_MARGIN_USD,
                            vix_prev_close=ES_VIX_PREV, now_utc=c.time_utc)
    assert moved is not None
    _, v = moved
    assert (v.action, v.quantity) == (GateAction.RESIZE, 2)
    assert [r.code for r in v.reasons] == ["TRADE_RISK", "DRAWDOWN_HALVE"]
    assert session.records[strangle.position_id].bp_usd == pytest.approx(2 * 4_838.44 / 10, abs=0.01)
