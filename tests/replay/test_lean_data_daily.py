"""Daily bars from the bundled LEAN daily zips."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from replay.lean_data import (
    DailyQuoteBars,
    DailyTradeBars,
    read_equity_daily,
    read_future_daily,
    read_index_daily,
)

DATA_ROOT = Path(__file__).resolve().parents[2] / "data"


def test_when_spy_daily_read_then_scaled_prices_and_dates() -> None:
    spy = read_equity_daily(DATA_ROOT, "SPY")
    # first row: 19980102 00:00,973100,975300,965300,973600,2150000
    assert spy.day[0] == np.datetime64("1998-01-02")
    assert (spy.open[0], spy.high[0], spy.low[0], spy.close[0], spy.volume[0]) == (
        97.31, 97.53, 96.53, 97.36, 2150000)
    assert spy.day[-1] == np.datetime64("2021-03-31")
    assert np.all(np.diff(spy.day) > np.timedelta64(0, "D"))
    assert np.all(spy.low <= spy.high)


def test_when_spx_daily_read_then_plain_prices() -> None:
    spx = read_index_daily(DATA_ROOT, "SPX")
    np.testing.assert_array_equal(spx.day, np.array(["2021-01-04", "2021-01-14"],
                                                    dtype="datetime64[D]"))
    np.testing.assert_array_equal(spx.close, [3700.65, 3795.54])


def test_when_es_daily_trades_read_then_one_series_per_contract_month() -> None:
    bars = read_future_daily(DATA_ROOT, "cme", "ES", "trade")
    assert list(bars)[:2] == ["201312", "201403"]
    march = bars["201403"]
    assert isinstance(march, DailyTradeBars)
    # first row: 20131006 00:00,1669,1670.75,1667.5,1670.25,46 (a short Sunday UTC day)
    assert (march.day[0], march.open[0], march.close[0], march.volume[0]) == (
        np.datetime64("2013-10-06"), 1669.0, 1670.25, 46)


def test_when_es_daily_quotes_read_then_bid_and_ask() -> None:
    bars = read_future_daily(DATA_ROOT, "cme", "ES", "quote")
    march = bars["202003"]
    assert isinstance(march, DailyQuoteBars)
    # row: 20200105 00:00,3219.5,3223.75,3216.25,3223.5,34,3220.5,3224,3216.75,3223.75,9
    assert (march.day[0], march.bid_close[0], march.ask_close[0], march.ask_size[0]) == (
        np.datetime64("2020-01-05"), 3223.5, 3223.75, 9)
