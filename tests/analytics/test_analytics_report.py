"""``python -m analytics report`` on the relaxed replay, the default (no-trade) replay and the
LEAN result fixture: its figures against independent calculations from the raw inputs."""

from __future__ import annotations

import html
import json
import subprocess
import sys
from pathlib import Path

import pytest

from analytics.__main__ import main
from analytics.report import NO_TRADES, build, load_run
from tests.analytics.conftest import LEAN_RUN

pytest.importorskip("quantstats", reason="quantstats==0.0.77 is in requirements.txt (LEAN's image)")
ROOT = Path(__file__).resolve().parents[2]


def test_relaxed_replay_report_equals_the_summary_numbers(relaxed_run: Path, capsys):
    s = json.loads((relaxed_run / "summary.json").read_text())
    [order] = s["orders"]
    [holding_put, holding_call] = s["positions"]["holdings"]
    rep = build(load_run(relaxed_run))
    row = rep.trades.loc["futures_strangle"]
    # independent: the open strangle's value at its marks minus what it was sold for, less fees
    mult = 50.0  # ES options: one ES future, $50 x index
    entry_usd = order["fill_pts"] * mult
    marked_usd = -1 * holding_put["mark_pts"] * mult - 1 * holding_call["mark_pts"] * mult
    assert row["net_pnl_usd"] == pytest.approx(marked_usd - entry_usd - order["fees_usd"])
    assert row["net_pnl_usd"] == pytest.approx(s["pnl"]["total_pnl_usd"], abs=0.01)  # the only position
    assert row["credit_usd"] == pytest.approx(-order["fill_pts"] * mult)
    assert row["fees_usd"] == pytest.approx(6.74) and row["trades_n"] == 1 and row["closed_n"] == 0
    [entered] = [d for d in s["decisions"] if d["action"] == "entered"]
    assert row["return_on_bp_frac"] == pytest.approx(row["net_pnl_usd"] / entered["details"]["buying_power_usd"])
    # slippage: fill against the mid the decision saw (its journaled net mid)
    [slip] = rep.slippage["slippage_usd"].tolist()
    assert slip == pytest.approx((order["fill_pts"] - entered["details"]["net_mid_pts"]) * mult)
    # BP in use: 0 before the fill, the gate's BP after; limit 65% of NLV (VIX 13.85: regime 13-18).
    # Issue 11 (deliberate change): BP in use is re-marked from current quotes at every NLV mark,
    # so the last mark is the host's re-marked number, no longer the entry's buying power
    # (hand-checked re-marks: tests/risk/test_bp_marks.py)
    assert rep.bp["bp_in_use_usd"].iloc[0] == 0.0
    assert rep.bp["bp_in_use_usd"].iloc[-1] == pytest.approx(s["marks"][-1]["bp_in_use_usd"])
    assert rep.bp["bp_in_use_usd"].iloc[-1] != pytest.approx(entered["details"]["buying_power_usd"], abs=1.0)
    assert rep.bp["bp_limit_usd"].iloc[-1] == pytest.approx(0.65 * s["pnl"]["nlv_usd"])
    assert rep.account["end_nlv_usd"] == pytest.approx(s["pnl"]["nlv_usd"])
    assert main(["report", str(relaxed_run)]) == 0
    out = capsys.readouterr().out
    assert "futures_strangle" in out and "net_pnl_usd" in out and NO_TRADES not in out
    page = (relaxed_run / "report.html").read_text()
    assert page.count("data:image/png;base64,") == 5  # equity, P&L, BP, slippage, refusals


def test_lean_fixture_report_equals_the_hand_calculation():
    rep = build(load_run(LEAN_RUN))
    t = rep.trades
    # strangle: sold 3000P at 29.10 and 3460C at 3.35, bought back at 13.90 and 2.40; ES $50/pt
    strangle = ((29.10 + 3.35) - (13.90 + 2.40)) * 50 - (3.37 + 3.37 + 1.87 + 1.87)
    # 0DTE: sold 3200P 2.05, bought 3170P 0.55; closed buying 3200P 4.30, selling 3170P 1.10; SPXW $100/pt
    zdte = ((2.05 - 0.55) - (4.30 - 1.10)) * 100 - (1.75 + 1.75 + 0.75 + 0.75)
    assert t.loc["futures_strangle", "net_pnl_usd"] == pytest.approx(strangle)  # 797.02
    assert t.loc["zero_dte", "net_pnl_usd"] == pytest.approx(zdte)  # -175.00
    assert t.loc["account", "net_pnl_usd"] == pytest.approx(strangle + zdte)
    assert t.loc["account", "win_rate_frac"] == 0.5
    assert t.loc["account", "profit_factor_ratio"] == pytest.approx(strangle / -zdte)
    assert t.loc["lt112", "credit_usd"] == pytest.approx((-40.00 + 30.00 + 2 * 8.00) * 50)
    assert t.loc["lt112", "closed_n"] == 0 and t.loc["lt112", "net_pnl_usd"] != t.loc["lt112", "net_pnl_usd"]  # NaN
    assert t.loc["futures_strangle", "avg_days_in_trade_days"] == pytest.approx(15 + 1 / 1440)  # 01-06 15:01 -> 01-21 15:02
    # slippage: strangle open (-32.45 vs mid -(29.25+3.35)) and close (16.30 vs 13.75+2.35), x $50
    assert rep.slippage.loc[("futures_strangle", 10), "slippage_usd"] == pytest.approx(
        (-32.45 + 32.60) * 50 + (16.30 - 16.10) * 50)
    assert rep.slippage.loc[("zero_dte", 12), "slippage_usd"] == pytest.approx((3.20 - 3.00) * 100)
    # equity: peak 100,300 (01-09), trough 99,900 (01-13), recovered 01-15 (100,400)
    a = rep.account
    assert (a["max_drawdown_usd"], str(a["drawdown_peak_date"]), str(a["drawdown_trough_date"]),
            str(a["drawdown_recovery_date"])) == (400.0, "2020-01-09", "2020-01-13", "2020-01-15")
    assert a["max_drawdown_frac"] == pytest.approx(400 / 100_300)
    assert rep.verdicts.loc[("lt112", "refuse", "CONCENTRATION_SAME_EXPIRY"), "verdicts_n"] == 1
    assert rep.declines.loc[("zero_dte", "VIX_UNKNOWN"), "declines_n"] == 1
    assert any("no per-position mark" in n for n in rep.run.notes)
    # the canceled LEAP rung is no trade
    assert "leap_puts" not in t.index


def test_a_run_without_trades_says_so_plainly(default_run: Path, capsys, tmp_path: Path):
    out_html = tmp_path / "r.html"
    assert main(["report", str(default_run), "--out", str(out_html)]) == 0
    assert NO_TRADES in capsys.readouterr().out
    assert NO_TRADES in html.unescape(out_html.read_text())


def test_a_folder_that_is_no_run_is_a_clear_error(tmp_path: Path, capsys):
    assert main(["report", str(tmp_path)]) == 2
    assert "neither a replay output" in capsys.readouterr().err


def test_the_module_runs_as_a_command(relaxed_run: Path, tmp_path: Path):
    proc = subprocess.run([sys.executable, "-m", "analytics", "report", str(relaxed_run), "--out",
                           str(tmp_path / "x.html")], cwd=ROOT, capture_output=True, text=True, check=False)
    assert proc.returncode == 0, proc.stderr
    assert "report:" in proc.stdout and (tmp_path / "x.html").stat().st_size > 10_000
