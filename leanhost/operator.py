"""The operator's live commands: kill switch on/off and clear tripped limits, while it runs.

Why commands: LEAN's local object store caches a key after its first read
(``Engine/Storage/LocalObjectStore.cs``, ``ReadBytes``), and QuantConnect's cloud has no
file an operator could edit. LEAN live commands reach a running algorithm both locally
and in the cloud:

* local (``lean live deploy``): ``lean live command <project> --data "<dict>"`` writes a
  ``command*.json`` file into the running container (lean-cli ``lean/commands/live/command.py``,
  ``send_command``), read by ``FileCommandHandler`` and run by ``LocalLeanManager.Update`` on
  the algorithm manager's thread once per time slice;
* cloud: ``lean cloud live command <project> --data "<dict>"`` (lean-cli
  ``lean/commands/cloud/live/command.py``, API ``live/commands/create``).

``--data`` is a Python dict literal (the CLI ``eval``\\ s it). Without a ``$type`` key LEAN
builds an untyped ``CallbackCommand`` and calls ``on_command(data)``
(``Common/Commands/BaseCommandHandler.cs`` ``TryGetCallbackCommand``,
``Common/Commands/CallbackCommand.cs`` ``Run``); ``data`` is a ``Command`` whose missing
fields read as ``None`` (``Common/Commands/Command.cs`` ``GetProperty``, keys
case-insensitive). The returned bool is the command's result (the local CLI reports a failure
for ``False``).

Fields (any combination; ``reason`` is optional and goes into the audit log)::

    {'kill_switch': 'on'}                 # or 'off' (also true/false, 1/0)
    {'clear_limits': 'loss_daily,host_reconcile', 'reason': 'checked the account'}

Turning the switch ON always applies; OFF is the operator's explicit clear of the run-time
"on" (audit-logged) and is refused while the parameter ``kill_switch=true`` holds
(:meth:`leanhost.risk_desk.RiskDesk.apply_kill_switch`). No saved value can turn trading back
on by itself (:mod:`safety.kill_switch`: the switch is the parameter OR a run-time "on"). Every change is audit-logged
with ``who="command"`` and alerted like the object-store path; a refused or malformed command
is alerted and returns False.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from .gate_store import KILL_SWITCH_VALUES, parse_names
from .risk_desk import RiskDesk
from .scheduling import now_utc

if TYPE_CHECKING:
    from AlgorithmImports import QCAlgorithm

WHO = "command"
FIELDS = ("kill_switch", "clear_limits", "reason")


@dataclass
class OperatorCommands:
    """``on_command`` of the algorithm: applies the fields above through the risk desk."""

    algorithm: QCAlgorithm
    risk: RiskDesk

    def on_command(self, data: Any) -> bool:
        """Apply one command; True when every field was applied, False otherwise (alerted)."""
        kill, clears, reason = (_field(data, name) for name in FIELDS)
        if kill is None and clears is None:
            self.risk.alerts.alert(f"COMMAND ignored: it has no kill_switch or clear_limits field: {data}")
            return False
        now = now_utc(self.algorithm)
        why = "live command" + (f": {reason}" if reason else "")
        ok = True
        if kill is not None:
            wanted = KILL_SWITCH_VALUES.get(str(kill).strip().lower())
            if wanted is None:
                self.risk.alerts.alert(f"COMMAND kill_switch={kill!r} is not on/off: nothing changed")
                ok = False
            else:
                ok = self.risk.apply_kill_switch(wanted, WHO, now, why) and ok
        if clears is not None:
            names = parse_names(clears) if isinstance(clears, str) else _names(clears)
            ok = self.risk.apply_clears(names, WHO, now, why) and ok
        self.algorithm.log(f"operator command {'applied' if ok else 'REFUSED'}: {data}")
        return ok


def _field(data: Any, name: str) -> Any:
    """A command field, ``None`` when absent (LEAN's ``Command`` answers ``None`` itself)."""
    if data is None:
        return None
    value = getattr(data, name, None)
    return None if value is None or (isinstance(value, str) and not value.strip()) else value


def _names(values: Iterable[Any]) -> list[str]:
    """Limit names from a JSON list (LEAN passes it as a list of objects)."""
    return [str(v).strip() for v in values if str(v).strip()]
