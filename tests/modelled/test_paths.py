"""The REAL daily paths: dividends and splits from LEAN's factor files, the rate backfill, and
the GARCH filter across a data gap."""

from __future__ import annotations

from datetime import date

import numpy as np
import pytest

from modelled.paths import read_factor_file, read_path
from modelled.vol import GarchSettings, build_vol_path
from tests.modelled.world import DATA, rates, spy_path


def test_path_date_ranges_are_the_bundled_files() -> None:
    spy = spy_path()
    assert (spy.day[0], spy.day[-1], len(spy)) == (np.datetime64("1998-01-02"), np.datetime64("2021-03-31"), 5849)
    qqq = read_path(DATA, "QQQ")
    assert qqq.day[0] == np.datetime64("1999-03-10")
    # QQQ's bundled file has no bars between 2004-11-30 and 2011-03-23 (a gap in LEAN's sample)
    gaps = np.flatnonzero(np.diff(qqq.day).astype(np.int64) > 10)
    assert [str(qqq.day[i]) for i in gaps] == ["2004-11-30"]


def test_spy_first_dividend_follows_leans_rule() -> None:
    # factor rows 19980319,0.6566606,1,109.34 and 19980618,0.6585481,...: Dividend.ComputeDistribution
    expected = round(109.34 - 109.34 * (0.6566606 / 0.6585481), 2)
    spy = spy_path()
    i = spy.index_of(date(1998, 3, 20))  # the trading day after the row date
    assert spy.dividend_pts[i] == pytest.approx(expected)
    assert expected == pytest.approx(0.31, abs=0.005)
    assert spy.dividend_pts[: i].sum() == 0.0
    # total return of that day adds the dividend back
    r = np.log((spy.close_pts[i] + expected) / spy.close_pts[i - 1])
    assert spy.log_return[i] == pytest.approx(r, rel=1e-12)


def test_splits_do_not_show_as_returns() -> None:
    qqq = read_path(DATA, "QQQ")
    i = qqq.index_of(date(2000, 3, 20))  # 2:1 split (factor row 20000317, split factor 0.5 -> 1)
    assert qqq.split_ratio[i] == 0.5
    raw = np.log(qqq.close_pts[i] / qqq.close_pts[i - 1])
    assert raw < -0.6 and abs(qqq.log_return[i]) < 0.1
    aapl = read_path(DATA, "AAPL")
    assert sorted(str(d) for d in aapl.day[aapl.split_ratio != 1]) == [
        "2000-06-21", "2005-02-28", "2014-06-09", "2020-08-31"]
    acts = read_factor_file(DATA / "equity" / "usa" / "factor_files" / "aapl.csv")
    assert acts.split_ratio[acts.split_ratio != 1] == pytest.approx([0.5, 0.5, 1 / 7, 0.25], rel=1e-5)


def test_trailing_dividend_yield_uses_only_past_dividends() -> None:
    spy = spy_path()
    i = spy.index_of(date(2019, 12, 31))
    one_year = (spy.day > spy.day[i] - np.timedelta64(365, "D")) & (spy.day <= spy.day[i])
    assert spy.dividend_yield_frac[i] == pytest.approx(spy.dividend_pts[one_year].sum() / spy.close_pts[i])
    assert 0.015 < spy.dividend_yield_frac[i] < 0.025


def test_rate_before_the_series_is_the_first_value_and_says_so() -> None:
    assert rates().is_backfilled(date(2002, 12, 31)) and not rates().is_backfilled(date(2003, 1, 9))
    assert rates().rate_frac(date(1999, 6, 1)) == 0.0225
    assert rates().rate_frac(date(2020, 1, 6)) == 0.0225  # primary credit 2.25 % in force since 2019-10-31


def test_garch_carries_the_variance_across_the_qqq_gap() -> None:
    qqq = read_path(DATA, "QQQ")
    vol = build_vol_path(qqq, GarchSettings())
    i = qqq.index_of(date(2011, 3, 23))  # first bar after the gap: its return is missing, not a shock
    assert np.isfinite(vol.var_next_pct2[i])
    phi = vol.alpha[i] + vol.beta[i]
    expected = vol.omega[i] + phi * vol.var_next_pct2[i - 1]
    assert vol.var_next_pct2[i] == pytest.approx(expected, rel=1e-12)
