"""`python -m replay` over the bundled REAL ES futures-option day (2020-01-06)."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from replay.__main__ import main
from tests.conftest import DATA, RELAXED


def _run(tmp_path: Path, params: dict[str, str], data: Path = DATA) -> tuple[int, dict]:
    argv = ["--data", str(data), "--out", str(tmp_path)]
    for k, v in params.items():
        argv += ["--parameter", k, v]
    code = main(argv)
    out = tmp_path / "summary.json"
    return code, (json.loads(out.read_text()) if out.exists() else {})


def test_when_defaults_then_the_strangle_decision_is_recorded_with_its_exact_reasons(tmp_path, capsys):
    code, s = _run(tmp_path, {})
    assert code == 0
    [d] = [x for x in s["decisions"] if x["strategy"] == "futures_strangle"]
    assert (d["time_et"], d["strategy"], d["action"]) == ("2020-01-06 10:00", "futures_strangle", "declined")
    assert [r["code"] for r in d["reasons"]] == ["NOT_ENTRY_DAY", "NO_EXPIRY_IN_WINDOW", "IV_RANK_UNAVAILABLE",
                                                 "CONSOLIDATION_UNAVAILABLE", "NO_PUT_IN_BAND"]
    assert "no put within 0.05-0.07 delta; nearest 3000 at 0.19 delta" in d["reason"]
    assert s["orders"] == [] and s["pnl"]["total_pnl_usd"] == 0.0
    assert "declined NOT_ENTRY_DAY" in capsys.readouterr().out


def test_when_relaxed_then_one_strangle_opens_and_is_carried_to_the_end_with_fees_and_pnl(tmp_path):
    # VIX levels are operator-given (no VIX series in the bundled data); the gate needs them
    code, s = _run(tmp_path, {**RELAXED, "vix_level": "13.85", "vix_prev_close": "14.02"})
    assert code == 0
    [order] = s["orders"]
    assert order["status"] == "filled" and order["purpose"] == "open"
    assert [(leg["right"], leg["strike_pts"], leg["expiry"], leg["quantity"]) for leg in order["legs"]] == [
        ("put", 3000.0, "2020-03-20", -1), ("call", 3460.0, "2020-03-20", -1)]
    assert order["limit_pts"] == -32.4 and order["fill_pts"] <= order["limit_pts"]
    # Tastytrade futures options: 2 legs x ($2.50 open + $0.30 clearing + $0.57 exchange/NFA)
    assert order["fees_usd"] == pytest.approx(6.74)
    [pos] = s["positions"]["strategy_positions"]
    assert pos["state"] == "open" and pos["entry_net_pts"] == order["fill_pts"]
    pnl = s["pnl"]
    assert pnl["nlv_usd"] == pytest.approx(pnl["cash_usd"] + pnl["holdings_value_usd"])
    assert pnl["total_pnl_usd"] == pytest.approx(pnl["nlv_usd"] - 100_000.0)
    assert pnl["total_pnl_usd"] == pytest.approx(pnl["unrealized_usd"] - pnl["fees_usd"], abs=0.02)
    # credit received in cash: 50 $/pt x fill credit, less fees
    assert pnl["cash_usd"] == pytest.approx(100_000 - order["fill_pts"] * 50 - 6.74, abs=0.01)
    inv = s["invariants"]
    assert inv["ledger_equals_positions"] is True and inv["orphan_or_mismatched_legs"] == []
    assert inv["all_held"] is True and inv["orphan_legs"] == [] and inv["lost_positions"] == [] and inv["faults"] == []
    assert {h["symbol"] for h in s["positions"]["holdings"]} == {leg["symbol"] for leg in order["legs"]}


def test_when_a_parameter_is_bad_then_exit_2_naming_it(tmp_path, capsys):
    code, _ = _run(tmp_path, {"strangle_put_delta_min": "five"})
    assert code == 2
    assert "strangle_put_delta_min='five'" in capsys.readouterr().err


def test_when_the_data_folder_is_missing_then_exit_2_naming_the_file(tmp_path, capsys):
    code, _ = _run(tmp_path / "out", {}, data=tmp_path / "nodata")
    assert code == 2
    assert "nodata" in capsys.readouterr().err


def test_when_an_option_zip_is_corrupt_then_exit_2_naming_it_before_any_trade(tmp_path, capsys):
    data = tmp_path / "data"
    shutil.copytree(DATA, data, ignore=shutil.ignore_patterns("equity", "option", "index*"))
    bad = data / "futureoption/cme/minute/es/202003/20200106_quote_american.zip"
    bad.write_bytes(bad.read_bytes()[:5000])
    code, s = _run(tmp_path / "out", RELAXED, data=data)
    assert code == 2 and s == {}
    assert "20200106_quote_american.zip" in capsys.readouterr().err
