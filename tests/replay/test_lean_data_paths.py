"""LEAN data-folder names: built paths exist in the bundled data, CSV names parse."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest

from replay.lean_data import DataError, OptionKey
from replay.lean_data.paths import (
    daily_zip_path,
    find_minute_zip,
    minute_entry_name,
    minute_zip_path,
    parse_future_entry_name,
    parse_option_entry_name,
    parse_zip_day,
)
from thetacore.enums import Right

DATA_ROOT = Path(__file__).resolve().parents[2] / "data"


@pytest.mark.parametrize(
    ("args", "relative"),
    [
        (("index", "usa", "SPX", date(2021, 1, 4), "trade"),
         "index/usa/minute/spx/20210104_trade.zip"),
        (("indexoption", "usa", "SPXW", date(2021, 1, 4), "quote"),
         "indexoption/usa/minute/spxw/20210104_quote_european.zip"),
        (("equity", "usa", "SPY", date(2023, 8, 3), "quote"),
         "equity/usa/minute/spy/20230803_quote.zip"),
        (("option", "usa", "SPY", date(2023, 8, 3), "quote"),
         "option/usa/minute/spy/20230803_quote_american.zip"),
        (("future", "cme", "ES", date(2020, 1, 6), "quote"),
         "future/cme/minute/es/20200106_quote.zip"),
    ],
)
def test_when_minute_path_built_then_it_is_the_bundled_file(args: tuple, relative: str) -> None:
    path = minute_zip_path(DATA_ROOT, *args)
    assert path == DATA_ROOT / relative
    assert path.is_file()


def test_when_future_option_path_built_then_month_folder_is_used() -> None:
    path = minute_zip_path(DATA_ROOT, "futureoption", "cme", "ES", date(2020, 1, 6), "quote",
                           future_month="202003")
    assert path == DATA_ROOT / "futureoption/cme/minute/es/202003/20200106_quote_american.zip"
    assert path.is_file()


def test_when_future_option_path_lacks_month_then_value_error() -> None:
    with pytest.raises(ValueError, match="future_month"):
        minute_zip_path(DATA_ROOT, "futureoption", "cme", "ES", date(2020, 1, 6), "quote")


def test_when_only_double_zip_extension_exists_then_it_is_found() -> None:
    path = find_minute_zip(DATA_ROOT, "indexoption", "usa", "spxw", date(2021, 1, 4), "trade")
    assert path.name == "20210104_trade_european.zip.zip"


def test_when_no_zip_for_day_then_data_error_names_the_file() -> None:
    with pytest.raises(DataError) as info:
        find_minute_zip(DATA_ROOT, "future", "cme", "es", date(2020, 1, 7), "quote")
    assert "20200107_quote.zip" in str(info.value)


def test_when_option_csv_name_parsed_then_right_strike_expiry() -> None:
    key = parse_option_entry_name("20200106_es_minute_quote_american_put_30000000_20200320.csv")
    assert key == OptionKey(Right.PUT, 3000.0, date(2020, 3, 20))
    assert key.right == -1
    call = parse_option_entry_name("20230803_spy_minute_quote_american_call_4525000_20230901.csv")
    assert (call.right, call.strike_pts, call.expiry) == (1, 452.5, date(2023, 9, 1))


def test_when_option_key_rendered_then_name_round_trips() -> None:
    key = OptionKey(Right.CALL, 3702.5, date(2021, 1, 8))
    name = minute_entry_name("indexoption", "SPXW", date(2021, 1, 4), "quote", key=key)
    assert name == "20210104_spxw_minute_quote_european_call_37025000_20210108.csv"
    assert parse_option_entry_name(name) == key


def test_when_future_option_name_parsed_with_month_then_key_carries_it() -> None:
    key = parse_option_entry_name("20200106_es_minute_quote_american_call_32000000_20200619.csv",
                                  future_month="202006")
    assert key.future_month == "202006"
    assert key != OptionKey(Right.CALL, 3200.0, date(2020, 6, 19))


@pytest.mark.parametrize("name", ["20200106_es_minute_quote_202003.csv", "es_quote_202003.csv"])
def test_when_future_csv_name_parsed_then_contract_month(name: str) -> None:
    assert parse_future_entry_name(name) == "202003"


@pytest.mark.parametrize("name", ["spy.csv", "20200106_es_minute_quote_bad_30000000_x.csv"])
def test_when_option_name_is_malformed_then_data_error_names_it(name: str) -> None:
    with pytest.raises(DataError) as info:
        parse_option_entry_name(name)
    assert name in str(info.value)


def test_when_future_name_is_malformed_then_data_error() -> None:
    with pytest.raises(DataError, match="es_quote.csv"):
        parse_future_entry_name("es_quote.csv")


def test_when_zip_names_parsed_then_days_or_none() -> None:
    assert parse_zip_day("20200106_quote_american.zip") == date(2020, 1, 6)
    assert parse_zip_day("20210104_trade_european.zip.zip") == date(2021, 1, 4)
    assert parse_zip_day("es_quote.zip") is None
    assert parse_zip_day("20201399_quote.zip") is None


def test_when_daily_paths_built_then_bundled_files() -> None:
    assert daily_zip_path(DATA_ROOT, "equity", "usa", "SPY").is_file()
    assert daily_zip_path(DATA_ROOT, "index", "usa", "SPX").is_file()
    assert daily_zip_path(DATA_ROOT, "future", "cme", "ES", "quote").name == "es_quote.zip"
    assert daily_zip_path(DATA_ROOT, "future", "cme", "ES", "trade").is_file()
