"""A strategy's own daily IV readings survive a live restart: kept in the object store.

LEAN APIs: ``object_store.contains_key`` / ``read`` / ``save`` (docs: "Object Store"), under
the project's key prefix (:class:`leanhost.gate_store.StoreKeys`: live runs use the prefix
and restore; backtests use ``<prefix>/backtest`` and never restore, so a backtest never reads
readings another run wrote). Key: ``<prefix>/iv_readings/<strategy>``; value: JSON
``{"basis": "cm_atm_iv_90d", "readings": {"YYYY-MM-DD": iv_frac}}``, the latest
:data:`KEEP_READINGS` days. ``basis`` is the strategy's ``iv_basis`` (issue 11: the 90-day
constant-maturity ATM IV, :mod:`thetacore.iv_rank`); a value of another basis, or the plain
``{"YYYY-MM-DD": iv_frac}`` of the traded expiry's ATM IV saved before issue 11, is not
comparable: logged and not restored (the strategy then ranks the labelled VIX proxy until it
has its own constant-maturity readings).

The saved book (:mod:`leanhost.book`) holds the readings too (the strangle's
``state_dict``) and is restored first; these keys remain for deployments from before the book
(a reading the restored strategy already has wins).

A strategy takes part when it has an ``iv_readings: dict[date, float]`` attribute
(:class:`strategies.futures_strangle.FuturesStrangle`). A corrupt value is logged and ignored
(the strategy then starts from LEAN's history: the labelled VIX proxy), never fatal.
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterable
from datetime import date
from typing import TYPE_CHECKING

from strategies.base import Strategy

from .gate_store import StoreKeys

if TYPE_CHECKING:
    from AlgorithmImports import QCAlgorithm

KEEP_READINGS = 400
"""Readings kept (calendar days with a reading): more than a 252-trading-day IV-rank window."""


def iv_key(keys: StoreKeys, strategy: str) -> str:
    """Object-store key of ``strategy``'s readings."""
    return f"{keys.prefix}/iv_readings/{strategy}"


def basis_of(strategy: Strategy) -> str:
    """The basis of the strategy's readings (``iv_basis``; ``""`` when it names none)."""
    basis = getattr(strategy, "iv_basis", "")
    return basis if isinstance(basis, str) else ""


def readings_of(strategy: Strategy) -> dict[date, float] | None:
    """The strategy's IV readings, or ``None`` when it keeps none."""
    readings = getattr(strategy, "iv_readings", None)
    return readings if isinstance(readings, dict) else None


def restore_iv_readings(algorithm: QCAlgorithm, keys: StoreKeys, strategies: Iterable[Strategy]) -> None:
    """Live start: merge the saved readings into each taking-part strategy (a reading the
    strategy already has wins); backtests restore nothing."""
    if not keys.restore:
        return
    store = algorithm.object_store
    for strategy in strategies:
        readings, key = readings_of(strategy), iv_key(keys, strategy.name)
        if readings is None or not store.contains_key(key):
            continue
        try:
            value = json.loads(store.read(key))
            basis = value.get("basis") if isinstance(value.get("readings"), dict) else None
            if basis != basis_of(strategy):
                algorithm.log(f"{strategy.name}: IV readings at {key} are of basis {basis or 'traded-expiry ATM IV'}, "
                              f"not {basis_of(strategy)}: not restored")
                continue
            saved = {date.fromisoformat(d): float(v) for d, v in value["readings"].items()}
        except (ValueError, TypeError, AttributeError) as exc:
            algorithm.error(f"IV readings at {key} unreadable, ignored: {exc}")
            continue
        readings.update({d: v for d, v in saved.items() if d not in readings and math.isfinite(v)})
        algorithm.log(f"{strategy.name}: {len(saved)} IV reading(s) restored from {key}")


def save_iv_readings(algorithm: QCAlgorithm, keys: StoreKeys, strategy: Strategy, saved: dict[str, str]) -> None:
    """Live runs: save ``strategy``'s readings when they changed since the last save
    (``saved`` remembers the last text per key). Old readings beyond :data:`KEEP_READINGS`
    are dropped from the strategy too (bounded memory)."""
    readings = readings_of(strategy)
    if not keys.restore or readings is None:
        return
    for day in sorted(readings)[:-KEEP_READINGS]:
        del readings[day]
    key = iv_key(keys, strategy.name)
    text = json.dumps({"basis": basis_of(strategy),
                       "readings": {d.isoformat(): round(v, 6) for d, v in sorted(readings.items())}})
    if saved.get(key) != text and algorithm.object_store.save(key, text):
        saved[key] = text
