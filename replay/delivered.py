"""Delivered underlying in the daily MODELLED run (issue 12): never silent.

A physically settled option exercised at expiry delivers its underlying (100 SPY shares per
SPY option; an ES future per ES option expiring before its future:
:meth:`replay.broker.SimBroker.settle_expired`). No strategy position is made of shares or
futures, so every such delivery is either

* **booked**: the strategy whose position held the option takes it
  (:meth:`strategies.base.Strategy.on_assigned` returns its reason: IPMCC for the shares its
  weekly call delivered); the desk books it to that position and closes it at once at the
  underlying's price of the settlement (the daily mode's only price: the close; a real account
  learns of the assignment the next morning and buys at the open, and that overnight move is
  not modelled). Fees: none -- tastytrade charges no stock commission and the SEC/FINRA fees
  fall on sales (a short is closed by a purchase); a delivered long or a future is closed by
  the same rule and the same zero fee (stated approximation). Or
* **flagged**: no strategy takes it; the daily reconciliation (:meth:`UnderlyingDesk.reconcile`,
  the rules of :func:`risk.reconcile.reconcile`, as the LEAN host's reconciliation and the
  replay's reconciliation on resume apply them) finds ``DELIVERED_UNDERLYING`` (or ``MISMATCH``
  for a booked quantity the account no longer matches): a CRITICAL alert, entries blocked with
  :data:`risk.host_blocks.HostBlock.RECONCILE` until a later reconciliation finds the account
  clean, and the invariant ``no_unowned_underlying`` of ``summary.json`` fails (the run exits 1).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from replay.ledger import Ledger
from risk.gate_session import GateSession
from risk.host_blocks import HostBlock, block_entries, release
from risk.reconcile import BLOCKING, ExpectedLeg, Holding, reconcile
from strategies.base import Strategy

WHO = "replay underlying reconciliation"
NEVER_UTC = datetime(9999, 1, 1, tzinfo=UTC)
"""Delivered shares and booked futures are compared as live holdings (no settlement time)."""


@dataclass
class UnderlyingDesk:
    """Books or flags delivered underlying and reconciles it daily (module docstring).

    Attributes:
        booked: underlying symbol -> ``(strategy, position_id, signed units)`` a strategy owns now.
        actions: every booking, close, flag and release (``summary.json`` ``underlying``).
        unowned: one line per delivered underlying found unowned (the invariant's evidence).
    """

    booked: dict[str, tuple[str, str, int]] = field(default_factory=dict)
    actions: list[dict[str, Any]] = field(default_factory=list)
    unowned: list[str] = field(default_factory=list)
    _flagged: set[str] = field(default_factory=set)

    def on_settlements(self, records: list[dict[str, object]], strategies: list[Strategy], ledger: Ledger,
                       t_utc: datetime) -> None:
        """Book and close every held delivery of ``records`` whose option's strategy takes it;
        leave the others for :meth:`reconcile` to flag."""
        for rec in records:
            delivered = rec.get("delivered")
            if not isinstance(delivered, dict) or not delivered.get("held"):
                continue
            symbol, qty, price = str(delivered["symbol"]), int(delivered["quantity"]), float(delivered["price_pts"])
            owner = _owner(strategies, str(rec["symbol"]))
            reason = None if owner is None else owner[0].on_assigned(owner[1], symbol, qty, price, t_utc)
            row = {"time_utc": t_utc.isoformat(), "symbol": symbol, "quantity": qty, "price_pts": price,
                   "option": rec["symbol"]}
            if owner is None or reason is None:
                self.actions.append(row | {"action": "delivered_unowned",
                                           "text": f"{qty:+d} {symbol} delivered by {rec['symbol']}: no strategy takes it"})
                continue
            strat, pid = owner[0].name, owner[1]
            self.booked[symbol] = (strat, pid, self.booked.get(symbol, ("", "", 0))[2] + qty)
            self.actions.append(row | {"action": "booked", "strategy": strat, "position_id": pid,
                                       "text": f"{reason.code}: {reason.text}"})
            self._close(symbol, qty, price, ledger, t_utc, strat, pid)

    def _close(self, symbol: str, qty: int, price_pts: float, ledger: Ledger, t_utc: datetime,
               strat: str, pid: str) -> None:
        """Close ``qty`` booked units at ``price_pts`` (module docstring: the settlement's price, no fee)."""
        held = ledger.holdings.get(symbol)
        if held is None:
            return
        ledger.trade(held, -qty, price_pts, 0.0)
        left = self.booked[symbol][2] - qty
        if left:
            self.booked[symbol] = (strat, pid, left)
        else:
            del self.booked[symbol]
        self.actions.append({"time_utc": t_utc.isoformat(), "symbol": symbol, "quantity": -qty, "price_pts": price_pts,
                             "action": "closed", "strategy": strat, "position_id": pid,
                             "text": f"{strat} closed the {qty:+d} {symbol} its position {pid} took at {price_pts:.2f}"})

    def reconcile(self, ledger: Ledger, session: GateSession, t_utc: datetime) -> list[str]:
        """Delivered underlying held against what strategies booked (:func:`risk.reconcile.reconcile`);
        blocking findings block entries with a CRITICAL alert, a clean account releases the
        block. Returns the alert texts."""
        held = [Holding(h.symbol, float(h.quantity), is_option=False) for h in ledger.holdings.values()
                if h.right is None]
        if not held and not self.booked and not self._flagged:
            return []
        expected = [ExpectedLeg(s, pid, sym, qty, NEVER_UTC) for sym, (s, pid, qty) in self.booked.items()]
        blocking = [f for f in reconcile(expected, held, (), t_utc) if f.kind in BLOCKING]
        state, alerts = session.gate.state, []
        if blocking:
            text = "; ".join(f"{f.kind.name} {f.text}" for f in blocking)
            for f in blocking:
                if f.key not in self._flagged:
                    self._flagged.add(f.key)
                    self.unowned.append(f"{t_utc.astimezone(UTC):%Y-%m-%d}: {f.kind.name} {f.text}")
                    self.actions.append({"time_utc": t_utc.isoformat(), "symbol": f.key, "quantity": f.held,
                                         "action": "flagged", "text": f.text})
            alert = block_entries(state, HostBlock.RECONCILE, text, t_utc)
            if alert:
                alerts += [f"CRITICAL RECONCILE: {text}", alert]
        elif self._flagged:
            self._flagged.clear()
            alert = release(state, HostBlock.RECONCILE, WHO, t_utc, "no delivered underlying left unowned")
            if alert:
                alerts.append(alert)
                self.actions.append({"time_utc": t_utc.isoformat(), "symbol": "", "quantity": 0,
                                     "action": "released", "text": alert})
        return alerts


def _owner(strategies: list[Strategy], option_symbol: str) -> tuple[Strategy, str] | None:
    """The strategy and position whose leg was ``option_symbol`` (the latest such position)."""
    found: tuple[Strategy, str, datetime] | None = None
    for strat in strategies:
        for pos in strat.positions.values():
            if pos.opened_utc is None or all(leg.symbol != option_symbol for leg in pos.structure.legs):
                continue
            if found is None or pos.opened_utc >= found[2]:
                found = (strat, pos.position_id, pos.opened_utc)
    return None if found is None else (found[0], found[1])
