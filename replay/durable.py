"""The replay's durable state: what it saves after every change that matters, and how a run
resumes from it (issue 8, item 1; the schema is :mod:`thetacore.durable_state`).

The book a replay saves (:func:`book_state`):

* ``gate``: the risk gate's whole book (:func:`risk.session_state.session_state`);
* ``strategies``: each strategy's :meth:`~strategies.base.Strategy.state_dict`;
* ``orders``: the order groups the host sent and believes working (id, intent, time, root);
* ``host.last_good_marks``: the NLV marks' last good mid per holding
  (:meth:`risk.marks.MarkBook.state_dict`), so a resumed run values a holding whose quote is
  bad or stale at the same mark as the run that never stopped;
* ``host.broker_account``: the SIMULATED BROKER's side of the account
  (:meth:`replay.broker.SimBroker.state_dict`: ledger cash and holdings, every order record
  with fills and fees, settlements). It is the broker's account, not the strategies' book:
  on resume :mod:`replay.start_reconcile` compares the two as the LEAN host compares its
  book with LEAN's portfolio.

When: :class:`StateKeeper` is told, minute by minute, which parts may have changed (an order
submitted or ended, a settlement, an NLV mark, a strategy's rule, a gate review) and, at the
end of that minute, writes the book when any part's JSON differs from the last one written,
with ``clock_utc`` = that minute. A minute after which nothing is written changed nothing
the book holds, so a run resumed at ``clock_utc + 1 min`` replays such minutes to the same
end (the resume test kills runs at many minutes and compares).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from replay.broker import SimBroker
from risk.gate_session import GateSession
from risk.marks import MarkBook
from risk.session_state import restore_session, session_state
from strategies.base import PositionState, Strategy
from thetacore.durable_state import BookState, Fields, StateError, iso
from thetacore.parameters import Parameters

BROKER_ACCOUNT = "broker_account"
LAST_GOOD_MARKS = "last_good_marks"
BROKER_NOTE = ("the replay's simulated broker: what the account holds and has working, kept apart from the "
               "strategies' book; reconciliation on resume compares the two")


def book_state(strategies: list[Strategy], session: GateSession, broker: SimBroker,
               clock_utc: datetime | None, marks: MarkBook | None = None) -> BookState:
    """The whole book now, as of the end of minute ``clock_utc``."""
    working = [{"order_id": o.order_id, "intent": o.intent.to_dict(), "submitted_utc": iso(o.submitted_utc),
                "product": o.product.root} for o in broker.working()]
    return BookState(datetime.now(UTC), clock_utc, session_state(session),
                     {s.name: s.state_dict() for s in strategies}, working,
                     {"host": "replay", BROKER_ACCOUNT: {"note": BROKER_NOTE, **broker.state_dict()},
                      LAST_GOOD_MARKS: marks.state_dict() if marks is not None else {}})


def restore_book(book: BookState, params: Parameters, strategies: list[Strategy], broker: SimBroker,
                 source: str, marks: MarkBook | None = None) -> tuple[GateSession, list[str]]:
    """Restore the gate session, every strategy and the simulated broker from ``book``.

    Returns the session and the problems worth listing (a strategy enabled now that the
    state does not hold starts empty).

    Raises:
        StateError: naming ``source`` and the key path: a malformed section, or a strategy
            that holds positions in the state but is not enabled now (its positions would
            be lost).
    """
    try:
        session = restore_session(params, book.gate, "gate")
        broker.restore_state(Fields(book.host, "host").obj(BROKER_ACCOUNT))
        if marks is not None:
            marks.restore_state(book.host.get(LAST_GOOD_MARKS, {}), f"host.{LAST_GOOD_MARKS}")
        problems = []
        enabled = {s.name for s in strategies}
        for name, section in book.strategies.items():
            if name not in enabled and any(p.get("state") != PositionState.CLOSED.value
                                           for p in Fields(section, f"strategies.{name}").items("positions")):
                raise StateError(f"strategies.{name}", "holds open positions but the strategy is not enabled "
                                 "now (enable it to resume, or close them first)")
        for strat in strategies:
            if strat.name in book.strategies:
                strat.restore_state(book.strategies[strat.name])
            else:
                problems.append(f"{strat.name}: not in the state file, starts with no positions")
    except StateError as exc:
        raise exc.within(source) from None
    return session, problems


@dataclass
class StateKeeper:
    """Writes the book through ``write`` after every minute in which a part of it changed
    (see the module docstring). ``write=None``: nothing is saved (library use)."""

    strategies: list[Strategy]
    session: GateSession
    broker: SimBroker
    write: Callable[[BookState], None] | None
    marks: MarkBook | None = None
    saves: int = 0
    _last: dict[str, str] = field(default_factory=dict)
    _touched: set[str] = field(default_factory=set)
    _seen: tuple[int, int] = (0, 0)

    def touch(self, *parts: str) -> None:
        """``parts`` (``"gate"``, ``"broker"`` or a strategy name) may have changed."""
        self._touched.update(parts)

    def touch_all(self) -> None:
        self._touched.update(self._parts())

    def _parts(self) -> dict[str, Callable[[], Any]]:
        parts: dict[str, Callable[[], Any]] = {"gate": lambda: session_state(self.session),
                                               "broker": self.broker.state_dict}
        if self.marks is not None:
            parts["marks"] = self.marks.state_dict
        for s in self.strategies:
            parts[s.name] = s.state_dict
        return parts

    def end_minute(self, t_utc: datetime) -> bool:
        """End of minute ``t_utc``: save when a touched part changed; True when saved."""
        seen = (len(self.broker.orders), len(self.broker.settlements))
        if seen != self._seen:
            self._seen = seen
            self.touch_all()
        if not self._touched:
            return False
        parts, changed = self._parts(), False
        for name in self._touched:
            text = json.dumps(parts[name](), sort_keys=True, default=str)
            if self._last.get(name) != text:
                self._last[name], changed = text, True
        self._touched.clear()
        if changed:
            self.save(t_utc)
        return changed

    def save(self, clock_utc: datetime | None) -> None:
        """Write the whole book now (and remember every part as written)."""
        self._seen = (len(self.broker.orders), len(self.broker.settlements))
        for name, part in self._parts().items():
            self._last[name] = json.dumps(part(), sort_keys=True, default=str)
        self._touched.clear()
        if self.write is not None:
            self.write(book_state(self.strategies, self.session, self.broker, clock_utc, self.marks))
            self.saves += 1
