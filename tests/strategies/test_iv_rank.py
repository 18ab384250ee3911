"""Issue 11 item 3: IV rank from a 90-day constant-maturity ATM IV (thetacore/iv_rank.py),
one reading per trading day, over a 252-trading-day window. Every expected value is a hand
calculation written next to it (tests/strategies/hand_cm_iv.py for the real ES chain)."""

from __future__ import annotations

import math
from datetime import UTC, date, datetime, timedelta

import numpy as np
import pytest

from strategies.futures_strangle import FuturesStrangle
from tests.conftest import ES_ENTRY_UTC, RELAXED
from tests.strategies import hand_cm_iv
from thetacore.chain import ChainSnapshot
from thetacore.enums import ExerciseStyle, Right, Settlement
from thetacore.iv_rank import (
    IvRankUnavailable,
    atm_iv_at_forward,
    constant_maturity_atm_iv,
    forward_pts,
    interpolate_total_variance,
    iv_rank_over_trading_days,
    window_start,
)
from thetacore.parameters import load_parameters
from thetacore.pricing import PricingModel
from thetacore.products import product

TODAY = date(2020, 1, 6)  # a Monday


# ----- interpolation in total variance ----------------------------------------------------
def test_two_made_up_expiries_interpolate_in_total_variance():
    """60 days at 20 vol, 120 days at 25 vol; 90 days is halfway in time:
    w = (0.04 x 60 + 0.0625 x 120) / 2 / 365 = (2.4 + 7.5) / 730 = 4.95 / 365;
    sigma = sqrt(4.95 / 90) = sqrt(0.055) = 0.234521. (Linear in vol would give 0.225.)"""
    iv, i, j = interpolate_total_variance([(120 / 365, 0.25), (60 / 365, 0.20)], 90 / 365)
    assert (i, j) == (0, 1)
    assert iv == pytest.approx(math.sqrt(0.055), abs=1e-12) == pytest.approx(0.234521, abs=1e-6)


@pytest.mark.parametrize(("days", "expected", "at"), [(30, 0.20, 0), (200, 0.25, 1), (60, 0.20, 0)])
def test_beyond_the_listed_range_the_vol_is_flat(days, expected, at):
    iv, i, j = interpolate_total_variance([(60 / 365, 0.20), (120 / 365, 0.25)], days / 365)
    assert iv == expected and i == j == at


def test_bad_points_are_refused():
    with pytest.raises(ValueError):
        interpolate_total_variance([], 0.25)
    with pytest.raises(ValueError):
        interpolate_total_variance([(0.2, float("nan"))], 0.25)


def test_real_es_chain_cm_iv_matches_brentq_by_hand(es_market):
    """REAL ES chain of 2020-01-06 10:00 ET: March (74 DTE, F 3225.625) and June (165 DTE,
    F 3225.125) bracket 90 days. By hand (scipy brentq on the real mids): March ATM 0.137180,
    June ATM 0.144779, 90-day CM 0.139684."""
    ctx = es_market.context(ES_ENTRY_UTC)
    assert ctx.rate_frac == hand_cm_iv.RATE
    for _, (fwd, _, quotes) in hand_cm_iv.QUOTES.items():
        for sym, bid, ask in quotes:  # the hand module's typed-in quotes are the chain's
            i = ctx.chain.index_of(sym)
            assert (ctx.chain.bid_pts[i], ctx.chain.ask_pts[i], ctx.chain.underlying_pts[i]) == (bid, ask, fwd)
    es = product("ES")
    got = constant_maturity_atm_iv(ctx.chain, 90, model=es.model, rate_frac=ctx.rate_frac, yield_frac=0.0,
                                   expiry_time_et=es.expiry_time_et, now_utc=ctx.time_utc)
    assert got.basis == "interpolated 2020-03-20/2020-06-19"
    assert got.iv_frac == pytest.approx(hand_cm_iv.es_cm_iv_90d(), abs=1e-7)
    assert got.iv_frac == pytest.approx(0.139684, abs=1e-6)
    # the strategy records exactly this reading for the day, and its basis
    strat = FuturesStrangle(load_parameters(RELAXED))
    d = strat.entry_decision(ctx)
    assert strat.iv_readings == {TODAY: got.iv_frac}
    assert d.details["atm_iv_basis"] == "interpolated 2020-03-20/2020-06-19"


def test_a_roll_of_the_traded_expiry_leaves_the_cm_reading_continuous():
    """A term structure with total variance linear in T, w(T) = 0.002 + 0.02 T (T in years),
    listed monthly. Day A lists 76 and 106 DTE, day B (next day) 75 and 105 ... rolled:
    day B lists 74 and 104 after the front passes (a 30-day cycle). The traded expiry
    (nearest 90 DTE) is 76 on day A and 104 on day B: its ATM IV jumps from
    sqrt(0.002 x 365/76 + 0.02) = 0.17207 to sqrt(0.002 x 365/104 + 0.02) = 0.16438
    (-0.77 vol points). The 90-day CM reading is sqrt(0.002 x 365/90 + 0.02) = 0.16766 both days."""
    def vol(days: int) -> float:
        t = days / 365
        return math.sqrt((0.002 + 0.02 * t) / t)
    day_a = [(76 / 365, vol(76)), (106 / 365, vol(106))]
    day_b = [(74 / 365, vol(74)), (104 / 365, vol(104))]
    cm_a, cm_b = (interpolate_total_variance(pts, 90 / 365)[0] for pts in (day_a, day_b))
    assert vol(76) == pytest.approx(0.17207, abs=1e-5) and vol(104) == pytest.approx(0.16438, abs=1e-5)
    assert cm_a == pytest.approx(0.16766, abs=1e-5)
    assert cm_a == pytest.approx(cm_b, abs=1e-12)  # continuous; the traded expiry's IV moved 0.0077


# ----- one reading per trading day; the 252-trading-day window ------------------------------
def test_window_start_counts_weekdays_without_sessions():
    """252 trading days ending Monday 2020-01-06 start 251 weekdays earlier: 250 weekdays are
    50 weeks (Monday 2019-01-21), one more is Friday 2019-01-18."""
    assert window_start(TODAY, 252, None) == date(2019, 1, 18)


def test_window_start_uses_the_exchange_sessions_when_known():
    """Sessions = weekdays minus two holidays (2019-12-25, 2020-01-01): two fewer sessions
    in the span, so the window reaches two weekdays further back, to Wednesday 2019-01-16."""
    days = np.arange(np.datetime64("2018-06-01"), np.datetime64(TODAY), dtype="datetime64[D]")
    weekdays = days[np.is_busday(days)]
    sessions = weekdays[(weekdays != np.datetime64("2019-12-25")) & (weekdays != np.datetime64("2020-01-01"))]
    assert window_start(TODAY, 252, sessions) == date(2019, 1, 16)


def test_the_252_day_window_edge_and_a_day_without_a_reading_is_not_a_step():
    """Today 0.20; 2019-01-18 (the window's first trading day) 0.10 = the low; 2019-01-17 (one
    trading day outside) 0.50; 2019-06-03 0.30 = the high; 19 more readings at 0.15 on the
    weekdays up to 2020-01-03. Most trading days have NO reading: the window still starts
    2019-01-18 (a reading count of 252 would reach back years). Rank (0.20 - 0.10) / (0.30 -
    0.10) = 0.5 over 22 readings; with 2019-01-17 counted it would be (0.2-0.1)/(0.5-0.1) = 0.25."""
    readings = {TODAY: 0.20, date(2019, 1, 18): 0.10, date(2019, 1, 17): 0.50, date(2019, 6, 3): 0.30}
    d = date(2020, 1, 3)
    for _ in range(19):
        readings[d] = 0.15
        d -= timedelta(days=3 if d.weekday() == 0 else 1)
    r = iv_rank_over_trading_days(readings, TODAY, 252, 20)
    assert (r.rank_frac, r.count, r.window_start) == (pytest.approx(0.5, abs=1e-12), 22, date(2019, 1, 18))
    # the low moved one trading day out (to 2019-01-17's neighbour 2019-01-16) leaves 0.15 as the low
    del readings[date(2019, 1, 18)]
    readings[date(2019, 1, 16)] = 0.10
    r2 = iv_rank_over_trading_days(readings, TODAY, 252, 20)
    assert r2.count == 21 and r2.rank_frac == pytest.approx((0.20 - 0.15) / (0.30 - 0.15), abs=1e-12)


def test_refused_until_the_minimum_history_and_without_todays_reading():
    readings = {TODAY - timedelta(days=k): 0.2 for k in (0, 1, 2, 3, 4)}  # 5 readings
    with pytest.raises(IvRankUnavailable, match=r"^5 daily IV reading\(s\) since 2019-01-18 < 20 required"):
        iv_rank_over_trading_days(readings, TODAY, 252, 20)
    with pytest.raises(IvRankUnavailable, match=r"no IV reading today \(4 in the window\)"):
        iv_rank_over_trading_days({d: v for d, v in readings.items() if d != TODAY}, TODAY, 252, 2)


def test_one_reading_per_day_the_first_good_one_wins(es_market):
    """A second decision the same day (a restart, a re-run) keeps the day's first reading."""
    ctx = es_market.context(ES_ENTRY_UTC)
    strat = FuturesStrangle(load_parameters(RELAXED))
    strat.iv_readings[TODAY] = 0.25  # GIVEN: today's first reading
    strat.entry_decision(ctx)
    assert strat.iv_readings == {TODAY: 0.25}


def test_readings_of_another_basis_are_discarded_on_load_and_journaled(es_market):
    """Readings saved before issue 11 (the traded expiry's ATM IV, no basis) are not
    comparable with constant-maturity ones: dropped, and the next decision says so."""
    params = load_parameters(RELAXED)
    old = FuturesStrangle(params)
    old.iv_readings = {date(2019, 12, 30): 0.12, date(2019, 12, 31): 0.13}
    state = old.state_dict()
    state["extra"].pop("iv_reading_basis")
    back = FuturesStrangle(params)
    back.restore_state(state)
    assert back.iv_readings == {}
    d = back.entry_decision(es_market.context(ES_ENTRY_UTC))
    assert d.details["iv_history_note"] == "2 saved IV reading(s) of basis traded-expiry ATM IV discarded"
    same = FuturesStrangle(params)
    same.restore_state(old.state_dict())  # same basis: kept
    assert same.iv_readings == old.iv_readings


# ----- the forward and the ATM strike ------------------------------------------------------
def _index_rows(iv: list[float] | None = None) -> ChainSnapshot:
    """One made-up index expiry: spot 100, strikes 95/100/105, put and call each; mids
    call 100 = 5.00, put 100 = 4.00 (bid/ask 0.10 either side); others 3.00."""
    strikes = np.repeat([95.0, 100.0, 105.0], 2)
    right = np.tile(np.array([Right.CALL.value, Right.PUT.value], dtype=np.int8), 3)
    mid = np.array([3.0, 3.0, 5.0, 4.0, 3.0, 3.0])
    n = len(strikes)
    return ChainSnapshot(
        "SPX", datetime(2020, 1, 6, 15, 0, tzinfo=UTC), 100.0, ExerciseStyle.EUROPEAN, Settlement.CASH,
        np.array([f"S{i}" for i in range(n)], dtype=object), np.array(["SPX"] * n, dtype=object),
        np.full(n, 100.0), strikes, np.full(n, np.datetime64("2020-04-06"), dtype="datetime64[D]"), right,
        mid - 0.1, mid + 0.1, np.full(n, np.datetime64("2020-01-06T15:00"), dtype="datetime64[ms]"),
        iv_frac=np.array(iv) if iv else np.empty(0))


def test_index_forward_from_put_call_parity_and_the_atm_iv_at_it():
    """Parity at the strike nearest spot (100): F = 100 + e^(0.05 x 0.25) x (5.00 - 4.00)
    = 100 + 1.0125785 = 101.0125785. IV per strike = mean of put and call: 95 -> 0.22,
    100 -> 0.20, 105 -> 0.18; at F, linear in strike: 0.20 - 0.02 x 1.0125785 / 5 = 0.1959497.
    Black-76 (options on futures) takes the expiry's future itself: 100."""
    rows = _index_rows([0.22, 0.22, 0.21, 0.19, 0.18, 0.18])
    fwd = forward_pts(rows, PricingModel.BLACK_SCHOLES, 0.05, 0.25)
    assert fwd == pytest.approx(100 + math.exp(0.0125), abs=1e-9) == pytest.approx(101.0125785, abs=1e-7)
    assert forward_pts(rows, PricingModel.BLACK_76, 0.05, 0.25) == 100.0
    assert atm_iv_at_forward(rows, fwd) == pytest.approx(0.1959497, abs=1e-7)
    assert math.isnan(atm_iv_at_forward(rows, 105.5))  # beyond the listed strikes: no ATM IV
