"""The LEAN host's whole book across restarts: what goes into the saved
:class:`thetacore.durable_state.BookState`, when it is saved, and how a start rebuilds the
strategies, the order router and the risk gate from it (storage: :mod:`leanhost.book_store`).

Sections (``docs/durable-state.md`` describes the schema):

* ``gate``: the risk gate's whole book (:func:`risk.session_state.session_state`: trips,
  counters, peak NLV, audit log, statistics, buying power in use per position);
* ``strategies``: each running strategy's :meth:`~strategies.base.Strategy.state_dict`
  (positions with their legs, entry credit and time, state, management fields, and histories
  such as the strangle's IV readings); the section of a saved strategy that is not running
  now is carried over unchanged (never silently dropped) and alerted when it holds positions;
* ``orders``: every working order group (:func:`leanhost.order_groups.group_to_dict`);
* ``host``: ``contracts`` (contract key -> LEAN ``SecurityIdentifier`` string and ticker, for
  every leg of an open position or working group) and ``fees_usd`` (fees booked per open
  position, ``[strategy, position id, USD]``).

When: :meth:`HostBook.save_if_changed` at the end of every handler (``RiskDesk.after``:
order events, decisions, scheduled checks, commands, brokerage messages), which serialises
the sections and writes only when they differ from the last save (the algorithm time of a
save is not part of the comparison). Live runs only; a backtest saves once at its end, under
its own prefix, for inspection.

Restoring (:meth:`HostBook.restore`, in ``initialize``): contracts first (each
``SecurityIdentifier.parse`` -> ``Symbol(sid, ticker)``, LEAN ``Common/Symbol.cs``, registered
with the chain reader so the router can trade them and reconciliation can name them), then
the strategies, the order groups (without tickets until :mod:`leanhost.reattach`) and the
fees. The gate comes from :func:`risk.session_state.restore_session`. Any
:class:`~thetacore.durable_state.StateError` stops ``initialize`` as a
:class:`leanhost.book_store.BookStoreError` naming the key and the key path.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from AlgorithmImports import SecurityIdentifier, Symbol

from risk.gate_session import GateSession
from risk.session_state import restore_session, session_state
from strategies.base import PositionState, Strategy
from thetacore.durable_state import BookState, Fields, StateError
from thetacore.parameters import Parameters

from .book_store import BookStore, BookStoreError, slot_keys
from .chains import ChainReader
from .order_groups import group_from_dict, group_to_dict
from .orders import OrderRouter
from .scheduling import now_utc

if TYPE_CHECKING:
    from AlgorithmImports import QCAlgorithm


def symbol_of(sid: str, ticker: str) -> Symbol:
    """The LEAN ``Symbol`` of a saved identifier (``SecurityIdentifier.parse``, then LEAN's
    ``Symbol(SecurityIdentifier, string)``, which builds the underlying from the identifier).

    Raises:
        ValueError: an unreadable identifier (LEAN raises a .NET ``FormatException``).
    """
    try:
        # the stubs declare Symbol a str subclass with no __new__, so pyright checks str.__new__;
        # LEAN's constructor is Symbol(SecurityIdentifier, string) (Common/Symbol.cs), as the stub's __init__ says
        return Symbol(SecurityIdentifier.parse(sid), ticker)  # pyright: ignore[reportArgumentType]
    except ValueError:
        raise
    except Exception as exc:  # noqa: BLE001 - a .NET FormatException is no ValueError
        raise ValueError(f"{type(exc).__name__}: {exc}") from None


@dataclass
class HostBook:
    """Builds, saves and restores the book of one run (see the module docstring)."""

    algorithm: QCAlgorithm
    params: Parameters
    store: BookStore
    strategies: Mapping[str, Strategy]
    router: OrderRouter
    reader: ChainReader
    session: Callable[[], GateSession] | None = None  # the risk desk's session, once it exists
    carried: dict[str, dict[str, Any]] = field(default_factory=dict)
    carried_contracts: dict[str, dict[str, str]] = field(default_factory=dict)  # of the carried sections
    warnings: list[str] = field(default_factory=list)
    _last: str = ""

    # ----- saving ---------------------------------------------------------------------------
    def sections(self) -> tuple[dict[str, Any], dict[str, dict[str, Any]], list[dict[str, Any]], dict[str, Any]]:
        """``(gate, strategies, orders, host)`` as saved now."""
        gate = session_state(self.session()) if self.session is not None else {}
        strategies = {**self.carried, **{n: s.state_dict() for n, s in self.strategies.items()}}
        groups = self.router.active_groups()
        orders = [group_to_dict(g, self._broker_ids) for g in groups]
        keys = {leg.symbol for s in self.strategies.values() for p in s.open_positions() for leg in p.structure.legs}
        keys.update(leg.key for g in groups for leg in g.legs)
        contracts = {**self.carried_contracts, **{k: {"sid": str(sym.id), "value": str(sym.value)}
                                                   for k in sorted(keys) if (sym := self.reader.symbols.get(k))
                                                   is not None}}
        open_ids = {(s.name, p.position_id) for s in self.strategies.values() for p in s.open_positions()}
        fees = [[s, p, usd] for (s, p), usd in sorted(self.router.fees_usd.items()) if (s, p) in open_ids]
        return gate, strategies, orders, {"contracts": contracts, "fees_usd": fees}

    def _broker_ids(self, order_id: int) -> list[str]:
        order = self.algorithm.transactions.get_order_by_id(order_id)
        return [] if order is None else [str(b) for b in order.broker_id]

    def save_if_changed(self) -> bool:
        """Save the book when its sections differ from the last save; True when saved."""
        gate, strategies, orders, host = self.sections()
        content = json.dumps([gate, strategies, orders, host], sort_keys=True, default=str)
        if content == self._last:
            return False
        book = BookState(datetime.now(UTC), now_utc(self.algorithm), gate, strategies, orders, host)
        if not self.store.save(book):
            return False
        self._last = content
        return True

    # ----- restoring --------------------------------------------------------------------------
    def restore(self, book: BookState) -> GateSession:
        """Rebuild contracts, strategies, order groups and fees from ``book``; returns the gate
        session it holds.

        Raises:
            BookStoreError: any section that does not restore (key path named).
        """
        source = self.store.loaded_key or " / ".join(slot_keys(self.store.keys))
        try:
            host = Fields(book.host, "host")
            for key, item in ((k, host.obj("contracts").obj(k)) for k in host.obj("contracts").names()):
                try:
                    self.reader.register(key, symbol_of(item.string("sid"), item.string("value")))
                except ValueError as exc:
                    raise item.error("sid", f"not a LEAN security identifier ({exc})") from None
            session = restore_session(self.params, book.gate)
            for name, section in book.strategies.items():
                if name in self.strategies:
                    self.strategies[name].restore_state(section, f"strategies.{name}")
                else:
                    self._carry(name, section, book.host.get("contracts", {}))
            self.router.restored = [group_from_dict(o, f"orders[{i}]", symbol_of) for i, o in enumerate(book.orders)]
            for i, row in enumerate(host.items("fees_usd")):
                if not (isinstance(row, list) and len(row) == 3 and isinstance(row[2], (int, float))):
                    raise StateError(f"host.fees_usd[{i}]", f"expected [strategy, position id, usd], got {row!r}")
                self.router.fees_usd[(str(row[0]), str(row[1]))] = float(row[2])
        except StateError as exc:
            message = (f"ThetaDesk cannot start: the saved book at object-store key {source} does not restore: "
                       f"{exc}. "
                       "Nothing is overwritten: repair or restore the value, or delete the book's keys and start "
                       "with fresh_start=true on purpose.")
            self.algorithm.error(message)
            raise BookStoreError(message) from exc
        self.algorithm.log(self.summary(book))
        return session

    def _carry(self, name: str, section: dict[str, Any], contracts: dict[str, Any]) -> None:
        """Keep the section of a strategy not running now, with its contracts' identifiers."""
        self.carried[name] = section
        positions = [p for p in section.get("positions", []) if isinstance(p, dict)]
        for pos in positions:
            for leg in pos.get("structure", {}).get("legs", []):
                key = leg.get("symbol") if isinstance(leg, dict) else None
                if key in contracts:
                    self.carried_contracts[key] = contracts[key]
        held = [p.get("position_id") for p in positions if p.get("state") != PositionState.CLOSED.value]
        if held:
            self.warnings.append(f"BOOK strategy {name} is not running now but its saved book holds "
                                 f"{', '.join(map(str, held))}: kept in the book; its contracts count as unknown")

    def summary(self, book: BookState) -> str:
        """One line: what was restored."""
        open_count = sum(len(s.open_positions()) for s in self.strategies.values())
        return (f"book restored (seq {self.store.seq}, saved {book.saved_utc:%Y-%m-%d %H:%M:%S}Z): "
                f"{open_count} open position(s), {len(self.router.restored)} working order group(s), "
                f"{len(book.host.get('contracts', {}))} contract(s)")
