"""Readers of LEAN's option universe files and of its interest-rate series."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import numpy as np
import pytest

from replay.lean_data.errors import DataError
from replay.lean_data.interest_rate import interest_rate_path, read_interest_rates
from replay.lean_data.universes import read_universe, universe_path

DATA = Path(__file__).resolve().parents[2] / "data"
HEADER = ("#expiry,strike,right,open,high,low,close,volume,open_interest,implied_volatility,"
          "delta,gamma,vega,theta,rho")


def test_when_spxw_file_then_underlying_row_and_contracts_are_parsed() -> None:
    u = read_universe(universe_path(DATA, "indexoption", "usa", "SPXW", date(2023, 6, 23)))
    assert u.date == date(2023, 6, 23) and len(u) == 12 and u.has_stored_greeks
    assert (u.underlying_open_pts, u.underlying_high_pts, u.underlying_low_pts,
            u.underlying_close_pts, u.underlying_volume) == (4350.18, 4366.55, 4341.34,
                                                             4348.23, 0.0)
    assert u.expiry.dtype == np.dtype("datetime64[D]") and u.right.dtype == np.int8
    assert u.expiry[0] == np.datetime64("2023-06-30") and u.strike_pts[0] == 4440.0
    assert u.right[0] == 1 and u.right[-1] == -1
    assert (u.open_pts[0], u.high_pts[0], u.low_pts[0], u.close_pts[0]) == (2.875, 5.15, 0.75,
                                                                            1.7)
    assert (u.volume[0], u.open_interest[0]) == (893.0, 1209.0)
    assert (u.stored_iv_frac[0], u.stored_delta[0], u.stored_gamma[0]) == (0.0956202, 0.0675138,
                                                                           0.0022678)
    assert (u.stored_vega_pts_per_vol_pt[0], u.stored_theta_pts_per_day[0],
            u.stored_rho_pts_per_rate_pt[0]) == (0.7862798, -0.579011, 0.0559743)


def test_when_equity_option_universe_then_prices_are_not_scaled() -> None:
    u = read_universe(universe_path(DATA, "option", "usa", "spy", date(2023, 12, 28)))
    assert u.underlying_close_pts == 476.69  # SPY's close, not 4,766,900
    assert u.close_pts[0] == 206.61 and u.strike_pts[0] == 270.0
    assert np.isnan(u.open_interest[1])  # empty field -> NaN, never 0


def test_when_future_option_universe_then_no_greek_columns_and_nan_greeks() -> None:
    path = universe_path(DATA, "futureoption", "cme", "es", date(2020, 1, 6), future_month="202003")
    assert path == DATA / "futureoption/cme/universes/es/202003/20200106.csv"
    u = read_universe(path)
    assert not u.has_stored_greeks and len(u) > 0
    assert u.underlying_close_pts == 3233.0
    assert np.isnan(u.stored_iv_frac).all() and np.isnan(u.stored_delta).all()


def test_when_old_file_has_no_underlying_row_then_underlying_is_nan() -> None:
    u = read_universe(DATA / "indexoption/usa/universes/spx/20151222.csv")
    assert not u.has_underlying and np.isnan(u.underlying_close_pts)
    assert len(u) == 233


def test_when_future_month_missing_or_misplaced_then_value_error() -> None:
    with pytest.raises(ValueError, match="future_month"):
        universe_path(DATA, "futureoption", "cme", "es", date(2020, 1, 6))
    with pytest.raises(ValueError, match="future_month"):
        universe_path(DATA, "option", "usa", "spy", date(2020, 1, 6), future_month="202003")


def test_when_lean_sample_has_a_corrupt_greek_then_data_error_names_file_and_line() -> None:
    path = DATA / "option/usa/universes/spy/20240105.csv"
    with pytest.raises(DataError) as err:
        read_universe(path)
    assert err.value.line == 17 and err.value.path == path
    assert "20240105.csv:17:" in str(err.value) and "-0.0009296.0025941" in str(err.value)


def test_when_dropping_malformed_greeks_then_only_that_row_loses_them() -> None:
    u = read_universe(DATA / "option/usa/universes/spy/20240105.csv", drop_malformed_greeks=True)
    assert u.dropped_greek_lines == (17,)
    bad = 14  # line 17: line 1 header, line 2 underlying, lines 3-16 contracts 0-13
    assert u.strike_pts[bad] == 412.0 and u.close_pts[bad] == 56.025
    assert np.isnan(u.stored_iv_frac[bad]) and np.isnan(u.stored_rho_pts_per_rate_pt[bad])
    assert np.isfinite(np.delete(u.stored_iv_frac, bad)).all()


def _write(tmp_path: Path, *lines: str, name: str = "20240105.csv") -> Path:
    path = tmp_path / name
    path.write_text("\n".join(lines) + "\n")
    return path


UNDERLYING = ",,,1,2,0.5,1.5,100,,,,,,,"
GOOD = "20240119,100,C,1,2,0.5,1.5,3,4,0.2,0.5,0.01,0.1,-0.02,0.03"


@pytest.mark.parametrize(
    ("lines", "line", "fragment"),
    [
        ((HEADER, UNDERLYING, "20240119,100,C,1,2"), 3, "row has 5 fields"),
        ((HEADER, UNDERLYING, GOOD.replace(",C,", ",X,")), 3, "right 'X'"),
        ((HEADER, UNDERLYING, GOOD.replace("20240119", "2024-01-19")), 3, "yyyymmdd"),
        ((HEADER, UNDERLYING, GOOD.replace(",1.5,3,", ",abc,3,")), 3, "'abc' is not a number"),
        ((HEADER, UNDERLYING, GOOD.replace(",100,C", ",,C")), 3, "strike"),
        ((HEADER, GOOD, UNDERLYING), 3, "not the first data row"),
        (("expiry,strike", GOOD), 1, "header"),
        (("#expiry,strike,right,open", GOOD), 1, "unknown header"),
    ],
)
def test_when_universe_malformed_then_data_error_with_file_and_line(
    tmp_path: Path, lines: tuple[str, ...], line: int, fragment: str,
) -> None:
    path = _write(tmp_path, *lines)
    with pytest.raises(DataError) as err:
        read_universe(path)
    assert err.value.line == line and err.value.path == path
    assert f"{path}:{line}:" in str(err.value) and fragment in str(err.value)


def test_when_universe_missing_or_badly_named_then_data_error(tmp_path: Path) -> None:
    with pytest.raises(DataError, match="cannot read universe file"):
        read_universe(tmp_path / "20240105.csv")
    with pytest.raises(DataError, match="yyyymmdd"):
        read_universe(_write(tmp_path, HEADER, GOOD, name="latest.csv"))


def test_when_only_underlying_row_then_empty_chain(tmp_path: Path) -> None:
    u = read_universe(_write(tmp_path, HEADER, UNDERLYING))
    assert len(u) == 0 and u.underlying_close_pts == 1.5


def test_when_interest_rate_file_then_percent_becomes_fraction_step_wise() -> None:
    rates = read_interest_rates(interest_rate_path(DATA))
    assert rates.rate_on(date(2023, 6, 23)) == 0.0525
    assert rates.rate_on(date(2023, 7, 26)) == 0.0525
    assert rates.rate_on(date(2023, 7, 27)) == 0.055  # on the change date itself
    assert rates.rate_on(date(2024, 1, 9)) == 0.055  # carried forward past the last row
    assert rates.rate_on(date(2020, 1, 6)) == 0.0225
    assert rates.rate_on(date(2003, 1, 9)) == 0.0225  # first row: 2.25 %
    assert rates.dates.dtype == np.dtype("datetime64[D]")


def test_when_date_before_first_row_then_data_error() -> None:
    rates = read_interest_rates(interest_rate_path(DATA))
    with pytest.raises(DataError, match="no interest rate on 2003-01-08"):
        rates.rate_on(date(2003, 1, 8))


@pytest.mark.parametrize(
    ("body", "line", "fragment"),
    [
        (["2020-01-01,1.5", "2020-02-30,1.0"], 3, "bad date or rate"),
        (["2020-01-01,1.5", "2020-02-01"], 3, "expected 'yyyy-mm-dd,percent'"),
        (["2020-01-01,1.5", "2019-12-01,1.0"], 3, "does not follow"),
        (["2020-01-01,nan"], 2, "not a finite number"),
    ],
)
def test_when_interest_rate_file_malformed_then_data_error_with_line(
    tmp_path: Path, body: list[str], line: int, fragment: str,
) -> None:
    path = tmp_path / "interest-rate.csv"
    path.write_text("\n".join(["DATE,PCREDIT8", *body]) + "\n")
    with pytest.raises(DataError) as err:
        read_interest_rates(path)
    assert err.value.line == line and fragment in str(err.value)
    assert f"{path}:{line}:" in str(err.value)


def test_when_interest_rate_file_missing_or_empty_then_data_error(tmp_path: Path) -> None:
    with pytest.raises(DataError, match="cannot read interest-rate file"):
        read_interest_rates(tmp_path / "interest-rate.csv")
    empty = tmp_path / "empty.csv"
    empty.write_text("DATE,PCREDIT8\n")
    with pytest.raises(DataError, match="no interest-rate rows"):
        read_interest_rates(empty)
