"""The LEAN host's entry blocks in the gate (:mod:`risk.host_blocks`), alerted and journaled.

A block is a trip in the gate's state (persisted, in the gate's verdicts as ``HOST_BLOCK``,
in the start-up report); it is released by the host when its condition ends, or cleared by
an operator by name (``clear_limits`` object-store key or live command, audit-logged).
"""

from __future__ import annotations

from datetime import datetime

from risk.host_blocks import HostBlock, block_entries, release

from .risk_desk import RiskDesk

HOST = "host"  # journal "strategy" of host notes


def block(risk: RiskDesk, reason: HostBlock, text: str, now: datetime) -> bool:
    """Block entries for ``reason`` (alerted and journaled when new); True when newly set."""
    alert = block_entries(risk.session.gate.state, reason, text, now)
    if alert is None:
        return False
    risk.alerts.alert(alert)
    risk.journal.note(now, HOST, "BLOCK_ENTRIES", alert)
    return True


def unblock(risk: RiskDesk, reason: HostBlock, who: str, why: str, now: datetime) -> bool:
    """Release ``reason`` (audit-logged, alerted, journaled); True when it held."""
    alert = release(risk.session.gate.state, reason, who, now, why)
    if alert is None:
        return False
    risk.alerts.alert(alert)
    risk.journal.note(now, HOST, "UNBLOCK_ENTRIES", alert)
    return True


def is_blocked(risk: RiskDesk, reason: HostBlock) -> bool:
    """True while ``reason`` blocks entries."""
    return reason.value in risk.session.gate.state.tripped
