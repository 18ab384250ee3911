"""Exchange hours from the bundled market-hours database, and LEAN's merge/fallback rules."""

from __future__ import annotations

import json
from datetime import date, datetime, time
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from replay.lean_data import DataError, MarketHours, SessionState
from replay.lean_data.market_hours import parse_timespan

DATA_ROOT = Path(__file__).resolve().parents[2] / "data"
NY = ZoneInfo("America/New_York")
CHI = ZoneInfo("America/Chicago")


@pytest.fixture(scope="module")
def hours() -> MarketHours:
    return MarketHours.from_data_root(DATA_ROOT)


@pytest.mark.parametrize(
    ("security_type", "market", "ticker", "key", "data_tz", "exchange_tz"),
    [
        ("future", "cme", "ES", "Future-cme-ES", "UTC", "America/New_York"),
        ("futureoption", "cme", "ES", "Future-cme-ES", "UTC", "America/New_York"),
        ("index", "usa", "SPX", "Index-usa-SPX", "America/Chicago", "America/Chicago"),
        ("indexoption", "usa", "SPXW", "IndexOption-usa-SPXW", "America/New_York",
         "America/Chicago"),
        ("equity", "usa", "SPY", "Equity-usa-[*]", "America/New_York", "America/New_York"),
        ("option", "usa", "SPY", "Option-usa-[*]", "America/New_York", "America/New_York"),
    ],
)
def test_when_entry_looked_up_then_lean_key_and_time_zones(
    hours: MarketHours, security_type: str, market: str, ticker: str, key: str,
    data_tz: str, exchange_tz: str,
) -> None:
    entry = hours.entry(security_type, market, ticker)
    assert (entry.key, entry.data_tz.key, entry.exchange_tz.key) == (key, data_tz, exchange_tz)


def test_when_es_monday_then_trading_day_with_pre_regular_and_post_segments(
    hours: MarketHours,
) -> None:
    es = hours.entry("future", "cme", "ES")
    assert es.is_trading_day(date(2020, 1, 6))
    assert es.sessions(date(2020, 1, 6)) == [
        (datetime(2020, 1, 6, 0, 0, tzinfo=NY), datetime(2020, 1, 6, 9, 30, tzinfo=NY),
         SessionState.PREMARKET),
        (datetime(2020, 1, 6, 9, 30, tzinfo=NY), datetime(2020, 1, 6, 17, 0, tzinfo=NY),
         SessionState.MARKET),
        (datetime(2020, 1, 6, 18, 0, tzinfo=NY), datetime(2020, 1, 7, 0, 0, tzinfo=NY),
         SessionState.POSTMARKET),
    ]


def test_when_christmas_then_holiday_from_the_cme_wildcard_entry(hours: MarketHours) -> None:
    es = hours.entry("future", "cme", "ES")
    assert date(2020, 12, 25) in es.holidays  # ES lists only 2026/27; [*] adds the rest
    assert not es.is_trading_day(date(2020, 12, 25))
    assert es.sessions(date(2020, 12, 25)) == []
    assert not hours.entry("equity", "usa", "SPY").is_trading_day(date(2020, 12, 25))


def test_when_day_after_thanksgiving_then_early_closes(hours: MarketHours) -> None:
    day = date(2020, 11, 27)
    es = hours.entry("future", "cme", "ES")
    assert es.early_closes[day] == time(13, 15)
    assert es.sessions(day)[-1] == (datetime(2020, 11, 27, 9, 30, tzinfo=NY),
                                    datetime(2020, 11, 27, 13, 15, tzinfo=NY),
                                    SessionState.MARKET)
    spy = hours.entry("equity", "usa", "SPY")
    assert spy.early_closes[day] == time(13, 0)
    assert spy.next_market_close(datetime(2020, 11, 27, 10, 0, tzinfo=NY)) == datetime(
        2020, 11, 27, 13, 0, tzinfo=NY)
    spxw = hours.entry("indexoption", "usa", "SPXW")  # inherits SPX / Index-usa-[*] closes
    assert spxw.early_closes[day] == time(12, 0)


def test_when_mlk_day_then_early_close_and_evening_late_open(hours: MarketHours) -> None:
    es = hours.entry("future", "cme", "ES")
    day = date(2020, 1, 20)
    assert [(s.start.total_seconds() / 3600, s.end.total_seconds() / 3600, s.state)
            for s in es.segments(day)] == [
        (0.0, 9.5, SessionState.PREMARKET), (9.5, 13.0, SessionState.MARKET),
        (18.0, 24.0, SessionState.POSTMARKET)]


def test_when_sunday_evening_then_extended_hours_only(hours: MarketHours) -> None:
    es = hours.entry("future", "cme", "ES")
    sunday = datetime(2020, 1, 5, 19, 0, tzinfo=NY)
    assert not es.is_trading_day(date(2020, 1, 5))
    assert es.is_trading_day(date(2020, 1, 5), extended_hours=True)
    assert not es.is_open(sunday)
    assert es.is_open(sunday, extended_hours=True)
    # 00:00 UTC Monday = 19:00 ET Sunday: the first bar of the 2020-01-06 ES day file
    assert es.is_open(datetime(2020, 1, 6, 0, 0, tzinfo=ZoneInfo("UTC")), extended_hours=True)


def test_when_session_runs_through_midnight_then_next_close_is_monday_17_et(
    hours: MarketHours,
) -> None:
    es = hours.entry("future", "cme", "ES")
    expected = datetime(2020, 1, 6, 17, 0, tzinfo=NY)
    assert es.next_market_close(datetime(2020, 1, 5, 19, 0, tzinfo=NY)) == expected
    assert es.next_market_close(datetime(2020, 1, 5, 19, 0, tzinfo=NY), True) == expected
    assert es.next_market_close(datetime(2020, 1, 6, 17, 30, tzinfo=NY)) == datetime(
        2020, 1, 7, 17, 0, tzinfo=NY)


def test_when_spx_regular_hours_then_chicago_830_to_1515(hours: MarketHours) -> None:
    spx = hours.entry("index", "usa", "SPX")
    assert spx.is_open(datetime(2021, 1, 4, 8, 30, tzinfo=CHI))
    assert not spx.is_open(datetime(2021, 1, 4, 15, 15, tzinfo=CHI))
    assert spx.is_open(datetime(2021, 1, 4, 9, 30, tzinfo=NY))


def test_when_naive_datetime_given_then_value_error(hours: MarketHours) -> None:
    with pytest.raises(ValueError, match="naive"):
        hours.entry("future", "cme", "ES").is_open(datetime(2020, 1, 6, 10, 0))


def test_when_timespans_parsed_then_net_formats_are_understood() -> None:
    assert parse_timespan("1.00:00:00").total_seconds() == 86400
    assert parse_timespan("1:00:00:00").total_seconds() == 86400
    assert parse_timespan("09:30:00").total_seconds() == 34200


def _write_db(tmp_path: Path, entries: dict) -> Path:
    path = tmp_path / "market-hours-database.json"
    path.write_text(json.dumps({"entries": entries}))
    return path


def _raw(holidays: list[str], early: dict[str, str] | None = None) -> dict:
    day = [{"start": "09:30:00", "end": "16:00:00", "state": "market"}]
    return {"dataTimeZone": "America/New_York", "exchangeTimeZone": "America/New_York",
            **{d: day for d in ("monday", "tuesday", "wednesday", "thursday", "friday")},
            "holidays": holidays, "earlyCloses": early or {}}


def test_when_entries_merge_then_lean_rules_apply(tmp_path: Path) -> None:
    path = _write_db(tmp_path, {
        "Index-usa-[*]": _raw(["1/1/2021"], {"11/27/2020": "12:00:00"}),
        "Index-usa-SPX": _raw(["7/5/2021"], {"11/27/2020": "13:00:00"}),
        "IndexOption-usa-SPXW": _raw([]),
        "IndexOption-usa-ABCW": _raw([]),
    })
    hours = MarketHours.load(path)
    index = hours.entry("index", "usa", "SPX")
    assert index.holidays == {date(2021, 1, 1), date(2021, 7, 5)}  # own | [*]
    assert index.early_closes[date(2020, 11, 27)] == time(13, 0)  # own wins over [*]
    option = hours.entry("indexoption", "usa", "SPXW")  # none of its own: SPX's (SPXW -> SPX)
    assert option.holidays == {date(2021, 1, 1), date(2021, 7, 5)}
    unmapped = hours.entry("indexoption", "usa", "ABCW")  # no ABCW index: Index-usa-[*]'s
    assert unmapped.holidays == {date(2021, 1, 1)}
    assert hours.entry("index", "usa", "XYZ").key == "Index-usa-[*]"


def test_when_key_unknown_then_data_error_names_it(hours: MarketHours) -> None:
    with pytest.raises(DataError, match="Future-usa-ES"):
        hours.entry("future", "usa", "ES")


def test_when_database_missing_or_not_json_then_data_error(tmp_path: Path) -> None:
    with pytest.raises(DataError, match="nothing.json"):
        MarketHours.load(tmp_path / "nothing.json")
    bad = tmp_path / "broken.json"
    bad.write_text('{"entries": {\n  "Equity-usa-[*]": ,\n}')
    with pytest.raises(DataError) as info:
        MarketHours.load(bad)
    assert "broken.json" in str(info.value) and info.value.line == 2
