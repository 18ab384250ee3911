"""Reconciliation of the strategies' legs with the account's holdings, on plain data.

The situation it rests on (LEAN source): the Tastytrade plugin never raises
``OptionNotification`` (Lean.Brokerages.Tastytrade, ``TastytradeBrokerage.WebSocket.cs``,
``OnAccountUpdateMessageHandler`` ignores ``CurrentPosition``), and in live trading only
``BrokerageTransactionHandler.HandleOptionNotification`` (QuantConnect/Lean,
``Engine/TransactionHandlers/BrokerageTransactionHandler.cs``) creates exercise events, so
an expired contract stays in LEAN's portfolio and its position is never settled by an event.
GIVEN: an SPY put spread -1 350P / +1 340P x 2 expiring 2021-01-15, settled after 16:30 ET
(21:30 UTC).
"""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from risk.reconcile import ExpectedLeg, FindingKind, Holding, reconcile

SETTLED = datetime(2021, 1, 15, 21, 30, tzinfo=UTC)
BEFORE, AFTER = datetime(2021, 1, 15, 15, 0, tzinfo=UTC), datetime(2021, 1, 15, 21, 45, tzinfo=UTC)
SHORT, LONG = "SPY 210115P350", "SPY 210115P340"


def _spread(qty: int = 2, settled: datetime = SETTLED, pid: str = "book-1") -> list[ExpectedLeg]:
    return [ExpectedLeg("book", pid, SHORT, -qty, settled), ExpectedLeg("book", pid, LONG, qty, settled)]


def _kinds(findings: list) -> list[FindingKind]:
    return [f.kind for f in findings]


def test_when_the_account_holds_exactly_the_legs_then_the_position_is_adopted_and_nothing_blocks() -> None:
    findings = reconcile(_spread(), [Holding(SHORT, -2.0), Holding(LONG, 2.0)], [], BEFORE)

    assert _kinds(findings) == [FindingKind.ADOPT]
    assert findings[0].positions == (("book", "book-1"),) and not findings[0].blocks_entries


def test_when_every_leg_expired_then_the_position_is_settled_and_stale_holdings_do_not_block() -> None:
    findings = reconcile(_spread(), [Holding(SHORT, -2.0, expired=True)], [], AFTER)

    assert _kinds(findings) == [FindingKind.SETTLE, FindingKind.STALE_EXPIRED]
    assert findings[0].positions == (("book", "book-1"),)
    assert findings[1].key == SHORT and findings[1].held == -2.0
    assert not any(f.blocks_entries for f in findings)


def test_when_the_expiry_has_not_settled_yet_then_a_missing_leg_is_a_mismatch() -> None:
    """An early assignment nobody reported: the short put is gone from the account."""
    findings = reconcile(_spread(), [Holding(LONG, 2.0), Holding("SPY", 200.0, is_option=False)], [], BEFORE)

    assert _kinds(findings) == [FindingKind.MISMATCH, FindingKind.DELIVERED_UNDERLYING]
    mismatch, delivered = findings
    assert (mismatch.key, mismatch.expected, mismatch.held) == (SHORT, -2, 0.0)
    assert "the account holds +0, positions book-1 expect -2" in mismatch.text
    assert delivered.key == "SPY" and delivered.held == 200.0
    assert all(f.blocks_entries for f in findings)


def test_when_nothing_is_expected_after_a_restart_then_every_holding_is_unknown_and_blocks() -> None:
    findings = reconcile([], [Holding(SHORT, -2.0), Holding(LONG, 2.0)], [], BEFORE)

    assert _kinds(findings) == [FindingKind.UNKNOWN_HOLDING, FindingKind.UNKNOWN_HOLDING]
    assert [f.held for f in findings] == [-2.0, 2.0] and all(f.blocks_entries for f in findings)


def test_when_two_positions_share_a_contract_then_the_account_must_hold_their_sum() -> None:
    legs = _spread(2, pid="book-1") + _spread(1, pid="book-2")

    ok = reconcile(legs, [Holding(SHORT, -3.0), Holding(LONG, 3.0)], [], BEFORE)
    short_by_one = reconcile(legs, [Holding(SHORT, -2.0), Holding(LONG, 3.0)], [], BEFORE)

    assert _kinds(ok) == [FindingKind.ADOPT, FindingKind.ADOPT]
    assert _kinds(short_by_one) == [FindingKind.MISMATCH]
    assert short_by_one[0].positions == (("book", "book-1"), ("book", "book-2"))
    assert (short_by_one[0].expected, short_by_one[0].held) == (-3, -2.0)


def test_when_a_contract_has_a_working_order_then_it_is_not_judged() -> None:
    findings = reconcile(_spread(), [Holding(LONG, 2.0), Holding("SPY 210115P330", 1.0)],
                         [SHORT, "SPY 210115P330"], BEFORE)

    assert findings == []


def test_when_one_leg_of_a_calendar_expired_then_it_is_a_partial_expiry_and_the_far_leg_is_compared() -> None:
    far = datetime(2021, 3, 19, 21, 30, tzinfo=UTC)
    legs = [ExpectedLeg("book", "cal-1", "SPY 210115C380", -1, SETTLED),
            ExpectedLeg("book", "cal-1", "SPY 210319C380", 1, far)]

    findings = reconcile(legs, [Holding("SPY 210319C380", 1.0)], [], AFTER)

    assert _kinds(findings) == [FindingKind.PARTIAL_EXPIRY, FindingKind.ADOPT]
    assert "-1 SPY 210115C380 expired without an exercise event while +1 SPY 210319C380" in findings[0].text


def test_when_the_time_is_naive_then_reconcile_refuses() -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        reconcile(_spread(), [], [], datetime(2021, 1, 15, 15, 0))
