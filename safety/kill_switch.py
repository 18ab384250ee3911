"""Operator kill switch: no new entries at all while it is on; exits still pass.

The switch starts from the ``kill_switch`` parameter. An operator (or a monitoring process)
may set it at run time with :func:`set_kill_switch`; that override is kept in
:class:`risk.state.GateState` (so it survives a restart) and takes precedence over the
parameter until :func:`release_override` hands control back to it. Every change is written
to the audit log with its time, who or what made it, and the old -> new value.
"""

from __future__ import annotations

from datetime import datetime

from risk.state import GateState
from thetacore.decisions import Reason
from thetacore.parameters import Parameters


def kill_switch_on(state: GateState, p: Parameters) -> bool:
    """The switch in force: the operator's override, else the parameter."""
    return state.kill_switch_override if state.kill_switch_override is not None else p.kill_switch


def kill_switch_reason(state: GateState, p: Parameters) -> Reason | None:
    """``KILL_SWITCH`` while the switch is on, naming who set it."""
    if not kill_switch_on(state, p):
        return None
    if state.kill_switch_override is None:
        return Reason("KILL_SWITCH", "kill switch on (parameter kill_switch=true): no new entries")
    last = next((a for a in reversed(state.audit_log) if a.what == "kill_switch"), None)
    if last is None:
        return Reason("KILL_SWITCH", "kill switch on (set at run time): no new entries")
    why = f" ({last.why})" if last.why else ""
    return Reason("KILL_SWITCH", f"kill switch on, set by {last.who} at {last.time_utc}{why}: no new entries")


def set_kill_switch(state: GateState, p: Parameters, on: bool, who: str, now_utc: datetime,
                    why: str = "") -> str:
    """Turn the switch on or off at run time (audit-logged); returns the alert text."""
    old = kill_switch_on(state, p)
    state.audit(now_utc, who, "kill_switch", old, on, why)
    state.kill_switch_override = bool(on)
    return f"KILL_SWITCH {'on' if on else 'off'} (was {'on' if old else 'off'}), set by {who}" + (
        f": {why}" if why else "")


def release_override(state: GateState, p: Parameters, who: str, now_utc: datetime, why: str = "") -> str:
    """Forget the run-time override: the parameter decides again (audit-logged)."""
    state.audit(now_utc, who, "kill_switch_override", state.kill_switch_override, "parameter", why)
    state.kill_switch_override = None
    return f"kill switch follows the parameter again (kill_switch={p.kill_switch}), released by {who}"
