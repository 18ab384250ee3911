"""The MODELLED surface against the REAL chains in data/: the stored shape is the least-squares
fit, within the stated error per chain, and the ATM level of the GARCH model on the one real
chain inside the path's dates (ES 2020-01-06) is within the stated distance.

Tolerances (vol points = 0.01 of IV), stated in docs/modelled-chains.md:
  ES 2020-01-06      RMS <= 0.25, max <= 0.6 (107 points, two expiries)
  SPXW 2023-06-23    RMS <= 0.05, max <= 0.05 (6 points)
  SPY 2023-12..2024-01 RMS <= 0.35, max <= 0.6 (13 points, deep in-the-money calls)
  GARCH x premium ATM level on ES 2020-01-06: within 0.5 vol points of the market's ATM level.
"""

from __future__ import annotations

from datetime import date, time
from functools import lru_cache

import numpy as np
import pytest

from modelled.calibration import (
    CHAIN_FILES,
    CalibrationResult,
    MarketPoints,
    atm_level,
    calibrate,
    fit_horizon_scale,
    market_points,
)
from modelled.surface import CALIBRATED
from modelled.vol import GarchSettings
from replay.lean_data.universes import read_universe
from tests.modelled.world import DATA, full_market, rates
from thetacore.pricing import PricingModel, et_instant_utc, price, time_to_expiry_years

TOLERANCE = {"ES 2020-01-06": (0.25, 0.6), "SPXW 2023-06-23": (0.05, 0.05),
             "SPY 2023-12-28..2024-01-09": (0.35, 0.6)}


@lru_cache(maxsize=1)
def points() -> tuple[MarketPoints, ...]:
    return tuple(market_points(name, DATA, rates()) for name in CHAIN_FILES)


@lru_cache(maxsize=1)
def result() -> CalibrationResult:
    return calibrate(list(points()))


def test_stored_shape_is_the_fit() -> None:
    fitted = result().shape
    assert (fitted.a, fitted.b, fitted.m_floor) == pytest.approx((CALIBRATED.a, CALIBRATED.b, CALIBRATED.m_floor),
                                                                 abs=1e-3)
    assert CALIBRATED.a < 0 and CALIBRATED.m_floor < 1  # put skew; the call wing below the ATM level


@pytest.mark.parametrize("name", list(CHAIN_FILES))
def test_calibration_error_within_tolerance(name: str) -> None:
    n, rms, worst = result().errors[name]
    rms_max, worst_max = TOLERANCE[name]
    assert n >= 6
    assert rms <= rms_max and worst <= worst_max, (name, n, rms, worst)


def test_market_iv_reprices_the_real_settlement() -> None:
    # independent check of one market point: ES Mar-2020 3000 put, settlement from the file,
    # repriced by Black-76 at the extracted IV on the parity forward
    es = points()[0]
    u = read_universe(DATA / CHAIN_FILES["ES 2020-01-06"][0])
    row = np.flatnonzero((u.strike_pts == 3000) & (u.right == -1))[0]
    t = float(time_to_expiry_years(u.expiry[row], et_instant_utc(date(2020, 1, 6), time(16)), time(9, 30)))
    k_x = np.log(3000.0 / es.forward_pts[es.group == 0][0]) / np.sqrt(t)  # ln(K/F) / sqrt(T)
    j = np.flatnonzero((es.group == 0) & np.isclose(es.x, k_x))[0]
    again = price(PricingModel.BLACK_76, es.forward_pts[j], 3000.0, t, 0.0225, 0.0, es.iv_frac[j], -1)
    assert float(again) == pytest.approx(u.close_pts[row], abs=1e-8)
    # the parity forward sits within 0.5 % of the file's underlying row (3233, a UTC-day bar)
    assert es.forward_pts[j] == pytest.approx(3233.0, rel=0.005)


def test_term_parameter_is_the_fit_and_the_level_is_close() -> None:
    es = points()[0]
    market = full_market()
    assert fit_horizon_scale(es, market.vol, CALIBRATED) == pytest.approx(GarchSettings().horizon_scale, abs=0.002)
    i = market.vol.index_of(np.datetime64("2020-01-06"))
    t = np.array([es.t_years[es.group == g][0] for g in (0, 1)])
    model = market.vol.atm_iv_frac(i, t)
    real = np.array([atm_level(es, g, CALIBRATED) for g in (0, 1)])
    assert np.abs(model - real).max() * 100 <= 0.5, (model, real)
    assert model[1] / model[0] == pytest.approx(real[1] / real[0], rel=2e-3)
