"""A host's entry block (brokerage disconnected, holdings not reconciled...) in the gate, on
the REAL ES strangle of 2020-01-06 10:00 ET (tests/risk/gate_builders.py): every entry is
refused with HOST_BLOCK while it holds, exits pass, the block survives a save/restore of the
state, and it ends by the host's release or an operator's clear (both audit-logged)."""

from __future__ import annotations

from risk.gate import Gate, GateAction
from risk.host_blocks import HostBlock, block_entries, release
from risk.loss_limits import clear_limit
from risk.state import GateState, TradingState
from tests.risk.gate_builders import NOW, account, closing, market, params, position


def test_when_a_host_blocks_entries_then_the_strangle_is_refused_and_a_close_still_passes(strangle, ctx):
    intent, bp = strangle
    gate = Gate(params())
    alert = block_entries(gate.state, HostBlock.DISCONNECTED, "brokerage disconnected at 10:00", NOW)
    again = block_entries(gate.state, HostBlock.DISCONNECTED, "second notice", NOW)

    entry = gate.check(intent, account(100_000), market(intent, ctx, bp), NOW)
    close = closing(intent, ctx)
    held = account(100_000, positions=(position(intent.position_id),))
    exit_ = gate.check(close, held, market(close, ctx, bp), NOW)

    assert alert == ("HOST_BLOCK host_disconnected: brokerage disconnected at 10:00; no new entries until it "
                     "is released or cleared") and again is None
    assert (entry.action, entry.codes) == (GateAction.REFUSE, ("HOST_BLOCK",))
    assert "host_disconnected: brokerage disconnected at 10:00" in entry.reason_text
    assert entry.trading_state is TradingState.REDUCING
    assert exit_.action is GateAction.APPROVE


def test_when_the_state_is_saved_and_restored_then_the_block_still_holds_until_released(strangle, ctx):
    intent, bp = strangle
    state = GateState()
    block_entries(state, HostBlock.RECONCILE, "SPY 210115P350: the account holds -2 that no strategy expects", NOW)

    gate = Gate(params(), GateState.from_dict(state.to_dict()))
    refused = gate.check(intent, account(100_000), market(intent, ctx, bp), NOW)
    released = release(gate.state, HostBlock.RECONCILE, "reconciliation", NOW, "holdings match")
    approved = gate.check(intent, account(100_000), market(intent, ctx, bp), NOW)

    assert refused.codes == ("HOST_BLOCK",)
    assert released == "host_reconcile cleared by reconciliation: holdings match"
    assert approved.action is GateAction.APPROVE
    [audit] = gate.state.audit_log
    assert (audit.who, audit.what, audit.new) == ("reconciliation", "release host_reconcile", "released")
    assert release(gate.state, HostBlock.RECONCILE, "reconciliation", NOW, "again") is None


def test_when_an_operator_clears_the_block_by_name_then_it_is_lifted_and_audited() -> None:
    state = GateState()
    block_entries(state, HostBlock.BROKERAGE_MISMATCH, "parameter tastytrade, live InteractiveBrokers", NOW)

    text = clear_limit(state, "host_brokerage_mismatch", "object_store", NOW, "operator checked the account")

    assert state.entry_blocks() == [] and text.startswith("host_brokerage_mismatch cleared by object_store")
    assert state.audit_log[-1].what == "clear host_brokerage_mismatch"
