"""A strategy's own daily IV readings survive a live restart: kept in the object store.

LEAN APIs: ``object_store.contains_key`` / ``read`` / ``save`` (docs: "Object Store"), under
the project's key prefix (:class:`leanhost.gate_store.StoreKeys`: live runs use the prefix
and restore; backtests use ``<prefix>/backtest`` and never restore, so a backtest never reads
readings another run wrote). Key: ``<prefix>/iv_readings/<strategy>``; value: JSON
``{"YYYY-MM-DD": iv_frac}``, the latest :data:`KEEP_READINGS` days.

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
            saved = {date.fromisoformat(d): float(v) for d, v in json.loads(store.read(key)).items()}
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
    text = json.dumps({d.isoformat(): round(v, 6) for d, v in sorted(readings.items())})
    if saved.get(key) != text and algorithm.object_store.save(key, text):
        saved[key] = text
