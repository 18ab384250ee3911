"""The daily after-close report in LEAN (stand-in): scheduled at ``daily_report_time_et``,
built from the open strangle of the REAL ES chain of 2020-01-06, logged, and mailed in live
runs through the alert channel's SMTP."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from types import ModuleType
from typing import Any

import pytest
from es_world import RELAXED, calm_es_market, fire, install_es_chain
from smtp_stub import smtp_stub

REPORT_UTC = datetime(2020, 1, 6, 21, 30)  # 16:30 New York (EST)


def _open_strangle(lean: ModuleType, make_algorithm: Callable[..., Any], live: bool = False, **extra: str) -> Any:
    def setup(algorithm: Any) -> None:
        algorithm.live_mode = live

    algorithm = make_algorithm(setup=setup, **RELAXED, **extra)
    install_es_chain(lean, algorithm)
    calm_es_market(algorithm)
    fire(algorithm, "futures_strangle:entry")
    put, call = algorithm.combo_orders[0].tickets
    algorithm.fill(put, 29.10)
    algorithm.fill(call, 3.40)
    algorithm.utc_time = REPORT_UTC
    return algorithm


def _report_lines(algorithm: Any) -> list[str]:
    return [line.removeprefix("REPORT ") for line in algorithm.logs if line.startswith("REPORT ")]


def test_the_report_is_scheduled_at_the_parameter_time_in_new_york(make_algorithm: Callable[..., Any]) -> None:
    algorithm = make_algorithm(daily_report_time_et="17:05")
    [event] = [e for e in algorithm.schedule.events if e.name == "report:daily"]
    assert event.time_rule.args[:2] == (17, 5)


def test_the_report_shows_the_position_pnl_dte_decisions_risk_and_next_runs(
    lean: ModuleType, make_algorithm: Callable[..., Any]
) -> None:
    algorithm = _open_strangle(lean, make_algorithm)
    [pos] = algorithm.strategies["futures_strangle"].positions.values()
    mids = []
    for leg in pos.structure.legs:
        security = algorithm.securities[algorithm.router.symbols[leg.symbol]]
        mids.append(leg.ratio * (security.bid_price + security.ask_price) / 2)
    pnl_usd = (sum(mids) - (-29.10 - 3.40)) * 1 * 50.0  # ES options: $50 per point

    fire(algorithm, "report:daily")

    lines = _report_lines(algorithm)
    assert lines[0].startswith("ThetaDesk daily 2020-01-06: NLV ")
    [position] = [line for line in lines if pos.position_id in line and "entry" in line]
    assert f"P&L {pnl_usd:+,.2f} USD" in position and "entry -32.50 pts" in position
    assert "DTE 74" in position  # 2020-03-20 expiry
    assert any("futures_strangle ENTERED: ENTRY" in line for line in lines)
    bp_line = next(line for line in lines if line.strip().startswith("BP in use"))
    assert "(65.0%, VIX 13-18)" in bp_line  # VIX 13.85: regime 2, 65% of NLV
    assert any(line.strip().startswith("futures_strangle: entry 2020-01-07 10:00 ET") for line in lines)
    assert "no limit tripped" in "\n".join(lines)
    assert algorithm.errors == [] or not any("REPORT" in e for e in algorithm.errors)


def test_in_a_live_run_the_report_is_mailed_as_its_own_message(
    lean: ModuleType, make_algorithm: Callable[..., Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    with smtp_stub() as (port, mailbox):
        for name, value in {"HOST": "127.0.0.1", "PORT": str(port), "FROM": "thetadesk@example.com",
                            "TO": "ops@example.com"}.items():
            monkeypatch.setenv(f"THETADESK_SMTP_{name}", value)
        algorithm = _open_strangle(lean, make_algorithm, live=True)
        fire(algorithm, "report:daily")
        algorithm.risk.alerts.drain()  # SMTP goes out on the alert worker, never inside the entry lock

    [mail] = [m for m in mailbox.messages if m.message["Subject"].startswith("ThetaDesk daily")]
    assert mail.message["Subject"].startswith("ThetaDesk daily 2020-01-06: NLV ")
    assert "Positions (1 open)" in mail.message.get_content()
