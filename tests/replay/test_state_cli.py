"""The replay's state file as an operator meets it (issue 8, items 1 and 2): a missing, empty,
foreign or unknown-version state is a one-line error (exit 2) and is never overwritten; a
rerun into a folder holding a state is refused; the state is saved during the run (not only
at the end) with the simulated broker's account apart from the strategies' book; and a
resume reconciles the two: adopt, settle what vanished, block entries on what nobody owns."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import pytest

import replay.state_file as state_file
from replay.__main__ import main, stop_time
from replay.state_file import atomic_write_text
from tests.conftest import DATA, RELAXED

VIX = {"vix_level": "13.85", "vix_prev_close": "14.02"}
PID = "futures_strangle-20200106T1500"


def _argv(out: Path, *extra: str) -> list[str]:
    argv = ["--data", str(DATA), "--out", str(out), "--start", "2020-01-06", "--end", "2020-01-06", *extra]
    for k, v in {**RELAXED, **VIX}.items():
        argv += ["--parameter", k, v]
    return argv


def _error(capsys) -> str:
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1, err  # one line, no traceback
    return err[0]


def test_when_the_state_file_is_missing_then_exit_2_unless_fresh(tmp_path, capsys):
    missing = tmp_path / "typo.json"
    assert main(_argv(tmp_path / "out", "--state", str(missing))) == 2
    assert _error(capsys) == f"replay: error: {missing}: (top level): no such state file (give --fresh to start " \
                             "without one)"
    assert not missing.exists() and not (tmp_path / "out" / "summary.json").exists()
    assert main(_argv(tmp_path / "out", "--state", str(missing), "--fresh")) == 0
    assert json.loads(missing.read_text())["schema"] == "thetadesk.state"


@pytest.mark.parametrize(("text", "problem"), [
    ("{}", "(top level): empty object: not a saved state"),
    ("[]", "(top level): expected a state object, got list []"),
    (Path(__file__).resolve().parents[2].joinpath("config.json").read_text(), "schema: expected 'thetadesk.state'"),
    ('{"schema": "thetadesk.state", "version": 7}', "version: unknown state version 7"),
    ("", "(top level): not JSON"),
])
@pytest.mark.parametrize("fresh", [False, True])
def test_when_the_state_file_is_not_a_valid_state_then_exit_2_and_it_is_never_overwritten(
        tmp_path, capsys, text, problem, fresh):
    state = tmp_path / "state.json"
    state.write_text(text)
    assert main(_argv(tmp_path / "out", "--state", str(state), *(["--fresh"] if fresh else []))) == 2
    assert _error(capsys).startswith(f"replay: error: {state}: {problem}")
    assert state.read_text() == text and not (tmp_path / "out" / "summary.json").exists()


def test_when_out_already_holds_a_state_then_a_rerun_is_refused_and_fresh_replaces_it(tmp_path, capsys):
    out = tmp_path / "out"
    assert main(_argv(out)) == 0
    before = (out / "state.json").read_text()
    capsys.readouterr()
    assert main(_argv(out)) == 2
    assert _error(capsys) == (f"replay: error: {out / 'state.json'} already holds "
                              f"a saved state: resume with --state {out / 'state.json'}, or give --fresh to start "
                              "over and replace it")
    assert (out / "state.json").read_text() == before
    assert main(_argv(out, "--fresh")) == 0
    assert json.loads((out / "state.json").read_text())["saved_utc"] != json.loads(before)["saved_utc"]


def test_when_the_strangle_has_just_filled_then_the_state_already_holds_it_and_the_broker_account(tmp_path):
    out = tmp_path / "out"
    assert main(_argv(out, "--stop-after", "2020-01-06T10:01")) == 0
    state = json.loads((out / "state.json").read_text())
    assert state["clock_utc"] == "2020-01-06T15:01:00+00:00"  # the fill minute: saved then, not at the end
    [pos] = state["strategies"]["futures_strangle"]["positions"]
    assert (pos["position_id"], pos["state"], pos["entry_net_pts"]) == (PID, "open", -32.40)
    assert [leg["symbol"] for leg in pos["structure"]["legs"]] == ["ES202003 200320P03000000",
                                                                    "ES202003 200320C03460000"]
    account = state["host"]["broker_account"]
    assert "simulated broker" in account["note"] and state["orders"] == []
    held = {h["symbol"]: h["quantity"] for h in account["ledger"]["holdings"]}
    assert held == {"ES202003 200320P03000000": -1, "ES202003 200320C03460000": -1}
    # cash: 100,000 + 32.40 x 50 credit - 6.74 fees (README run; the fill is the limit)
    assert account["ledger"]["cash_usd"] == pytest.approx(100_000 + 32.40 * 50 - 6.74, abs=1e-6)
    assert state["gate"]["records"][PID]["bp_usd"] > 0


def test_when_killed_with_the_entry_working_then_the_state_holds_the_working_order(tmp_path):
    out = tmp_path / "out"
    assert main(_argv(out, "--stop-after", "2020-01-06T10:00")) == 0
    state = json.loads((out / "state.json").read_text())
    [order] = state["orders"]
    assert order["intent"]["position_id"] == PID and order["intent"]["limit_pts"] == -32.4
    assert state["strategies"]["futures_strangle"]["positions"][0]["state"] == "opening"
    assert [o["status"] for o in state["host"]["broker_account"]["orders"]] == ["submitted"]


def _killed(tmp_path: Path, at: str) -> tuple[Path, dict]:
    out = tmp_path / "out"
    assert main(_argv(out, "--stop-after", at)) == 0
    return out, json.loads((out / "state.json").read_text())


def _resume(out: Path, state: dict, rc: int = 0) -> dict:
    (out / "state.json").write_text(json.dumps(state))
    assert main(_argv(out, "--state", str(out / "state.json"))) == rc
    return json.loads((out / "summary.json").read_text())


def test_when_the_broker_holds_a_contract_no_strategy_owns_then_entries_are_blocked_with_a_critical_alert(tmp_path):
    out, state = _killed(tmp_path, "2020-01-06T09:30")
    state["host"]["broker_account"]["ledger"]["holdings"].append({
        "symbol": "ES202003 200320P03050000", "underlying_symbol": "ES202003", "multiplier_usd_per_pt": 50.0,
        "quantity": -2, "cost_usd": -1000.0, "right": "put", "strike_pts": 3050.0, "expiry": "2020-03-20",
        "settle_time_et": "09:30:00", "physical": True})
    s = _resume(out, state, rc=1)  # exit 1: the ledger holds what no position expects (invariant broken)
    assert s["invariants"]["orphan_or_mismatched_legs"] == ["ES202003 200320P03050000"]
    [rec, block] = s["reconciliation"]
    assert rec["action"] == "unknown_holding" and rec["subject"] == "ES202003 200320P03050000"
    assert block["action"] == "block_entries"
    assert any("CRITICAL RECONCILE" in a and "ES202003 200320P03050000" in a for a in s["gate"]["alerts"])
    [v] = [v for v in s["gate"]["verdicts"] if v["strategy"] == "futures_strangle"]
    assert v["action"] == "refuse" and "HOST_BLOCK" in v["codes"]  # the 10:00 entry, blocked
    assert "host_reconcile" in s["gate"]["state"]["gate"]["tripped"]
    audit = s["gate"]["state"]["gate"]["audit_log"]
    assert [a["new"] for a in audit] == ["unknown_holding", "block_entries"]
    saved = json.loads((out / "state.json").read_text())
    assert "host_reconcile" in saved["gate"]["gate"]["tripped"]  # the block survives the next restart too


def test_when_the_strangle_vanished_from_the_broker_then_it_is_closed_with_the_reason(tmp_path):
    out, state = _killed(tmp_path, "2020-01-06T10:30")
    state["host"]["broker_account"]["ledger"]["holdings"] = []
    s = _resume(out, state)
    [rec] = s["reconciliation"]
    assert rec["action"] == "vanished_position" and rec["subject"] == PID
    [pos] = s["positions"]["strategy_positions"]
    assert pos["state"] == "closed" and pos["exit_reason"].startswith("vanished at restart: the broker holds none")
    assert s["gate"]["state"]["records"] == {}  # its buying power is no longer in use
    assert s["invariants"]["ledger_equals_positions"]


def test_when_the_book_never_sent_a_working_order_then_it_blocks_and_a_vanished_one_is_forgotten(tmp_path):
    out, state = _killed(tmp_path, "2020-01-06T10:00")
    unknown = dict(state, orders=[])
    s = _resume(out, unknown)
    assert [r["action"] for r in s["reconciliation"]] == ["unknown_order", "block_entries"]
    assert "host_reconcile" in s["gate"]["state"]["gate"]["tripped"]
    out2, state2 = _killed(tmp_path / "b", "2020-01-06T10:00")
    state2["host"]["broker_account"]["orders"][0]["status"] = "canceled"
    s2 = _resume(out2, state2)
    assert [r["action"] for r in s2["reconciliation"]] == ["vanished_order", "order_vanished_position"]
    [pos] = s2["positions"]["strategy_positions"]
    assert pos["state"] == "closed" and pos["exit_reason"].startswith("never opened")
    assert s2["gate"]["state"]["records"] == {} and s2["gate"]["state"]["gate"]["tripped"] == {}


def test_stop_after_is_new_york_time_unless_it_carries_an_offset():
    assert stop_time("2020-01-06T11:00") == datetime(2020, 1, 6, 16, 0, tzinfo=UTC)
    assert stop_time("2020-01-06T11:00+00:00") == datetime(2020, 1, 6, 11, 0, tzinfo=UTC)


def test_atomic_write_replaces_whole_and_a_failed_write_leaves_the_old_file(tmp_path, monkeypatch):
    target = tmp_path / "state.json"
    atomic_write_text(target, "old\n")
    atomic_write_text(target, "new\n")
    assert target.read_text() == "new\n" and [p.name for p in tmp_path.iterdir()] == ["state.json"]

    def broken(src, dst):
        raise OSError("disk full")
    monkeypatch.setattr(state_file.os, "replace", broken)
    with pytest.raises(OSError, match="disk full"):
        atomic_write_text(target, "half")
    assert target.read_text() == "new\n" and [p.name for p in tmp_path.iterdir()] == ["state.json"]


def test_when_eight_writers_race_on_one_file_then_every_read_is_one_whole_file(tmp_path):
    """Issue 8: eight runs into one folder corrupted summary.json; with the temp-file-and-rename
    write a reader sees one writer's whole text every time, and no temp file is left behind."""
    import threading

    target = tmp_path / "summary.json"
    texts = [json.dumps({"writer": w, "pad": "x" * (20_000 + w)}) for w in range(8)]
    atomic_write_text(target, texts[0])
    stop, seen, bad = threading.Event(), set(), []

    def write(w: int) -> None:
        for _ in range(30):
            atomic_write_text(target, texts[w])

    def read() -> None:
        while not stop.is_set():
            text = target.read_text()
            if text not in texts:
                bad.append(len(text))
            seen.add(text)
    reader = threading.Thread(target=read)
    reader.start()
    writers = [threading.Thread(target=write, args=(w,)) for w in range(8)]
    for t in writers:
        t.start()
    for t in writers:
        t.join()
    stop.set()
    reader.join()
    assert bad == [] and len(seen) >= 2
    assert [p.name for p in tmp_path.iterdir()] == ["summary.json"]
