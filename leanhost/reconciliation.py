"""Reconciliation in LEAN: what the strategies hold against ``portfolio``, after every expiry
and every (re)start; settle, adopt or alert and block (rules: :mod:`risk.reconcile`).

Why (LEAN sources): Lean.Brokerages.Tastytrade never raises ``OptionNotification``
(``TastytradeBrokerage.WebSocket.cs`` ignores ``CurrentPosition`` account events), and in
live trading ``BrokerageTransactionHandler.HandleOptionNotification``
(``Engine/TransactionHandlers/BrokerageTransactionHandler.cs``) is the only path that makes
exercise/assignment order events, so under Tastytrade no expiry ever reaches
:class:`leanhost.settlement.SettlementDesk` and the expired contract stays in ``portfolio``
until a restart loads the broker's holdings (``Engine/Setup/BrokerageSetupHandler.cs``).
Backtests and Interactive Brokers (``InteractiveBrokersBrokerage.cs`` raises
``OnOptionNotification``) do get the events (``BacktestingBrokerage.ProcessDelistings``,
``DefaultExerciseModel``), so only a LIVE TASTYTRADE run settles by reconciliation; others
leave expired legs to LEAN's events.

When: daily at :data:`CHECK_ET` New York time on the first feed's trading days (after every
product's settlement, :data:`SETTLED_AFTER_ET`), and once when the algorithm starts trading
(``on_warmup_finished``, which LEAN calls after every start, warm-up or not:
``Engine/AlgorithmManager.cs``).

What: contracts are identified as the strategies' legs are (the chain reader's key of a LEAN
symbol, else ``symbol.value``); working orders (``transactions.get_open_orders()``) and
positions still opening are in flight and not judged. Per finding:

* ``SETTLE``: each leg valued at intrinsic from its underlying's price now (0 out of the
  money), ``strategy.on_settled(position, sum(-ratio x intrinsic))`` with the reason recorded,
  then ``on_position_settled`` (the gate's realized P&L), alerted;
* ``ADOPT``: journaled once per position (the account holds exactly its legs);
* ``PARTIAL_EXPIRY`` alerted, ``STALE_EXPIRED`` journaled, once each;
* ``MISMATCH``, ``UNKNOWN_HOLDING``, ``DELIVERED_UNDERLYING``: alerted and entries blocked
  through the gate (:class:`risk.host_blocks.HostBlock.RECONCILE`); the block is released by
  the first later run without any (or cleared by an operator).

After a restart the strategies hold what the saved book restored (:mod:`leanhost.book`), and
the start-up run (``at_start``) follows the re-attachment of saved orders
(:mod:`leanhost.reattach`): positions the account holds exactly are ``ADOPT``-ed; restored
positions none of whose legs the account still holds are settled with the reason
(``VANISHED``); expired ones are settled whatever the brokerage; every open order that no
order group claims is ``UNKNOWN_ORDER`` (alerted, entries blocked), in every run.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time
from functools import partial
from typing import TYPE_CHECKING

from AlgorithmImports import SecurityType, TimeZones

from risk.host_blocks import HostBlock
from risk.reconcile import ExpectedLeg, Finding, FindingKind, Holding, reconcile
from strategies.base import PositionState, Strategy
from thetacore.parameters import Parameters

from .chains import ChainReader
from .entry_blocks import HOST, block, unblock
from .risk_desk import RiskDesk
from .scheduling import NEW_YORK, now_utc
from .serial import schedule_on
from .settlement import OPTION_TYPES, SettlementDesk

if TYPE_CHECKING:
    from AlgorithmImports import QCAlgorithm, Symbol

SETTLED_AFTER_ET = time(16, 30)
"""Every product here has settled by then on its expiry date (SPXW/SPY/QQQ at the 16:00 ET
close, ES/MES/SPX at the 09:30 ET open: ``thetacore.products``)."""
CHECK_ET = time(16, 45)
SETTLING_BROKERAGES = frozenset({"tastytrade"})
"""Brokerages whose LEAN plugin sends no option notifications: reconciliation settles."""
RECONCILIATION = "reconciliation"


def settled_after_utc(expiry: date) -> datetime:
    """When a contract expiring on ``expiry`` has surely settled (:data:`SETTLED_AFTER_ET`)."""
    return datetime.combine(expiry, SETTLED_AFTER_ET, NEW_YORK).astimezone(UTC)


@dataclass
class Reconciler:
    """Runs :func:`risk.reconcile.reconcile` over LEAN's portfolio and acts on its findings."""

    algorithm: QCAlgorithm
    params: Parameters
    reader: ChainReader
    symbols: Mapping[str, Symbol]
    strategies: Mapping[str, Strategy]
    settlement: SettlementDesk
    risk: RiskDesk
    knows_order: Callable[[int], bool] | None = None  # the router's: an order one of its groups sent
    reported: set[tuple[FindingKind, str]] = field(default_factory=set)

    def schedule(self, symbol: Symbol) -> None:
        """The daily check at :data:`CHECK_ET` New York on ``symbol``'s trading days, inside
        the entry lock (:func:`leanhost.serial.schedule_on`)."""
        rules = self.algorithm
        at = rules.time_rules.at(CHECK_ET.hour, CHECK_ET.minute, TimeZones.NEW_YORK)
        schedule_on(rules, "host:reconcile", rules.date_rules.every_day(symbol), at, self.scheduled)

    def scheduled(self) -> None:
        """The daily check (not during warm-up)."""
        if self.algorithm.is_warming_up:
            return
        self.run("daily check after the close")
        self.risk.after()

    @property
    def settles(self) -> bool:
        """True when expired legs are settled here (live, a brokerage without notifications)."""
        return bool(self.algorithm.live_mode) and self.params.brokerage in SETTLING_BROKERAGES

    def run(self, why: str, at_start: bool = False, problems: Sequence[str] = ()) -> list[Finding]:
        """One reconciliation now; returns its findings (acted on). ``at_start`` (the first
        run after a (re)start): restored positions that vanished from the account while the
        algorithm was down are settled first (:meth:`_settle_vanished`), and expired ones are
        settled whatever the brokerage (no exercise event comes for an expiry before the
        start). ``problems``: what the re-attachment of saved orders could not resolve
        (``ORDERS_INCOMPLETE``, blocking)."""
        now = now_utc(self.algorithm)
        if at_start:
            self._settle_vanished(now)
        findings = reconcile(self._expected(), self._holdings(now), self._in_flight(), now)
        findings += self._unknown_orders()
        findings += [Finding(FindingKind.ORDERS_INCOMPLETE, "", 0, 0, (), text) for text in problems]
        for finding in findings:
            self._act(finding, now, at_start)
        blocking = [f for f in findings if f.blocks_entries]
        if blocking:
            block(self.risk, HostBlock.RECONCILE, f"{why}: " + "; ".join(f.text for f in blocking), now)
            for f in blocking:
                self._once(f, partial(self.risk.alerts.alert, f"RECONCILE {f.kind.name}: {f.text}"))
        else:
            unblock(self.risk, HostBlock.RECONCILE, RECONCILIATION, f"{why}: holdings match the strategies", now)
        self.algorithm.log(f"reconciliation ({why}): {len(findings)} finding(s), "
                           f"{len(blocking)} blocking")
        return findings

    # ----- inputs -------------------------------------------------------------------------------
    def _expected(self) -> list[ExpectedLeg]:
        return [ExpectedLeg(s.name, p.position_id, leg.symbol, leg.ratio * p.quantity, settled_after_utc(leg.expiry))
                for s in self.strategies.values() for p in s.open_positions()
                if p.state in (PositionState.OPEN, PositionState.CLOSING) for leg in p.structure.legs]

    def _holdings(self, now: datetime) -> list[Holding]:
        out = []
        for holding in self.algorithm.portfolio.values():
            qty = float(holding.quantity)
            if qty == 0:
                continue
            symbol = holding.symbol
            option = symbol.security_type in OPTION_TYPES
            expired = option and now >= settled_after_utc(symbol.id.date.date())
            out.append(Holding(self._key(symbol), qty, option, expired))
        return out

    def _in_flight(self) -> set[str]:
        keys = {self._key(order.symbol) for order in self.algorithm.transactions.get_open_orders()}
        keys.update(leg.symbol for s in self.strategies.values() for p in s.open_positions()
                    if p.state is PositionState.OPENING for leg in p.structure.legs)
        return keys

    def _key(self, symbol: Symbol) -> str:
        key = self.reader.key_of(symbol)
        return key if key is not None else str(symbol.value)

    def _unknown_orders(self) -> list[Finding]:
        """``UNKNOWN_ORDER`` per open order that no order group or unwind of the router sent
        (after a restart: one the saved book does not know)."""
        if self.knows_order is None:
            return []
        return [Finding(FindingKind.UNKNOWN_ORDER, self._key(o.symbol), 0, float(o.quantity), (),
                        f"{self._key(o.symbol)}: open order {o.id} for {float(o.quantity):+g} (brokerage id "
                        f"{', '.join(str(b) for b in o.broker_id) or 'none'}) that no strategy's order group "
                        "claims") for o in self.algorithm.transactions.get_open_orders() if not self.knows_order(o.id)]

    def _settle_vanished(self, now: datetime) -> None:
        """Restored OPEN positions none of whose legs the account holds, none in flight and
        none expired yet: closed, assigned or exercised while the algorithm was down. Settled
        at intrinsic from the underlying's price now (the real exit price is in the
        broker's history), with that reason, journaled and alerted."""
        held = {h.key: h.quantity for h in self._holdings(now)}
        flying = self._in_flight()
        for strategy in self.strategies.values():
            for pos in [p for p in strategy.open_positions() if p.state is PositionState.OPEN]:
                keys = [leg.symbol for leg in pos.structure.legs]
                if any(held.get(k, 0.0) or k in flying for k in keys):
                    continue
                if any(now >= settled_after_utc(leg.expiry) for leg in pos.structure.legs):
                    continue  # expired: SETTLE by reconcile
                self._settle_position(strategy.name, pos.position_id, now, (
                    "vanished while the algorithm was down: the account holds none of its legs at the start "
                    "(closed, assigned or exercised at the broker); valued at intrinsic from the underlying's "
                    "price now, the real exit is in the broker's history: "), "VANISHED")

    # ----- acting ---------------------------------------------------------------------------------
    def _act(self, finding: Finding, now: datetime, at_start: bool = False) -> None:
        kind = finding.kind
        if kind is FindingKind.SETTLE:
            if self.settles or (at_start and self.algorithm.live_mode):
                self._settle(finding, now)
            elif self.algorithm.live_mode:
                self._once(finding, lambda: self.algorithm.log(f"awaiting LEAN's exercise events: {finding.text}"))
        elif kind is FindingKind.ADOPT:
            self._once(finding, lambda: self.risk.journal.note(now, finding.positions[0][0], "ADOPTED", finding.text))
        elif kind is FindingKind.PARTIAL_EXPIRY and self.settles:
            self._once(finding, lambda: self.risk.alerts.alert(f"RECONCILE PARTIAL_EXPIRY: {finding.text}"))
        elif kind is FindingKind.STALE_EXPIRED and self.settles:
            self._once(finding, lambda: self.risk.journal.note(now, HOST, "STALE_EXPIRED", finding.text))

    def _once(self, finding: Finding, act: Callable[[], object]) -> None:
        """``act`` once per finding (kind and contract or positions) in this run."""
        tag = (finding.kind, finding.key or ",".join(p for _, p in finding.positions))
        if tag in self.reported:
            return
        self.reported.add(tag)
        act()

    def _settle(self, finding: Finding, now: datetime) -> None:
        name, position_id = finding.positions[0]
        self._settle_position(name, position_id, now, (
            "settled by reconciliation: expired without an exercise event (the brokerage sends none, or it "
            "expired while the algorithm was down); intrinsic from the underlying's price at the check: "), "SETTLED")

    def _settle_position(self, name: str, position_id: str, now: datetime, reason: str, label: str) -> None:
        """Settle ``position_id`` at intrinsic (each leg from its underlying's price now) with
        ``reason`` + the legs' values as its exit reason; journaled and alerted as ``label``."""
        strategy = self.strategies[name]
        pos = strategy.positions[position_id]
        parts, net, delivered = [], 0.0, []
        for leg in pos.structure.legs:
            symbol = self.symbols.get(leg.symbol)
            value = self.settlement.intrinsic_pts(now, symbol, leg) if symbol is not None else 0.0
            net += -leg.ratio * value
            parts.append(f"{leg.describe()} at {value:.2f}")
            if value > 0 and symbol is not None and symbol.security_type != SecurityType.INDEX_OPTION:
                delivered.append(leg.describe())
        pos.exit_reason = reason + ", ".join(parts)
        strategy.on_settled(position_id, net, now)
        self.risk.journal.note(now, name, label, f"{position_id} at {net:+.2f} pts per unit by reconciliation")
        self.risk.alerts.alert(f"RECONCILE {label} {position_id} ({name}) at {net:+.2f} pts per unit: {pos.exit_reason}")
        if delivered:
            self.risk.alerts.alert(f"RECONCILE DELIVERY EXPECTED: {', '.join(delivered)} expired in the money and "
                                   "settles physically: shares or futures no strategy manages will be in the account")
        if self.settlement.on_position_settled is not None:
            self.settlement.on_position_settled(strategy, pos, now)
