"""Delivered underlying in the daily MODELLED run is never silent (issue 12; replay/delivered.py).

Hand-made assignment: a short SPY 100 call sold at 2.00 and left to expire with SPY at 105.00.
By hand (multiplier 100): the sale brings +200; the settlement at intrinsic 5.00 costs -500; the
exercise delivers -100 shares at 105.00 (+10,500 cash, short 100 shares worth -10,500). NLV
= 100,000 + 200 - 500 = 99,700 whichever way the shares go; closing them at 105.00 leaves cash
99,700 and nothing held.
"""

from __future__ import annotations

from datetime import date, datetime, time

from replay.broker import SimBroker
from replay.delivered import UnderlyingDesk
from replay.ledger import Holding, Ledger
from risk.gate_session import GateSession
from risk.host_blocks import HostBlock, host_block_reasons
from strategies.base import PositionState, Strategy, StrategyPosition
from strategies.ipmcc import Ipmcc
from thetacore.enums import Right
from thetacore.parameters import load_parameters
from thetacore.pricing import et_instant_utc
from thetacore.structures import OptionLeg, Structure, StructureKind

PARAMS = load_parameters({})
EXPIRY = date(2006, 10, 20)
CLOSE = et_instant_utc(EXPIRY, time(16, 0))
CALL = "SPY*MODELLED 061020C00100000"
SHARES = "SPY*MODELLED"


class _NoQuotes:
    def quote(self, symbol: str, t_utc: datetime) -> tuple[float, float]:
        return float("nan"), float("nan")


def _assigned(strategies: list[Strategy]) -> tuple[Ledger, UnderlyingDesk, GateSession]:
    """The hand-made assignment (module docstring), booked or not by ``strategies``."""
    ledger = Ledger(100_000.0)
    call = Holding(CALL, SHARES, 100.0, right=Right.CALL, strike_pts=100.0, expiry=EXPIRY,
                   settle_time_et=time(16, 0), physical=True)
    ledger.trade(call, -1, 2.00, 0.0)
    broker = SimBroker(PARAMS, ledger, _NoQuotes())  # type: ignore[arg-type]
    records = broker.settle_expired(CLOSE, {SHARES: 105.00})
    assert records[0]["delivered"] == {"symbol": SHARES, "quantity": -1, "price_pts": 105.0, "held": True,
                                       "expiry": None}
    desk, session = UnderlyingDesk(), GateSession.create(PARAMS)
    desk.on_settlements(records, strategies, ledger, CLOSE)
    return ledger, desk, session


def _ipmcc_with_the_call() -> Ipmcc:
    strat = Ipmcc(PARAMS)
    leg = OptionLeg(CALL, SHARES, Right.CALL, 100.0, EXPIRY, -1)
    pid = "ipmcc-weekly-20061013T2000"
    strat.positions[pid] = StrategyPosition(pid, Structure(StructureKind.SINGLE, (leg,), 100.0, "equity"), 1,
                                            PositionState.CLOSED, opened_utc=CLOSE, entry_net_pts=-2.0,
                                            exit_net_pts=5.0, closed_utc=CLOSE, exit_reason="settled at expiry")
    strat.weekly_id = pid
    return strat


def test_when_no_strategy_takes_delivered_shares_then_they_are_flagged_and_entries_blocked() -> None:
    ledger, desk, session = _assigned([])
    assert ledger.holdings[SHARES].quantity == -1 and round(ledger.cash_usd, 2) == 110_200.00
    nlv = ledger.cash_usd + ledger.holdings[SHARES].quantity * 100 * 105.00
    assert round(nlv, 2) == 99_700.00
    alerts = desk.reconcile(ledger, session, CLOSE)
    assert alerts[0].startswith("CRITICAL RECONCILE: DELIVERED_UNDERLYING SPY*MODELLED: the account holds -1")
    assert HostBlock.RECONCILE.value in session.gate.state.tripped
    assert [r.code for r in host_block_reasons(session.gate.state)] == ["HOST_BLOCK"]  # every entry refused
    assert desk.unowned == ["2006-10-20: DELIVERED_UNDERLYING SPY*MODELLED: the account holds -1 of an underlying "
                            "no strategy manages (an assignment or exercise nobody reported?)"]
    assert desk.reconcile(ledger, session, CLOSE) == []  # one alert per episode, the block holds
    # the shares bought back (by an operator): the next reconciliation releases the block
    ledger.trade(ledger.holdings[SHARES], +1, 105.00, 0.0)
    released = desk.reconcile(ledger, session, CLOSE)
    assert released and "cleared by replay underlying reconciliation" in released[0]
    assert HostBlock.RECONCILE.value not in session.gate.state.tripped
    assert len(desk.unowned) == 1  # the invariant keeps the evidence


def test_when_ipmcc_takes_the_shares_then_they_are_booked_closed_and_nothing_is_flagged() -> None:
    strat = _ipmcc_with_the_call()
    ledger, desk, session = _assigned([strat])
    assert SHARES not in ledger.holdings and round(ledger.cash_usd, 2) == 99_700.00
    assert [(a["action"], a["quantity"], a["price_pts"]) for a in desk.actions] == \
        [("booked", -1, 105.0), ("closed", 1, 105.0)]
    assert desk.actions[0]["strategy"] == "ipmcc" and desk.actions[0]["text"].startswith("ASSIGNED: ")
    assert strat.positions["ipmcc-weekly-20061013T2000"].exit_reason.startswith("ASSIGNED: ")
    assert desk.booked == {}
    assert desk.reconcile(ledger, session, CLOSE) == [] and desk.unowned == []
    assert not session.gate.state.tripped


def test_when_the_account_holds_other_shares_than_booked_then_it_is_a_mismatch() -> None:
    desk = UnderlyingDesk(booked={SHARES: ("ipmcc", "p1", -1)})
    ledger = Ledger(0.0)
    ledger.trade(Holding(SHARES, SHARES, 100.0), -2, 105.0, 0.0)
    session = GateSession.create(PARAMS)
    alerts = desk.reconcile(ledger, session, CLOSE)
    assert alerts and "MISMATCH SPY*MODELLED: the account holds -2, positions p1 expect -1" in alerts[0]
    ledger.trade(ledger.holdings[SHARES], +1, 105.0, 0.0)
    assert desk.reconcile(ledger, session, CLOSE)[0].startswith("host_reconcile cleared")  # -1 held = -1 booked
