"""Flatten / close-losers orders: every leg reversed at the natural price, never priced on a
missing quote. Quotes here are hand-set numbers (not market data)."""

from __future__ import annotations

from datetime import date

import pytest

from risk.flatten import close_intent, is_losing
from strategies.base import PositionState, StrategyPosition
from thetacore.enums import IntentPurpose, Right
from thetacore.legs import OptionLeg
from thetacore.structures import Structure, StructureKind, UnderlyingKind

EXP = date(2020, 3, 20)
STRANGLE = Structure(StructureKind.STRANGLE, (
    OptionLeg("P3000", "ES202003", Right.PUT, 3000.0, EXP, -1),
    OptionLeg("C3460", "ES202003", Right.CALL, 3460.0, EXP, -1)), 50.0, UnderlyingKind.FUTURE)


def pos(entry: float) -> StrategyPosition:
    return StrategyPosition("p1", STRANGLE, 2, PositionState.OPEN, entry_net_pts=entry)


def test_close_buys_every_short_back_at_the_ask():
    book = {"P3000": (40.0, 40.5), "C3460": (5.0, 5.25)}
    close = close_intent("futures_strangle", pos(-32.5), book.__getitem__, "GATE_FLATTEN")
    assert close.purpose is IntentPurpose.CLOSE and close.quantity == 2
    assert [leg.ratio for leg in close.structure.legs] == [1, 1]
    assert close.limit_pts == pytest.approx(45.75)
    assert is_losing(pos(-32.5), close) and not is_losing(pos(-50.0), close)


def test_a_leg_without_an_offer_is_not_priced_as_zero():
    book = {"P3000": (40.0, 40.5), "C3460": (5.0, float("nan"))}
    assert close_intent("futures_strangle", pos(-32.5), book.__getitem__, "GATE_FLATTEN") is None
