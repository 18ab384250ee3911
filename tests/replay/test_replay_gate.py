"""The risk gate inside the replay, on the REAL ES day: refusals with reasons in
summary.json, the kill switch, and a tripped limit that survives a restart."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

from replay.__main__ import main
from risk.gate_session import GateSession
from tests.conftest import DATA, RELAXED
from thetacore.durable_state import dump_state, load_state
from thetacore.parameters import load_parameters

# Operator-given VIX levels (the bundled data has no VIX series): the gate refuses without them.
VIX = {"vix_level": "13.85", "vix_prev_close": "14.02"}


def _run(out: Path, params: dict[str, str], *extra: str) -> dict:
    argv = ["--data", str(DATA), "--out", str(out), *extra]
    for k, v in params.items():
        argv += ["--parameter", k, v]
    assert main(argv) == 0
    return json.loads((out / "summary.json").read_text())


def _strangle_verdicts(s: dict) -> list[dict]:
    return [v for v in s["gate"]["verdicts"] if v["strategy"] == "futures_strangle"]


def test_when_vix_is_unknown_then_the_gate_refuses_the_entry_never_assuming_a_level(tmp_path):
    s = _run(tmp_path, RELAXED)
    [v] = _strangle_verdicts(s)
    assert v["action"] == "refuse" and v["codes"] == ["DATA_MISSING", "DATA_MISSING"]
    assert "vix_level=nan" in v["reason"] and s["orders"] == []


def test_when_the_gate_approves_then_the_strangle_trades(tmp_path):
    s = _run(tmp_path, {**RELAXED, **VIX})
    [v] = _strangle_verdicts(s)
    assert (v["action"], v["quantity"]) == ("approve", 1)
    assert [o["status"] for o in s["orders"]] == ["filled"]


def test_when_limits_are_tight_then_summary_shows_the_refusal_and_its_numbers(tmp_path):
    tight = {"max_risk_per_trade_frac": "0.01", "max_risk_per_trade_hard_frac": "0.01"}
    s = _run(tmp_path, {**RELAXED, **VIX, **tight})
    [v] = _strangle_verdicts(s)
    assert v["action"] == "refuse" and "TRADE_RISK" in " ".join(v["codes"])
    assert s["orders"] == [] and s["pnl"]["total_pnl_usd"] == 0.0


def test_when_bp_limit_is_tight_then_the_gate_refuses_on_buying_power(tmp_path):
    s = _run(tmp_path, {**RELAXED, **VIX, "bp_max_frac_regime2": "0.01"})
    [v] = _strangle_verdicts(s)
    assert v["action"] == "refuse" and "BP_LIMIT" in v["codes"]
    assert "limit=0.01" in v["reason"]


def test_when_the_kill_switch_is_set_then_no_entry_at_all(tmp_path):
    s = _run(tmp_path, {**RELAXED, **VIX, "kill_switch": "true"})
    assert s["orders"] == []
    assert all(v["action"] == "refuse" and "KILL_SWITCH" in v["codes"] for v in s["gate"]["verdicts"])
    assert s["gate"]["verdicts"]


def test_when_a_daily_loss_limit_tripped_before_a_restart_then_it_still_holds(tmp_path):
    """A run killed at 09:50 ET after its gate tripped the daily loss limit (the trip is put into
    its saved state: the bundled data cannot lose 5% by 09:50) resumes with the trip in force."""
    p = load_parameters({})
    session = GateSession.create(p)
    session.on_nlv(100_000.0, datetime(2020, 1, 6, 14, 31, tzinfo=UTC))
    notice = session.on_nlv(94_000.0, datetime(2020, 1, 6, 14, 45, tzinfo=UTC))  # -6% on the day
    assert any("LOSS_LIMIT_DAILY" in a for a in notice.alerts)
    out = tmp_path / "out"
    argv = ["--data", str(DATA), "--out", str(out), "--end", "2020-01-06"]
    for k, v in {**RELAXED, **VIX}.items():
        argv += ["--parameter", k, v]
    assert main([*argv, "--stop-after", "2020-01-06T09:50"]) == 0
    state = out / "state.json"
    book = load_state(state.read_text(), str(state))
    book.gate["gate"] = session.gate.state.to_dict()
    state.write_text(dump_state(book))
    s = _run(out, {**RELAXED, **VIX}, "--state", str(state), "--end", "2020-01-06")
    [v] = _strangle_verdicts(s)
    assert v["action"] == "refuse" and "LOSS_LIMIT_DAILY" in v["codes"]
    saved = json.loads(state.read_text())
    assert "loss_daily" in saved["gate"]["gate"]["tripped"]
