"""IPMCC (strategies.ipmcc) and the EMA it reads (thetacore.ema).

* REAL chains: the AAPL universe file of 2014-06-02 (pre-split, the 7:1 split came on
  2014-06-09) and the SPY file of 2024-01-04, built by ``universe_chains`` with the daily close
  as the only price (bid = ask = close); IV and delta computed from those closes (Black-Scholes,
  the American options priced as European), never LEAN's stored greeks.
* MODELLED chains: ``replay.model_chain`` with the "SPY" product facts (18% ATM IV, skew 2),
  driven by the REAL SPY daily closes of February-March 2020 (``equity/usa/daily/spy.zip``);
  the EMAs read the same real closes.
"""

from __future__ import annotations

import dataclasses
from datetime import date, time, timedelta
from functools import lru_cache

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from replay.lean_data.daily import read_equity_daily
from strategies.base import MarketContext, PositionState
from strategies.ipmcc import Ipmcc
from tests.strategies.universe_chains import (
    DATA,
    close_instant_utc,
    rate_on,
    read_chain,
    spy_close,
    spy_model_context,
)
from thetacore.ema import ema_series, last_ema
from thetacore.enums import Action, ExerciseStyle, IntentPurpose, Right, Settlement
from thetacore.market_stats import DailyBars
from thetacore.parameters import load_parameters
from thetacore.pricing import PricingModel, et_instant_utc, time_to_expiry_years
from thetacore.pricing.reference import greeks_scalar, implied_vol_scalar

AAPL_DAY = date(2014, 6, 2)
# Apple's trailing 12-month dividends on 2014-06-02: 3 x 3.05 + 3.29 USD (ex-dates 2013-08-08,
# 2013-11-06, 2014-02-06, 2014-05-08; Apple investor relations), as a yield on the close.
AAPL_TRAILING_DIVIDENDS_USD = 12.44
LONG = [date(2020, 3, 20), date(2020, 6, 19), date(2020, 9, 18), date(2020, 12, 18), date(2021, 1, 15),
        date(2021, 3, 19), date(2021, 6, 18), date(2021, 12, 17), date(2022, 1, 21)]
TEN = time(10, 0)
# The lifecycles below were written when the defaults could not trade (09:15 before the open,
# extrinsic judged against the option's price); they keep deciding at 10:00 with a loose
# extrinsic limit. The defaults are tested on their own (test_when_defaults_on_a_modelled_friday...).
LIFECYCLE = {"ipmcc_short_time_et": "10:00", "ipmcc_leap_max_extrinsic_frac": "0.25"}


# ----- EMA ---------------------------------------------------------------------------------
def test_when_ema_of_a_ramp_then_sma_seed_and_alpha_two_over_n_plus_one():
    out = ema_series(np.arange(1.0, 8.0), 3)  # alpha 0.5; seed mean(1, 2, 3) = 2
    assert np.isnan(out[:2]).all()
    assert out[2:].tolist() == [2.0, 3.0, 4.0, 5.0, 6.0]


def test_when_ema_of_real_spy_closes_then_it_matches_pandas_seeded_with_the_sma():
    closes = read_equity_daily(DATA, "spy").close[-300:]
    for n in (8, 21):
        seeded = pd.Series(np.r_[closes[:n].mean(), closes[n:]]).ewm(span=n, adjust=False).mean()
        assert np.allclose(ema_series(closes, n)[n - 1:], seeded.to_numpy(), rtol=0, atol=1e-9)


def test_when_fewer_closes_than_the_period_then_ema_refuses():
    with pytest.raises(ValueError, match="20 daily close\\(s\\) < 21 required for EMA\\(21\\)"):
        last_ema(np.ones(20), 21)


# ----- LEAP selection on the REAL AAPL chain ------------------------------------------------
@pytest.fixture(scope="module")
def aapl_ctx() -> MarketContext:
    """REAL AAPL chain at the 2014-06-02 close. The file's underlying row (633.40) is not the
    moment of the option closes (deep ITM calls imply ~628.2 by put-call parity at 2014-06-06);
    the underlying's own daily bar of that day (628.65) is used."""
    bars = read_equity_daily(DATA, "aapl")
    spot = float(bars.close[bars.day == np.datetime64(AAPL_DAY)][0])
    assert spot == 628.65
    _, chain = read_chain("option/usa/universes/aapl/20140602.csv", root="AAPL", multiplier_usd_per_pt=100.0,
                          style=ExerciseStyle.AMERICAN, settlement=Settlement.PHYSICAL, underlying_pts=spot)
    return MarketContext(time_utc=close_instant_utc(AAPL_DAY), today_et=AAPL_DAY, chain=chain,
                         rate_frac=rate_on(AAPL_DAY), underlying_pts=spot)


def _aapl(overrides: dict[str, str] | None = None) -> Ipmcc:
    return Ipmcc(load_parameters(overrides or {}), dividend_yield_frac=AAPL_TRAILING_DIVIDENDS_USD / 628.65)


def test_when_the_80_delta_aapl_leap_carries_1_47_pct_of_spot_extrinsic_then_bought_with_the_defaults(aapl_ctx):
    """Rule (reference "IPMCC", corrected): extrinsic < 5% of the UNDERLYING's price. The 520
    call's extrinsic is 7.8% of its own price, which the old rule refused."""
    d = _aapl().leap_decision(aapl_ctx)
    assert d.action is Action.ENTERED and d.codes == ("ENTRY",), d.reason_text
    # 2015-04-17 (319 DTE) is the expiry nearest 365 in 180-730 (others: 229 and 592 DTE);
    # 520 call: close 117.875, intrinsic 628.65 - 520 = 108.65, extrinsic 9.225;
    # 9.225 / 628.65 = 1.467% of the underlying (< 5%), 9.225 / 117.875 = 7.83% of its price.
    assert (d.details["leap_expiry"], d.details["leap_dte_days"], d.details["leap_strike_pts"]) == \
        ("2015-04-17", 319, 520.0)
    assert d.details["leap_delta"] == pytest.approx(0.7982, abs=2e-4)
    assert d.details["leap_extrinsic_frac"] == pytest.approx(9.225 / 628.65, abs=1e-4)
    assert d.details["leap_extrinsic_of_price_frac"] == pytest.approx(0.0783, abs=1e-4)
    assert "extrinsic 9.23 = 1.47% of the underlying 628.65" in d.reason_text


def test_when_the_extrinsic_limit_is_one_pct_of_spot_then_the_520_call_is_declined_with_its_numbers(aapl_ctx):
    d = _aapl({"ipmcc_leap_max_extrinsic_frac": "0.01"}).leap_decision(aapl_ctx)
    assert d.action is Action.DECLINED and d.intent is None
    assert d.codes == ("LEAP_EXTRINSIC_TOO_HIGH",)
    assert "520 call at 0.80 delta: extrinsic 9.23 = 1.47% of the underlying 628.65 >= 1%" in d.reason_text


def test_when_aapl_leap_delta_is_checked_by_the_scalar_reference_then_520_is_nearest_080(aapl_ctx):
    """Brute force over every 2015-04-17 call with the independent scalar pricer; LEAN's stored
    delta for the same 520 call (0.479, IV 0.68) contradicts its price and is not used."""
    chain, q = aapl_ctx.chain, AAPL_TRAILING_DIVIDENDS_USD / 628.65
    t = float(time_to_expiry_years(np.datetime64("2015-04-17"), aapl_ctx.time_utc, time(16, 0)))
    best = None
    for i in np.flatnonzero((chain.expiry == np.datetime64("2015-04-17")) & (chain.right == 1)):
        iv = implied_vol_scalar(PricingModel.BLACK_SCHOLES, float(chain.bid_pts[i]), 628.65,
                                float(chain.strike_pts[i]), t, aapl_ctx.rate_frac, q, 1)
        delta = greeks_scalar(PricingModel.BLACK_SCHOLES, 628.65, float(chain.strike_pts[i]), t,
                              aapl_ctx.rate_frac, q, iv, 1)[0]
        if np.isfinite(delta) and (best is None or abs(delta - 0.8) < abs(best[1] - 0.8)):
            best = (float(chain.strike_pts[i]), delta)
    assert best is not None and best[0] == 520.0 and best[1] == pytest.approx(0.7982, abs=2e-4)
    assert np.isnan(chain.delta).all(), "the builder never copies LEAN's stored greeks"


def test_when_the_520_call_is_bought_then_at_its_close(aapl_ctx):
    d = _aapl().leap_decision(aapl_ctx)
    assert d.action is Action.ENTERED, d.reason_text
    [leg] = d.intent.structure.legs
    assert (leg.right, leg.strike_pts, leg.expiry, leg.ratio) == (Right.CALL, 520.0, date(2015, 4, 17), 1)
    assert d.intent.purpose is IntentPurpose.OPEN and d.intent.quantity == 1
    # bid = ask = close 117.875: the penny grid cannot hold it, and rounding up would pass
    # the natural price, so the debit limit is rounded down
    assert d.intent.limit_pts == pytest.approx(117.87)


def test_when_the_delta_target_is_085_then_the_490_call_passes_the_extrinsic_rule(aapl_ctx):
    d = _aapl({"ipmcc_leap_delta_target": "0.85"}).leap_decision(aapl_ctx)
    assert d.action is Action.ENTERED, d.reason_text
    assert d.details["leap_strike_pts"] == 490.0
    assert d.details["leap_delta"] == pytest.approx(0.8473, abs=2e-4)
    # price 143.025, intrinsic 628.65 - 490 = 138.65: extrinsic 4.375 = 3.06% of its price,
    # 0.70% of the underlying
    assert d.details["leap_extrinsic_of_price_frac"] == pytest.approx(0.0306, abs=1e-4)
    assert d.details["leap_extrinsic_frac"] == pytest.approx(4.375 / 628.65, abs=1e-4)


def test_when_the_spy_chain_is_yesterdays_close_then_the_leap_is_not_bought_on_a_stale_quote():
    """REAL SPY chain of the 2024-01-04 close (deep ITM calls only) seen at 10:00 ET on
    2024-01-05: 18 hours old."""
    _, chain = read_chain("option/usa/universes/spy/20240104.csv", root="SPY", multiplier_usd_per_pt=100.0,
                          style=ExerciseStyle.AMERICAN, settlement=Settlement.PHYSICAL)
    day = date(2024, 1, 5)
    ctx = MarketContext(time_utc=et_instant_utc(day, TEN), today_et=day, chain=chain, rate_frac=rate_on(day),
                        underlying_pts=467.28)
    d = Ipmcc(load_parameters({})).leap_decision(ctx)
    # 532-DTE call: no longer refused for extrinsic (of the underlying it is small), only for
    # the stale quote
    assert d.codes == ("STALE_QUOTE",)
    assert "quote 1080 min old > 15 min" in d.reason_text
    assert d.details["leap_expiry"] == "2025-06-20"  # 532 DTE: the only listed LEAP near a year


# ----- weekly call rules ----------------------------------------------------------------------
def _held_leap(overrides: dict[str, str], day: date) -> tuple[Ipmcc, MarketContext]:
    """A strategy holding the LEAP bought at 10:00 ET on ``day``, and that context."""
    strat = Ipmcc(load_parameters({**LIFECYCLE, **overrides}))
    ctx = spy_model_context(day, TEN, LONG)
    d = strat.leap_decision(ctx)
    strat.on_filled(d.intent, d.intent.limit_pts, ctx.time_utc)
    return strat, ctx


@lru_cache(maxsize=2)
def _leap_holder(itm: str) -> Ipmcc:
    return _held_leap({"ipmcc_itm_strikes": itm}, date(2020, 2, 14))[0]


def test_when_the_rules_0915_decision_runs_then_declined_before_the_option_open():
    strat, _ = _held_leap({"ipmcc_short_time_et": "09:15"}, date(2020, 2, 13))
    d = strat.short_decision(spy_model_context(date(2020, 2, 14), time(9, 15), LONG))
    assert d.codes == ("OPTIONS_CLOSED",) and d.intent is None
    assert "09:15 ET is outside the 09:30-16:00 ET equity-option session" in d.reason_text


def test_when_no_leap_is_held_then_no_weekly_call():
    d = Ipmcc(load_parameters(LIFECYCLE)).short_decision(spy_model_context(date(2020, 2, 14), TEN, LONG))
    assert d.codes == ("NO_LEAP",)


def test_when_an_event_falls_before_the_weekly_expiry_then_no_call_is_sold():
    strat, ctx = _held_leap({}, date(2020, 2, 14))
    d = strat.short_decision(dataclasses.replace(ctx, event_dates=(date(2020, 2, 19),)))
    assert d.codes == ("EVENT_IN_WINDOW",)
    assert "event on 2020-02-19 between 2020-02-14 and the weekly expiry 2020-02-21" in d.reason_text


def test_when_fewer_than_21_daily_closes_then_the_trend_is_unknown_and_nothing_is_sold():
    strat, ctx = _held_leap({}, date(2020, 2, 14))
    bars = ctx.underlying_daily.before(ctx.today_et)
    short = DailyBars(bars.day[-12:], bars.high_pts[-12:], bars.low_pts[-12:], bars.close_pts[-12:])
    d = strat.short_decision(dataclasses.replace(ctx, underlying_daily=short))
    assert d.codes == ("EMA_UNAVAILABLE",) and "12 daily close(s) < 21 required for EMA(21)" in d.reason_text


@settings(max_examples=60, deadline=None)
@given(spot=st.floats(100.0, 400.0), step=st.sampled_from([0.5, 1.0, 2.5, 5.0]), up=st.booleans(),
       itm=st.sampled_from(["1", "2"]))
def test_when_any_spot_strike_grid_and_trend_then_no_otm_call_is_ever_sold(spot, step, up, itm):
    """MODELLED chains on a ladder of ``step`` around any spot; the trend comes from rising or
    falling closes. The sold strike is never above spot: the highest strike at or below spot
    when EMA8 > EMA21, ``itm`` listed strikes lower otherwise."""
    strat = _leap_holder(itm)
    ladder = np.round(spot / step) * step + step * np.arange(-12, 13)
    ctx = spy_model_context(date(2020, 2, 14), TEN, [], spot_pts=spot, strikes_pts=ladder, weeks=2)
    days = np.arange(np.datetime64("2019-12-01"), np.datetime64("2020-02-14"))
    closes = np.linspace(300.0, 340.0, days.size)[:: 1 if up else -1]
    d = strat.short_decision(dataclasses.replace(ctx, underlying_daily=DailyBars(days, closes, closes, closes)))
    assert d.action is Action.ENTERED, d.reason_text
    strat.on_unfilled(d.intent, "test: each example judged alone")
    [leg] = d.intent.structure.legs
    below = np.sort(ladder[ladder <= spot])
    expected = below[-1] if up else below[-1 - int(itm)]
    assert leg.strike_pts <= spot and leg.strike_pts == expected
    assert leg.ratio == -1 and leg.right is Right.CALL


# ----- MODELLED lifecycles on the REAL SPY path -----------------------------------------------
def _fill(strat: Ipmcc, decisions, ctx: MarketContext) -> None:
    for d in decisions:
        if d.intent is not None:
            strat.on_filled(d.intent, d.intent.limit_pts, ctx.time_utc)


def _at(day: date, clock: time = TEN) -> MarketContext:
    return spy_model_context(day, clock, LONG)


def test_lifecycle_when_trend_is_up_then_atm_weekly_calls_are_sold_taken_off_and_the_leap_stopped():
    strat = Ipmcc(load_parameters(LIFECYCLE))
    ctx = _at(date(2020, 2, 14))  # SPY 337.60, EMA8 334.03 > EMA21 330.47
    leap = strat.leap_decision(ctx)
    assert leap.action is Action.ENTERED and leap.details["leap_strike_pts"] == 285.0
    assert leap.details["leap_expiry"] == "2021-01-15" and leap.details["leap_delta"] == pytest.approx(0.80, abs=0.01)
    _fill(strat, [leap], ctx)
    weekly = strat.short_decision(ctx)
    [leg] = weekly.intent.structure.legs
    assert (leg.strike_pts, leg.expiry, leg.ratio) == (337.0, date(2020, 2, 21), -1)  # ATM, at or below 337.60
    assert "ATM = highest strike 337 at or below spot 337.60" in weekly.reason_text
    _fill(strat, [weekly], ctx)
    assert strat.entry_extrinsic_pts[weekly.intent.position_id] == pytest.approx(3.13)  # 3.73 credit - 0.60
    for day in (date(2020, 2, 18), date(2020, 2, 20)):  # 336.73, 336.95: not yet 90%
        assert strat.manage(_at(day)) == []
    morning = _at(date(2020, 2, 21), time(9, 45))  # 333.48: the 337 call is bid-less, ask 0.06
    [tp] = strat.manage(morning)
    assert tp.codes == ("TAKE_PROFIT",) and "captured 98% of the 3.13 pt extrinsic" in tp.reason_text
    assert tp.intent.limit_pts == pytest.approx(0.06) and tp.details["limit_basis"] == "ask (no bid)"
    _fill(strat, [tp], morning)
    again = strat.short_decision(_at(date(2020, 2, 21)))  # next Friday: ATM again
    assert again.action is Action.ENTERED and again.intent.structure.legs[0].strike_pts == 333.0
    _fill(strat, [again], morning)
    [tp2] = strat.manage(_at(date(2020, 2, 24)))  # 322.42
    assert tp2.codes == ("TAKE_PROFIT",)
    _fill(strat, [tp2], morning)
    stop_ctx = _at(date(2020, 2, 25))  # 312.65: the 285 call at 41.41 mid
    [stop] = strat.manage(stop_ctx)
    assert stop.codes == ("LEAP_STOP",) and "has lost 35.0% of its 63.72 entry >= 30%" in stop.reason_text
    assert stop.intent.purpose is IntentPurpose.CLOSE and stop.intent.structure.legs[0].ratio == -1
    _fill(strat, [stop], stop_ctx)
    assert strat.open_positions() == [] and strat.stop is None


def test_lifecycle_when_trend_is_down_then_itm_calls_and_the_stop_buys_back_the_weekly_first():
    strat = Ipmcc(load_parameters(LIFECYCLE))
    ctx = _at(date(2020, 2, 28))  # SPY 296.26, EMA8 318.49 <= EMA21 325.57
    _fill(strat, [strat.leap_decision(ctx)], ctx)
    weekly = strat.short_decision(ctx)
    assert weekly.intent.structure.legs[0].strike_pts == 295.0  # 1 strike below ATM 296
    assert "1 strike(s) ITM below ATM 296 (spot 296.26)" in weekly.reason_text
    _fill(strat, [weekly], ctx)
    monday = _at(date(2020, 3, 2))  # 309.09: the 295 call is 14.09 in the money, 0.06 extrinsic left
    [tp] = strat.manage(monday)
    assert tp.codes == ("TAKE_PROFIT",) and "captured 98% of the 2.43 pt extrinsic value (left 0.06" in tp.reason_text
    _fill(strat, [tp], monday)
    for day in (date(2020, 3, 3), date(2020, 3, 4), date(2020, 3, 5)):  # LEAP 246C never 30% down
        assert strat.manage(_at(day)) == []
    friday = _at(date(2020, 3, 6))
    second = strat.short_decision(friday)  # 297.46, still down: ATM 297, sold 296
    assert second.action is Action.ENTERED and second.intent.structure.legs[0].strike_pts == 296.0
    _fill(strat, [second], friday)
    crash = _at(date(2020, 3, 9))  # 274.23
    [first] = strat.manage(crash)
    assert first.codes == ("LEAP_STOP",) and first.intent.position_id == second.intent.position_id
    assert "buying back the weekly call first, the LEAP after it" in first.reason_text
    assert strat.manage(crash) == []  # the weekly's close is working: the LEAP waits
    _fill(strat, [first], crash)
    [then] = strat.manage(_at(date(2020, 3, 9), time(10, 15)))
    assert then.codes == ("LEAP_STOP",) and then.intent.position_id == strat.leap_id
    _fill(strat, [then], crash)
    assert strat.open_positions() == []


def test_when_the_weekly_expires_today_uncaptured_then_it_is_rolled_before_the_next_is_sold():
    """At the money on its expiry morning (spot set to the 337 strike) about 79% of the
    extrinsic is captured: no take profit, so Friday's decision buys it back first."""
    strat, ctx = _held_leap({}, date(2020, 2, 14))
    first = strat.short_decision(ctx)
    _fill(strat, [first], ctx)
    friday = spy_model_context(date(2020, 2, 21), TEN, LONG, spot_pts=337.0)
    roll = strat.short_decision(friday)
    assert roll.action is Action.EXITED and roll.codes == ("WEEKLY_ROLL",)
    assert roll.intent.purpose is IntentPurpose.CLOSE and roll.intent.position_id == first.intent.position_id
    _fill(strat, [roll], friday)
    [sold] = strat.manage(spy_model_context(date(2020, 2, 21), time(10, 15), LONG, spot_pts=337.0))
    assert sold.action is Action.ENTERED and sold.intent.structure.legs[0].expiry == date(2020, 2, 28)
    assert strat.positions[first.intent.position_id].state is PositionState.CLOSED


def test_when_an_itm_weekly_reaches_1545_on_expiry_day_then_it_is_bought_back_not_assigned():
    strat, ctx = _held_leap({"ipmcc_short_weekday": "-1"}, date(2020, 2, 18))
    _fill(strat, [strat.short_decision(ctx)], ctx)  # 336.73: ATM 336, expiry 2020-02-21
    [d] = strat.manage(spy_model_context(date(2020, 2, 21), time(15, 45), LONG, spot_pts=336.40))
    assert d.codes == ("EXPIRY_ITM",) and "spot 336.40 > strike 336" in d.reason_text


def _weekly_336(expiry_day: date = date(2020, 2, 21)) -> Ipmcc:
    """A LEAP holder with the 336 call of 2020-02-21 sold on 2020-02-18 (spot 336.73: ATM 336)."""
    strat, ctx = _held_leap({"ipmcc_short_weekday": "-1"}, date(2020, 2, 18))
    _fill(strat, [strat.short_decision(ctx)], ctx)
    assert strat.weekly().structure.legs[0].strike_pts == 336.0
    assert strat.weekly().structure.legs[0].expiry == expiry_day
    return strat


@pytest.mark.parametrize(("spot", "code"), [
    (336.40, "EXPIRY_ITM"),       # 336.40 > 336
    (335.00, "EXPIRY_PIN_RISK"),  # 336 x (1 - 0.005) = 334.32 < 335.00 <= 336
    (334.40, "EXPIRY_PIN_RISK"),  # 334.40 > 334.32
    (334.30, None),               # 334.30 <= 334.32: left to expire worthless
])
def test_when_the_expiry_rule_runs_at_1545_then_itm_and_pin_risk_calls_are_bought_back(spot, code):
    strat = _weekly_336()
    pid = strat.weekly_id
    decisions = strat.on_schedule("expiry", spy_model_context(date(2020, 2, 21), time(15, 45), LONG, spot_pts=spot))
    if code is None:
        assert decisions == []
        return
    [d] = decisions
    assert d.codes == (code,) and d.intent.purpose is IntentPurpose.CLOSE and d.intent.position_id == pid
    assert d.intent.structure.legs[0].ratio == +1  # the close buys the short call back


def test_when_the_expiry_rule_runs_before_the_expiry_day_then_it_does_nothing():
    strat = _weekly_336()
    assert strat.on_schedule("expiry", spy_model_context(date(2020, 2, 20), time(15, 45), LONG, spot_pts=340.0)) == []


def test_the_expiry_rule_is_a_close_tied_schedule_at_the_parameter_time():
    rules = {r.name: r for r in Ipmcc(load_parameters({"ipmcc_expiry_close_et": "15:30"})).schedules()}
    assert rules["expiry"].time_et == time(15, 30) and rules["expiry"].before_close is True


def test_when_a_weekly_is_assigned_then_ipmcc_takes_the_shares_with_the_reason():
    strat = _weekly_336()
    pid = strat.weekly_id
    reason = strat.on_assigned(pid, "SPY", -1, 337.10, close_instant_utc(date(2020, 2, 21)))
    assert reason is not None and reason.code == "ASSIGNED"
    assert "assigned at strike 336, -1 x 100 SPY delivered at 337.10" in reason.text
    assert strat.positions[pid].exit_reason.startswith("ASSIGNED: ")
    assert strat.on_assigned("not-a-position", "SPY", -1, 337.10, close_instant_utc(date(2020, 2, 21))) is None


def test_real_spy_path_fridays_2019_2020_never_sell_above_spot():
    """Every Friday session of the REAL SPY closes from 2019-03 to 2020-12 (MODELLED chains at
    each close): the chosen strike is at or below that day's close, ATM or ITM as the real
    EMAs say."""
    strat, sold = _leap_holder("1"), {True: 0, False: 0}
    for day in [date(2019, 3, 1) + timedelta(weeks=i) for i in range(96)]:
        try:
            spot = spy_close(day)
        except KeyError:  # Good Friday
            continue
        d = strat.short_decision(spy_model_context(day, TEN, [date(2021, 1, 15)], weeks=2))
        assert d.action is Action.ENTERED, (day, d.reason_text)
        strat.on_unfilled(d.intent, "test: each Friday judged alone")
        assert d.intent.structure.legs[0].strike_pts <= spot
        sold[d.details["ema_fast_pts"] > d.details["ema_slow_pts"]] += 1
    assert sold[True] > 0 and sold[False] > 0  # both branches ran on the real path


def test_lifecycle_when_the_leap_reaches_21_dte_in_profit_then_the_defence_closes_everything():
    """MODELLED chain over REAL SPY closes: the 285 call for 2021-01-15 bought 2020-02-14 is
    deep in profit at 18 DTE (2020-12-28): DEFENSE_PROFIT closes the whole position."""
    strat, ctx = _held_leap({}, date(2020, 2, 14))
    assert strat.manage(_at(date(2020, 12, 21))) == []  # 25 DTE: before the defence
    late = _at(date(2020, 12, 28))
    [close] = strat.manage(late)
    assert close.codes == ("DEFENSE_PROFIT",) and "18 DTE <= 21" in close.reason_text
    assert close.intent.purpose is IntentPurpose.CLOSE and close.intent.structure.legs[0].ratio == -1
    _fill(strat, [close], late)
    assert strat.open_positions() == []


def test_when_defaults_on_a_modelled_friday_then_the_leap_is_bought_and_a_weekly_call_sold_at_0945():
    """Issue 11: with every default (no LIFECYCLE overrides) the 09:45 ET weekly decision is
    inside the equity-option session and the LEAP's extrinsic is judged against the
    underlying. MODELLED SPY chain on the REAL close of Friday 2020-02-14 (337.60)."""
    p = load_parameters({})
    assert p.ipmcc_short_time_et == time(9, 45) and p.ipmcc_leap_max_extrinsic_frac == 0.05
    strat = Ipmcc(p)
    ctx = _at(date(2020, 2, 14), time(9, 45))
    leap = strat.leap_decision(ctx)
    assert leap.action is Action.ENTERED, leap.reason_text
    price = leap.details["leap_price_pts"]
    # hand: intrinsic 337.60 - 285 = 52.60; extrinsic = price - 52.60
    extrinsic = price - (337.60 - 285.0)
    assert leap.details["leap_strike_pts"] == 285.0
    assert leap.details["leap_extrinsic_frac"] == pytest.approx(extrinsic / 337.60, abs=1e-4)
    assert extrinsic / 337.60 < 0.05 <= extrinsic / price  # bought now; the old rule refused it
    _fill(strat, [leap], ctx)
    weekly = strat.short_decision(ctx)
    assert weekly.action is Action.ENTERED, weekly.reason_text
    [leg] = weekly.intent.structure.legs
    assert (leg.strike_pts, leg.expiry, leg.ratio, leg.right) == (337.0, date(2020, 2, 21), -1, Right.CALL)
