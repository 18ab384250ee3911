"""LT112's naked puts are bought back at exactly 90% of their credit (docs/strategy-rules.md,
"LT112": "close the naked puts at 90% of their credit; keep the debit spread as the hedge"),
and not one tick before (issue 8, item 8).

Entry: the REAL ES option chain of 2020-01-06 10:00 ET (data/futureoption) with the naked
puts 10% below the June future (the bundled June chain does not reach 12%), so the
position is 1 x 3000P / -1 x 2950P / -2 x 2900P of 2020-06-19. The naked puts' credit is
their mid at entry, read here from the snapshot: 2900P bid 48.75, ask 49.25 -> 49.00.

Management: the same real chain with the 2900P re-quoted (a test input: a later market
after a rally) so that its mid, the cost to buy one back, sits at the boundary:
    captured = (49.00 - cost) / 49.00;  cost 4.90 -> 44.10 / 49 = 0.90 exactly.
One tick either side (CME ES options: 0.05 below 5.00 premium): cost 4.95 -> 0.89898,
not yet; cost 4.85 -> 0.90102, buy back. With no bid, the cost is the ask (the only price).
"""

from __future__ import annotations

import dataclasses

import pytest

from strategies.base import MarketContext, PositionState
from strategies.lt112 import Lt112
from tests.conftest import ES_ENTRY_UTC
from tests.strategies.lt112_world import NAKED, PARAMS, requoted
from thetacore.enums import Action, IntentPurpose, Right
from thetacore.parameters import load_parameters
from thetacore.structures import StructureKind


@pytest.fixture()
def ctx(es_market) -> MarketContext:
    return es_market.context(ES_ENTRY_UTC)


def _opened(ctx: MarketContext) -> tuple[Lt112, str]:
    strat = Lt112(load_parameters(PARAMS))
    d = strat.entry_decision(ctx)
    assert d.action is Action.ENTERED, d.reason_text
    legs = [(leg.strike_pts, leg.ratio) for leg in d.intent.structure.legs]
    assert legs == [(3000.0, 1), (2950.0, -1), (2900.0, -2)]
    i = ctx.chain.index_of(NAKED)
    assert (ctx.chain.bid_pts[i], ctx.chain.ask_pts[i]) == (48.75, 49.25)
    strat.on_filled(d.intent, d.intent.limit_pts, ctx.time_utc)
    pid = d.intent.position_id
    assert strat.naked[pid].credit_pts == (48.75 + 49.25) / 2 == 49.0
    return strat, pid


def _naked_quoted(ctx: MarketContext, bid: float, ask: float) -> MarketContext:
    return dataclasses.replace(ctx, chain=requoted(ctx.chain, NAKED, bid, ask))


@pytest.mark.parametrize(("bid", "ask", "buys_back", "text"), [
    (4.85, 4.95, True, "captured 90% of their 49.00 pt credit (cost to close 4.90 pts)"),   # exactly 0.90
    (4.90, 5.00, False, ""),                                                               # mid 4.95: 0.89898
    (4.80, 4.90, True, "captured 90% of their 49.00 pt credit (cost to close 4.85 pts)"),   # mid 4.85: 0.90102
])
def test_naked_puts_bought_back_at_exactly_90pct_of_their_credit(ctx, bid, ask, buys_back, text):
    strat, pid = _opened(ctx)
    out = strat.manage(_naked_quoted(ctx, bid, ask))
    pos = strat.positions[pid]
    if not buys_back:
        assert out == [] and pos.state is PositionState.OPEN and len(pos.structure.legs) == 3
        return
    [d] = out
    assert d.action is Action.EXITED and d.codes == ("NAKED_TAKE_PROFIT",)
    assert d.reason_text == (f"NAKED_TAKE_PROFIT: naked 2 x 2900P {text} >= 90%; the debit spread "
                             "stays as the hedge")
    intent = d.intent
    assert intent.purpose is IntentPurpose.CLOSE and intent.quantity == 2  # 2 naked x 1 unit
    [leg] = intent.structure.legs
    assert (intent.structure.kind, leg.symbol, leg.right, leg.ratio) == (StructureKind.SINGLE, NAKED, Right.PUT, 1)
    # limit: mid + 0.3 x (ask - mid) = mid + 0.015, up to the 0.05 tick, never beyond the ask
    assert intent.limit_pts == ask
    assert pos.state is PositionState.CLOSING


@pytest.mark.parametrize(("ask", "buys_back"), [(4.90, True), (4.95, False)])
def test_with_no_bid_the_cost_is_the_ask_at_the_same_boundary(ctx, ask, buys_back):
    """No bid (a far out-of-the-money put): the ask is the cost. Ask 4.90 -> 44.10 / 49 =
    0.90, buy back at a limit of the ask; ask 4.95 -> 0.89898, hold."""
    strat, _ = _opened(ctx)
    out = strat.manage(_naked_quoted(ctx, 0.0, ask))
    assert [d.codes for d in out] == ([("NAKED_TAKE_PROFIT",)] if buys_back else [])
    if buys_back:
        assert out[0].intent.limit_pts == 4.90
        assert "(cost to close 4.90 pts)" in out[0].reason_text
