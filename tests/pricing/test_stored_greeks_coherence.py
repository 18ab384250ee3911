"""stored_greeks_coherence: the coherent LEAN chains are trusted, the incoherent ones are
not (with a reason), and each check fires on a small synthetic chain."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, time
from pathlib import Path

import numpy as np
import pytest

from replay.lean_data.interest_rate import interest_rate_path, read_interest_rates
from replay.lean_data.universes import read_universe
from thetacore.enums import ExerciseStyle
from thetacore.pricing import (
    CoherenceFlag,
    CoherenceReport,
    PricingModel,
    et_instant_utc,
    greeks,
    price,
    stored_greeks_coherence,
    time_to_expiry_years,
)

DATA = Path(__file__).resolve().parents[2] / "data"
BS = PricingModel.BLACK_SCHOLES
SPY_TRAILING_DIVIDENDS_USD = 6.6352  # see test_stored_greeks_lean.py
SPY_FILES = sorted((DATA / "option/usa/universes/spy").glob("*.csv"))


def _check(relative: str, *, american: bool, q: float | None = None) -> CoherenceReport:
    u = read_universe(DATA / relative, drop_malformed_greeks=True)
    rate = read_interest_rates(interest_rate_path(DATA)).rate_on(u.date)
    if american:
        yield_frac = q if q is not None else SPY_TRAILING_DIVIDENDS_USD / u.underlying_close_pts
        return stored_greeks_coherence(u, model=BS, rate_frac=rate, yield_frac=yield_frac,
                                       date=u.date, style=ExerciseStyle.AMERICAN)
    return stored_greeks_coherence(
        u, model=BS, rate_frac=rate, yield_frac=0.0, date=u.date,
        valuation_time_et=time(16, 15), expiry_time_et=time(16, 15),
        expiry_time_overrides_et={date(2023, 7, 3): time(13, 0)},
    )


def test_when_spxw_20230623_then_trusted_with_every_row_confirmed() -> None:
    report = _check("indexoption/usa/universes/spxw/20230623.csv", american=False)
    assert report.trusted and report.code == "COHERENT"
    assert report.n_checked == report.n_rows == 12 and report.row_trusted.all()
    assert report.max_abs_iv_diff_frac < 1e-4 and report.max_abs_delta_diff < 1e-3
    assert report.reason.startswith("COHERENT: 12 of 12 rows checked")


@pytest.mark.parametrize("path", SPY_FILES, ids=[p.name for p in SPY_FILES])
def test_when_spy_chain_then_trusted_but_in_the_money_rows_are_not(path: Path) -> None:
    report = _check(str(path.relative_to(DATA)), american=True)
    assert report.trusted, report.reason
    assert report.n_hard == 0
    # Deep in-the-money calls: one price tick cannot confirm their IV (it came from the
    # absent OTM put), so no row is individually trusted, though none contradicts its price.
    assert report.flag_counts.get("IV_NOT_PINNED", 0) > 0
    assert not (report.row_trusted & ((report.row_flags & CoherenceFlag.IV_NOT_PINNED) != 0)).any()


def test_when_spy_20240105_then_the_row_with_corrupt_greeks_is_excluded() -> None:
    report = _check("option/usa/universes/spy/20240105.csv", american=True)
    assert report.flag_counts["NO_STORED_GREEKS"] == 1 and report.trusted


def test_when_spx_20151222_without_underlying_row_then_not_trusted() -> None:
    report = _check("indexoption/usa/universes/spx/20151222.csv", american=False)
    assert not report.trusted and report.code == "NO_UNDERLYING"
    assert "no underlying price" in report.reason
    assert report.n_checked == 0 and not report.row_trusted.any()


def test_when_spx_20210104_then_atm_call_iv_contradicts_its_price() -> None:
    report = _check("indexoption/usa/universes/spx/20210104.csv", american=False)
    assert not report.trusted and report.code == "INCOHERENT"
    assert report.flag_counts["IV_CONTRADICTS_PRICE"] >= 5
    assert report.flag_counts["DELTA_CONTRADICTS_PRICE"] >= 1
    # worst row: 3700C at 68.40 with the index at 3700.65 -> IV 0.265, LEAN stored 0.140
    assert "3700C close 68.4" in report.reason and "stored IV 0.1400" in report.reason


def test_when_aapl_20140602_then_zero_iv_at_the_money_and_stale_underlying_flagged() -> None:
    report = _check("option/usa/universes/aapl/20140602.csv", american=True, q=0.0)
    assert not report.trusted and report.code == "INCOHERENT"
    assert report.flag_counts["ZERO_IV_NEAR_MONEY"] > 100
    # underlying 633.40 is not the moment of the option closes (deep ITM calls imply ~628.3)
    assert report.flag_counts["PRICE_OUTSIDE_BOUNDS"] > 100
    assert report.n_hard > 1000


@dataclass(frozen=True)
class _Chain:
    underlying_close_pts: float
    expiry: np.ndarray
    strike_pts: np.ndarray
    right: np.ndarray
    close_pts: np.ndarray
    stored_iv_frac: np.ndarray
    stored_delta: np.ndarray


DAY = date(2024, 1, 5)


def _synthetic(strikes: list[float], rights: list[int], iv: float = 0.2,
               spot: float = 4000.0) -> _Chain:
    """A chain whose closes and stored values are exactly Black-Scholes at ``iv``."""
    expiry = np.full(len(strikes), np.datetime64("2024-02-16", "D"))
    k, w = np.array(strikes, float), np.array(rights, np.int8)
    t = time_to_expiry_years(expiry, et_instant_utc(DAY, time(16, 0)), time(16, 0))
    close = price(BS, spot, k, t, 0.05, 0.0, iv, w)
    delta = greeks(BS, spot, k, t, 0.05, 0.0, iv, w).delta
    return _Chain(spot, expiry, k, w, close, np.full(len(k), iv), delta)


def _run(chain: _Chain, style: ExerciseStyle = ExerciseStyle.EUROPEAN) -> CoherenceReport:
    return stored_greeks_coherence(chain, model=BS, rate_frac=0.05, yield_frac=0.0, date=DAY,
                                   style=style)


def _flags(report: CoherenceReport, i: int) -> CoherenceFlag:
    return CoherenceFlag(int(report.row_flags[i]))


def test_when_stored_values_are_the_model_then_every_row_is_trusted() -> None:
    report = _run(_synthetic([3600.0, 4000.0, 4400.0, 3600.0, 4000.0, 4400.0], [1, 1, 1, -1, -1, -1]))
    assert report.trusted and report.row_trusted.all()
    assert report.max_abs_iv_diff_frac < 1e-9 and report.max_abs_delta_diff < 1e-9


def test_when_zero_iv_and_unit_delta_at_the_money_then_hard_flags() -> None:
    chain = _synthetic([4000.0, 4080.0], [1, 1])
    chain.stored_iv_frac[0], chain.stored_delta[1] = 0.0, 1.0
    report = _run(chain)
    assert not report.trusted
    assert CoherenceFlag.ZERO_IV_NEAR_MONEY in _flags(report, 0)
    assert CoherenceFlag.UNIT_DELTA_NEAR_MONEY in _flags(report, 1)
    assert CoherenceFlag.IV_CONTRADICTS_PRICE in _flags(report, 0)


def test_when_itm_put_carries_its_otm_calls_iv_then_accepted_as_lean_does() -> None:
    # LEAN's mirror rule: the ITM put's stored IV is the OTM call's IV, whatever the put's
    # own close says (here 5 points above the model, as a stale close would be).
    chain = _synthetic([4400.0, 4400.0], [1, -1])
    chain.close_pts[1] += 5.0
    report = _run(chain)
    assert report.trusted and report.row_trusted.all()
    assert report.reference_iv_frac[1] == pytest.approx(0.2, abs=1e-9)


def test_when_underlying_is_from_another_moment_then_price_outside_bounds() -> None:
    chain = _synthetic([2400.0, 4000.0], [1, 1])
    stale = _Chain(4120.0, chain.expiry, chain.strike_pts, chain.right, chain.close_pts,
                   chain.stored_iv_frac, chain.stored_delta)
    report = _run(stale)
    assert CoherenceFlag.PRICE_OUTSIDE_BOUNDS in _flags(report, 0)
    assert report.code == "INCOHERENT"


def test_when_delta_off_then_hard_for_european_soft_for_american() -> None:
    chain = _synthetic([4000.0], [1])
    chain.stored_delta[0] += 0.05
    assert _flags(_run(chain), 0) == CoherenceFlag.DELTA_CONTRADICTS_PRICE
    american = _run(chain, ExerciseStyle.AMERICAN)
    assert _flags(american, 0) == CoherenceFlag.MODEL_GAP_DELTA
    assert american.trusted and not american.row_trusted[0]


def test_when_no_price_or_no_greeks_then_soft_and_nothing_to_check() -> None:
    chain = _synthetic([4000.0, 4200.0], [1, 1])
    chain.close_pts[0] = np.nan
    chain.stored_iv_frac[1] = np.nan
    report = _run(chain)
    assert not report.trusted and report.code == "NOTHING_TO_CHECK"
    assert report.flag_counts == {"NO_PRICE": 1, "NO_STORED_GREEKS": 1}


def test_when_chain_is_empty_then_nothing_to_check() -> None:
    chain = _synthetic([], [])
    report = _run(chain)
    assert not report.trusted and report.code == "NOTHING_TO_CHECK" and report.n_rows == 0
