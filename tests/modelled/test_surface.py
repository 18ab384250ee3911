"""The smile's shape: the parabola in standardised moneyness, held beyond its vertex and floored
on the call wing; widening with the ATM level (sticky delta)."""

from __future__ import annotations

import numpy as np
import pytest

from modelled.surface import CALIBRATED, SmileShape


def test_multiplier_by_hand() -> None:
    s = SmileShape(a=-0.4087, b=-0.072, m_floor=0.7425)
    vertex = 0.4087 / (2 * -0.072)  # -2.838...: the put wing is held from here on
    at_vertex = 1 - 0.4087 * vertex - 0.072 * vertex ** 2
    got = s.multiplier(np.array([-5.0, -3.0, vertex, -1.0, 0.0, 0.5, 2.0]))
    assert got == pytest.approx([at_vertex, at_vertex, at_vertex, 1.3367, 1.0, 1 - 0.20435 - 0.018, 0.7425])
    assert s == CALIBRATED


def test_the_same_strike_is_fewer_deviations_away_when_the_level_is_high() -> None:
    strike, forward, t = np.array([90.0]), np.array([100.0]), np.array([30 / 365])
    calm = CALIBRATED.iv_frac(np.array([0.12]), strike, forward, t)[0] / 0.12
    crash = CALIBRATED.iv_frac(np.array([0.60]), strike, forward, t)[0] / 0.60
    z_calm, z_crash = np.log(0.9) / (0.12 * np.sqrt(30 / 365)), np.log(0.9) / (0.60 * np.sqrt(30 / 365))
    assert calm == pytest.approx(CALIBRATED.multiplier(np.array([z_calm]))[0])
    assert crash == pytest.approx(1 - 0.4087 * z_crash - 0.072 * z_crash ** 2)
    assert 1.0 < crash < calm


def test_expired_rows_have_no_iv() -> None:
    assert np.isnan(CALIBRATED.iv_frac(np.array([0.2]), np.array([100.0]), np.array([100.0]), np.array([0.0]))[0])
