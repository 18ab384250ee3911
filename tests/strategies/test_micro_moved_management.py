"""A position the risk gate moved to MES under the drawdown halve step (issue 11;
docs/strategy-rules.md, "Loss limits and drawdown"; risk/micro_move.py) is managed from the
MES chain the host gives next to ES (:meth:`strategies.base.MarketContext.chain_for`).

LT112 on the REAL ES chain of 2020-01-06 10:00 ET (as test_lt112_take_profit_boundary.py:
1 x 3000P / -1 x 2950P / -2 x 2900P of 2020-06-19, naked credit 49.00 pts); the MES chain is
CONSTRUCTED: the same quotes relabelled (``M`` before each symbol), 5 USD per point (CME: MES
options 5 USD/pt). Moved: 1 ES -> 5 MES. The MES 2900P re-quoted 4.85 / 4.95 (mid 4.90):
captured (49.00 - 4.90) / 49.00 = 90% -> the naked puts are bought back on MES: 2 x 5 = 10
contracts of the MES 2900P, 5 USD per point.
"""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

from risk.micro_move import micro_intent
from strategies.base import LazyChainContext, MarketContext
from strategies.lt112 import Lt112
from tests.conftest import ES_ENTRY_UTC
from tests.strategies.lt112_world import PARAMS, lazy_context, requoted
from thetacore.chain import ChainSnapshot
from thetacore.enums import Action
from thetacore.parameters import load_parameters

NAKED_MES = "MES202006 200619P02900000"


@pytest.fixture()
def ctx(es_market) -> MarketContext:
    return es_market.context(ES_ENTRY_UTC)


def _mes(es: ChainSnapshot, bid: float, ask: float) -> ChainSnapshot:
    mes = dataclasses.replace(
        es, root="MES", multiplier_usd_per_pt=5.0,
        symbol=np.array(["M" + str(s) for s in es.symbol], dtype=object),
        underlying_symbol=np.array(["M" + str(s) for s in es.underlying_symbol], dtype=object))
    return requoted(mes, NAKED_MES, bid, ask)


def _with_micro(ctx: MarketContext, micro: ChainSnapshot | None) -> LazyChainContext:
    return lazy_context(ctx, lambda: (ctx.chain, "", ctx.underlying_pts), micro_load=lambda: micro)


def test_an_lt112_moved_to_mes_buys_its_naked_puts_back_on_mes(ctx):
    strat = Lt112(load_parameters(PARAMS))
    d = strat.entry_decision(ctx)
    assert d.action is Action.ENTERED, d.reason_text
    mes = _mes(ctx.chain, 4.85, 4.95)
    moved = micro_intent(d.intent, mes)
    assert moved is not None and moved.quantity == 10
    strat.on_moved(d.intent, moved, 5)  # the gate halved 10 MES to 5
    pid = d.intent.position_id
    pos = strat.positions[pid]
    assert (pos.quantity, pos.structure.multiplier_usd_per_pt) == (5, 5.0)
    assert strat.naked[pid].leg.symbol == NAKED_MES and strat.naked[pid].credit_pts == 49.0
    strat.on_filled(dataclasses.replace(moved, quantity=5), d.intent.limit_pts, ctx.time_utc)

    [out] = strat.manage(_with_micro(ctx, mes))

    assert out.action is Action.EXITED and out.codes == ("NAKED_TAKE_PROFIT",)
    assert "captured 90% of their 49.00 pt credit (cost to close 4.90 pts)" in out.reason_text
    [leg] = out.intent.structure.legs
    assert (leg.symbol, out.intent.quantity, out.intent.structure.multiplier_usd_per_pt) == (NAKED_MES, 10, 5.0)


def test_without_the_micro_chain_the_moved_position_cannot_be_valued_and_nothing_is_sent(ctx):
    strat = Lt112(load_parameters(PARAMS))
    d = strat.entry_decision(ctx)
    moved = micro_intent(d.intent, _mes(ctx.chain, 4.85, 4.95))
    strat.on_moved(d.intent, moved, 5)
    strat.on_filled(dataclasses.replace(moved, quantity=5), d.intent.limit_pts, ctx.time_utc)

    out = strat.manage(_with_micro(ctx, None))

    assert all(o.intent is None for o in out) and {o.codes[0] for o in out} == {"NO_QUOTES"}
