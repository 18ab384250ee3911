"""Minute bars from the bundled LEAN zips: values equal the CSV rows, times are UTC."""

from __future__ import annotations

import csv
import io
import time
import zipfile
from datetime import date, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from replay.lean_data import (
    OptionKey,
    QuoteBars,
    TradeBars,
    available_minute_days,
    read_equity_minute,
    read_future_minute,
    read_index_minute,
    read_option_minute,
)
from replay.lean_data.bars import local_ms_to_utc, parse_bars
from replay.lean_data.paths import parse_option_entry_name
from thetacore.enums import Right

DATA_ROOT = Path(__file__).resolve().parents[2] / "data"
ES_DAY = date(2020, 1, 6)
PUT_3000_MAR = OptionKey(Right.PUT, 3000.0, date(2020, 3, 20), "202003")


def _utc(text: str) -> np.datetime64:
    return np.datetime64(text, "ms")


def _reference_quote(zip_path: Path, member: str, scale: float
                     ) -> dict[str, np.ndarray]:
    """Slow row-by-row reading with the csv module: the scalar reference for the parser."""
    with zipfile.ZipFile(zip_path) as zf:
        rows = list(csv.reader(io.StringIO(zf.read(member).decode())))

    def col(j: int) -> np.ndarray:
        return np.array([float(r[j]) if r[j] else np.nan for r in rows])
    out = {"ms": col(0)}
    for side, first in (("bid", 1), ("ask", 6)):
        ohlc = np.column_stack([col(first + k) / scale for k in range(4)])
        size = col(first + 4)
        none = np.all(np.isnan(ohlc) | (ohlc == 0), axis=1)
        ohlc[none], size[none] = np.nan, np.nan
        for k, name in enumerate(("open", "high", "low", "close")):
            out[f"{side}_{name}"] = ohlc[:, k]
        out[f"{side}_size"] = size
    return out


def test_when_es_quotes_read_then_a_known_minute_equals_the_csv_row() -> None:
    bars = read_future_minute(DATA_ROOT, "cme", "ES", ES_DAY, "quote")
    assert list(bars) == ["202003", "202006", "202009", "202012", "202103"]
    march = bars["202003"]
    assert isinstance(march, QuoteBars)
    # CSV row: 52200000,3214.25,3215.5,3213.25,3215.5,154,3214.5,3215.75,3213.5,3215.75,117
    i = int(np.flatnonzero(march.time_utc == _utc("2020-01-06T14:30"))[0])
    got = [march.bid_open[i], march.bid_high[i], march.bid_low[i], march.bid_close[i],
           march.bid_size[i], march.ask_open[i], march.ask_high[i], march.ask_low[i],
           march.ask_close[i], march.ask_size[i]]
    assert got == [3214.25, 3215.5, 3213.25, 3215.5, 154, 3214.5, 3215.75, 3213.5, 3215.75, 117]


def test_when_es_day_file_read_then_it_starts_at_midnight_utc_which_is_6pm_chicago() -> None:
    march = read_future_minute(DATA_ROOT, "cme", "ES", ES_DAY, "quote")["202003"]
    assert march.time_utc[0] == _utc("2020-01-06T00:00")
    first = datetime.fromisoformat(str(march.time_utc[0])).replace(tzinfo=ZoneInfo("UTC"))
    assert first.astimezone(ZoneInfo("America/Chicago")) == datetime(
        2020, 1, 5, 18, 0, tzinfo=ZoneInfo("America/Chicago"))
    assert np.all(np.diff(march.time_utc) > np.timedelta64(0, "ms"))


def test_when_es_trades_read_then_trade_bars_per_month() -> None:
    bars = read_future_minute(DATA_ROOT, "cme", "ES", ES_DAY, "trade")
    march = bars["202003"]
    assert isinstance(march, TradeBars)
    assert np.all(march.low <= march.high)
    assert 3150 < np.nanmin(march.low) <= np.nanmax(march.high) < 3260


def test_when_es_put_3000_read_then_bid_ask_equal_the_csv() -> None:
    chain = read_option_minute(DATA_ROOT, "futureoption", "cme", "ES", ES_DAY, "quote",
                               future_month="202003")
    assert len(chain) == 104
    put = chain[PUT_3000_MAR]
    # CSV rows: 0,29,29.25,29,29.25,12,30,30,29.25,30,164 and 52200000,31.75,...,32,340
    assert (put.time_utc[0], put.bid_close[0], put.ask_close[0]) == (_utc("2020-01-06"), 29.25, 30)
    assert (put.bid_size[0], put.ask_size[0]) == (12, 164)
    i = int(np.flatnonzero(put.time_utc == _utc("2020-01-06T14:30"))[0])
    assert (put.bid_open[i], put.bid_close[i], put.ask_open[i], put.ask_close[i]) == (
        31.75, 31.5, 32.25, 32)


def test_when_a_quote_side_is_empty_then_it_is_nan_never_zero() -> None:
    chain = read_option_minute(DATA_ROOT, "futureoption", "cme", "ES", ES_DAY, "quote",
                               future_month="202003")
    call = chain[OptionKey(Right.CALL, 3000.0, date(2020, 3, 20), "202003")]
    # CSV row: 1440000,251.25,251.25,251,251,15,,,,,0  (ask side empty, size 0)
    i = int(np.flatnonzero(call.time_utc == _utc("2020-01-06T00:24"))[0])
    assert call.bid_close[i] == 251.0
    assert np.isnan([call.ask_open[i], call.ask_close[i], call.ask_size[i]]).all()


def test_when_future_month_omitted_then_all_month_folders_are_read() -> None:
    chain = read_option_minute(DATA_ROOT, "futureoption", "cme", "ES", ES_DAY, "quote")
    assert {k.future_month for k in chain} == {"202003", "202006"}
    assert len(chain) == 104 + 107
    np.testing.assert_array_equal(chain[PUT_3000_MAR].bid_close[:3], [29.25, 29.25, 29.25])


def test_when_whole_es_option_zip_parsed_then_it_matches_the_slow_reference() -> None:
    path = DATA_ROOT / "futureoption/cme/minute/es/202003/20200106_quote_american.zip"
    chain = read_option_minute(DATA_ROOT, "futureoption", "cme", "ES", ES_DAY, "quote",
                               future_month="202003")
    for member in zipfile.ZipFile(path).namelist()[::13]:
        ref = _reference_quote(path, member, 1.0)
        bars = chain[parse_option_entry_name(member, future_month="202003")]
        expected_t = np.datetime64("2020-01-06", "ms") + ref["ms"].astype("timedelta64[ms]")
        np.testing.assert_array_equal(bars.time_utc, expected_t)
        for name, values in ref.items():
            if name != "ms":
                np.testing.assert_array_equal(getattr(bars, name), values, err_msg=name)


def test_when_full_es_options_day_loaded_then_it_takes_well_under_two_seconds() -> None:
    start = time.perf_counter()
    chain = read_option_minute(DATA_ROOT, "futureoption", "cme", "ES", ES_DAY, "quote",
                               future_month="202003")
    elapsed_s = time.perf_counter() - start
    assert len(chain) == 104
    assert elapsed_s < 2.0, f"loading 104 ES option CSVs took {elapsed_s:.2f} s"


def test_when_spy_minute_read_then_prices_are_unscaled_new_york_times() -> None:
    quotes = read_equity_minute(DATA_ROOT, "SPY", date(2023, 8, 3), "quote")
    trades = read_equity_minute(DATA_ROOT, "SPY", date(2023, 8, 3), "trade")
    assert isinstance(quotes, QuoteBars) and isinstance(trades, TradeBars)
    # 09:30 New York (EDT) = 13:30 UTC; CSV: 34200000,4480400,4484450,4480400,4483100,764109
    i = int(np.flatnonzero(trades.time_utc == _utc("2023-08-03T13:30"))[0])
    assert (trades.open[i], trades.high[i], trades.close[i], trades.volume[i]) == (
        448.04, 448.445, 448.31, 764109)
    assert quotes.time_utc[0] == _utc("2023-08-03T08:00")  # 04:00 ET premarket
    assert 445 < np.nanmin(trades.low) <= np.nanmax(trades.high) < 455


def test_when_spx_index_read_then_chicago_times_become_utc() -> None:
    spx = read_index_minute(DATA_ROOT, "SPX", date(2021, 1, 4))
    # first row 30600000 ms = 08:30 Chicago (CST) = 14:30 UTC; open 3764.61
    assert (spx.time_utc[0], spx.open[0]) == (_utc("2021-01-04T14:30"), 3764.61)
    assert (spx.time_utc[-1], spx.close[-1]) == (_utc("2021-01-04T21:20"), 3700.65)


def test_when_spxw_quotes_read_then_prices_are_divided_by_10000() -> None:
    chain = read_option_minute(DATA_ROOT, "indexoption", "usa", "SPXW", date(2023, 6, 26),
                               "quote")
    put = chain[OptionKey(Right.PUT, 4445.0, date(2023, 6, 30))]
    # CSV: 34200000,984000,984000,946000,955000,19,1011000,... (09:30 New York = 13:30 UTC)
    assert (put.time_utc[0], put.bid_open[0], put.bid_close[0], put.ask_open[0]) == (
        _utc("2023-06-26T13:30"), 98.4, 95.5, 101.1)


def test_when_spy_options_read_then_four_contracts_scaled() -> None:
    chain = read_option_minute(DATA_ROOT, "option", "usa", "SPY", date(2023, 8, 3), "quote")
    assert sorted((k.right, k.strike_pts) for k in chain) == [
        (Right.PUT, 430.0), (Right.PUT, 470.0), (Right.CALL, 430.0), (Right.CALL, 470.0)]
    call = chain[OptionKey(Right.CALL, 430.0, date(2023, 9, 1))]
    assert 15 < np.nanmedian(call.bid_close) < np.nanmedian(call.ask_close) < 30


def test_when_bars_returned_then_arrays_are_read_only() -> None:
    spx = read_index_minute(DATA_ROOT, "SPX", date(2021, 1, 4))
    with pytest.raises(ValueError):
        spx.close[0] = 0.0


@pytest.mark.parametrize(
    ("security_type", "market", "ticker", "expected"),
    [
        ("futureoption", "cme", "ES", [date(2020, 1, 5), date(2020, 1, 6)]),
        ("future", "cme", "ES", [date(2020, 1, 5), date(2020, 1, 6)]),
        ("equity", "usa", "SPY", [date(2023, 8, 3)]),
        ("option", "usa", "QQQ", []),
    ],
)
def test_when_days_listed_then_union_of_zip_days(security_type: str, market: str, ticker: str,
                                                  expected: list[date]) -> None:
    days = available_minute_days(DATA_ROOT, security_type, market, ticker)  # type: ignore[arg-type]
    assert days == expected


def test_when_dst_changes_then_lean_resolver_later_instant_and_shift_forward() -> None:
    ms = np.array([0, 2.5 * 3_600_000, 12 * 3_600_000])
    spring = local_ms_to_utc(date(2020, 3, 8), ms, ZoneInfo("America/New_York"))
    # 00:00 EST = 05:00 UTC; 02:30 does not exist -> 03:00 EDT = 07:00 UTC; 12:00 EDT = 16:00
    np.testing.assert_array_equal(spring, np.array(
        ["2020-03-08T05:00", "2020-03-08T07:00", "2020-03-08T16:00"], dtype="datetime64[ms]"))
    fall = local_ms_to_utc(date(2020, 11, 1), np.array([1.5 * 3_600_000]),
                           ZoneInfo("America/New_York"))
    assert fall[0] == _utc("2020-11-01T06:30")  # 01:30 twice: the later one, EST


_price = st.one_of(st.just(""), st.just("0"), st.integers(1, 50_000_000).map(str))


@given(rows=st.lists(st.tuples(st.lists(_price, min_size=4, max_size=4), st.integers(0, 999),
                               st.lists(_price, min_size=4, max_size=4), st.integers(0, 999)),
                     min_size=1, max_size=30),
       scaled=st.booleans())
@settings(max_examples=60, deadline=None)
def test_when_random_quote_rows_parsed_then_fast_parser_equals_row_by_row(
    rows: list[tuple[list[str], int, list[str], int]], scaled: bool,
) -> None:
    text = "".join(f"{60_000 * i},{','.join(b)},{bs},{','.join(a)},{as_}\n"
                   for i, (b, bs, a, as_) in enumerate(rows))
    bars = parse_bars(text.encode(), "quote", ES_DAY, ZoneInfo("UTC"), scaled, Path("x.zip"),
                      "x.csv")
    assert isinstance(bars, QuoteBars)
    scale = 10_000.0 if scaled else 1.0
    for i, (bid, bid_size, ask, ask_size) in enumerate(rows):
        for side, ohlc, size in (("bid", bid, bid_size), ("ask", ask, ask_size)):
            quoted = any(p not in ("", "0") for p in ohlc)
            expect = [float(p) / scale if p else np.nan for p in ohlc] if quoted else [np.nan] * 4
            got = [getattr(bars, f"{side}_{n}")[i] for n in ("open", "high", "low", "close")]
            np.testing.assert_array_equal(got, expect)
            assert (getattr(bars, f"{side}_size")[i] == size) if quoted else np.isnan(
                getattr(bars, f"{side}_size")[i])
    assert bars.time_utc[-1] == _utc("2020-01-06") + np.timedelta64(60_000 * (len(rows) - 1),
                                                                     "ms")


def test_when_bar_arrays_differ_in_length_then_value_error() -> None:
    t = np.array(["2020-01-06T00:00"], dtype="datetime64[ms]")
    with pytest.raises(ValueError, match="equal"):
        TradeBars(t, np.ones(1), np.ones(1), np.ones(1), np.ones(2), np.ones(1))
