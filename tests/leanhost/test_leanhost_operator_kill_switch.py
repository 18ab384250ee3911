"""The operator's kill switch and clear requests at run time, through main.py on the REAL ES
chain of 2020-01-06 10:00 New York (the strangle's relaxed entry, REAL ES daily bars, GIVEN VIX
13.85 / 14.02).

LEAN sources: ``Engine/Storage/LocalObjectStore.cs`` (``ContainsKey``, ``ReadBytes``: a key's
file is read once and cached, ``GetFilePath``: the key's file on disk) is modelled by the
stand-in's ``ObjectStore`` with a folder; live commands by ``QCAlgorithm.send_command``
(lean-cli ``lean/commands/live/command.py`` and ``lean/commands/cloud/live/command.py`` send
the dict; ``Common/Commands/BaseCommandHandler.cs`` ``TryGetCallbackCommand`` and
``CallbackCommand.Run`` call ``on_command`` with a ``Command``, ``Command.cs`` ``GetProperty``).
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest
from es_world import entry_verdict, fire, relaxed_es_algorithm
from gate_world import trip_daily_loss

KILL_KEY = "thetadesk/kill_switch"


def _live(lean: ModuleType, make_algorithm: Callable[..., Any], folder: Path | None = None, **params: str) -> Any:
    """A live run (local LEAN); with ``folder``, the object store's files are there."""

    def setup(algorithm: Any) -> None:
        algorithm.live_mode = True
        algorithm.object_store = lean.ObjectStore(folder)

    return relaxed_es_algorithm(lean, make_algorithm, setup, **params)


_entry = entry_verdict


def _write(folder: Path, key: str, text: str) -> None:
    """The operator edits the key's file (``lean object-store`` / an editor on storage/)."""
    path = folder / key
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")


# ----- the store's file, read on every poll --------------------------------------------------------
def test_when_the_kill_switch_file_is_edited_mid_run_then_the_next_poll_sees_it_although_lean_caches_the_key(
    lean: ModuleType, make_algorithm: Callable[..., Any], tmp_path: Path
) -> None:
    _write(tmp_path, KILL_KEY, "off")
    algorithm = _live(lean, make_algorithm, tmp_path)
    fire(algorithm, "gate:nlv")
    store = algorithm.object_store
    assert store.read(KILL_KEY) == "off"  # LEAN has read and cached the key

    _write(tmp_path, KILL_KEY, "on\n")
    fire(algorithm, "gate:nlv")
    verdict = _entry(algorithm)

    assert store.read(KILL_KEY) == "off"  # LEAN's own read never sees the edit ...
    assert (verdict.action, verdict.codes) == ("REFUSE", ("KILL_SWITCH",))  # ... the host does
    [audit] = algorithm.risk.session.gate.state.audit_log
    assert (audit.who, audit.what, audit.old, audit.new, audit.why) == (
        "object_store", "kill_switch", "False", "True", "thetadesk/kill_switch = 'on'")
    assert "ALERT KILL_SWITCH on (was off), set by object_store: thetadesk/kill_switch = 'on'" in algorithm.errors


def test_when_the_clear_request_file_appears_mid_run_then_the_limit_is_cleared_and_the_file_consumed(
    lean: ModuleType, make_algorithm: Callable[..., Any], tmp_path: Path
) -> None:
    algorithm = _live(lean, make_algorithm, tmp_path)
    trip_daily_loss(algorithm)

    _write(tmp_path, "thetadesk/clear_limits", "loss_daily")
    verdict = _entry(algorithm)

    assert verdict.action == "APPROVE"
    assert not (tmp_path / "thetadesk/clear_limits").exists()
    assert algorithm.risk.session.gate.state.audit_log[-1].what == "clear loss_daily"


# ----- live commands -----------------------------------------------------------------------------
def test_when_a_command_turns_the_kill_switch_on_then_entries_are_refused_audited_alerted_and_saved(
    lean: ModuleType, make_algorithm: Callable[..., Any]
) -> None:
    algorithm = _live(lean, make_algorithm)

    result = algorithm.send_command({"kill_switch": "on", "reason": "FOMC surprise"})
    verdict = _entry(algorithm)

    assert result is True
    assert (verdict.action, verdict.codes) == ("REFUSE", ("KILL_SWITCH",))
    assert "set by command at 2020-01-06T15:00:00+00:00 (live command: FOMC surprise)" in verdict.text
    [audit] = algorithm.risk.session.gate.state.audit_log
    assert (audit.who, audit.what, audit.new) == ("command", "kill_switch", "True")
    assert "ALERT KILL_SWITCH on (was off), set by command: live command: FOMC surprise" in algorithm.errors
    assert '"kill_switch_override": true' in algorithm.object_store.values["thetadesk/gate_state.json"]


def test_when_a_command_turns_it_off_under_the_parameter_kill_switch_then_it_is_refused(
    lean: ModuleType, make_algorithm: Callable[..., Any]
) -> None:
    algorithm = _live(lean, make_algorithm, kill_switch="true")

    result = algorithm.send_command({"KILL_SWITCH": "off"})  # LEAN's command fields ignore case
    verdict = _entry(algorithm)

    assert result is False and verdict.codes == ("KILL_SWITCH",)
    assert algorithm.risk.session.gate.state.audit_log == []
    assert any(e.startswith("ALERT KILL_SWITCH stays ON: parameter kill_switch=true outranks live command")
               for e in algorithm.errors)


def test_when_a_command_turns_it_off_then_an_unchanged_object_store_key_does_not_turn_it_back_on(
    lean: ModuleType, make_algorithm: Callable[..., Any], tmp_path: Path
) -> None:
    _write(tmp_path, KILL_KEY, "on")
    algorithm = _live(lean, make_algorithm, tmp_path)
    fire(algorithm, "gate:nlv")

    assert algorithm.send_command({"kill_switch": "off"}) is True
    verdict = _entry(algorithm)  # polls the unchanged key first

    assert verdict.action == "APPROVE"
    assert [(a.who, a.new) for a in algorithm.risk.session.gate.state.audit_log] == [
        ("object_store", "True"), ("command", "False")]


def test_when_a_command_clears_a_tripped_limit_then_entries_resume_and_it_is_audited(
    lean: ModuleType, make_algorithm: Callable[..., Any]
) -> None:
    algorithm = _live(lean, make_algorithm)
    trip_daily_loss(algorithm)

    result = algorithm.send_command({"clear_limits": ["loss_daily"]})
    verdict = _entry(algorithm)

    assert result is True and verdict.action == "APPROVE"
    audit = algorithm.risk.session.gate.state.audit_log[-1]
    assert (audit.who, audit.what, audit.why) == ("command", "clear loss_daily", "live command")


def test_when_a_command_is_malformed_then_nothing_changes_and_it_is_alerted(
    lean: ModuleType, make_algorithm: Callable[..., Any]
) -> None:
    algorithm = _live(lean, make_algorithm)

    results = [algorithm.send_command({"kill_switch": "maybe"}), algorithm.send_command({"symbol": "SPY"}),
               algorithm.send_command({"clear_limits": "loss_daily"})]

    assert results == [False, False, False]
    assert algorithm.risk.session.gate.state.kill_switch_override is None
    assert "ALERT COMMAND kill_switch='maybe' is not on/off: nothing changed" in algorithm.errors
    assert any(e.startswith("ALERT COMMAND ignored: it has no kill_switch or clear_limits field") for e in algorithm.errors)
    assert any(e.startswith("ALERT CLEAR request for 'loss_daily' by command ignored: 'loss_daily' is not tripped")
               for e in algorithm.errors)


def test_when_a_run_restarts_with_a_stale_off_key_then_the_switch_a_command_turned_on_stays_on(
    lean: ModuleType, make_algorithm: Callable[..., Any], tmp_path: Path
) -> None:
    _write(tmp_path, KILL_KEY, "off")
    first = _live(lean, make_algorithm, tmp_path)
    fire(first, "gate:nlv")
    first.send_command({"kill_switch": "on"})
    first.object_store.persist()

    second = _live(lean, make_algorithm, tmp_path)  # a restart: the same storage folder
    verdict = _entry(second)

    assert verdict.codes == ("KILL_SWITCH",)
    assert any(e.startswith("KILL_SWITCH stays ON: the saved run-time 'on' outranks an unchanged") for e in second.errors)


# ----- issue 8: operator overrides only make things safer --------------------------------------------
STATE_KEY = "thetadesk/gate_state.json"


def _saved_override(folder: Path, value: str) -> None:
    """A gate state saved by an earlier run whose run-time kill switch was ``value`` (JSON)."""
    _write(folder, STATE_KEY, '{"gate": {"period_key": {}, "period_start_nlv_usd": {}, "peak_nlv_usd": null, '
           '"last_nlv_usd": null, "losing_exits_today": 0, "tripped": {}, "kill_switch_override": '
           f'{value}, "sent_today": [], "audit_log": []}}, "stats": {{}}}}')


def test_when_a_saved_off_meets_the_kill_switch_parameter_then_entries_stay_refused(
    lean: ModuleType, make_algorithm: Callable[..., Any], tmp_path: Path
) -> None:
    _saved_override(tmp_path, "false")
    algorithm = _live(lean, make_algorithm, tmp_path, kill_switch="true")
    verdict = _entry(algorithm)
    assert (verdict.action, verdict.codes) == ("REFUSE", ("KILL_SWITCH",))
    assert "parameter kill_switch=true" in verdict.text and algorithm.combo_orders == []


def test_when_a_saved_on_is_restored_then_only_an_explicit_command_turns_trading_back_on(
    lean: ModuleType, make_algorithm: Callable[..., Any], tmp_path: Path
) -> None:
    _saved_override(tmp_path, "true")
    algorithm = _live(lean, make_algorithm, tmp_path)
    assert _entry(algorithm).codes == ("KILL_SWITCH",)

    assert algorithm.send_command({"kill_switch": "off", "reason": "broker back"}) is True
    assert _entry(algorithm).action == "APPROVE"
    [audit] = algorithm.risk.session.gate.state.audit_log
    assert (audit.who, audit.old, audit.new, audit.why) == ("command", "True", "False", "live command: broker back")


def test_when_the_saved_override_is_not_a_boolean_then_the_algorithm_does_not_start(
    lean: ModuleType, make_algorithm: Callable[..., Any], tmp_path: Path, host: Callable[[str], ModuleType]
) -> None:
    _saved_override(tmp_path, '"off"')
    with pytest.raises(host("gate_store").GateStateError, match="kill_switch_override 'off' is not true, false or null"):
        _live(lean, make_algorithm, tmp_path)
