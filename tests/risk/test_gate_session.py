"""Gate session helpers: which structures are undefined risk, and the spread floor in ticks."""

from __future__ import annotations

from datetime import UTC, date, datetime

from risk.gate_session import defined_risk
from safety.quote_validation import LegQuote, leg_quote_reason
from thetacore.decisions import OrderIntent
from thetacore.enums import IntentPurpose, Right
from thetacore.legs import OptionLeg
from thetacore.structures import Structure, StructureKind, UnderlyingKind

EXP = date(2021, 1, 8)
T = datetime(2021, 1, 8, 15, 30, tzinfo=UTC)


def intent(kind: StructureKind, *legs: tuple[float, Right, int]) -> OrderIntent:
    s = Structure(kind, tuple(OptionLeg(f"{k:g}{r.name}", "SPX", r, k, EXP, q) for k, r, q in legs), 100.0,
                  UnderlyingKind.INDEX)
    return OrderIntent("t", IntentPurpose.OPEN, s, 1, -1.0, "p")


def test_covered_shorts_are_defined_risk_and_naked_ones_are_not():
    assert defined_risk(intent(StructureKind.VERTICAL, (3680, Right.PUT, 1), (3710, Right.PUT, -1)))
    assert defined_risk(intent(StructureKind.SINGLE, (3700, Right.CALL, 1)))
    assert not defined_risk(intent(StructureKind.SINGLE, (3700, Right.PUT, -1)))
    assert not defined_risk(intent(StructureKind.STRANGLE, (3600, Right.PUT, -1), (3800, Right.CALL, -1)))
    assert not defined_risk(intent(StructureKind.RATIO_SPREAD, (3500, Right.PUT, 1), (3450, Right.PUT, -1),
                                   (3300, Right.PUT, -2)))


def test_a_cheap_wing_three_ticks_wide_passes_the_spread_floor_but_not_without_it():
    q = LegQuote("w", 0.20, 0.35, T)
    assert leg_quote_reason(q, "w", T, max_spread_frac=0.5, max_age_sec=120).code == "QUOTE_SPREAD_WIDE"
    assert leg_quote_reason(q, "w", T, max_spread_frac=0.5, max_age_sec=120, spread_floor_pts=4 * 0.05) is None
    wide = LegQuote("w", 0.20, 0.45, T)  # 5 ticks: above the floor and above 50% of mid
    assert leg_quote_reason(wide, "w", T, max_spread_frac=0.5, max_age_sec=120,
                            spread_floor_pts=4 * 0.05).code == "QUOTE_SPREAD_WIDE"
