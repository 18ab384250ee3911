"""The ``gate`` section of the durable state keeps the gate's whole book: trips, counters, peak
NLV, audit log, trade statistics and each booked position's buying power (issue 8: "the gate's
buying-power book is not saved")."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime

import pytest

from risk.gate_inputs import OpenPosition
from risk.gate_session import GateSession, _Record, _Stats
from risk.host_blocks import HostBlock, block_entries
from risk.session_state import restore_session, session_state
from thetacore.durable_state import StateError
from thetacore.parameters import load_parameters

T = datetime(2020, 1, 6, 15, 30, tzinfo=UTC)


def _session() -> GateSession:
    params = load_parameters({})
    s = GateSession.create(params)
    s.on_nlv(100_000.0, T)
    s.on_nlv(99_000.0, T)
    block_entries(s.gate.state, HostBlock.RECONCILE, "unknown holding ES202003 200320P02900000 -1", T)
    s.records["fs-1"] = _Record(OpenPosition("fs-1", "futures_strangle", "ES", date(2020, 3, 20), True, False,
                                             9_876.5), 3_466.64)
    s.stats["lt112"] = _Stats(2, 1, 800.0, 250.5)
    return s


def test_when_the_session_goes_through_json_then_trips_peak_records_and_stats_come_back():
    s = _session()
    back = restore_session(s.params, json.loads(json.dumps(session_state(s))))
    assert back.gate.state == s.gate.state and back.gate.state.peak_nlv_usd == 100_000.0
    assert "host_reconcile" in back.gate.state.tripped
    assert back.records == s.records and back.account(99_000.0).buying_power_in_use_usd == 3_466.64
    assert back.stats == s.stats


@pytest.mark.parametrize(("spoil", "expected"), [
    (lambda d: d.pop("records"), "gate.records: missing"),
    (lambda d: d["records"]["fs-1"].update(bp_usd="3466"), "gate.records.fs-1.bp_usd: expected a finite number"),
    (lambda d: d["records"]["fs-1"]["position"].update(expiry=20200320), "records.fs-1.position.expiry"),
    (lambda d: d["stats"]["lt112"].update(wins=2.5), "gate.stats.lt112.wins: expected an integer, got 2.5"),
    (lambda d: d["gate"].pop("tripped"), "gate.gate: not a saved gate state"),
    (lambda d: d.update(gate=[]), "gate.gate: expected an object"),
])
def test_when_the_gate_section_is_spoiled_then_the_error_names_the_key(spoil, expected):
    data = json.loads(json.dumps(session_state(_session())))
    spoil(data)
    with pytest.raises(StateError) as err:
        restore_session(load_parameters({}), data)
    assert expected in str(err.value)
