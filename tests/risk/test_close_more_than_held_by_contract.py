"""CLOSE_MORE_THAN_HELD compares contracts, not units, when the exit has another shape than the
entry (issue 8 item 3 met issue 11 at the merge): LT112 buys back its 2 naked puts per unit as
one single-leg intent of quantity 2. Found by the 23-year MODELLED run, where every LT112
naked-put take profit was refused (256 refusals) and the naked puts stayed open."""

from __future__ import annotations

from datetime import date

from risk.gate_checks import _more_than_held
from risk.gate_inputs import OpenPosition
from thetacore.decisions import OrderIntent
from thetacore.enums import IntentPurpose, Right
from thetacore.legs import OptionLeg
from thetacore.structures import Structure, StructureKind, UnderlyingKind

EXP = date(2020, 5, 15)


def _leg(strike: float, ratio: int) -> OptionLeg:
    return OptionLeg(f"ES P{strike:.0f}", "ES202006", Right.PUT, strike, EXP, ratio)


LT112 = Structure(StructureKind.RATIO_SPREAD, (_leg(3000, 1), _leg(2950, -1), _leg(2840, -2)), 50.0,
                  UnderlyingKind.FUTURE)
NAKED_CLOSE_ONE = Structure(StructureKind.SINGLE, (_leg(2840, 1),), 50.0, UnderlyingKind.FUTURE)


def _close(structure: Structure, quantity: int) -> OrderIntent:
    return OrderIntent("lt112", IntentPurpose.CLOSE, structure, quantity, 1.0, "lt112-1")


def _held(units: int) -> dict[str, int]:
    pos = OpenPosition.from_structure("lt112-1", "lt112", "ES", LT112, date(2020, 1, 6), 1000.0, 21, units=units)
    assert pos.leg_ratios == (("ES P3000", 1), ("ES P2950", -1), ("ES P2840", -2))
    return dict(pos.leg_ratios)


def test_buying_back_the_two_naked_puts_of_one_unit_is_not_more_than_held():
    # 1 unit holds -2 x 1 = 2 naked puts; closing them as 2 single-leg units trades 2 contracts
    assert _more_than_held(_close(NAKED_CLOSE_ONE, 2), 1, _held(1)) == []


def test_three_naked_puts_of_one_unit_is_more_than_held_and_names_the_contract():
    [reason] = _more_than_held(_close(NAKED_CLOSE_ONE, 3), 1, _held(1))
    assert reason.code == "CLOSE_MORE_THAN_HELD"
    assert reason.text == "closing 3 contract(s) of ES P2840 in lt112-1, which holds 2 (1 unit(s))"


def test_the_whole_structure_twice_from_one_unit_is_more_than_held():
    [reason] = _more_than_held(_close(LT112, 2), 1, _held(1))
    assert reason.code == "CLOSE_MORE_THAN_HELD" and "ES P3000" in reason.text  # 2 > 1 x 1 long put


def test_without_the_entry_legs_the_check_falls_back_to_units():
    assert _more_than_held(_close(LT112, 2), 1, {})[0].text == "closing 2 units of lt112-1, which holds 1"
    assert _more_than_held(_close(LT112, 1), 1, {}) == []
