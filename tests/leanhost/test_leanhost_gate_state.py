"""The gate's state and the operator's kill switch in LEAN's object store, through main.py on
the REAL ES chain of 2020-01-06 10:00 New York (the strangle's relaxed entry, REAL ES daily
bars, GIVEN VIX 13.85 / 14.02): a tripped limit survives a restart, a corrupt state stops the
start, backtests never read or write the live keys, and the object-store kill switch blocks
entries with an audit entry."""

from __future__ import annotations

import json
from collections.abc import Callable
from types import ModuleType
from typing import Any

import pytest
from es_world import entry_verdict, fire, relaxed_es_algorithm
from es_world import live_setup as _live
from gate_world import trip_daily_loss

from strategies.base import PositionState

STATE_KEY, KILL_KEY = "thetadesk/gate_state.json", "thetadesk/kill_switch"
BACKTEST_STATE_KEY = "thetadesk/backtest/gate_state.json"



def _algorithm(lean: ModuleType, make_algorithm: Callable[..., Any], setup: Callable[[Any], None] | None,
               **params: str) -> Any:
    return relaxed_es_algorithm(lean, make_algorithm, setup, **params)


_entry = entry_verdict


# ----- state across a restart -------------------------------------------------------------------
def test_when_a_live_run_trips_the_daily_loss_limit_then_after_a_restart_it_still_blocks_entries(
    lean: ModuleType, make_algorithm: Callable[..., Any]
) -> None:
    first = _algorithm(lean, make_algorithm, _live())
    trip_daily_loss(first)
    assert any(e.startswith("ALERT LOSS_LIMIT_DAILY tripped: lost 6,000 USD = 6.0%") for e in first.errors)
    saved = json.loads(first.object_store.values[STATE_KEY])
    assert saved["gate"]["tripped"]["loss_daily"]["code"] == "LOSS_LIMIT_DAILY"

    second = _algorithm(lean, make_algorithm, _live(first.object_store))
    verdict = _entry(second)

    assert (verdict.action, verdict.codes) == ("REFUSE", ("LOSS_LIMIT_DAILY",))
    assert verdict.details["trading_state"] == "reducing"
    assert second.combo_orders == []
    assert any(e.startswith("RISK GATE REDUCING at start: LOSS_LIMIT_DAILY") for e in second.errors)
    # the gate comes back with the whole book (leanhost/book.py), not from its own key
    assert any(line.startswith("book restored (seq ") for line in second.logs)
    assert "risk gate: state restored from the saved book (trading state reducing)" in second.logs


def test_when_an_operator_clears_the_tripped_limit_in_the_object_store_then_entries_resume_and_it_is_audited(
    lean: ModuleType, make_algorithm: Callable[..., Any]
) -> None:
    first = _algorithm(lean, make_algorithm, _live())
    trip_daily_loss(first)
    store = first.object_store
    store.values["thetadesk/clear_limits"] = "loss_daily"

    second = _algorithm(lean, make_algorithm, _live(store))
    verdict = _entry(second)

    assert "LOSS_LIMIT_DAILY" not in verdict.codes
    assert "thetadesk/clear_limits" not in store.values  # the request is consumed
    saved = json.loads(store.values[STATE_KEY])
    assert "loss_daily" not in saved["gate"]["tripped"]
    assert any(a["who"] == "object_store" and "loss_daily" in json.dumps(a) for a in saved["gate"]["audit_log"])


def test_when_nothing_changed_then_the_state_is_not_saved_again(
    lean: ModuleType, make_algorithm: Callable[..., Any]
) -> None:
    algorithm = _algorithm(lean, make_algorithm, _live())
    fire(algorithm, "gate:nlv")
    saves = len(algorithm.object_store.saves)
    fire(algorithm, "gate:nlv")  # same NLV, same minute: nothing new
    # the gate's own key and the book's first slot, once each (the book: leanhost/book.py)
    assert [k for k, _ in algorithm.object_store.saves] == [STATE_KEY, "thetadesk/book/a.json"]
    assert len(algorithm.object_store.saves) == saves


@pytest.mark.parametrize(
    ("text", "why"),
    [("{not json", "JSONDecodeError"), ('{"stats": {}}', "not a saved gate session"),
     ('{"gate": {"period_key": []}}', "AttributeError"), ("", "the value is empty")],
)
def test_when_the_saved_state_is_corrupt_then_initialize_stops_with_a_clear_error(
    main_module: ModuleType, host: Callable[[str], ModuleType], text: str, why: str
) -> None:
    algorithm = main_module.ThetaDeskAlgorithm()
    algorithm.live_mode = True
    algorithm.object_store.values[STATE_KEY] = text

    with pytest.raises(host("gate_store").GateStateError, match=f"object-store key {STATE_KEY} is unreadable") as raised:
        algorithm.initialize()

    assert why in str(raised.value) and "delete the key to start clean on purpose" in str(raised.value)
    assert any(e.startswith("ThetaDesk cannot start: the saved risk-gate state") for e in algorithm.errors)


def test_when_a_backtest_runs_then_it_starts_clean_and_saves_only_under_the_backtest_prefix(
    lean: ModuleType, make_algorithm: Callable[..., Any]
) -> None:
    live = _algorithm(lean, make_algorithm, _live())
    trip_daily_loss(live)
    live_state = live.object_store.values[STATE_KEY]

    def backtest(algorithm: Any) -> None:
        algorithm.object_store = live.object_store

    algorithm = _algorithm(lean, make_algorithm, backtest)
    verdict = _entry(algorithm)
    saves_during_run = len(algorithm.object_store.saves)
    algorithm.on_end_of_algorithm()

    assert verdict.action == "APPROVE"  # the live trip is not this backtest's
    assert "risk gate: backtest starts clean (final state saved to thetadesk/backtest/gate_state.json)" in algorithm.logs
    assert algorithm.object_store.values[STATE_KEY] == live_state
    assert [k for k, _ in algorithm.object_store.saves[saves_during_run:]] == [BACKTEST_STATE_KEY,
                                                                              "thetadesk/backtest/book/a.json"]


def test_when_lean_refuses_to_save_the_state_then_it_is_a_loud_alert(
    lean: ModuleType, make_algorithm: Callable[..., Any]
) -> None:
    algorithm = _algorithm(lean, make_algorithm, _live())
    algorithm.object_store.refuse_saves = True
    fire(algorithm, "gate:nlv")
    assert any(e.startswith(f"ALERT risk-gate state NOT saved to object-store key {STATE_KEY}") for e in algorithm.errors)


# ----- the kill switch in the object store --------------------------------------------------------
def test_when_the_operator_sets_the_object_store_kill_switch_then_entries_are_refused_and_audited(
    lean: ModuleType, make_algorithm: Callable[..., Any]
) -> None:
    algorithm = _algorithm(lean, make_algorithm, _live())
    algorithm.object_store.values[KILL_KEY] = " ON\n"

    verdict = _entry(algorithm)

    assert (verdict.action, verdict.codes) == ("REFUSE", ("KILL_SWITCH",))
    assert "set by object_store at 2020-01-06T15:00:00+00:00 (thetadesk/kill_switch = 'on')" in verdict.text
    assert algorithm.combo_orders == []
    [audit] = algorithm.risk.session.gate.state.audit_log
    assert (audit.who, audit.what, audit.old, audit.new) == ("object_store", "kill_switch", "False", "True")
    assert "ALERT KILL_SWITCH on (was off), set by object_store: thetadesk/kill_switch = 'on'" in algorithm.errors
    saved = json.loads(algorithm.object_store.values[STATE_KEY])
    assert saved["gate"]["kill_switch_override"] is True and len(saved["gate"]["audit_log"]) == 1

    algorithm.object_store.values[KILL_KEY] = "off"
    verdict = _entry(algorithm)

    assert verdict.action == "APPROVE" and len(algorithm.combo_orders) == 1
    assert [a.new for a in algorithm.risk.session.gate.state.audit_log] == ["True", "False"]


def test_when_the_kill_switch_value_is_unreadable_then_it_counts_as_on_and_is_alerted_once(
    lean: ModuleType, make_algorithm: Callable[..., Any]
) -> None:
    algorithm = _algorithm(lean, make_algorithm, _live())
    algorithm.object_store.values[KILL_KEY] = "maybe"

    first, second = _entry(algorithm), _entry(algorithm)

    assert first.codes == second.codes == ("KILL_SWITCH",)
    alerts = [e for e in algorithm.errors if "'maybe'" in e and "not on/off" in e]
    assert alerts == ["ALERT KILL_SWITCH value 'maybe' at object-store key thetadesk/kill_switch is not on/off: "
                      "treated as ON"]
    assert len(algorithm.risk.session.gate.state.audit_log) == 1


def test_when_the_object_store_says_off_then_the_kill_switch_parameter_still_wins(
    lean: ModuleType, make_algorithm: Callable[..., Any]
) -> None:
    algorithm = _algorithm(lean, make_algorithm, _live(), kill_switch="true")
    algorithm.object_store.values[KILL_KEY] = "off"

    verdict = _entry(algorithm)

    assert verdict.codes == ("KILL_SWITCH",) and algorithm.combo_orders == []
    assert algorithm.risk.session.gate.state.audit_log == []
    assert any("KILL_SWITCH stays ON: parameter kill_switch=true outranks" in e for e in algorithm.errors)


def test_when_a_saved_off_meets_the_kill_switch_parameter_at_start_then_the_parameter_wins(
    lean: ModuleType, make_algorithm: Callable[..., Any]
) -> None:
    first = _algorithm(lean, make_algorithm, _live())
    first.object_store.values[KILL_KEY] = "on"
    _entry(first)
    first.object_store.values[KILL_KEY] = "off"
    _entry(first)
    del first.object_store.values[KILL_KEY]
    for ticket in first.combo_orders[-1].tickets:  # the entry ends unfilled: the book holds no position
        ticket.cancel()

    second = _algorithm(lean, make_algorithm, _live(first.object_store), kill_switch="true")
    verdict = _entry(second)

    # the same strangle went out before the restart: the day's duplicate check survives it too
    assert verdict.codes == ("KILL_SWITCH", "FAT_FINGER_DUPLICATE") and "parameter kill_switch=true" in verdict.text
    # issue 8: the key's "off" cleared the run-time "on" (no saved "off" exists to release at start,
    # as it did before); the parameter holds the switch on by itself
    state = second.risk.session.gate.state
    assert state.kill_switch_override is None
    assert [(a.who, a.new) for a in state.audit_log] == [("object_store", "True"), ("object_store", "False")]
    position = list(second.strategies["futures_strangle"].positions.values())[-1]
    assert position.state is PositionState.CLOSED and position.exit_reason.startswith("never opened: refused")
