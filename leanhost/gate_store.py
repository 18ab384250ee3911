"""The risk gate's state and the operator's kill switch in LEAN's object store.

LEAN API: ``algorithm.object_store`` (``contains_key(key)``, ``read(key) -> str``,
``save(key, text) -> bool``). LEAN has no automatic live state (Lean#7048): the gate's
tripped limits, counters, peak NLV, audit log and trade statistics
(:meth:`risk.gate_session.GateSession.state_dict`) are saved here and restored at start, so a
restart never resets a tripped limit. The whole book (positions, working orders, the gate's
buying power in use too) is saved with the gate in it by :mod:`leanhost.book_store`; a start
restores the gate from that book and reads this key only when there is no book (a deployment
from before the book).

Keys. Under the LEAN CLI every project of a workspace shares one object store (in QC's cloud,
every project of the organisation), so every key starts with the project's prefix
:data:`STATE_KEY_PREFIX` (``thetadesk``):

* live runs: ``thetadesk/gate_state.json`` (the state, JSON) and ``thetadesk/kill_switch``;
* backtests: the same names under ``thetadesk/backtest/``. A backtest never restores state
  (a re-run must not depend on the previous run, and must never read or overwrite the live
  state); it saves its final state there for inspection.

Locally the object store is the workspace's ``storage`` folder (``lean object-store``
commands open it); in the cloud, ``lean cloud object-store set`` or the web IDE. A saved state
that cannot be read stops ``initialize`` with :class:`GateStateError`: never a silent clean
start. Delete the key on purpose to start clean.

The kill switch key holds ``on`` or ``off`` (also ``true``/``false``, ``1``/``0``; any case).
LEAN's local object store caches a key's value at its first read and never reads its file
again (``Engine/Storage/LocalObjectStore.cs``: ``ReadBytes`` loads the file only when the
in-memory ``_storage`` entry has no data; ``ContainsKey`` answers from ``_storage`` first and
only registers a file it finds). So in live runs the operator keys (kill switch, clear
requests) are read from the key's FILE on every poll (``object_store.get_file_path(key)``,
which persists pending saves first and returns the path): an edit of
``storage/thetadesk/kill_switch`` made while the algorithm runs is seen at the next poll.
Without a file the store's own ``read`` answers. In QuantConnect's cloud use the live
commands of :mod:`leanhost.operator` (``lean cloud live command``).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from risk.gate_session import GateSession
from thetacore.parameters import Parameters

if TYPE_CHECKING:
    from AlgorithmImports import QCAlgorithm

STATE_KEY_PREFIX = "thetadesk"  # default of the state_key_prefix parameter
"""This project's object-store prefix (the store is shared by the workspace's projects)."""

BACKTEST_FOLDER = "backtest"
KILL_SWITCH_VALUES = {"on": True, "true": True, "1": True, "off": False, "false": False, "0": False}


class GateStateError(RuntimeError):
    """The saved gate state exists but cannot be restored."""


@dataclass(frozen=True)
class StoreKeys:
    """Object-store keys of one run (see the module docstring)."""

    prefix: str
    restore: bool

    @property
    def gate_state(self) -> str:
        return f"{self.prefix}/gate_state.json"

    @property
    def kill_switch(self) -> str:
        return f"{self.prefix}/kill_switch"

    @property
    def clear_request(self) -> str:
        """Operator request to clear tripped limits: limit names, comma-separated
        (``loss_daily``, ``drawdown_stop``...); consumed (deleted) once applied."""
        return f"{self.prefix}/clear_limits"


def store_keys(algorithm: QCAlgorithm, prefix: str = STATE_KEY_PREFIX) -> StoreKeys:
    """Live runs use ``prefix`` and restore; backtests use ``prefix/backtest`` and do not."""
    if algorithm.live_mode:
        return StoreKeys(prefix, restore=True)
    return StoreKeys(f"{prefix}/{BACKTEST_FOLDER}", restore=False)


def load_gate_session(algorithm: QCAlgorithm, params: Parameters, keys: StoreKeys) -> GateSession:
    """The gate session of this run, restored from ``keys.gate_state`` in live runs.

    Raises:
        GateStateError: when the saved state is not JSON, not a saved session, or does not
            restore; logged with ``algorithm.error`` first.
    """
    key, store = keys.gate_state, algorithm.object_store
    if not keys.restore:
        algorithm.log(f"risk gate: backtest starts clean (final state saved to {key})")
        return GateSession.create(params, None)
    if not store.contains_key(key):
        algorithm.log(f"risk gate: no saved state at object-store key {key}: starting clean")
        return GateSession.create(params, None)
    try:
        saved = parse_saved_state(store.read(key))
        session = GateSession.create(params, saved)
    except (ValueError, KeyError, TypeError, AttributeError) as exc:
        message = (f"ThetaDesk cannot start: the saved risk-gate state at object-store key {key} is "
                   f"unreadable ({type(exc).__name__}: {exc}). Tripped limits must survive a restart, so "
                   "nothing starts from a clean state silently: repair the value, or delete the key to "
                   "start clean on purpose.")
        algorithm.error(message)
        raise GateStateError(message) from exc
    algorithm.log(f"risk gate: state restored from {key} (trading state "
                  f"{session.gate.state.trading_state(params.kill_switch).value})")
    return session


def parse_saved_state(text: str | None) -> dict[str, Any]:
    """The dict :meth:`GateSession.state_dict` wrote.

    Raises:
        ValueError: for text that is not JSON or not such a dict.
    """
    if not text or not text.strip():
        raise ValueError("the value is empty")
    data = json.loads(text)
    if not isinstance(data, dict) or not isinstance(data.get("gate"), dict):
        raise ValueError("not a saved gate session (a JSON object with a 'gate' object)")
    if not isinstance(data.get("stats", {}), dict):
        raise ValueError("'stats' is not a JSON object")
    return data


def state_text(session: GateSession) -> str:
    """The JSON text saved for ``session`` (stable key order, so unchanged state compares equal)."""
    return json.dumps(session.state_dict(), sort_keys=True)


def save_state(algorithm: QCAlgorithm, keys: StoreKeys, text: str) -> bool:
    """Save ``text`` at ``keys.gate_state``; False (logged with ``algorithm.error``) when
    LEAN refuses (storage limits)."""
    if algorithm.object_store.save(keys.gate_state, text):
        return True
    algorithm.error(f"ALERT risk-gate state NOT saved to object-store key {keys.gate_state}: "
                    "a restart would lose what changed since the last save")
    return False


def take_clear_request(algorithm: QCAlgorithm, keys: StoreKeys) -> list[str]:
    """Limit names an operator asked to clear (the key is deleted once read: the cache entry
    and its file, ``LocalObjectStore.Delete``)."""
    raw = read_operator_key(algorithm, keys.clear_request)
    if raw is None:
        return []
    algorithm.object_store.delete(keys.clear_request)
    return parse_names(raw)


def parse_names(raw: str) -> list[str]:
    """Comma-separated names, stripped, empty ones dropped."""
    return [n.strip() for n in raw.split(",") if n.strip()]


def read_kill_switch(algorithm: QCAlgorithm, keys: StoreKeys) -> str | None:
    """The raw kill-switch value (stripped, lower case); ``None`` when the key is absent."""
    value = read_operator_key(algorithm, keys.kill_switch)
    return None if value is None else value.strip().lower()


def read_operator_key(algorithm: QCAlgorithm, key: str) -> str | None:
    """The current text of an operator key, ``None`` when absent. Live runs read the key's
    file on disk each time (LEAN's cache never sees a later edit, see the module docstring);
    the store's ``read`` answers when there is no file (a value saved and not persisted yet,
    a store without files) or in backtests."""
    store = algorithm.object_store
    if algorithm.live_mode:
        text = _read_file(algorithm, key)
        if text is not None:
            return text
    if not store.contains_key(key):
        return None
    # None for a key LEAN only registered (get_file_path of an absent key saves a null entry:
    # LocalObjectStore.GetFilePath / SaveBytes(path, null)), although the stubs do not say so.
    value: str | None = store.read(key)
    return value


_UNREADABLE_FILES: set[str] = set()


def _read_file(algorithm: QCAlgorithm, key: str) -> str | None:
    try:
        path = Path(algorithm.object_store.get_file_path(key))
        return path.read_text(encoding="utf-8") if path.is_file() else None
    except Exception as exc:  # noqa: BLE001 - a .NET exception from LEAN is no OSError; never stop here
        if key not in _UNREADABLE_FILES:
            _UNREADABLE_FILES.add(key)
            algorithm.log(f"object-store key {key}: its file cannot be read ({type(exc).__name__}: {exc}); "
                          "the store's cached value is used")
        return None
