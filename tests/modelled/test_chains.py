"""MODELLED chains: listing calendars and strike grids like the real listings, put-call parity
of the model prices, quotes on the tick grid around them, labels, and use by the project's own
greeks unchanged."""

from __future__ import annotations

import math
from datetime import date, time, timedelta

import numpy as np
import pytest

from modelled.calendar import EquityCalendar, FuturesCalendar, Series, third_friday
from modelled.chains import SPX_PER_SPY, ModelledChain
from tests.modelled.world import full_market, holidays
from thetacore.chain_greeks import with_greeks
from thetacore.enums import Right
from thetacore.pricing import PricingModel

DAYS = (date(2006, 3, 15), date(2008, 11, 20), date(2012, 1, 9), date(2020, 1, 6), date(2020, 3, 16))


def _independent_third_friday(year: int, month: int) -> date:
    fridays = [date(year, month, d) for d in range(1, 29) if date(year, month, d).weekday() == 4]
    return fridays[2]


def test_third_friday() -> None:
    for y in range(1998, 2023):
        for m in range(1, 13):
            assert third_friday(y, m) == _independent_third_friday(y, m)


def test_monthly_expiries_are_third_fridays_or_the_day_before_a_holiday() -> None:
    for day in DAYS:
        for x in EquityCalendar().listings(day, holidays()):
            if x.series is Series.MONTHLY:
                tf = _independent_third_friday(x.expiry.year, x.expiry.month)
                assert x.expiry == tf or (tf in holidays() and x.expiry == tf - timedelta(days=1))
    # 2008-03-21 was Good Friday: the March 2008 monthly expires on Thursday 2008-03-20
    march = [x.expiry for x in EquityCalendar().listings(date(2008, 3, 3), holidays()) if x.series is Series.MONTHLY]
    assert date(2008, 3, 20) in march and date(2008, 3, 21) not in march


def test_nothing_is_listed_before_its_listing_date() -> None:
    cal = EquityCalendar()
    day = date(2004, 12, 1)
    while day < date(2021, 4, 1):
        for x in cal.listings(day, holidays()):
            assert x.listed_from <= day <= x.expiry
        for f in FuturesCalendar().listings(day, holidays()):
            assert f.listing.listed_from <= day <= f.listing.expiry <= f.future_expiry
        day += timedelta(days=37)
    assert cal.listings(date(2005, 1, 7), holidays()) == []  # SPY options from 2005-01-10 (approx.)
    # the January 2009 LEAP appears with the new LEAP year (third Friday of May 2006)
    assert date(2009, 1, 16) not in [x.expiry for x in cal.listings(date(2006, 5, 18), holidays())]
    assert date(2009, 1, 16) in [x.expiry for x in cal.listings(date(2006, 5, 22), holidays())]


def test_a_holiday_weekly_expires_the_day_before() -> None:
    # Good Friday 2015-04-03 (not a monthly): the Friday weekly expires on Thursday 2015-04-02
    expiries = [x.expiry for x in EquityCalendar().listings(date(2015, 3, 23), holidays())]
    assert date(2015, 4, 2) in expiries and date(2015, 4, 3) not in expiries
    assert date(2015, 4, 3) in holidays()


def test_weekly_series_start_on_their_dates() -> None:
    def weekdays(day: date) -> set[int]:
        return {x.expiry.weekday() for x in EquityCalendar().listings(day, holidays()) if x.series is Series.WEEKLY}

    assert weekdays(date(2010, 4, 1)) == set()  # the first weekly, 2010-06-04, listed 5 weeks ahead
    assert weekdays(date(2012, 1, 9)) == {4}
    assert weekdays(date(2017, 1, 9)) == {2, 4}
    assert weekdays(date(2020, 1, 6)) == {0, 2, 4}


def test_es_futures_and_their_options() -> None:
    listed = FuturesCalendar().listings(date(2020, 1, 6), holidays())
    got = [(str(f.listing.expiry), f.listing.series.value, f.future_symbol) for f in listed]
    assert got == [("2020-01-17", "future_serial", "ES20H20"), ("2020-02-21", "future_serial", "ES20H20"),
                   ("2020-03-20", "future_quarterly", "ES20H20"), ("2020-04-17", "future_serial", "ES19M20"),
                   ("2020-06-19", "future_quarterly", "ES19M20"),
                   ("2020-09-18", "future_quarterly", "ES18U20"), ("2020-12-18", "future_quarterly", "ES18Z20")]


def _spacing_ok(strikes: np.ndarray, step: float) -> bool:
    return bool(np.allclose(strikes / step, np.round(strikes / step), atol=1e-9))


@pytest.mark.parametrize("day", DAYS[1:])
def test_strike_spacing(day: date) -> None:
    c = full_market().equity_chain(day)
    s = c.snapshot
    spot = float(s.underlying_pts[0])
    for e in s.expiries():
        k = np.unique(s.strike_pts[s.expiry == e])
        series = str(c.series[s.expiry == e][0])
        if series == "leap" or float(c.t_years[s.expiry == e][0]) > 1.0:
            assert _spacing_ok(k, 5.0)
        else:
            near = k[np.abs(np.log(k / spot)) < 0.04]
            assert len(near) > 3 and np.allclose(np.diff(near), 1.0)
            assert _spacing_ok(k, 1.0)
        assert k.min() < spot < k.max()
    es = full_market().es_chain(day)
    assert _spacing_ok(es.snapshot.strike_pts, 5.0)
    for e in es.snapshot.expiries():
        at = es.snapshot.expiry == e
        k, f = np.unique(es.snapshot.strike_pts[at]), float(es.snapshot.underlying_pts[at][0])
        near = k[np.abs(np.log(k / f)) < 0.02]
        assert len(near) > 3 and np.allclose(np.diff(near), 5.0)  # 5-point strikes at the money
        if float(es.t_years[at][0]) > 0.2:  # far out: 25-point strikes
            assert _spacing_ok(k[:2], 25.0) and k[1] - k[0] == 25.0


def _parity_gap(c: ModelledChain, model: PricingModel) -> float:
    s = c.snapshot
    calls = s.right == Right.CALL
    key = {(e, k): v for e, k, v, call in zip(s.expiry.tolist(), s.strike_pts.tolist(), c.theo_pts.tolist(),
                                               calls.tolist(), strict=True) if call}
    worst = 0.0
    for i in np.flatnonzero(~calls):
        e, k, t = s.expiry[i].item(), float(s.strike_pts[i]), float(c.t_years[i])
        u = float(s.underlying_pts[i])
        if model is PricingModel.BLACK_SCHOLES:
            rhs = u * math.exp(-c.yield_frac * t) - k * math.exp(-c.rate_frac * t)
        else:
            rhs = math.exp(-c.rate_frac * t) * (u - k)
        worst = max(worst, abs(key[(e, k)] - float(c.theo_pts[i]) - rhs))
    return worst


@pytest.mark.parametrize("day", DAYS[1:])
def test_put_call_parity_of_the_model_prices(day: date) -> None:
    assert _parity_gap(full_market().equity_chain(day), PricingModel.BLACK_SCHOLES) < 1e-9
    assert _parity_gap(full_market().es_chain(day), PricingModel.BLACK_76) < 1e-9


@pytest.mark.parametrize("day", DAYS[1:])
def test_quotes_straddle_the_model_price_on_the_tick_grid(day: date) -> None:
    for c, tick in ((full_market().equity_chain(day), 0.01), (full_market().es_chain(day), 0.05)):
        s = c.snapshot
        quoted = np.isfinite(s.bid_pts)
        assert (c.theo_pts > 0).all() and (s.ask_pts > 0).all() and np.isfinite(s.ask_pts).all()
        assert (s.bid_pts[quoted] > 0).all()
        assert (s.bid_pts[quoted] < c.theo_pts[quoted]).all() and (c.theo_pts < s.ask_pts).all()
        assert (s.mid_pts[quoted] > s.bid_pts[quoted]).all() and (s.mid_pts[quoted] < s.ask_pts[quoted]).all()
        assert np.allclose(s.ask_pts / tick, np.round(s.ask_pts / tick), atol=1e-6)
        # no bid only where the model price is within a spread of zero
        assert (c.theo_pts[~quoted] < 0.5).all() and quoted.mean() > 0.5


def test_es_underlying_is_spx_from_spy_with_carry() -> None:
    c = full_market().es_chain(date(2020, 1, 6))
    s = c.snapshot
    spy = float(full_market().path.close_pts[full_market().path.index_of(date(2020, 1, 6))])
    i = np.flatnonzero(s.underlying_symbol == "ES20H20*MODELLED")[0]
    t_future = (date(2020, 3, 20) - date(2020, 1, 6)).days / 365.0 - 7.5 / 24 / 365  # 16:00 EST -> 09:30 EDT
    expected = spy * SPX_PER_SPY * math.exp((c.rate_frac - c.yield_frac) * t_future)
    assert float(s.underlying_pts[i]) == pytest.approx(expected, rel=1e-9)
    assert float(s.underlying_pts[i]) == pytest.approx(3233.0, rel=0.01)  # the real ES20H20 row of that day


def test_everything_is_labelled_modelled() -> None:
    for c in (full_market().equity_chain(date(2020, 1, 6)), full_market().es_chain(date(2020, 1, 6))):
        s = c.snapshot
        assert c.label == "MODELLED" and s.root.endswith("*MODELLED")
        assert all(str(x).startswith(s.root + " ") for x in s.symbol)
        assert all(str(x).endswith("*MODELLED") for x in s.underlying_symbol)


def test_strategies_greeks_read_the_modelled_chain_unchanged() -> None:
    c = full_market().equity_chain(date(2020, 1, 6))
    g = with_greeks(c.snapshot, model=PricingModel.BLACK_SCHOLES, rate_frac=c.rate_frac, yield_frac=c.yield_frac,
                    expiry_time_et=time(16, 0))
    ok = np.isfinite(g.iv_frac) & (c.t_years > 7 / 365) & (g.vega_pts_per_vol_pt > 0.05)
    assert ok.mean() > 0.3
    # the IV of the quoted mid is the model IV to within the half-spread's vega (rounding of the quotes)
    half_vol_pts = (c.snapshot.ask_pts - c.snapshot.bid_pts)[ok] / 2 / g.vega_pts_per_vol_pt[ok]
    assert (np.abs(g.iv_frac[ok] - c.model_iv_frac[ok]) * 100 <= half_vol_pts + 1e-6).all()
    atm = ok & (c.snapshot.right == Right.CALL) & (np.abs(c.snapshot.strike_pts / c.snapshot.underlying_pts - 1) < 0.002)
    assert np.abs(g.delta[atm] - 0.5).max() < 0.1


def test_spy_chain_is_empty_before_the_options_existed_and_says_so() -> None:
    c = full_market().equity_chain(date(2003, 6, 2))
    assert len(c.snapshot) == 0 and any("not listed before 2005-01-10" in n for n in c.notes)
    assert any("backfilled" in n for n in full_market().es_chain(date(2002, 7, 23)).notes)
    assert not full_market().es_chain(date(2020, 1, 6)).notes


def test_vix_daily_is_the_model_vix_of_the_days_before() -> None:
    bars = full_market().vix_daily(date(2008, 11, 21))
    assert bars.day[-1] == np.datetime64("2008-11-20") and bars.day[0] == np.datetime64("1999-01-04")
    assert bars.close_pts[-1] == pytest.approx(full_market().vix(date(2008, 11, 20)), rel=1e-12)
    assert 75 < bars.close_pts[-1] < 85 and np.isfinite(bars.close_pts).all()


def test_held_strikes_stay_listed_and_marking_prices_only_them() -> None:
    day, expiry = date(2008, 11, 20), date(2009, 1, 16)  # the January 2009 LEAP
    far = 400.0  # far above the grid of a day when SPY closed near 80
    plain = full_market().equity_chain(day)
    assert far not in plain.snapshot.strike_pts[plain.snapshot.expiry == np.datetime64(expiry)]
    held = full_market().equity_chain(day, {expiry: [far, 80.0]})
    marks = full_market().equity_chain(day, {expiry: [far, 80.0]}, grid=False)
    assert len(marks.snapshot) == 4 and set(marks.snapshot.strike_pts.tolist()) == {80.0, far}
    for chain in (held, marks):
        assert chain.snapshot.index_of("SPY*MODELLED 090116C00400000") >= 0
    # the same contract has the same price in all three, and the grid's other rows are unchanged
    for sym in ("SPY*MODELLED 090116P00080000", "SPY*MODELLED 090116C00080000"):
        prices = {float(c.theo_pts[c.snapshot.index_of(sym)]) for c in (plain, held, marks)}
        assert len(prices) == 1
    common = [plain.snapshot.index_of(s) for s in plain.snapshot.symbol.tolist()]
    again = [held.snapshot.index_of(s) for s in plain.snapshot.symbol.tolist()]
    assert np.array_equal(plain.theo_pts[common], held.theo_pts[again])
    es = full_market().es_chain(day, {date(2008, 12, 19): [1500.0]}, grid=False)
    assert es.snapshot.symbol.tolist() == ["ES*MODELLED 081219P01500000", "ES*MODELLED 081219C01500000"]


def test_dte_windows_list_only_their_expiries_and_the_held_ones() -> None:
    day = date(2019, 6, 3)
    full = full_market().equity_chain(day)
    every = {e.astype(object) for e in np.unique(full.snapshot.expiry)}
    held_expiry = max(every)  # a LEAP, far outside the window
    cut = full_market().equity_chain(day, {held_expiry: [250.0]}, dte_window=((0, 7),))
    kept = {e.astype(object) for e in np.unique(cut.snapshot.expiry)}
    assert kept == {e for e in every if (e - day).days <= 7} | {held_expiry}
    assert set(cut.snapshot.strike_pts[cut.snapshot.expiry == np.datetime64(held_expiry)]) >= {250.0}
