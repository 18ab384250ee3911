"""The durable state's envelope (issue 8, item 1): a file that is not a valid state of a known
version is a clear error naming the source and the key path; legs, structures and intents
survive the JSON text unchanged, the host's contract identifier verbatim."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime

import pytest

from thetacore.decisions import OrderIntent
from thetacore.durable_state import STATE_SCHEMA, STATE_VERSION, BookState, StateError, dump_state, load_state
from thetacore.enums import IntentPurpose, Right
from thetacore.legs import OptionLeg
from thetacore.structures import Structure, StructureKind, UnderlyingKind

# a LEAN SecurityIdentifier string as leanhost/chains.py keys contracts (symbol.id)
SID = "ES XCZJLD7ODDS0|ES XCZJLDBI8DA9"
PUT = OptionLeg("ES202003 200320P03000000", "ES202003", Right.PUT, 3000.0, date(2020, 3, 20), -1)
CALL = OptionLeg(SID, "ES202003", Right.CALL, 3460.25, date(2020, 3, 20), -1)
STRANGLE = Structure(StructureKind.STRANGLE, (PUT, CALL), 50.0, UnderlyingKind.FUTURE)
INTENT = OrderIntent("futures_strangle", IntentPurpose.OPEN, STRANGLE, 2, -32.4, "fs-1", "entry")
SAVED = datetime(2026, 11, 29, 16, 0, tzinfo=UTC)


def _text(**over) -> str:
    book = BookState(SAVED, datetime(2020, 1, 6, 16, 0, tzinfo=UTC), {"gate": {}}, {"futures_strangle": {"name": "x"}},
                     [{"order_id": 1, "intent": INTENT.to_dict()}], {"broker": {"cash_usd": 1.0}})
    data = json.loads(dump_state(book))
    data.update(over)
    return json.dumps(data)


def test_when_legs_structures_and_intents_go_through_json_then_they_come_back_equal():
    back = OrderIntent.from_dict(json.loads(json.dumps(INTENT.to_dict())))
    assert back == INTENT and back.structure.legs[1].symbol == SID and back.structure.legs[1].strike_pts == 3460.25
    assert INTENT.to_dict()["structure"]["legs"][0] == {
        "symbol": "ES202003 200320P03000000", "underlying_symbol": "ES202003", "right": "put",
        "strike_pts": 3000.0, "expiry": "2020-03-20", "ratio": -1}


def test_when_a_book_is_dumped_then_loaded_then_every_section_is_equal():
    book = load_state(_text(), "out/state.json")
    assert book.saved_utc == SAVED and book.clock_utc == datetime(2020, 1, 6, 16, 0, tzinfo=UTC)
    assert book.host == {"broker": {"cash_usd": 1.0}} and book.orders[0]["intent"] == INTENT.to_dict()
    assert json.loads(_text())["schema"] == STATE_SCHEMA and json.loads(_text())["version"] == STATE_VERSION == 1


@pytest.mark.parametrize(("text", "expected"), [
    ("{}", "out/state.json: (top level): empty object: not a saved state"),
    ("[]", "out/state.json: (top level): expected a state object, got list []"),
    ('{"name": "config", "parameters": {}}', "out/state.json: schema: expected 'thetadesk.state', got None"),
    ("not json", "out/state.json: (top level): not JSON"),
    ('"thetadesk.state"', "out/state.json: (top level): expected a state object, got str"),
    (_text(version=2), "out/state.json: version: unknown state version 2; this code reads version 1"),
    (_text(version="1"), "out/state.json: version: expected an integer, got '1'"),
    (_text(version=True), "out/state.json: version: expected an integer, got True"),
    (_text(schema="other.state"), "out/state.json: schema: expected 'thetadesk.state', got 'other.state'"),
    (_text(saved_utc="yesterday"), "out/state.json: saved_utc: expected an ISO-8601 time, got 'yesterday'"),
    (_text(clock_utc="2020-01-06T16:00:00"), "out/state.json: clock_utc: time '2020-01-06T16:00:00' has no UTC offset"),
    (_text(gate=[]), "out/state.json: gate: expected an object, got list []"),
    (_text(strategies={"lt112": 3}), "out/state.json: strategies.lt112: expected an object, got int 3"),
    (_text(orders={}), "out/state.json: orders: expected a list, got {}"),
    (_text(orders=[{"order_id": 1}]), "out/state.json: orders[0].intent: missing"),
    (_text(host=None), "out/state.json: host: expected an object, got NoneType None"),
    (_text(extra=1), "out/state.json: extra: unknown key in a version-1 state"),
])
def test_when_the_text_is_not_a_valid_state_then_the_error_names_the_file_and_the_key_path(text, expected):
    with pytest.raises(StateError) as err:
        load_state(text, "out/state.json")
    assert str(err.value).startswith(expected)
    assert err.value.source == "out/state.json"


@pytest.mark.parametrize(("spoil", "expected"), [
    (lambda i: i["structure"]["legs"][0].update(ratio=1.5), "orders[0].intent.structure.legs[0].ratio: expected an integer, got 1.5"),
    (lambda i: i["structure"]["legs"][0].update(ratio=0), "orders[0].intent.structure.legs[0]: leg ES202003"),
    (lambda i: i["structure"]["legs"][0].update(right="straddle"), "legs[0].right: expected 'call' or 'put'"),
    (lambda i: i["structure"].update(multiplier_usd_per_pt=0), "structure.multiplier_usd_per_pt: must be > 0"),
    (lambda i: i["structure"].update(legs=[]), "orders[0].intent.structure: a structure needs at least one leg"),
    (lambda i: i["structure"].update(kind="butterfly"), "structure.kind: expected one of"),
    (lambda i: i.update(quantity=0), "orders[0].intent.quantity: must be > 0, got 0"),
    (lambda i: i.update(limit_pts=None), "orders[0].intent.limit_pts: expected a finite number, got None"),
    (lambda i: i.update(purpose="OPEN"), "orders[0].intent.purpose: expected one of ['open', 'close']"),
])
def test_when_an_order_intent_is_spoiled_then_the_error_names_the_key(spoil, expected):
    intent = INTENT.to_dict()
    spoil(intent)
    with pytest.raises(StateError) as err:
        load_state(_text(orders=[{"order_id": 1, "intent": intent}]), "s.json")
    assert expected in str(err.value)


def test_when_a_section_holds_nan_then_it_is_not_written():
    book = BookState(SAVED, None, {"peak": float("nan")})
    with pytest.raises(StateError, match="cannot be written as JSON"):
        dump_state(book)
