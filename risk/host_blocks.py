"""Entry blocks set by a host (not by a limit): the gate refuses every entry while one holds.

A host (the LEAN algorithm) knows things the gate cannot see: the brokerage connection is
down, LEAN's portfolio holds contracts no strategy owns, the live brokerage is not the one
the parameters name, a margin call. It blocks new entries through the gate with
:func:`block_entries`, so the block shows where every other block shows: a
:class:`~risk.state.Trip` in :attr:`GateState.tripped` (persisted with the state, listed by
:meth:`GateState.entry_blocks`, trading state REDUCING), a ``HOST_BLOCK`` refusal on every
entry (:func:`host_block_reasons`, a step of :meth:`risk.gate.Gate.check`) and an alert text
for the host to journal. Exits are never blocked by it.

A block holds until the host releases it (:func:`release`: the condition ended, e.g. the
brokerage reconnected or a later reconciliation matched) or an operator clears it by name
like any tripped limit (``clear_limits`` request, :func:`risk.loss_limits.clear_limit`,
audit-logged). It has no period: a new day does not clear it.
"""

from __future__ import annotations

from datetime import datetime
from enum import Enum

from risk.state import NO_PERIOD, GateState
from thetacore.decisions import Reason

HOST_BLOCK_CODE = "HOST_BLOCK"


class HostBlock(Enum):
    """Why a host blocks entries; the value is the trip's name in the gate state."""

    DISCONNECTED = "host_disconnected"
    RECONCILE = "host_reconcile"
    BROKERAGE_MISMATCH = "host_brokerage_mismatch"
    MARGIN_CALL = "host_margin_call"
    UNWIND_FAILED = "unwind_failed"  # legs out of ratio could not be unwound (leanhost/unwinds.py)


def is_host_block(name: str) -> bool:
    """True for a trip name that a host set (one of :class:`HostBlock`)."""
    return name in {b.value for b in HostBlock}


def block_entries(state: GateState, block: HostBlock, text: str, now_utc: datetime) -> str | None:
    """Block entries for ``block`` with ``text`` (why, with the numbers). Returns the alert
    text when newly blocked, ``None`` when it already held (the first text is kept)."""
    if not state.trip(block.value, HOST_BLOCK_CODE, text, NO_PERIOD, now_utc):
        return None
    return f"{HOST_BLOCK_CODE} {block.value}: {text}; no new entries until it is released or cleared"


def release(state: GateState, block: HostBlock, who: str, now_utc: datetime, why: str) -> str | None:
    """Lift ``block`` because its condition ended (audit-logged). Returns the alert text,
    ``None`` when it did not hold."""
    trip = state.tripped.pop(block.value, None)
    if trip is None:
        return None
    state.audit(now_utc, who, f"release {block.value}", trip.text, "released", why)
    return f"{block.value} cleared by {who}: {why}"


def host_block_reasons(state: GateState) -> list[Reason]:
    """One ``HOST_BLOCK`` refusal per host block in force, in the order they were set."""
    return [Reason(t.code, f"{name}: {t.text}") for name, t in state.tripped.items() if is_host_block(name)]
