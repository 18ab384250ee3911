"""Futures-option strangle on the REAL ES option chain of 2020-01-06 (data/futureoption)."""

from __future__ import annotations

import dataclasses
from datetime import UTC, date, datetime, timedelta

import numpy as np
import pytest

from strategies.base import MarketContext, PositionState, StrategyPosition
from strategies.entry_calendar import nth_weekday
from strategies.futures_strangle import FuturesStrangle
from tests.conftest import ES_ENTRY_UTC, RELAXED
from tests.strategies.hand_margin import span_like_pts
from thetacore.chain_greeks import with_greeks
from thetacore.enums import Action, IntentPurpose, Right
from thetacore.parameters import load_parameters
from thetacore.pricing import PricingModel
from thetacore.products import product


@pytest.fixture()
def ctx(es_market) -> MarketContext:
    return es_market.context(ES_ENTRY_UTC)


def test_when_defaults_on_a_monday_then_declined_with_every_reason_and_its_numbers(ctx):
    d = FuturesStrangle(load_parameters({})).entry_decision(ctx)
    assert d.action is Action.DECLINED and d.intent is None
    assert d.codes == ("NOT_ENTRY_DAY", "NO_EXPIRY_IN_WINDOW", "IV_RANK_UNAVAILABLE",
                       "CONSOLIDATION_UNAVAILABLE", "NO_PUT_IN_BAND")
    text = d.reason_text
    assert "2020-01-06 is the 1st Monday; entry on the 2nd Tuesday (next 2020-01-14)" in text
    assert "nearest 2020-03-20 at 74 DTE" in text
    assert "no put within 0.05-0.07 delta; nearest 3000 at 0.19 delta" in text


def _brute_force_nearest(chain, expiry, right, target, lo, hi):
    """Independent selection: loop over contracts, no shared helper."""
    best = None
    for i in range(len(chain)):
        if chain.expiry[i] != np.datetime64(expiry) or chain.right[i] != int(right):
            continue
        ad = abs(chain.delta[i])
        if lo <= ad <= hi and (best is None or abs(ad - target) < abs(abs(chain.delta[best]) - target)):
            best = i
    return float(chain.strike_pts[best])


def test_when_relaxed_then_one_strangle_at_the_strikes_nearest_the_target_deltas(ctx):
    p = load_parameters(RELAXED)
    d = FuturesStrangle(p).entry_decision(ctx)
    assert d.action is Action.ENTERED, d.reason_text
    legs = d.intent.structure.legs
    assert [(leg.right, leg.ratio) for leg in legs] == [(Right.PUT, -1), (Right.CALL, -1)]
    assert {leg.expiry for leg in legs} == {date(2020, 3, 20)}
    prod = product("ES")
    chain = with_greeks(ctx.chain, model=PricingModel.BLACK_76, rate_frac=ctx.rate_frac, yield_frac=0.0,
                        expiry_time_et=prod.expiry_time_et)
    put_k = _brute_force_nearest(chain, "2020-03-20", Right.PUT, 0.06, 0.05, 0.25)
    call_k = _brute_force_nearest(chain, "2020-03-20", Right.CALL, 0.055, 0.05, 0.06)
    assert (legs[0].strike_pts, legs[1].strike_pts) == (put_k, call_k) == (3000.0, 3460.0)
    # mid -32.50, natural -32.30 (bids 29.00 + 3.30): raw limit -32.44, rounded up (toward
    # the natural) to the 0.05 tick the 3.30-3.45 call allows (CME: 0.05 below 5.00 premium)
    assert d.details["net_mid_pts"] == pytest.approx(-32.5)
    assert d.details["net_natural_pts"] == pytest.approx(-32.3)
    assert d.intent.limit_pts == pytest.approx(-32.4)
    assert d.intent.quantity == 1 and d.intent.purpose is IntentPurpose.OPEN
    # buying power by hand (tests/strategies/hand_margin.py, the SPAN-like rule of issue 11):
    # the day's scan range is ES's initial margin 6,930 USD (data/future/cme/margins/ES.csv,
    # row 2019-11-15) / (50 x the front future's mid 3225.625) = 4.297%; each leg at the
    # Black-76 IV of its mid (3000P 29.125, 3460C 3.375) +/- 4 vol points, rate 2.25%, 74 days
    # less 1.5 hours to 09:30 ET on 2020-03-20: the worst of the 16 scenarios is 56.43 pts;
    # the short-option minimum, 2 uncovered shorts x 1.5% x 3225.625 = 96.77 pts, is larger
    # -> 4,838.44 USD (the old fixed-IV 7% scan gave 3,466.64)
    t = (datetime(2020, 3, 20, 13, 30, tzinfo=UTC) - ES_ENTRY_UTC).total_seconds() / (365 * 86400)
    scan = 6930 / (50 * 3225.625)
    assert d.details["futures_scan_range_frac"] == pytest.approx(scan, abs=1e-6)
    risk, minimum = span_like_pts([(3000.0, False, -1, 29.125), (3460.0, True, -1, 3.375)], 3225.625, t,
                                  ctx.rate_frac, scan, 0.04, 0.015)
    assert (round(risk, 2), round(minimum, 2)) == (56.43, 96.77)
    assert d.details["buying_power_usd"] == pytest.approx(max(risk, minimum) * 50, abs=0.01)
    assert d.details["buying_power_usd"] == 4_838.44


def test_when_second_tuesday_then_the_day_rule_passes(ctx):
    tuesday = nth_weekday(2020, 1, 1, 2)
    assert tuesday == date(2020, 1, 14)
    strat = FuturesStrangle(load_parameters({}))
    d = strat.entry_decision(dataclasses.replace(ctx, today_et=tuesday, chain=None, chain_problem="test"))
    assert d.codes == ("NO_CHAIN",)
    d = strat.entry_decision(dataclasses.replace(ctx, today_et=tuesday + timedelta(days=7), chain=None))
    assert d.codes[0] == "NOT_ENTRY_DAY" and "3rd Tuesday" in d.reason_text


@pytest.mark.parametrize("spoil", ["zero_bid", "crossed", "missing_ask"])
def test_when_the_nearest_contract_has_a_bad_quote_then_it_is_never_chosen(ctx, spoil):
    """A zero bid, crossed or one-sided quote gives no mid, so no IV and no delta: the
    contract cannot be selected and the next-nearest strike in the band is used instead."""
    call = ctx.chain.index_of("ES202003 200320C03460000")
    bid, ask = ctx.chain.bid_pts.copy(), ctx.chain.ask_pts.copy()
    if spoil == "zero_bid":
        bid[call] = 0.0
    elif spoil == "crossed":
        ask[call] = bid[call] - 0.25
    else:
        ask[call] = np.nan
    bad = dataclasses.replace(ctx, chain=dataclasses.replace(ctx.chain, bid_pts=bid, ask_pts=ask))
    d = FuturesStrangle(load_parameters(RELAXED)).entry_decision(bad)
    assert d.action is Action.ENTERED
    assert "ES202003 200320C03460000" not in {leg.symbol for leg in d.intent.structure.legs}
    assert d.details["call_strike_pts"] == 3470.0


def test_when_every_call_quote_is_bad_then_declined_with_a_reason(ctx):
    calls = ctx.chain.right == int(Right.CALL)
    bid = np.where(calls, 0.0, ctx.chain.bid_pts)
    bad = dataclasses.replace(ctx, chain=dataclasses.replace(ctx.chain, bid_pts=bid))
    d = FuturesStrangle(load_parameters(RELAXED)).entry_decision(bad)
    assert d.action is Action.DECLINED and d.codes == ("NO_CALL_DELTA",)


def _open(strat, ctx, credit):
    d = strat.entry_decision(ctx)
    strat.on_filled(d.intent, -credit, ctx.time_utc)
    return strat.positions[d.intent.position_id]


def test_when_half_the_credit_is_captured_then_take_profit_closes_at_a_debit(ctx):
    strat = FuturesStrangle(load_parameters(RELAXED))
    pos = _open(strat, ctx, credit=70.0)  # cost to close at mid is 32.50: 54% captured
    [d] = strat.manage(ctx)
    assert d.action is Action.EXITED and d.codes == ("TAKE_PROFIT",)
    assert d.intent.purpose is IntentPurpose.CLOSE
    assert [leg.ratio for leg in d.intent.structure.legs] == [1, 1]
    assert d.intent.limit_pts > 0 and pos.state is PositionState.CLOSING
    assert "captured 54%" in d.reason_text


def test_when_credit_not_yet_half_captured_then_nothing_happens(ctx):
    strat = FuturesStrangle(load_parameters(RELAXED))
    _open(strat, ctx, credit=60.0)  # 32.50 / 60: 46% captured
    assert strat.manage(ctx) == []


def test_when_21_dte_reached_then_the_position_closes_whatever_its_pnl(ctx):
    strat = FuturesStrangle(load_parameters(RELAXED))
    pos = _open(strat, ctx, credit=10.0)  # a loser
    later = dataclasses.replace(ctx, today_et=date(2020, 2, 28))  # 21 DTE to 2020-03-20
    [d] = strat.manage(later)
    assert d.codes == ("DTE_EXIT",) and "21 DTE <= 21" in d.reason_text
    strat.on_unfilled(d.intent, "timeout")
    assert pos.state is PositionState.OPEN  # a failed close goes back to open and is retried


def test_when_no_chain_then_management_holds_and_says_why(ctx):
    strat = FuturesStrangle(load_parameters(RELAXED))
    _open(strat, ctx, credit=70.0)
    [d] = strat.manage(dataclasses.replace(ctx, chain=None, chain_problem="feed down"))
    assert d.action is Action.HELD and d.codes == ("NO_QUOTES",) and "feed down" in d.reason_text


def test_position_book_keeping_uses_lean_signs():
    pos = StrategyPosition("x", None, 1, PositionState.OPEN, entry_net_pts=-12.5)  # type: ignore[arg-type]
    assert pos.credit_pts == 12.5
