"""Reconciliation when a replay resumes (issue 8, item 2): the restored strategies' book
against the restored SIMULATED BROKER, with the rules of :mod:`risk.reconcile` that the LEAN
host applies to LEAN's portfolio (``leanhost/reconciliation.py``).

Orders first (the book's working order groups against the broker's working orders):

* a group the book sent that the broker no longer has working: VANISHED_ORDER, its strategy
  hears ``on_unfilled`` (an opening is forgotten and its buying power released, a closing
  position is open again);
* a position still OPENING or CLOSING with no working order at all: the same;
* an order the broker has working that the book never sent: UNKNOWN_ORDER, blocking.

Then positions (:func:`risk.reconcile.reconcile`):

* ADOPT: the broker holds exactly the position's legs; the strategy keeps managing it;
* SETTLE: every leg expired; when the broker recorded its settlement the position settles at
  that intrinsic value (the gate counts the P&L), when the broker still holds the legs its
  next minute settles them (nothing to do now);
* MISMATCH where the broker holds none of the position's legs: VANISHED_POSITION, closed
  with the reason recorded (at the structure's mid now, or its entry price when unquoted:
  the broker's cash already holds whatever happened) and its buying power released;
* any other MISMATCH, UNKNOWN_HOLDING, DELIVERED_UNDERLYING (unless the broker's own
  settlement records delivered it): blocking.

Blocking findings raise a CRITICAL alert and block new entries with
:data:`risk.host_blocks.HostBlock.RECONCILE` (exits stay allowed) until a later clean
reconciliation or an operator clears it; a clean one releases an earlier block. Every action
goes to the gate's audit log (who: ``replay reconciliation``) and to the returned list
(``summary.json`` ``reconciliation``).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from replay.broker import SimBroker
from risk.gate_session import GateSession
from risk.host_blocks import HostBlock, block_entries, release
from risk.reconcile import ExpectedLeg, Finding, FindingKind, Holding, reconcile
from strategies.base import PositionState, Strategy, StrategyPosition
from thetacore.pricing import et_instant_utc
from thetacore.products import product

WHO = "replay reconciliation"
Quote = Callable[[str], tuple[float, float]]
Closed = Callable[[Strategy, StrategyPosition, datetime], None]


@dataclass
class StartReconciliation:
    """One reconciliation at ``now_utc`` (the first minute the resumed run processes).

    ``quote(symbol) -> (bid, ask)`` points now; ``closed(strategy, position, t)`` is the
    host's path for a whole position closed (the gate counts its realized P&L);
    ``book_order_ids``: the ids of the order groups the saved book holds as working.
    """

    strategies: list[Strategy]
    session: GateSession
    broker: SimBroker
    now_utc: datetime
    quote: Quote
    closed: Closed
    book_order_ids: set[int]
    actions: list[dict[str, Any]] = field(default_factory=list)
    alerts: list[str] = field(default_factory=list)
    blocking: list[str] = field(default_factory=list)

    def run(self) -> list[dict[str, Any]]:
        """Act on every difference; returns the actions (also in the gate's audit log)."""
        self._orders()
        findings = reconcile(self._expected(), self._holdings(), self._in_flight(), self.now_utc)
        for f in findings:
            self._act(f)
        state = self.session.gate.state
        if self.blocking:
            text = "on resume: " + "; ".join(self.blocking)
            alert = block_entries(state, HostBlock.RECONCILE, text, self.now_utc)
            self.alerts.append(f"CRITICAL RECONCILE: {'; '.join(self.blocking)}")
            if alert:
                self.alerts.append(alert)
            self._record("block_entries", "", text)
        else:
            alert = release(state, HostBlock.RECONCILE, WHO, self.now_utc, "on resume: holdings match the strategies")
            if alert:
                self.alerts.append(alert)
                self._record("release_block", "", alert)
        return self.actions

    # ----- orders -------------------------------------------------------------------------
    def _orders(self) -> None:
        working = {o.order_id: o for o in self.broker.working()}
        for oid in sorted(self.book_order_ids - set(working)):
            order = self.broker.orders[oid - 1] if 0 < oid <= len(self.broker.orders) else None
            if order is not None:
                order.note = order.note or "vanished at restart"
            self._record("vanished_order", str(oid), f"order {oid} the book sent is not working at the broker")
        for oid in sorted(set(working) - self.book_order_ids):
            intent = working[oid].intent
            self.blocking.append(f"order {oid} working at the broker was never sent by this book "
                                 f"({intent.strategy} {intent.purpose.value} {intent.structure.describe()})")
            self._record("unknown_order", str(oid), self.blocking[-1])
        pending = {o.intent.position_id for o in working.values()}  # an unknown order still fills its position
        for strat in self.strategies:
            for pos in strat.open_positions():
                if pos.state in (PositionState.OPENING, PositionState.CLOSING) and pos.position_id not in pending:
                    self._orphan(strat, pos)

    def _orphan(self, strat: Strategy, pos: StrategyPosition) -> None:
        """A position waiting for an order that is not working: opening -> forgotten, closing ->
        open again (as ``on_unfilled`` does)."""
        why = "its order is not working at the broker after the restart"
        if pos.state is PositionState.OPENING:
            pos.state, pos.exit_reason = PositionState.CLOSED, f"never opened: {why}"
            self.session.forget(pos.position_id)
        else:
            pos.state = PositionState.OPEN
        pos.notes.append(f"restart: {why}")
        self._record("order_vanished_position", pos.position_id, f"{strat.name} {pos.position_id}: {why}; "
                     f"now {pos.state.value}")

    # ----- positions ----------------------------------------------------------------------
    def _expected(self) -> list[ExpectedLeg]:
        out = []
        for s in self.strategies:
            settle_et = product(s.subscription().root).expiry_time_et
            for p in s.open_positions():
                if p.state in (PositionState.OPEN, PositionState.CLOSING):
                    for leg in p.structure.legs:
                        held = self.broker.ledger.holdings.get(leg.symbol)
                        when = held.settle_time_et if held is not None and held.settle_time_et else settle_et
                        out.append(ExpectedLeg(s.name, p.position_id, leg.symbol, leg.ratio * p.quantity,
                                               et_instant_utc(leg.expiry, when)))
        return out

    def _holdings(self) -> list[Holding]:
        out = []
        for h in self.broker.ledger.holdings.values():
            option = h.right is not None
            expired = option and self.now_utc >= SimBroker.expiry_utc(h)
            out.append(Holding(h.symbol, float(h.quantity), option, expired))
        return out

    def _in_flight(self) -> set[str]:
        keys = {leg.symbol for o in self.broker.working() for leg in o.intent.structure.legs}
        keys.update(leg.symbol for s in self.strategies for p in s.open_positions()
                    if p.state is PositionState.OPENING for leg in p.structure.legs)
        return keys

    def _act(self, f: Finding) -> None:
        kind = f.kind
        if kind is FindingKind.ADOPT:
            self._record("adopt", f.positions[0][1], f.text)
        elif kind is FindingKind.SETTLE:
            self._settle(f)
        elif kind is FindingKind.STALE_EXPIRED:
            self._record("awaiting_settlement", f.key, f"{f.text}; the simulated broker settles it next minute")
        elif kind is FindingKind.PARTIAL_EXPIRY:
            self.alerts.append(f"RECONCILE PARTIAL_EXPIRY: {f.text}")
            self._record("partial_expiry", f.positions[0][1], f.text)
        elif kind is FindingKind.MISMATCH and self._vanished(f):
            pass
        elif kind is FindingKind.DELIVERED_UNDERLYING and f.key in self._delivered():
            self._record("delivered_by_settlement", f.key, f"{f.text}: delivered by a settlement the broker recorded")
        else:
            self.blocking.append(f"{kind.name} {f.text}")
            self._record(kind.value, f.key or f.positions[0][1], f.text)

    def _delivered(self) -> set[str]:
        return {str(r["delivered"]["symbol"]) for r in self.broker.settlements  # type: ignore[index]
                if isinstance(r.get("delivered"), dict)}

    def _position(self, ref: tuple[str, str]) -> tuple[Strategy, StrategyPosition]:
        strat = next(s for s in self.strategies if s.name == ref[0])
        return strat, strat.positions[ref[1]]

    def _settle(self, f: Finding) -> None:
        strat, pos = self._position(f.positions[0])
        held = self.broker.ledger.holdings
        if any(leg.symbol in held for leg in pos.structure.legs):
            self._record("awaiting_settlement", pos.position_id, f"{f.text}; the simulated broker still holds "
                         "its legs and settles them next minute")
            return
        settled = {str(r["symbol"]): float(r["intrinsic_pts"]) for r in self.broker.settlements}  # type: ignore[arg-type]
        if all(leg.symbol in settled for leg in pos.structure.legs):
            net = sum(-leg.ratio * settled[leg.symbol] for leg in pos.structure.legs)
            pos.exit_reason = "settled at expiry (found by the reconciliation on resume)"
            strat.on_settled(pos.position_id, net, self.now_utc)
            self.closed(strat, pos, self.now_utc)
            self._record("settle", pos.position_id, f"{f.text}; settled at {net:+.2f} pts per unit as the broker "
                         "recorded")
        else:
            self._close_vanished(strat, pos, "expired and gone from the broker without a settlement record")

    def _vanished(self, f: Finding) -> bool:
        """A MISMATCH where the broker holds none of the position's legs: close it, True."""
        if len(f.positions) != 1:
            return False
        strat, pos = self._position(f.positions[0])
        if pos.state is PositionState.CLOSED:
            return True  # one finding per leg: closed at the first
        held = self.broker.ledger.holdings
        if any(leg.symbol in held for leg in pos.structure.legs):
            return False
        self._close_vanished(strat, pos, "the broker holds none of its legs")
        return True

    def _close_vanished(self, strat: Strategy, pos: StrategyPosition, why: str) -> None:
        mid = pos.structure.quoted_mid_pts(self.quote)
        if math.isfinite(mid):
            net, basis = -mid, f"its mid {mid:+.2f} pts now"
        else:
            net, basis = -(pos.entry_net_pts or 0.0), "its entry price (no quote now)"
        pos.exit_reason = f"vanished at restart: {why}; closed in the book at {basis}"
        strat.on_settled(pos.position_id, net, self.now_utc)
        self.session.forget(pos.position_id)
        self.alerts.append(f"CRITICAL RECONCILE VANISHED {pos.position_id} ({strat.name}): {pos.exit_reason}")
        self._record("vanished_position", pos.position_id, pos.exit_reason)

    def _record(self, action: str, subject: str, text: str) -> None:
        self.session.gate.state.audit(self.now_utc, WHO, f"{action} {subject}".strip(), "", action, text)
        self.actions.append({"time_utc": self.now_utc.isoformat(), "action": action, "subject": subject,
                             "text": text})
