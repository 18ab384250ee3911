"""Bad files raise DataError naming the file (and member and line), never a raw traceback."""

from __future__ import annotations

import json
import zipfile
from datetime import date
from pathlib import Path

import pytest

from replay.lean_data import (
    DataError,
    read_equity_daily,
    read_future_minute,
    read_index_minute,
    read_option_minute,
)

DAY = date(2020, 1, 6)
ES_ZIP = "20200106_quote.zip"
ES_MEMBER = "20200106_es_minute_quote_202003.csv"
GOOD_ROW = "0,3223.5,3224,3222.75,3223,20,3223.75,3224.25,3223,3223.25,20\n"


@pytest.fixture
def root(tmp_path: Path) -> Path:
    """A data folder with a two-entry market-hours database and empty minute folders."""
    entry = {"dataTimeZone": "UTC", "exchangeTimeZone": "America/Chicago"}
    db = {"entries": {"Future-cme-[*]": entry,
                      "Index-usa-[*]": {**entry, "dataTimeZone": "America/Chicago"},
                      "FutureOption-cme-[*]": entry}}
    (tmp_path / "market-hours").mkdir()
    (tmp_path / "market-hours" / "market-hours-database.json").write_text(json.dumps(db))
    (tmp_path / "future/cme/minute/es").mkdir(parents=True)
    return tmp_path


def _es_zip(root: Path, members: dict[str, str]) -> Path:
    path = root / "future/cme/minute/es" / ES_ZIP
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zf:
        for name, text in members.items():
            zf.writestr(name, text)
    return path


def _error(root: Path) -> DataError:
    with pytest.raises(DataError) as info:
        read_future_minute(root, "cme", "ES", DAY, "quote")
    return info.value


def test_when_tmp_root_is_valid_then_it_reads(root: Path) -> None:
    _es_zip(root, {ES_MEMBER: GOOD_ROW + GOOD_ROW.replace("0,", "60000,", 1)})
    assert len(read_future_minute(root, "cme", "ES", DAY, "quote")["202003"]) == 2


def test_when_zip_missing_then_error_names_it(root: Path) -> None:
    assert ES_ZIP in str(_error(root))


def test_when_file_is_not_a_zip_then_error_names_it(root: Path) -> None:
    (root / "future/cme/minute/es" / ES_ZIP).write_text("this is not a zip")
    err = _error(root)
    assert ES_ZIP in str(err) and "zip" in err.reason
    assert err.__cause__ is not None


def test_when_zip_is_truncated_then_error_names_it(root: Path) -> None:
    path = _es_zip(root, {ES_MEMBER: GOOD_ROW * 200})
    path.write_bytes(path.read_bytes()[:-60])
    assert ES_ZIP in str(_error(root))


def test_when_zip_has_no_members_then_error(root: Path) -> None:
    _es_zip(root, {})
    assert ES_ZIP in str(_error(root))


def test_when_member_is_empty_then_error_names_member(root: Path) -> None:
    _es_zip(root, {ES_MEMBER: ""})
    err = _error(root)
    assert ES_ZIP in str(err) and err.member == ES_MEMBER and "empty" in err.reason


def test_when_row_is_truncated_then_error_names_member_and_line(root: Path) -> None:
    _es_zip(root, {ES_MEMBER: GOOD_ROW + "60000,3223,32"})
    err = _error(root)
    assert err.path is not None
    assert (err.path.name, err.member, err.line) == (ES_ZIP, ES_MEMBER, 2)
    assert ES_MEMBER in str(err) and "3 fields" in err.reason


def test_when_trade_rows_are_in_a_quote_file_then_column_count_error(root: Path) -> None:
    _es_zip(root, {ES_MEMBER: "0,3223.5,3224,3222.75,3223,20\n"})
    err = _error(root)
    assert (err.line, err.reason) == (1, "row has 6 fields, expected 11")


def test_when_field_is_not_a_number_then_error_names_line(root: Path) -> None:
    garbled = GOOD_ROW.replace("3224.25", "3224.2x")
    _es_zip(root, {ES_MEMBER: GOOD_ROW + GOOD_ROW + garbled})
    err = _error(root)
    assert (err.member, err.line) == (ES_MEMBER, 3)
    assert "3224.2x" in err.reason and ES_ZIP in str(err)


def test_when_time_field_is_empty_then_error_names_line(root: Path) -> None:
    _es_zip(root, {ES_MEMBER: GOOD_ROW + "," + GOOD_ROW.split(",", 1)[1]})
    err = _error(root)
    assert (err.member, err.line) == (ES_MEMBER, 2)


def test_when_future_member_name_is_wrong_then_error_names_it(root: Path) -> None:
    _es_zip(root, {"20200106_es_minute_quote.csv": GOOD_ROW})
    err = _error(root)
    assert err.member == "20200106_es_minute_quote.csv" and ES_ZIP in str(err)


def test_when_option_member_name_is_wrong_then_error_names_it(root: Path) -> None:
    folder = root / "futureoption/cme/minute/es/202003"
    folder.mkdir(parents=True)
    with zipfile.ZipFile(folder / "20200106_quote_american.zip", "w") as zf:
        zf.writestr("20200106_es_minute_quote_american_put_3000_x.csv", GOOD_ROW)
    with pytest.raises(DataError) as info:
        read_option_minute(root, "futureoption", "cme", "ES", DAY, "quote")
    assert "20200106_quote_american.zip" in str(info.value)
    assert info.value.member == "20200106_es_minute_quote_american_put_3000_x.csv"


def test_when_no_future_option_month_has_the_day_then_error(root: Path) -> None:
    with pytest.raises(DataError, match="20200106_quote"):
        read_option_minute(root, "futureoption", "cme", "ES", DAY, "quote")


def test_when_index_file_missing_then_error_names_it(root: Path) -> None:
    with pytest.raises(DataError, match="20200106_trade.zip"):
        read_index_minute(root, "SPX", DAY)


def test_when_daily_date_is_garbled_then_error_names_line(tmp_path: Path) -> None:
    folder = tmp_path / "equity/usa/daily"
    folder.mkdir(parents=True)
    with zipfile.ZipFile(folder / "spy.zip", "w") as zf:
        zf.writestr("spy.csv", "19980102 00:00,973100,975300,965300,973600,2150000\n"
                               "1998-01-05,978400,984400,967800,977500,4030800\n")
    with pytest.raises(DataError) as info:
        read_equity_daily(tmp_path, "SPY")
    assert (info.value.member, info.value.line) == ("spy.csv", 2)
    assert "spy.zip" in str(info.value)


def test_when_daily_price_is_garbled_then_error_names_line(tmp_path: Path) -> None:
    folder = tmp_path / "equity/usa/daily"
    folder.mkdir(parents=True)
    with zipfile.ZipFile(folder / "spy.zip", "w") as zf:
        zf.writestr("spy.csv", "19980102 00:00,973100,975300,965300,973600,2150000\n"
                               "19980105 00:00,978400,98x400,967800,977500,4030800\n")
    with pytest.raises(DataError) as info:
        read_equity_daily(tmp_path, "SPY")
    assert (info.value.member, info.value.line) == ("spy.csv", 2)
