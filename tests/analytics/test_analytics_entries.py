"""``analytics.entries`` (``python -m analytics entries``): entries possible per month from a
replay's ``summary.json``. Expected values are counted by hand from the hand-made summaries
below (and, for the bundled runs, from the README's account of what each strategy does)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from analytics.__main__ import main
from analytics.entries import count_entries, kind_of, render_markdown


def _decision(strategy: str, time_et: str, action: str, codes: list[str], pid: str | None = None) -> dict[str, Any]:
    return {"time_et": time_et, "strategy": strategy, "action": action, "position_id": pid,
            "reasons": [{"code": c, "text": c.lower()} for c in codes]}


def _verdict(strategy: str, pid: str, action: str, quantity: int, codes: list[str],
             purpose: str = "open") -> dict[str, Any]:
    return {"strategy": strategy, "position_id": pid, "purpose": purpose, "action": action,
            "quantity": quantity, "codes": codes}


def _order(pid: str, status: str, time_utc: str, purpose: str = "open") -> dict[str, Any]:
    return {"position_id": pid, "purpose": purpose, "status": status, "time_utc": time_utc}


S = "futures_strangle"


def strangle_summary() -> dict[str, Any]:
    """Three months of strangle data. January: two proposals on 01-07 (A refused, B approved),
    one on 01-14 (C resized 2 -> 1, its order canceled). February: D refused. March: declined
    on its entry day. December before: a data day without a chain (before its chains exist:
    not a month deciding). Plus a calendar decline, a management decision and a refused close."""
    days = ["2019-12-10", "2020-01-06", "2020-01-07", "2020-01-14", "2020-02-11", "2020-03-10"]
    decisions = [
        _decision(S, "2019-12-10 10:00", "declined", ["NO_CHAIN"]),
        _decision(S, "2020-01-06 10:00", "declined", ["NOT_ENTRY_DAY", "IV_RANK_LOW"]),
        _decision(S, "2020-01-07 10:00", "entered", ["ENTRY"], "futures_strangle-20200107T1500"),
        _decision(S, "2020-01-07 10:01", "entered", ["ENTRY"], "futures_strangle-20200107T1501"),
        _decision(S, "2020-01-07 10:30", "held", ["HOLD"], "futures_strangle-20200107T1501"),
        _decision(S, "2020-01-14 10:00", "entered", ["ENTRY"], "futures_strangle-20200114T1500"),
        _decision(S, "2020-02-11 10:00", "entered", ["ENTRY"], "futures_strangle-20200211T1500"),
        _decision(S, "2020-03-10 10:00", "declined", ["IV_RANK_LOW", "NOT_CONSOLIDATING"]),
    ]
    verdicts = [
        _verdict(S, "futures_strangle-20200107T1500", "refuse", 0, ["DRAWDOWN_STOP"]),
        _verdict(S, "futures_strangle-20200107T1501", "approve", 1, []),
        _verdict(S, "futures_strangle-20200114T1500", "resize", 1, ["TRADE_RISK_ABOVE_TARGET"]),
        _verdict(S, "futures_strangle-20200211T1500", "refuse", 0, ["DRAWDOWN_STOP", "CORRELATION_A1_A2"]),
        _verdict(S, "futures_strangle-20200107T1501", "refuse", 0, ["CLOSE_MORE_THAN_HELD"], purpose="close"),
    ]
    orders = [_order("futures_strangle-20200107T1501", "filled", "2020-01-07T15:01:00+00:00"),
              _order("futures_strangle-20200114T1500", "canceled", "2020-01-14T15:00:00+00:00"),
              _order("futures_strangle-20200107T1501", "filled", "2020-02-03T15:00:00+00:00", purpose="close")]
    return {"run": {"strategies": {S: days, "zero_dte": []}}, "decisions": decisions, "orders": orders,
            "gate": {"verdicts": verdicts}, "positions": {}, "pnl": {}}


def test_proposed_counts_days_approved_counts_the_gate_opened_counts_fills():
    [s] = count_entries(strangle_summary())
    [k] = s.kinds
    assert k.kind == S and k.months == 3  # January to March; no chain in December
    # by hand: Jan proposals on 01-07 (twice: one day) and 01-14; Feb on 02-11; Mar none
    assert k.proposed == {"2020-01": 2, "2020-02": 1, "2020-03": 0}
    assert k.mean("proposed") == pytest.approx(3 / 3) and k.months_without("proposed") == 1
    # approved: B (01-07) and C resized to 1 (01-14); A and D refused
    assert k.approved == {"2020-01": 2, "2020-02": 0, "2020-03": 0}
    assert k.mean("approved") == pytest.approx(2 / 3) and k.months_without("approved") == 2
    # opened: B's open order filled; C's canceled; the close order is not an entry
    assert k.opened == {"2020-01": 1, "2020-02": 0, "2020-03": 0} and k.total("opened") == 1


def test_refusal_reasons_on_entry_days_only_and_gate_codes_of_refused_entries():
    [s] = count_entries(strangle_summary())
    # entry decisions: 4 entered + 3 declined (the held one is management); the 01-06 decline
    # carries NOT_ENTRY_DAY, so 6 are on entry days and December's and March's declines are tabulated
    assert (s.entry_decisions, s.entry_day_decisions, s.data_days, s.data_months) == (7, 6, 6, 4)
    assert dict(s.decline_codes) == {"IV_RANK_LOW": 1, "NOT_CONSOLIDATING": 1, "NO_CHAIN": 1}
    # refused opens A and D; the refused close is not an entry refusal
    assert dict(s.gate_codes) == {"DRAWDOWN_STOP": 2, "CORRELATION_A1_A2": 1}


def test_ipmcc_reports_both_kinds_even_one_never_proposed_and_skips_strategies_without_data():
    summary = {"run": {"strategies": {"ipmcc": ["2021-03-04", "2021-04-01"], "zero_dte": []}},
               "decisions": [_decision("ipmcc", "2021-03-04 10:00", "entered", ["ENTRY"], "ipmcc-leap-20210304T1500"),
                             _decision("ipmcc", "2021-04-01 09:45", "declined", ["NO_LEAP", "OPTIONS_CLOSED"])],
               "orders": [], "gate": {"verdicts": [_verdict("ipmcc", "ipmcc-leap-20210304T1500", "approve", 1, [])]}}
    [s] = count_entries(summary)
    leap, weekly = s.kinds
    assert (leap.kind, leap.proposed, leap.approved) == ("ipmcc-leap", {"2021-03": 1, "2021-04": 0},
                                                        {"2021-03": 1, "2021-04": 0})
    assert (weekly.kind, weekly.proposed, weekly.months_without("proposed")) == \
        ("ipmcc-weekly", {"2021-03": 0, "2021-04": 0}, 2)
    assert dict(s.decline_codes) == {"NO_LEAP": 1, "OPTIONS_CLOSED": 1}


def test_bad_summaries_raise_clear_errors():
    with pytest.raises(ValueError, match="missing 'gate'"):
        count_entries({"run": {"strategies": {}}, "decisions": [], "orders": []})
    bad = strangle_summary()
    bad["decisions"][2]["position_id"] = None
    with pytest.raises(ValueError, match="2020-01-07 10:00 of futures_strangle has no position id"):
        count_entries(bad)
    assert kind_of("ipmcc-weekly-20210305T1445") == "ipmcc-weekly"
    with pytest.raises(ValueError, match="not a strategy position id"):
        kind_of("lt112")


def test_cli_prints_runs_side_by_side_and_refuses_bad_input(tmp_path: Path, capsys):
    (tmp_path / "a").mkdir()
    (tmp_path / "a" / "summary.json").write_text(json.dumps(strangle_summary()))
    assert main(["entries", str(tmp_path / "a"), str(tmp_path / "a" / "summary.json"),
                 "--label", "before", "--label", "after"]) == 0
    out = capsys.readouterr().out
    for label in ("before", "after"):  # months 3, proposed 1.00/mo, 1 month none, approved 0.67, 2 none, 1 opened
        assert f"| futures_strangle | {label} | 3 | 1.00 | 1 | 0.67 | 2 | 1 |" in out
        assert f"| futures_strangle | {label} | 7 | 6 | IV_RANK_LOW 1, NOT_CONSOLIDATING 1, NO_CHAIN 1 | " \
               f"DRAWDOWN_STOP 2, CORRELATION_A1_A2 1 |" in out  # ties by code
    assert "| futures_strangle | before | 7 | 6 | IV_RANK_LOW 1, NOT_CONSOLIDATING 1 | " in \
        render_markdown([("before", count_entries(strangle_summary()))], top=2)
    assert main(["entries", str(tmp_path / "a"), "--label", "x", "--label", "y"]) == 2
    assert main(["entries", str(tmp_path / "missing")]) == 2
    assert "missing/summary.json: no such file" in capsys.readouterr().err


def test_bundled_relaxed_run_proposes_and_opens_the_one_strangle(relaxed_run: Path, default_run: Path):
    """README: with the relaxed parameters the strangle enters on 2020-01-06 (the only ES day)
    and the gate lets it through; with the defaults every strategy declines."""
    relaxed = {s.strategy: s for s in count_entries(json.loads((relaxed_run / "summary.json").read_text()))}
    [k] = relaxed[S].kinds
    assert (k.proposed, k.approved, k.opened) == ({"2020-01": 1}, {"2020-01": 1}, {"2020-01": 1})
    default = count_entries(json.loads((default_run / "summary.json").read_text()))
    assert {k.kind: k.total("proposed") for s in default for k in s.kinds} == dict.fromkeys(
        ["futures_strangle", "zero_dte", "lt112", "ipmcc-leap", "ipmcc-weekly", "leap_puts"], 0)
    text = render_markdown([("default", default)])
    assert "| zero_dte | default | 2 | 0.00 | 2 | 0.00 | 2 | 0 |" in text  # SPXW days in 2021-01 and 2023-06
    # IPMCC since issue 11: the weekly decision at 09:45 ET, after the equity-option open
    [ipmcc] = [s for s in default if s.strategy == "ipmcc"]
    assert "OPTIONS_CLOSED" not in ipmcc.decline_codes and ipmcc.entry_day_decisions == 10  # 8 LEAP + 2 Fridays
