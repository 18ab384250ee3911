"""LEAP put ladder (strategies.leap_puts).

* REAL chains: the SPX universe files of 2015-12-22 and 2015-12-23 (``universe_chains``: the
  daily close is the only price, bid = ask = close). They carry no underlying row and
  ``index/usa/daily/spx.zip`` starts in 2021, so the index level is put-call parity at the
  nearest expiry (2016-01-15, 24 DTE: 2038.41; the index closed at 2038.97), and the dividend
  yield is the one parity implies at the rung's own expiry. SPX options are European
  (Black-Scholes is exact for them); the strategy prices with its SPY facts (PM expiry at 16:00
  instead of SPX's AM settlement, 6.5 hours in two years) and equity Reg-T margin.
* MODELLED chains: ``replay.model_chain`` with the "SPY" facts (18% ATM IV, skew 2), driven by
  the REAL SPY daily closes of 2019-2020 (``equity/usa/daily/spy.zip``).
"""

from __future__ import annotations

import dataclasses
from datetime import date, time, timedelta

import numpy as np
import pytest

from strategies.base import MarketContext, PositionState
from strategies.leap_puts import LeapPuts
from tests.strategies.universe_chains import (
    close_instant_utc,
    parity_spot_pts,
    rate_on,
    read_chain,
    spy_model_context,
)
from thetacore.enums import Action, ExerciseStyle, IntentPurpose, Right, Settlement
from thetacore.parameters import load_parameters
from thetacore.pricing import time_to_expiry_years

TEN = time(10, 0)
WEEKLY_LEAPS = [date(2020, 1, 3) + timedelta(weeks=i) for i in range(80)]  # Fridays 2020-01-03..2021-07-09
SUMMER_2020 = [date(2020, 4, 3) + timedelta(weeks=i) for i in range(27)]  # the ladder's window, 2019 Mondays
LADDER_STRIKES = np.arange(150.0, 351.0)
MONTHLY_LEAPS = [date(2020, 4, 17), date(2020, 5, 15), date(2020, 6, 19), date(2020, 7, 17), date(2020, 9, 18)]
ANY_DAY = {"leap_put_weekday": "-1"}


# ----- REAL SPX chains --------------------------------------------------------------------------
def _spx(day: date, rung_expiry: date) -> tuple[MarketContext, float]:
    """REAL SPX chain at the close of ``day``, with spot and yield from put-call parity."""
    u, _ = read_chain(f"indexoption/usa/universes/spx/{day:%Y%m%d}.csv", root="SPX", multiplier_usd_per_pt=100.0,
                      style=ExerciseStyle.EUROPEAN, settlement=Settlement.CASH, underlying_pts=1.0)
    rate = rate_on(day)
    spot = parity_spot_pts(u, date(2016, 1, 15), rate)
    t = float(time_to_expiry_years(np.datetime64(rung_expiry), close_instant_utc(day), time(16, 0)))
    yield_frac = float(np.log(spot / parity_spot_pts(u, rung_expiry, rate)) / t)
    _, chain = read_chain(f"indexoption/usa/universes/spx/{day:%Y%m%d}.csv", root="SPX", multiplier_usd_per_pt=100.0,
                          style=ExerciseStyle.EUROPEAN, settlement=Settlement.CASH, underlying_pts=spot)
    return MarketContext(time_utc=close_instant_utc(day), today_et=day, chain=chain, rate_frac=rate,
                         underlying_pts=spot), yield_frac


@pytest.mark.parametrize(("day", "spot", "nearest"), [
    (date(2015, 12, 22), 2038.41, "at 2016-12-16; nearest 1000 at 0.02 delta"),
    (date(2015, 12, 23), 2060.32, "at 2016-12-16; nearest 1225 at 0.04 delta"),
])
def test_when_the_real_spx_year_out_lists_no_12_14_delta_put_then_declined_with_the_nearest(day, spot, nearest):
    """The files list a handful of puts per far expiry; 2016-12-16 (360/359 DTE, nearest 365 in
    300-430) has none between 0.12 and 0.14 delta by the deltas computed from the closes."""
    ctx, q = _spx(day, date(2017, 1, 20))
    assert ctx.underlying_pts == pytest.approx(spot, abs=0.01)
    assert q == pytest.approx(0.021, abs=0.001)  # the S&P 500 yielded about 2.1% in 2015
    d = LeapPuts(load_parameters({}), dividend_yield_frac=q).rung_decision(ctx)
    assert d.codes == ("NOT_RUNG_DAY", "NO_PUT_IN_BAND"), d.reason_text
    assert f"{day.isoformat()} is a {day:%A}; rungs are sold on weekday 0" in d.reason_text
    assert nearest in d.reason_text and d.details["expiry"] == "2016-12-16"


def test_when_the_window_is_moved_to_the_real_two_year_expiry_then_the_1450_put_is_sold_at_0_139_delta():
    """2017-12-15 (724 DTE) lists 1450P at a close of 63.90; with the 1.86% yield parity implies
    at that expiry its delta is 0.139. The window is moved only because the one-year expiries
    of this sample hold no put in the band (previous test)."""
    ctx, q = _spx(date(2015, 12, 22), date(2017, 12, 15))
    assert q == pytest.approx(0.0186, abs=1e-4)
    p = load_parameters({**ANY_DAY, "leap_put_dte_target": "720", "leap_put_dte_min": "700",
                         "leap_put_dte_max": "730"})
    d = LeapPuts(p, dividend_yield_frac=q).rung_decision(ctx)
    assert d.action is Action.ENTERED, d.reason_text
    [leg] = d.intent.structure.legs
    assert (leg.right, leg.strike_pts, leg.expiry, leg.ratio) == (Right.PUT, 1450.0, date(2017, 12, 15), -1)
    assert d.details["put_abs_delta"] == pytest.approx(0.139, abs=5e-4)
    assert d.intent.limit_pts == pytest.approx(-63.90)  # a credit: bid = ask = close
    # Reg-T naked equity put: 63.90 + max(20% x 2038.41 - 588.41 OTM, 10% x 1450) = 208.90 pts
    assert d.details["buying_power_usd"] == pytest.approx(20_890.0)


# ----- MODELLED ladder on the REAL SPY path ---------------------------------------------------------
def _ctx(day: date, clock: time = TEN, expiries: list[date] = WEEKLY_LEAPS, **kw) -> MarketContext:
    return spy_model_context(day, clock, expiries, weeks=0, **kw)


def _fill(strat: LeapPuts, decisions, ctx: MarketContext) -> None:
    for d in decisions:
        if d.intent is not None:
            strat.on_filled(d.intent, d.intent.limit_pts, ctx.time_utc)


def test_lifecycle_when_mondays_pass_then_rungs_are_sold_up_to_ten_and_profits_taken_at_30_pct():
    strat = LeapPuts(load_parameters({}))
    mondays = [date(2019, 6, 3) + timedelta(weeks=i) for i in range(12)]
    sold, taken = [], []
    for day in mondays:
        before = _ctx(day, time(9, 45), SUMMER_2020, strikes_pts=LADDER_STRIKES)
        exits = strat.manage(before)
        taken += [d.reason_text for d in exits]
        _fill(strat, exits, before)
        ctx = _ctx(day, TEN, SUMMER_2020, strikes_pts=LADDER_STRIKES)
        d = strat.rung_decision(ctx)
        if d.action is Action.ENTERED:
            [leg] = d.intent.structure.legs
            assert (leg.right, leg.ratio) == (Right.PUT, -1) and d.intent.limit_pts < 0  # sold, never bought
            assert 0.12 <= d.details["put_abs_delta"] <= 0.14 and 300 <= d.details["dte_days"] <= 430
            sold.append((day, leg.strike_pts, leg.expiry))
            _fill(strat, [d], ctx)
        else:
            assert d.codes == ("MAX_RUNGS",) and "10 rungs open or pending >= 10" in d.reason_text
    assert sold[0] == (date(2019, 6, 3), 212.0, date(2020, 6, 5))  # SPY 274.57: 212P at 0.129 delta, 368 DTE
    assert len(taken) == 1 and "TAKE_PROFIT: captured 34% of the 5.64 pt credit" in taken[0]  # 2019-07-15, 300.75
    assert len(sold) == 11 and len(strat.open_positions()) == 10  # 11 sold, 1 taken off, then full
    last = _ctx(mondays[-1] + timedelta(weeks=1), TEN, SUMMER_2020, strikes_pts=LADDER_STRIKES)
    assert strat.rung_decision(last).codes == ("MAX_RUNGS",)


def test_when_a_second_rung_is_asked_the_same_week_then_declined():
    strat = LeapPuts(load_parameters(ANY_DAY))
    ctx = _ctx(date(2019, 6, 3))
    _fill(strat, [strat.rung_decision(ctx)], ctx)
    d = strat.rung_decision(_ctx(date(2019, 6, 5)))
    assert d.codes == ("ALREADY_THIS_WEEK",) and "ISO week 2019-W23" in d.reason_text


# FOMC announcement dates (federalreserve.gov, 2019-2020 calendars)
FOMC = (date(2019, 6, 19), date(2019, 7, 31), date(2019, 9, 18), date(2019, 10, 30), date(2019, 12, 11),
        date(2020, 1, 29), date(2020, 4, 29), date(2020, 6, 10))


def test_when_mondays_pass_with_fomc_dates_and_monthly_leaps_then_ten_rungs_share_expiries():
    """Issue 11: rungs may share an expiry, events later in a rung's year do not block it, and
    the ladder counts as ONE bullish program. MODELLED chains listing monthly LEAPs only, on
    the REAL SPY path, every FOMC date of the year in the events. Hand arithmetic: the expiry
    nearest 365 DTE in 300-430 is 2020-06-19 from 2019-06-03 (382 DTE; 2020-05-15 is 347,
    |382-365| = 17 < 18) to 2019-07-01 (354), 2020-07-17 from 2019-07-08 (375) to 2019-08-12
    (340), 2020-09-18 on 2019-08-19 (396; 2020-07-17 is 333). Blocked: 2019-06-17 (FOMC
    06-19 is 2 weekdays later) and 2019-07-29 (FOMC 07-31); the 10th rung is sold 2019-08-19."""
    from risk.concentration import concentration_reasons, program_key

    strat = LeapPuts(load_parameters({}))
    held_programs = {"lt112-1", "ipmcc-1"}  # an LT112 and an IPMCC run too: with the ladder, 3 programs
    sold, blocked = [], []
    for i in range(12):
        day = date(2019, 6, 3) + timedelta(weeks=i)
        ctx = _ctx(day, TEN, MONTHLY_LEAPS, strikes_pts=LADDER_STRIKES, events=FOMC)
        d = strat.rung_decision(ctx)
        if d.action is not Action.ENTERED:
            blocked.append((day, d.codes))
            continue
        programs = held_programs | {program_key("leap_puts", pos.position_id) for pos in strat.open_positions()}
        assert concentration_reasons(d.intent.structure, day, [], programs, load_parameters({}),
                                     strategy="leap_puts") == []
        sold.append((day, d.intent.structure.legs[0].expiry))
        _fill(strat, [d], ctx)
    june, july = date(2020, 6, 19), date(2020, 7, 17)
    assert sold == [(date(2019, 6, 3), june), (date(2019, 6, 10), june), (date(2019, 6, 24), june),
                    (date(2019, 7, 1), june), (date(2019, 7, 8), july), (date(2019, 7, 15), july),
                    (date(2019, 7, 22), july), (date(2019, 8, 5), july), (date(2019, 8, 12), july),
                    (date(2019, 8, 19), date(2020, 9, 18))]
    assert blocked == [(date(2019, 6, 17), ("EVENT_IN_WINDOW",)), (date(2019, 7, 29), ("EVENT_IN_WINDOW",))]
    assert len(strat.open_positions()) == 10


def test_when_an_event_falls_inside_the_rungs_year_but_not_within_two_trading_days_then_the_rung_is_sold():
    d = LeapPuts(load_parameters({})).rung_decision(_ctx(date(2019, 6, 3), events=(date(2019, 12, 11),)))
    assert d.action is Action.ENTERED, d.reason_text


@pytest.mark.parametrize(("event", "blocked"), [
    (date(2019, 6, 3), True), (date(2019, 6, 5), True),  # today; Monday + 2 weekdays = Wednesday
    (date(2019, 6, 6), False)])  # the third trading day
def test_when_an_event_falls_within_two_trading_days_then_no_rung(event, blocked):
    d = LeapPuts(load_parameters({})).rung_decision(_ctx(date(2019, 6, 3), events=(event,)))
    assert (d.codes == ("EVENT_IN_WINDOW",)) is blocked, d.reason_text
    if blocked:
        assert f"event on {event.isoformat()} within 2 trading days of 2019-06-03" in d.reason_text


def test_lifecycle_when_a_rung_reaches_150_dte_then_it_is_rolled_whatever_its_pnl_and_the_pnl_recorded():
    """Rung sold 2019-08-19 (SPY 292.33) for 2020-08-21; 150 DTE falls on 2020-03-24, the day
    after the crash low. At 151 DTE (SPY 222.95) it is a loser and nothing happens; at 150 DTE
    (243.15) it has captured 6% of its credit, far from the 30% take profit, and is rolled
    anyway. (The model keeps 18% IV through the crash: the P&L comes from the price path.)"""
    strat = LeapPuts(load_parameters({}))
    ctx = _ctx(date(2019, 8, 19))
    rung = strat.rung_decision(ctx)
    assert rung.intent.structure.legs[0].expiry == date(2020, 8, 21)
    _fill(strat, [rung], ctx)
    assert strat.manage(_ctx(date(2020, 3, 23))) == []  # 151 DTE, SPY 222.95: a loser, no take profit
    roll_ctx = _ctx(date(2020, 3, 24))  # SPY 243.15
    [roll] = strat.manage(roll_ctx)
    assert roll.codes == ("ROLL",)
    assert ("150 DTE <= 150: rolling whatever the P&L; P&L at mid +0.37 pts ($+37): credit 5.99, cost to "
            "close 5.62") in roll.reason_text
    assert roll.intent.purpose is IntentPurpose.CLOSE and roll.intent.structure.legs[0].ratio == 1
    _fill(strat, [roll], roll_ctx)
    pid = rung.intent.position_id
    assert strat.realized_pnl_pts[pid] == pytest.approx(-rung.intent.limit_pts - roll.intent.limit_pts)
    assert strat.positions[pid].notes[-1] == f"closed ROLL: P&L {strat.realized_pnl_pts[pid]:+.2f} pts " \
        f"(${strat.realized_pnl_pts[pid] * 100:+,.2f})"
    assert strat.positions[pid].state is PositionState.CLOSED
    [new] = strat.manage(_ctx(date(2020, 3, 24), time(10, 30)))
    assert new.action is Action.ENTERED and new.details["replaces"] == pid
    assert f"replace rolled {pid}" in new.reason_text
    [leg] = new.intent.structure.legs
    assert (leg.right, leg.ratio, leg.expiry) == (Right.PUT, -1, date(2021, 3, 26))  # 367 DTE
    assert 0.12 <= new.details["put_abs_delta"] <= 0.14


def test_when_the_chain_is_missing_then_management_holds_and_says_why():
    strat = LeapPuts(load_parameters({}))
    ctx = _ctx(date(2019, 6, 3))
    _fill(strat, [strat.rung_decision(ctx)], ctx)
    [d] = strat.manage(dataclasses.replace(_ctx(date(2019, 7, 1)), chain=None, chain_problem="feed down"))
    assert d.action is Action.HELD and d.codes == ("NO_QUOTES",) and "feed down" in d.reason_text


def test_when_the_reg_t_equity_rates_are_parameters_then_a_rung_s_buying_power_follows_them():
    """Issue 11: the Reg-T percentages are parameters (``regt_equity_base_frac`` /
    ``regt_equity_min_frac``, Cboe 20% / 10%). The premium is in both requirements, so the
    difference is max(25% x S - OTM, 12% x K) - max(20% x S - OTM, 10% x K), x 100 USD."""
    ctx = _ctx(date(2019, 6, 3))
    base = LeapPuts(load_parameters({})).rung_decision(ctx)
    custom = LeapPuts(load_parameters({"regt_equity_base_frac": "0.25", "regt_equity_min_frac": "0.12"})
                      ).rung_decision(ctx)
    assert base.action is custom.action is Action.ENTERED
    k, s = base.details["put_strike_pts"], ctx.underlying_pts
    otm = s - k
    hand = (max(0.25 * s - otm, 0.12 * k) - max(0.20 * s - otm, 0.10 * k)) * 100.0
    assert custom.details["buying_power_usd"] - base.details["buying_power_usd"] == pytest.approx(hand, abs=0.02)
    assert hand > 0
