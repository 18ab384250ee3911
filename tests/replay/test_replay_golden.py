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

Regenerated deliberately for issue 11 (item 3, branch i11d) with the same command and sections:
the strangle's journaled IV reading is now the 90-day constant-maturity ATM IV interpolated in
total variance across March and June (``atm_iv_frac`` 0.1361 -> 0.1397, new ``atm_iv_basis``
"interpolated 2020-03-20/2020-06-19"); the IV-rank filter is off in this run, so every decision,
order and the P&L are unchanged.

Regenerated deliberately for issue 11 (branch i11a) with the same command and sections; only
DECLINED decisions changed, orders and P&L are identical:
* 0DTE: the move is read from 10:00 ET (M1; the reading at 10:01, close of the 10:00-10:01
  bar) instead of the 09:31 bar: 2021-01-04 now reads 3749.96 -> 3738.81 = -0.2973% (iron
  condor; was 3766.63, -0.7386%, put spread) and 2023-06-26 4358.20 -> 4356.40 = -0.0413%
  (was 4345.01, +0.2621%); both still declined for NOT_ENTRY_DAY / ATR_UNAVAILABLE, and the
  days without SPX minute data say "first bar after 10:00 ET" in MOVE_UNAVAILABLE.
* IPMCC: the weekly decision runs at 09:45 ET (not 09:15), so OPTIONS_CLOSED is gone (the
  decision now sits in the session and declines on STALE_QUOTE: the bundled SPY chains are
  the previous close's universe files); the LEAP extrinsic is judged against the underlying
  (401 call on 2024-01-04: 85.71 - (468.79 - 401) = 17.92 pts = 3.82% of 468.79 < 5%; it was
  judged as 20.9% of its price), so
  LEAP_EXTRINSIC_TOO_HIGH is gone and only STALE_QUOTE declines; details gain
  ``leap_extrinsic_of_price_frac`` and ``leap_extrinsic_frac`` is now of the underlying.

Both regenerations were merged by regenerating once more with both changes in (the lead, at the merge).

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
