"""Operator kill switch: no new entries at all while it is on; exits still pass.

Precedence (issue 8, "operator overrides only make things safer"): the switch is ON when the
``kill_switch`` parameter is true OR an operator turned it on at run time; nothing else can
turn it off. So:

* ``kill_switch=true`` in the parameters always wins: no saved or run-time value outranks it;
* an operator (or a monitoring process) may turn the switch ON at run time with
  :func:`set_kill_switch`; that override is kept in :class:`risk.state.GateState` (so it
  survives a restart: a saved override can keep trading off across restarts);
* turning it OFF is an explicit operator clear (:func:`set_kill_switch` with ``on=False``, or
  :func:`release_override`): the run-time override is removed and the parameter decides
  again. A saved value can never turn trading back on by itself: the only saved override that
  has an effect is "on" (``kill_switch_override is True``); a ``False`` saved by an older
  version is inert.

Every change is written to the audit log with its time, who or what made it, and the
old -> new value.
"""

from __future__ import annotations

from datetime import datetime

from risk.state import GateState
from thetacore.decisions import Reason
from thetacore.parameters import Parameters


def kill_switch_on(state: GateState, p: Parameters) -> bool:
    """The switch in force: the parameter OR the operator's run-time "on" (never an "off")."""
    return bool(p.kill_switch) or state.kill_switch_override is True


def kill_switch_reason(state: GateState, p: Parameters) -> Reason | None:
    """``KILL_SWITCH`` while the switch is on, naming who set it (the parameter first: it
    holds whatever an operator does at run time)."""
    if not kill_switch_on(state, p):
        return None
    if p.kill_switch:
        return Reason("KILL_SWITCH", "kill switch on (parameter kill_switch=true): no new entries")
    last = next((a for a in reversed(state.audit_log) if a.what == "kill_switch"), None)
    if last is None:
        return Reason("KILL_SWITCH", "kill switch on (set at run time): no new entries")
    why = f" ({last.why})" if last.why else ""
    return Reason("KILL_SWITCH", f"kill switch on, set by {last.who} at {last.time_utc}{why}: no new entries")


def set_kill_switch(state: GateState, p: Parameters, on: bool, who: str, now_utc: datetime,
                    why: str = "") -> str:
    """Turn the switch on, or clear the run-time "on" (audit-logged); returns the alert text.

    ``on=False`` removes the operator's override (an explicit clear): the switch then follows
    the parameter, so it stays ON while ``kill_switch=true`` (the text says so).

    Raises:
        ValueError: for an empty ``who``.
    """
    old = kill_switch_on(state, p)
    state.audit(now_utc, who, "kill_switch", old, bool(on), why)
    state.kill_switch_override = True if on else None
    new = kill_switch_on(state, p)
    text = f"KILL_SWITCH {'on' if new else 'off'} (was {'on' if old else 'off'}), set by {who}" + (
        f": {why}" if why else "")
    if not on and new:
        text += "; stays ON: parameter kill_switch=true outranks any run-time 'off'"
    return text


def release_override(state: GateState, p: Parameters, who: str, now_utc: datetime, why: str = "") -> str:
    """Forget the run-time override: the parameter decides again (audit-logged)."""
    state.audit(now_utc, who, "kill_switch_override", state.kill_switch_override, "parameter", why)
    state.kill_switch_override = None
    return f"kill switch follows the parameter again (kill_switch={p.kill_switch}), released by {who}"
