"""The relaxed README replay reproduces, field for field, the decisions, orders and P&L that
the code produced before the performance work (issue 10): speed changes nothing it decides.

The golden file ``golden/relaxed_decisions_orders_pnl.json`` was written from
``python -m replay --out OUT $RELAXED --parameter vix_level 13.85 --parameter vix_prev_close 14.02``
at commit f9aa9ae (main with issue 7 merged, before any issue-10 change), keeping the
``decisions``, ``orders`` and ``pnl`` sections of ``summary.json``. (A first golden file from
5424049 predates issue 7's change of the 0DTE default to SPXW, which adds 0DTE decisions.)

Regenerated deliberately for issue 8 (item 6, branch i8d) with the same command, the same
three sections (``json.dumps(..., indent=1, sort_keys=True)``): a resting combo limit now
fills at its limit, so the strangle's fill moved from -32.5275 (legs 29.175 / 3.3525) to
-32.40 (legs 29.076923 / 3.323077), cash from 101,619.64 to 101,613.26 and NLV from
100,183.385 to 100,177.01 (the 0DTE decisions quote that NLV); nothing else changed.

Regenerated deliberately for issue 11 (branch i11c, SPAN-like futures-option margin), same
command and sections: the strangle's entry decision records ``buying_power_usd`` 4,838.44
(was 3,466.64: the fixed-IV 7% scan; now the day's 4.297% scan from the ES margin file with
a 4-point vol scan, floored by the short-option minimum 2 x 1.5% x 3225.625) and the new
detail ``futures_scan_range_frac`` 0.042968; the verdict, the order and the P&L are unchanged.
"""

from __future__ import annotations

import json
from pathlib import Path

from replay.__main__ import main
from tests.conftest import DATA, RELAXED

GOLDEN = Path(__file__).resolve().parent / "golden" / "relaxed_decisions_orders_pnl.json"


def test_when_the_relaxed_readme_run_replays_then_decisions_orders_and_pnl_equal_the_golden_file(tmp_path):
    argv = ["--data", str(DATA), "--out", str(tmp_path)]
    for k, v in {**RELAXED, "vix_level": "13.85", "vix_prev_close": "14.02"}.items():
        argv += ["--parameter", k, v]
    assert main(argv) == 0
    summary = json.loads((tmp_path / "summary.json").read_text())
    golden = json.loads(GOLDEN.read_text())
    assert len(golden["decisions"]) == 34 and len(golden["orders"]) == 1
    for section in ("decisions", "orders", "pnl"):
        assert summary[section] == golden[section], section
