"""Marks that cannot lie, in the replay (issue 8 item 3), on the REAL ES day of 2020-01-06
(data/): the relaxed strangle (-1 3000P / -1 3460C 2020-03-20) opens at 10:00 ET; one bar of
its put is then spoiled in memory (crossed, or a negative bid) at the 11:00 ET NLV mark.

Real quotes (data/futureoption/cme/minute/es/202003/20200106_quote_american.zip), bar closes:
10:30 ET put 27.50/28.00, call 3.40/3.55; 11:00 ET put 27.00/27.50, call 3.45/3.60. Before the
fix a spoiled put quote moved the NLV by its absurd mid and tripped the loss limits and the
drawdown steps (and flattened the strangle without the gate); now the put keeps its 10:30 mark.
"""

from __future__ import annotations

import logging
from datetime import UTC, date, datetime

import numpy as np
import pytest

import replay.engine as engine
from replay.engine import run_replay
from risk.gate_session import GateSession
from strategies.base import PositionState
from tests.conftest import DATA, RELAXED
from thetacore.parameters import load_parameters

PUT = "ES202003 200320P03000000"
MARK_UTC = datetime(2020, 1, 6, 16, 0, tzinfo=UTC)  # 11:00 ET, an NLV mark (every 30 min)
VIX = {"vix_level": "13.85", "vix_prev_close": "14.02"}
DAY = date(2020, 1, 6)


def _run(monkeypatch: pytest.MonkeyPatch, bid: float | None = None, ask: float | None = None,
         saved: dict | None = None, **params: str):
    """The relaxed replay of 2020-01-06 with the put's 11:00 ET bar set to ``bid``/``ask``."""
    real = engine.load_market

    def spoiled(sub, *args, **kwargs):
        market = real(sub, *args, **kwargs)
        contract = market.by_symbol.get(PUT)
        if contract is not None and (bid is not None or ask is not None):
            i = int(np.flatnonzero(contract.quotes.end_ms == np.datetime64("2020-01-06T16:00", "ms"))[0])
            contract.quotes.bid[i] = contract.quotes.bid[i] if bid is None else bid
            contract.quotes.ask[i] = contract.quotes.ask[i] if ask is None else ask
        return market

    monkeypatch.setattr(engine, "load_market", spoiled)
    return run_replay(load_parameters({**RELAXED, **VIX, **params}), DATA, DAY, DAY, saved)


def _nlv_at(result, when: datetime) -> float:
    return next(m["nlv_usd"] for m in result.marks if m["time_utc"] == when.isoformat())


@pytest.mark.parametrize(("bid", "ask", "code"), [
    (900.0, None, "QUOTE_CROSSED"),        # bid 900 > ask 27.50: mid 463.75 -> NLV -21,825 USD
    (-900.0, None, "QUOTE_NONPOSITIVE"),   # mid -436.25: NLV +23,175, a false peak
    (None, -27.5, "QUOTE_NONPOSITIVE"),
])
def test_when_one_quote_at_a_mark_is_crossed_or_negative_then_nlv_moves_by_nothing_and_nothing_trips(
        monkeypatch, caplog, bid, ask, code):
    clean = _run(monkeypatch)
    caplog.set_level(logging.WARNING, logger="replay")
    result = _run(monkeypatch, bid, ask)

    cash = result.ledger.cash_usd  # the strangle's credit less fees; nothing else trades
    # the put keeps its 10:30 ET mark (27.50/28.00), the call is marked at 11:00 (3.45/3.60)
    assert _nlv_at(result, MARK_UTC) == pytest.approx(cash - 50 * (27.75 + 3.525), abs=0.01)
    assert result.session.gate.state.tripped == {}
    assert [o.intent.purpose.value for o in result.orders] == ["open"]
    assert result.alerts == clean.alerts == []
    rejected = [r for r in caplog.records if "MARK_REJECTED" in r.getMessage()]
    assert rejected  # the NLV mark, and each decision's NLV at that minute
    for text in (r.getMessage() for r in rejected):
        assert code in text and PUT in text and "minute 2020-01-06 11:00 ET" in text
        assert f"{DATA}/futureoption/cme/minute/es/202003/20200106_quote_american.zip" in text
        assert text.endswith("mark kept at 27.75")
    # every other NLV mark is the clean run's (buying power in use may differ later: at a mark
    # whose quotes are stale it keeps its last good re-mark, which the spoiled run took at
    # 10:30 and the clean run at 11:00; issue 11's BP re-marking)
    def nlv(marks: list[dict[str, object]]) -> list[tuple[object, object]]:
        return [(m["time_utc"], m["nlv_usd"]) for m in marks if m["time_utc"] != MARK_UTC.isoformat()]
    assert nlv(result.marks) == nlv(clean.marks)


def test_when_the_quote_is_good_then_the_mark_is_its_mid(monkeypatch):
    result = _run(monkeypatch)
    cash = result.ledger.cash_usd
    assert _nlv_at(result, MARK_UTC) == pytest.approx(cash - 50 * (27.25 + 3.525), abs=0.01)


def test_when_a_saved_off_meets_the_kill_switch_parameter_then_the_replay_sends_nothing(monkeypatch):
    """Issue 8 item 4 in the replay host: a state saved with the operator's run-time "off"
    used to outrank ``kill_switch=true``; the strangle traded."""
    p = load_parameters({})
    earlier = GateSession.create(p)
    earlier.gate.state.kill_switch_override = False  # what an older run saved after an "off"
    result = _run(monkeypatch, saved=earlier.state_dict(), kill_switch="true")
    assert result.orders == []
    verdicts = [row for row in result.session.journal if row["strategy"] == "futures_strangle"]
    assert verdicts and all("KILL_SWITCH" in row["codes"] for row in verdicts)


def test_when_a_flatten_meets_a_crossed_quote_then_the_gate_refuses_the_close_and_the_next_good_quote_sends_it(
        monkeypatch):
    """``_Run._act`` (the replay's flatten / close-losers) passes each close through the gate's
    exit checks: at 11:00 ET the put is crossed (bid 900 > ask 27.50): refused, alerted, not
    sent; at 11:30 ET the call has no ask (real): not priced, alerted; at 12:30 ET the real
    quotes (put 27.00/27.25, call 3.45/3.55) give a close at the natural 27.25 + 3.55 = 30.80
    points, sent."""
    result = _run(monkeypatch, 900.0)
    run = engine._Run(result, result.session, result.broker, result.quotes, result.ledger)
    [strangle] = [s for s in result.strategies if s.name == "futures_strangle"]
    [pos] = strangle.open_positions()
    sent = len(result.broker.orders)

    run._act(True, False, MARK_UTC)
    assert len(result.broker.orders) == sent and pos.state is PositionState.OPEN
    [alert] = [a for a in result.alerts if "GATE_FLATTEN" in a]
    assert "refused by the gate's exit checks" in alert and "QUOTE_CROSSED" in alert
    assert result.session.journal[-1]["codes"] == ["QUOTE_CROSSED"]

    run._act(True, False, datetime(2020, 1, 6, 16, 30, tzinfo=UTC))
    assert len(result.broker.orders) == sent
    assert result.alerts[-1].endswith(f"GATE_FLATTEN: cannot price a close of {pos.position_id}: a leg has no quote")

    run._act(True, False, datetime(2020, 1, 6, 17, 30, tzinfo=UTC))
    close = result.broker.orders[-1].intent
    assert close.purpose.value == "close" and close.limit_pts == pytest.approx(27.25 + 3.55)
    assert pos.state is PositionState.CLOSING and pos.exit_reason == "GATE_FLATTEN"
