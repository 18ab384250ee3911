"""Kill the replay at any minute and resume from its state file: the run ends with the same
positions, trips, fills, fees and P&L (NLV to the cent) as the uninterrupted run (issue 8,
"done when"). A kill is ``--stop-after`` (the state file is whatever was saved last, as after a
``kill -9``); the resume is ``--state OUT/state.json``.

Kill minutes (New York time) cover every state the bundled data gives the relaxed strangle
(README, RELAXED): before anything, just before the entry, with the entry working (sent at
10:00, fills at 10:01), open right after the fill, open after NLV marks, after the close of its
day, on the 0DTE days, on the SPY days (IPMCC and LEAP puts) and at the very end.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

import replay.engine
from replay.__main__ import main
from tests.conftest import DATA, RELAXED

VIX = {"vix_level": "13.85", "vix_prev_close": "14.02"}
# drawdown steps tight enough that the strangle's own marks trip them on 2020-01-06 at 16:30 ET
# (NLV 100,038.39 from a peak of 100,228.39: 0.19%), which closes the losing strangle
TIGHT = {"drawdown_halve_frac": "0.001", "drawdown_stop_frac": "0.0015", "drawdown_flatten_frac": "0.01"}
ES_DAY = ("--start", "2020-01-06", "--end", "2020-01-06")  # the strangle's only day: a run of its own
# (run, kill minute): the ES day alone for the minutes of that day, the whole data for later ones
KILLS = [("es_day", "2020-01-06T00:00"), ("es_day", "2020-01-06T09:59"), ("es_day", "2020-01-06T10:00"),
         ("es_day", "2020-01-06T10:01"), ("es_day", "2020-01-06T10:30"), ("es_day", "2020-01-06T13:07"),
         ("es_day", "2020-01-06T17:29"), ("es_day", "2020-01-06T23:58"), ("all", "2020-01-06T10:00"),
         ("all", "2021-01-08T15:00"), ("all", "2024-01-10T16:00")]
RUNS = {"es_day": ({**RELAXED, **VIX}, ES_DAY), "all": ({**RELAXED, **VIX}, ()),
        "tight_es_day": ({**RELAXED, **VIX, **TIGHT}, ES_DAY), "tight_all": ({**RELAXED, **VIX, **TIGHT}, ())}


@pytest.fixture(scope="module", autouse=True)
def markets_loaded_once():
    """Each market is read from disk once for this module: an ``OptionMarket`` is read-only data
    plus caches of it (trading days, flat quote arrays), so sharing it changes no result, and
    the ~20 runs here cost what their minutes cost rather than 20 data loads each."""
    loaded: dict[tuple, Any] = {}
    real = replay.engine.load_market

    def load(sub, data_root, lo, hi, max_age):
        key = (sub, str(data_root), lo, hi, max_age)
        if key not in loaded:
            loaded[key] = real(sub, data_root, lo, hi, max_age)
        return loaded[key]
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(replay.engine, "load_market", load)
        yield


def _argv(out: Path, params: dict[str, str], *extra: str) -> list[str]:
    argv = ["--data", str(DATA), "--out", str(out), *extra]
    for k, v in params.items():
        argv += ["--parameter", k, v]
    return argv


def _outcome(out: Path) -> dict[str, Any]:
    """What must not depend on a restart: positions, holdings, fills and fees, P&L, trips and
    the gate's book (read from summary.json)."""
    s = json.loads((out / "summary.json").read_text())
    gate = s["gate"]["state"]["gate"]
    return {"positions": s["positions"], "orders": s["orders"], "pnl": s["pnl"], "settlements": s["settlements"],
            "tripped": gate["tripped"], "peak_nlv_usd": gate["peak_nlv_usd"], "last_nlv_usd": gate["last_nlv_usd"],
            "stats": s["gate"]["state"]["stats"], "invariants": s["invariants"]}


@pytest.fixture(scope="module")
def full(tmp_path_factory) -> dict[str, dict[str, Any]]:
    """The uninterrupted run of each of :data:`RUNS`, computed once when first asked for."""
    cache: dict[str, dict[str, Any]] = {}

    class Runs(dict):  # type: ignore[type-arg]
        def __missing__(self, name: str) -> dict[str, Any]:
            folder = tmp_path_factory.mktemp(name)
            params, extra = RUNS[name]
            assert main(_argv(folder, params, *extra)) == 0
            cache[name] = _outcome(folder)
            return cache[name]
    return Runs()


def _kill_and_resume(out: Path, run: str, kill: str) -> dict[str, Any]:
    params, extra = RUNS[run]
    assert main(_argv(out, params, *extra, "--stop-after", kill)) == 0
    assert not (out / "summary.json").exists()  # killed: no summary, only the state saved so far
    assert main(_argv(out, params, *extra, "--state", str(out / "state.json"))) == 0
    return json.loads((out / "summary.json").read_text())


def test_the_uninterrupted_relaxed_run_is_the_readme_run(full):
    for run in ("es_day", "all"):
        pnl = full[run]["pnl"]
        assert (pnl["nlv_usd"], pnl["fees_usd"]) == (100_177.01, 6.74)  # fill at its limit (issue 8 item 6)
        [order] = full[run]["orders"]
        assert (order["fill_pts"], order["status"]) == (-32.40, "filled")
        assert full[run]["tripped"] == {}


@pytest.mark.parametrize(("run", "kill"), KILLS)
def test_when_killed_at_a_minute_and_resumed_then_the_end_equals_the_uninterrupted_run(tmp_path, full, run, kill):
    summary = _kill_and_resume(tmp_path, run, kill)
    assert _outcome(tmp_path) == full[run]
    assert summary["run"]["resumed_from_utc"] is not None or kill.endswith("T00:00")


def test_when_killed_with_the_strangle_open_then_the_resume_adopts_it_and_logs_it(tmp_path):
    summary = _kill_and_resume(tmp_path, "es_day", "2020-01-06T10:30")
    [adopt] = summary["reconciliation"]
    assert adopt["action"] == "adopt" and adopt["subject"] == "futures_strangle-20200106T1500"
    audit = summary["gate"]["state"]["gate"]["audit_log"]
    assert [(a["who"], a["new"]) for a in audit] == [("replay reconciliation", "adopt")]
    assert summary["gate"]["state"]["gate"]["tripped"] == {}


@pytest.mark.parametrize(("run", "kill"), [("tight_es_day", "2020-01-06T16:29"), ("tight_es_day", "2020-01-06T16:30"),
                                         ("tight_es_day", "2020-01-06T16:31"), ("tight_all", "2021-01-05T12:00")])
def test_when_a_drawdown_trip_closed_the_strangle_then_a_kill_keeps_the_trip_and_the_same_end(tmp_path, full, run,
                                                                                             kill):
    tight = full[run]
    # issue 11 (deliberate change): the halve and stop steps no longer latch for good; they lift
    # when NLV recovers above their line (at the 17:00 ET mark, after the stop closed the
    # strangle), so the run ends with no trip where it ended with both before
    if run == "tight_es_day":
        assert set(tight["tripped"]) == set()
    assert [o["purpose"] for o in tight["orders"]] == ["open", "close"]  # the stop closed the losing strangle
    params, extra = RUNS[run]
    assert main(_argv(tmp_path, params, *extra, "--stop-after", kill)) == 0
    saved = json.loads((tmp_path / "state.json").read_text())
    tripped = set(saved["gate"]["gate"]["tripped"])
    # saved at 16:30; lifted at 17:00 ET (issue 11), so a 2021 kill saves none
    lifted = kill.endswith("16:29") or kill.startswith("2021")
    assert tripped == (set() if lifted else {"drawdown_halve", "drawdown_stop"})
    if kill.endswith("16:30"):  # the stop's close of the losing strangle was sent in the trip's minute
        [close] = saved["orders"]
        assert close["intent"]["purpose"] == "close" and close["intent"]["tag"]
    assert main(_argv(tmp_path, params, *extra, "--state", str(tmp_path / "state.json"))) == 0
    assert _outcome(tmp_path) == tight
