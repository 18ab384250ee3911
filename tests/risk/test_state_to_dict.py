"""GateState.to_dict (issue 10: built field by field, without ``asdict``'s deep recursion,
as the replay saves the gate at every NLV mark) gives what ``dataclasses.asdict`` gives:
the same keys in the same order, equal values, and copies (changing the dict never
changes the state)."""

from __future__ import annotations

import json
from dataclasses import asdict, fields
from datetime import UTC, datetime

from risk.state import GateState

NOW = datetime(2024, 1, 12, 15, 30, tzinfo=UTC)


def _long_way(state: GateState) -> dict[str, object]:
    out = asdict(state)
    out["tripped"] = {k: asdict(v) for k, v in state.tripped.items()}
    out["audit_log"] = [asdict(a) for a in state.audit_log]
    return out


def _busy_state() -> GateState:
    state = GateState()
    state.period_key["day"] = "2024-01-12"
    state.period_start_nlv_usd["day"] = 100_000.0
    state.peak_nlv_usd, state.last_nlv_usd, state.losing_exits_today = 101_250.5, 99_875.25, 2
    state.trip("loss_daily", "LOSS_DAILY", "daily loss 3.1% >= 3%", "day", NOW)
    state.trip("drawdown_stop", "DRAWDOWN", "drawdown 10.2% >= 10%", "none", NOW)
    state.kill_switch_override = True
    state.sent_today += ["ES|STRANGLE|2024-03-15|4600P|5000C", "SPY|LEAP|2026-01-16|400C"]
    state.audit(NOW, "operator", "kill_switch", False, True, "fault drill")
    return state


def test_to_dict_equals_asdict_with_the_same_key_order_and_json() -> None:
    for state in (GateState(), _busy_state()):
        got, want = state.to_dict(), _long_way(state)
        assert got == want
        assert list(got) == list(want) == [f.name for f in fields(GateState)]
        assert json.dumps(got) == json.dumps(want)  # byte-identical state files, unsorted keys too
        assert GateState.from_dict(got).to_dict() == want


def test_to_dict_is_a_copy() -> None:
    state = _busy_state()
    out = state.to_dict()
    out["period_key"]["day"] = "changed"  # type: ignore[index]
    out["sent_today"].append("x")  # type: ignore[attr-defined]
    out["tripped"]["loss_daily"]["text"] = "changed"  # type: ignore[index]
    assert state.period_key["day"] == "2024-01-12" and "x" not in state.sent_today
    assert state.tripped["loss_daily"].text == "daily loss 3.1% >= 3%"
