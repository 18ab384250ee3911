"""The durable state of a trading book: one versioned JSON envelope both hosts save and load.

A host saves, after every change that matters, one :class:`BookState`: the risk gate's book
(trips, counters, peak NLV, audit log, trade statistics, buying power in use), every
strategy's positions and management state (:meth:`strategies.base.Strategy.state_dict`),
the order groups still working, and a host section (the replay: its simulated broker's
account; LEAN: whatever the host needs to reconcile). ``docs/durable-state.md`` documents
every section, its units and the version policy.

The envelope (``dump_state``)::

    {"schema": "thetadesk.state", "version": 1, "saved_utc": "...+00:00",
     "clock_utc": "...+00:00" | null, "gate": {...}, "strategies": {name: {...}},
     "orders": [{...}], "host": {...}}

:func:`load_state` accepts exactly that: anything else (``{}``, ``[]``, a copy of another
JSON file, an unknown version, a wrong type anywhere it checks) is a :class:`StateError`
naming the source and the key path that is wrong. A host must never overwrite a file that
failed to load.

:class:`Fields` is the reader every ``from_dict`` of the core uses: each access checks one
key's type and names its full path on failure (``strategies.lt112.positions[0].quantity:
expected an integer, got '2'``).
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date, datetime
from enum import Enum
from typing import Any, TypeVar

STATE_SCHEMA = "thetadesk.state"
STATE_VERSION = 1
SECTIONS = ("gate", "strategies", "orders", "host")

E = TypeVar("E", bound=Enum)


class StateError(ValueError):
    """A state that is not a valid saved state: names the source (file or object-store key),
    the key path that is wrong and what is wrong with it.

    Attributes:
        source: where the state came from (``"out/state.json"``), ``""`` when not known yet.
        key_path: dotted path of the bad key (``"strategies.lt112.positions[0].quantity"``).
        problem: what is wrong, with the value found.
    """

    def __init__(self, key_path: str, problem: str, source: str = "") -> None:
        self.source, self.key_path, self.problem = source, key_path, problem
        where = f"{source}: " if source else ""
        super().__init__(f"{where}{key_path or '(top level)'}: {problem}")

    def within(self, source: str) -> StateError:
        """The same error naming ``source`` (kept when it already names one)."""
        return self if self.source else StateError(self.key_path, self.problem, source)


def _show(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


class Fields:
    """One JSON object (a dict) at ``path``, read key by key with type checks.

    Raises:
        StateError: on construction when ``data`` is not a dict; on each access when the
            key is missing or its value has the wrong type (the message names the path).
    """

    def __init__(self, data: Any, path: str) -> None:
        if not isinstance(data, dict):
            raise StateError(path, f"expected an object, got {type(data).__name__} {_show(data)}")
        self.data: dict[str, Any] = data
        self.path = path

    def at(self, key: str) -> str:
        """Path of ``key`` under this object."""
        return f"{self.path}.{key}" if self.path else key

    def raw(self, key: str) -> Any:
        """The value of ``key`` (any type); a missing key is an error."""
        if key not in self.data:
            raise StateError(self.at(key), "missing")
        return self.data[key]

    def error(self, key: str, problem: str) -> StateError:
        """A :class:`StateError` for ``key`` of this object."""
        return StateError(self.at(key), problem)

    def obj(self, key: str) -> Fields:
        """The object at ``key``."""
        return Fields(self.raw(key), self.at(key))

    def string(self, key: str) -> str:
        value = self.raw(key)
        if not isinstance(value, str):
            raise self.error(key, f"expected a string, got {_show(value)}")
        return value

    def opt_string(self, key: str) -> str | None:
        return None if self.raw(key) is None else self.string(key)

    def integer(self, key: str) -> int:
        """An integer (a boolean or a float is not one)."""
        value = self.raw(key)
        if isinstance(value, bool) or not isinstance(value, int):
            raise self.error(key, f"expected an integer, got {_show(value)}")
        return value

    def boolean(self, key: str) -> bool:
        value = self.raw(key)
        if not isinstance(value, bool):
            raise self.error(key, f"expected true or false, got {_show(value)}")
        return value

    def number(self, key: str) -> float:
        """A finite number (integer or float, never a boolean, a string or null)."""
        value = self.raw(key)
        if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
            raise self.error(key, f"expected a finite number, got {_show(value)}")
        return float(value)

    def opt_number(self, key: str) -> float | None:
        return None if self.raw(key) is None else self.number(key)

    def instant(self, key: str) -> datetime:
        """A timezone-aware ISO-8601 instant."""
        text = self.string(key)
        try:
            value = datetime.fromisoformat(text)
        except ValueError:
            raise self.error(key, f"expected an ISO-8601 time, got {_show(text)}") from None
        if value.tzinfo is None:
            raise self.error(key, f"time {text!r} has no UTC offset")
        return value

    def opt_instant(self, key: str) -> datetime | None:
        return None if self.raw(key) is None else self.instant(key)

    def day(self, key: str) -> date:
        """An ISO date ``yyyy-mm-dd``."""
        text = self.string(key)
        try:
            return date.fromisoformat(text)
        except ValueError:
            raise self.error(key, f"expected a date yyyy-mm-dd, got {_show(text)}") from None

    def opt_day(self, key: str) -> date | None:
        return None if self.raw(key) is None else self.day(key)

    def enum(self, key: str, kind: type[E]) -> E:
        """A member of ``kind`` by its value."""
        value = self.raw(key)
        for member in kind:
            if member.value == value and type(member.value) is type(value):
                return member
        raise self.error(key, f"expected one of {[m.value for m in kind]}, got {_show(value)}")

    def items(self, key: str) -> list[Any]:
        """The list at ``key``."""
        value = self.raw(key)
        if not isinstance(value, list):
            raise self.error(key, f"expected a list, got {_show(value)}")
        return value

    def objects(self, key: str) -> Iterator[Fields]:
        """Each element of the list at ``key`` as an object."""
        for i, item in enumerate(self.items(key)):
            yield Fields(item, f"{self.at(key)}[{i}]")

    def strings(self, key: str) -> list[str]:
        out = []
        for i, item in enumerate(self.items(key)):
            if not isinstance(item, str):
                raise StateError(f"{self.at(key)}[{i}]", f"expected a string, got {_show(item)}")
            out.append(item)
        return out

    def mapping(self, key: str) -> Fields:
        """The object at ``key`` (alias of :meth:`obj` for maps keyed by name or date)."""
        return self.obj(key)

    def names(self) -> list[str]:
        """The keys of this object, in order."""
        return list(self.data)

    def number_map(self, key: str, *, null_is_nan: bool = False) -> dict[str, float]:
        """An object of finite numbers by string key; with ``null_is_nan`` a null is NaN
        (what :func:`nan_to_null` wrote for an unknown number)."""
        inner = self.obj(key)
        return {k: (math.nan if null_is_nan and inner.data[k] is None else inner.number(k)) for k in inner.names()}

    def date_map(self, key: str) -> dict[date, Any]:
        """An object keyed by ISO dates; values as stored (the caller checks them)."""
        inner = self.obj(key)
        out = {}
        for k in inner.names():
            try:
                out[date.fromisoformat(k)] = inner.data[k]
            except ValueError:
                raise StateError(inner.at(k), "key is not a date yyyy-mm-dd") from None
        return out


def nan_to_null(values: dict[str, float]) -> dict[str, float | None]:
    """``values`` with every non-finite number as None (strict JSON has no NaN)."""
    return {k: (v if math.isfinite(v) else None) for k, v in values.items()}


def iso(value: datetime | date | None) -> str | None:
    """ISO text of a time or date (None stays None)."""
    return None if value is None else value.isoformat()


@dataclass
class BookState:
    """Everything a host saves (see the module docstring).

    Attributes:
        saved_utc: when it was saved (wall clock of the host, timezone-aware).
        clock_utc: the last minute the host fully processed (replay) or the algorithm time of
            the save (LEAN); None before the first minute.
        gate: the risk gate's section (``risk.session_state``).
        strategies: strategy name -> :meth:`~strategies.base.Strategy.state_dict`.
        orders: order groups still working, each ``{"order_id", "intent", "submitted_utc", ...}``
            with ``intent`` an :meth:`~thetacore.decisions.OrderIntent.to_dict`.
        host: the host's own section (the replay's simulated broker account, LEAN's ids).
    """

    saved_utc: datetime
    clock_utc: datetime | None
    gate: dict[str, Any] = field(default_factory=dict)
    strategies: dict[str, dict[str, Any]] = field(default_factory=dict)
    orders: list[dict[str, Any]] = field(default_factory=list)
    host: dict[str, Any] = field(default_factory=dict)


def dump_state(book: BookState) -> str:
    """The JSON text of ``book`` in the versioned envelope (strict JSON: no NaN).

    Raises:
        StateError: when a section holds something JSON cannot carry exactly (NaN, infinity,
            an object that is not a dict/list/str/number/bool/None).
    """
    if book.saved_utc.tzinfo is None or (book.clock_utc is not None and book.clock_utc.tzinfo is None):
        raise StateError("saved_utc", "times must be timezone-aware")
    envelope = {"schema": STATE_SCHEMA, "version": STATE_VERSION, "saved_utc": iso(book.saved_utc),
                "clock_utc": iso(book.clock_utc), "gate": book.gate, "strategies": book.strategies,
                "orders": book.orders, "host": book.host}
    try:
        return json.dumps(envelope, indent=1, sort_keys=True, allow_nan=False) + "\n"
    except (TypeError, ValueError) as exc:
        raise StateError("", f"cannot be written as JSON: {exc}") from exc


def load_state(text: str, source: str) -> BookState:
    """The :class:`BookState` in ``text`` (read from ``source``, named in every error).

    Checks the envelope (schema name, version), the times and the type of every section;
    the content of ``gate`` and of each strategy's section is checked by whoever restores it
    (``risk.session_state.restore_session``, :meth:`strategies.base.Strategy.restore_state`),
    each raising :class:`StateError` with the key path. Orders are checked here (each intent).

    Raises:
        StateError: not JSON, not an object, ``{}``, ``[]``, another file's JSON (no
            ``schema``/a different one), a version other than :data:`STATE_VERSION`, or a
            wrong type in the envelope or an order.
    """
    try:
        data = json.loads(text)
    except ValueError as exc:
        raise StateError("", f"not JSON ({exc})", source) from None
    try:
        return _book(data)
    except StateError as exc:
        raise exc.within(source) from None


def _book(data: Any) -> BookState:
    if not isinstance(data, dict):
        raise StateError("", f"expected a state object, got {type(data).__name__} {_show(data)}")
    if not data:
        raise StateError("", "empty object: not a saved state (use a fresh start to begin without one)")
    top = Fields(data, "")
    if data.get("schema") != STATE_SCHEMA:
        raise StateError("schema", f"expected {STATE_SCHEMA!r}, got {_show(data.get('schema'))}: "
                         "not a ThetaDesk state file")
    version = top.integer("version")
    if version != STATE_VERSION:
        raise StateError("version", f"unknown state version {version}; this code reads version {STATE_VERSION}")
    unknown = sorted(set(data) - {"schema", "version", "saved_utc", "clock_utc", *SECTIONS})
    if unknown:
        raise StateError(unknown[0], "unknown key in a version-1 state")
    strategies = top.obj("strategies")
    for name in strategies.names():
        strategies.obj(name)
    orders = [o.data for o in top.objects("orders")]
    from thetacore.decisions import OrderIntent  # here: decisions imports nothing of this module's users

    for i, order in enumerate(top.objects("orders")):
        OrderIntent.from_dict(order.raw("intent"), f"orders[{i}].intent")
    return BookState(top.instant("saved_utc"), top.opt_instant("clock_utc"), top.obj("gate").data,
                     {k: strategies.data[k] for k in strategies.names()}, orders, top.obj("host").data)
