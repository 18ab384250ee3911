"""The futures strangle's take profit at exactly 50% of the credit (docs/strategy-rules.md,
"Futures strangle": "take profit at 50% of the credit"; the module: "cost to close at mid
<= half the credit"), and one tick either side (issue 8, item 8).

Quotes: the REAL ES option chain of 2020-01-06 10:00 ET (data/futureoption), read here
straight from the snapshot's bid/ask arrays:
    3000P 2020-03-20  bid 29.00  ask 29.25  -> mid 29.125
    3460C 2020-03-20  bid  3.30  ask  3.45  -> mid  3.375
    cost to close the short strangle at mid = 29.125 + 3.375 = 32.50 pts.
The position's credit is the fill the test reports (``on_filled``). One tick is 0.25 pts for
the 3000P (CME ES options: 0.25 at or above 5.00 premium) and 0.05 for a combo priced
below 5.00; the cases move the cost or the credit by one such tick.
"""

from __future__ import annotations

import dataclasses

import pytest

from strategies.base import MarketContext, PositionState
from strategies.futures_strangle import FuturesStrangle
from tests.conftest import ES_ENTRY_UTC, RELAXED
from thetacore.enums import Action, IntentPurpose
from thetacore.parameters import load_parameters

PUT, CALL = "ES202003 200320P03000000", "ES202003 200320C03460000"


@pytest.fixture()
def ctx(es_market) -> MarketContext:
    return es_market.context(ES_ENTRY_UTC)


def _hand_cost_to_close(ctx: MarketContext) -> float:
    chain = ctx.chain
    p, c = chain.index_of(PUT), chain.index_of(CALL)
    assert (chain.bid_pts[p], chain.ask_pts[p], chain.bid_pts[c], chain.ask_pts[c]) == (29.0, 29.25, 3.3, 3.45)
    return (29.0 + 29.25) / 2 + (3.3 + 3.45) / 2  # 29.125 + 3.375 = 32.50


def _opened(ctx: MarketContext, credit: float) -> tuple[FuturesStrangle, str]:
    strat = FuturesStrangle(load_parameters(RELAXED))
    d = strat.entry_decision(ctx)
    assert {leg.symbol for leg in d.intent.structure.legs} == {PUT, CALL}
    strat.on_filled(d.intent, -credit, ctx.time_utc)
    return strat, d.intent.position_id


def _put_shifted(ctx: MarketContext, by_pts: float) -> MarketContext:
    """The same chain with the 3000P bid and ask both moved by ``by_pts`` (its mid too)."""
    chain, i = ctx.chain, ctx.chain.index_of(PUT)
    bid, ask = chain.bid_pts.copy(), chain.ask_pts.copy()
    bid[i] += by_pts
    ask[i] += by_pts
    return dataclasses.replace(ctx, chain=dataclasses.replace(chain, bid_pts=bid, ask_pts=ask))


@pytest.mark.parametrize(("credit", "takes_profit", "captured"), [
    (65.00, True, "50%"),    # (65.00 - 32.50) / 65.00 = 32.50 / 65 = 0.5 exactly: take profit
    (64.95, False, None),    # (64.95 - 32.50) / 64.95 = 0.49961: not yet
    (65.05, True, "50%"),    # (65.05 - 32.50) / 65.05 = 0.50038: take profit
])
def test_take_profit_at_exactly_half_the_credit_by_the_credit_received(ctx, credit, takes_profit, captured):
    assert _hand_cost_to_close(ctx) == 32.5
    strat, pid = _opened(ctx, credit)
    out = strat.manage(ctx)
    if not takes_profit:
        assert out == [] and strat.positions[pid].state is PositionState.OPEN
        return
    [d] = out
    assert d.action is Action.EXITED and d.codes == ("TAKE_PROFIT",)
    assert d.reason_text == (f"TAKE_PROFIT: captured {captured} of the {credit:.2f} pt credit "
                             "(cost to close 32.50 pts) >= 50%")
    assert d.intent.purpose is IntentPurpose.CLOSE and d.intent.position_id == pid
    assert strat.positions[pid].state is PositionState.CLOSING


@pytest.mark.parametrize(("put_move", "takes_profit", "cost"), [
    (0.0, True, 32.50),     # 32.50 of a 65.00 credit: exactly half captured
    (+0.25, False, 32.75),  # one tick dearer: (65 - 32.75) / 65 = 0.49615
    (-0.25, True, 32.25),   # one tick cheaper: (65 - 32.25) / 65 = 0.50385
])
def test_take_profit_at_exactly_half_the_credit_by_the_cost_to_close(ctx, put_move, takes_profit, cost):
    strat, pid = _opened(ctx, 65.0)
    out = strat.manage(_put_shifted(ctx, put_move))
    assert [d.codes for d in out] == ([("TAKE_PROFIT",)] if takes_profit else [])
    if takes_profit:
        assert f"(cost to close {cost:.2f} pts)" in out[0].reason_text


def test_the_cost_to_close_is_the_mid_not_the_natural(ctx):
    """Credit 64.95: at mid (32.50) 49.96% is captured, no exit. At the natural (buying back
    at the asks 29.25 + 3.45 = 32.70) even less; at the bids (29.00 + 3.30 = 32.30) it would
    be (64.95 - 32.30) / 64.95 = 50.27%: a rule valued at the wrong side would fire."""
    strat, _ = _opened(ctx, 64.95)
    assert strat.manage(ctx) == []
